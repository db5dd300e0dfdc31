#!/bin/bash
# bench-numpy.sh BUILD-DIR [FRAMES] [ROUNDS]: frames/s at 1920x1080 BGRA
# of the numpy example (examples/numpy_anim.py), in one run:
#
#   alone-1  the same drawing into one array of its own, nothing sent
#   alone-3  the same into three arrays in turn (as into three buffers)
#   shm-3    drawn into the surface's three shared buffers (the default),
#            presented to a headless server
#   shm-2    the same with two buffers
#   socket-3 the same, the pixels on the Unix socket
#
# Frames rotate through the buffers; at 1080p three of them (24 MiB) do
# not stay in a 32 MiB L3 cache beside the rest the way one does, which
# alone-3 shows apart from what the transport costs.
# Each runs FRAMES frames (default 300), ROUNDS times (default 3) in
# turn; the best round of each is printed with its ratio to alone.
set -eu

BUILD=$(cd "${1:?usage: bench-numpy.sh BUILD-DIR [FRAMES] [ROUNDS]}" && pwd)
N=${2:-300}
ROUNDS=${3:-3}
HERE=$(cd "$(dirname "$0")" && pwd)
PY=$(sed -n 's/^SHMFRAME_PYTHON_TESTS:INTERNAL=//p' "$BUILD/CMakeCache.txt")
[ -n "$PY" ] || { echo "bench-numpy: $BUILD has no Python module" >&2; exit 1; }
export PYTHONPATH="$HERE" SHMFRAME_LIBRARY="$BUILD/client/lib/libshmframe.so.1"

. "$HERE/../bench/bench-server.sh"
bench_server numpy "$BUILD"

# fps MODE: one run's frames/s.
fps() {
	local args
	case $1 in
	alone-*) args=(--alone) ;;
	*) args=(--server "$SERVER_ADDR" --transport "${1%-*}") ;;
	esac
	args+=(--buffers "${1##*-}")
	"$PY" "$HERE/examples/numpy_anim.py" --frames "$N" "${args[@]}" |
		tail -n 1 | sed -n 's/.* fps=\([0-9.]*\) .*/\1/p'
}

declare -A best
for ((r = 0; r < ROUNDS; r++)); do
	for m in alone-1 alone-3 shm-3 shm-2 socket-3; do
		f=$(fps "$m")
		[ -n "$f" ] || { echo "bench-numpy: $m printed no fps" >&2; exit 1; }
		best[$m]=$(awk -v a="${best[$m]:-0}" -v b="$f" 'BEGIN { print (b > a) ? b : a }')
	done
done
printf "%-8s %10s %8s\n" mode "frames/s" "x alone-1"
for m in alone-1 alone-3 shm-3 shm-2 socket-3; do
	awk -v m="$m" -v f="${best[$m]}" -v a="${best[alone-1]}" \
		'BEGIN { printf "%-8s %10.1f %8.3f\n", m, f, f / a }'
done
