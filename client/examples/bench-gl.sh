#!/bin/bash
# bench-gl.sh BUILD-DIR [FRAMES] [ROUNDS]: frames/s of gl-renderer at
# 1920x1080 on Mesa's llvmpipe, drawing as fast as it can (--fps 0), into
# a headless shmframe-server:
#
#   shm/present     --transport shm             (memfd)
#   shm/alone       --transport shm --no-present
#   socket/present  --transport socket
#   socket/alone    --transport socket --no-present
#
# "alone" draws and reads every frame into the acquired buffer but puts
# it back unpresented: the rendering without the transport.  Each row runs
# FRAMES frames (default 200), ROUNDS times (default 5) in turn, and the
# median of its rounds is printed: frames/s and the renderer's CPU time
# per frame (llvmpipe's threads included), with the slowest and fastest
# round beside them, since a small shared machine varies by tens of
# percent from one second to the next.
set -eu

BUILD=$(cd "${1:?usage: bench-gl.sh BUILD-DIR [FRAMES] [ROUNDS]}" && pwd)
N=${2:-200}
ROUNDS=${3:-5}
GL="$BUILD/client/examples/gl-renderer"
[ -x "$GL" ] || { echo "bench-gl: no $GL (SHMFRAME_BUILD_GL)" >&2; exit 1; }
export LIBGL_ALWAYS_SOFTWARE=1 EGL_PLATFORM=surfaceless

. "$(dirname "$0")/../bench/bench-server.sh"
bench_server gl "$BUILD"

ROWS="shm/present shm/alone socket/present socket/alone"
for ((round = 1; round <= ROUNDS; round++)); do
	for row in $ROWS; do
		args=(--transport "${row%/*}")
		[ "${row#*/}" = alone ] && args+=(--no-present)
		"$GL" --server "$SERVER_ADDR" --size 1920x1080 --frames "$N" --fps 0 \
			"${args[@]}" >"$T/out" 2>"$T/err" ||
			{ echo "bench-gl: gl-renderer ${args[*]}: $(cat "$T/err")" >&2; exit 1; }
		# row fps cpu_ms
		tail -n 1 "$T/out" | awk -v row="$row" '{
			for (i = 1; i <= NF; i++) {
				split($i, kv, "=")
				if (kv[1] == "fps") fps = kv[2]
				if (kv[1] == "cpu_ms") cpu = kv[2]
			}
			print row, fps, cpu }' >>"$T/rounds"
	done
done

# median COLUMN ROW: the median, lowest and highest of COLUMN over ROW's
# rounds.
median() {
	awk -v row="$2" -v col="$1" '$1 == row { print $col }' "$T/rounds" | sort -n |
		awk '{ v[NR] = $1 } END { print v[int((NR + 1) / 2)], v[1], v[NR] }'
}

echo "gl-renderer 1920x1080, $N frames, --fps 0, median of $ROUNDS rounds"
printf '%-16s %8s %14s %9s\n' row "frames/s" "(min..max)" "cpu ms/f"
for row in $ROWS; do
	read -r fps lo hi < <(median 2 "$row")
	read -r cpu _ _ < <(median 3 "$row")
	printf '%-16s %8.1f %6.1f..%-6.1f %9.2f\n' "$row" "$fps" "$lo" "$hi" "$cpu"
done
