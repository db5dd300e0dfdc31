#!/bin/bash
# bench-gst.sh BUILD-DIR [FRAMES] [ROUNDS]: frames/s at 1920x1080 BGRA of
# the same moving videotestsrc pattern into three sinks, in one run:
#
#   alone        videotestsrc ! fakesink
#   shmframesink videotestsrc ! shmframesink  (a headless shmframe-server)
#   shmsink      videotestsrc ! shmsink  ->  shmsrc ! fakesink
#
# Each pipeline runs FRAMES frames (default 600) with sync=false, ROUNDS
# times (default 3) in turn; the time is GStreamer's own "Execution ended
# after" (PLAYING to EOS), and the best round of each is printed, with
# its ratio to the source alone.  The CPU time of each path (every
# process of it: gst-launch-1.0, the reader, the shmframe server) is
# printed as milliseconds per frame, the least of the rounds: steadier
# than frames/s on a shared machine.
set -eu

BUILD=$(cd "${1:?usage: bench-gst.sh BUILD-DIR [FRAMES] [ROUNDS]}" && pwd)
N=${2:-600}
ROUNDS=${3:-3}
W=1920 H=1080
CAPS="video/x-raw,format=BGRA,width=$W,height=$H,framerate=60/1"
SRC="videotestsrc num-buffers=$N pattern=ball motion=wavy"

. "$(dirname "$0")/../bench/bench-server.sh"
bench_server gst "$BUILD"

export GST_PLUGIN_PATH="$BUILD/client/gstreamer/plugin"
export GST_REGISTRY="$T/registry.bin"
gst-inspect-1.0 shmframesink >/dev/null 2>&1 ||
	{ echo "bench-gst: shmframesink not found in $GST_PLUGIN_PATH" >&2; exit 1; }
gst-inspect-1.0 shmsink >/dev/null 2>&1 ||
	{ echo "bench-gst: shmsink missing (gstreamer1.0-plugins-bad)" >&2; exit 1; }

# seconds LOG: GStreamer's PLAYING-to-EOS time in LOG.
seconds() {
	sed -n 's/^Execution ended after \([0-9]*\):\([0-9]*\):\([0-9.]*\)$/\1 \2 \3/p' "$1" |
		awk '{ printf "%.6f\n", $1 * 3600 + $2 * 60 + $3 }'
}

run_alone() {
	gst-launch-1.0 $SRC ! "$CAPS" ! fakesink sync=false >"$T/log" 2>&1
}

run_shmframe() {
	gst-launch-1.0 $SRC ! "$CAPS" ! shmframesink server="$SERVER_ADDR" \
		sync=false >"$T/log" 2>&1
}

# The writer blocks until the reader is connected; the reader starts as
# soon as the writer's socket exists and takes N frames (shmsrc sees no
# EOS of its own), and the writer's EOS comes once they are all read.
# shmsink of GStreamer 1.22 then fails its teardown when the reader
# leaves (gst_poll_wait: EBUSY) and exits 1 after its PLAYING-to-EOS
# time is printed: that time is what is measured, the status is not.
run_shmsink() {
	rm -f "$T/shm.sock"
	gst-launch-1.0 $SRC ! "$CAPS" ! shmsink socket-path="$T/shm.sock" \
		shm-size=$((W * H * 4 * 8)) wait-for-connection=true sync=false \
		>"$T/log" 2>&1 &
	local writer=$!
	for _ in $(seq 200); do
		[ -S "$T/shm.sock" ] && break
		sleep 0.01
	done
	gst-launch-1.0 shmsrc socket-path="$T/shm.sock" num-buffers="$N" ! \
		"$CAPS" ! fakesink sync=false >"$T/reader.log" 2>&1 &
	READER_PID=$!
	BENCH_PIDS="$READER_PID $SERVER_PID"
	wait "$writer" || true
	kill "$READER_PID" 2>/dev/null || true
	wait "$READER_PID" 2>/dev/null || true
	READER_PID=""
	BENCH_PIDS=$SERVER_PID
}

# cpu_now: CPU seconds so far of this shell's waited-for children and
# of the server, in CPU (times must run in this shell, not a subshell).
TCK=$(getconf CLK_TCK)
cpu_now() {
	local kids srv
	times >"$T/times"
	kids=$(sed -n 2p "$T/times" | awk '{
		n = 0
		for (i = 1; i <= 2; i++) {
			split($i, p, "m"); sub("s", "", p[2]); n += p[1] * 60 + p[2]
		}
		print n }')
	srv=$(awk -v t="$TCK" '{ print ($14 + $15) / t }' "/proc/$SERVER_PID/stat")
	CPU=$(awk -v a="$kids" -v b="$srv" 'BEGIN { printf "%.3f\n", a + b }')
}

declare -A best cpu
for _ in $(seq "$ROUNDS"); do
	for what in alone shmframe shmsink; do
		cpu_now
		c0=$CPU
		"run_$what"
		cpu_now
		c=$(awk -v a="$c0" -v b="$CPU" 'BEGIN { print b - a }')
		if [ -z "${cpu[$what]:-}" ] ||
		   awk -v a="$c" -v b="${cpu[$what]}" 'BEGIN { exit !(a < b) }'; then
			cpu[$what]=$c
		fi
		s=$(seconds "$T/log")
		[ -n "$s" ] || { echo "bench-gst: $what: no time in:" >&2; cat "$T/log" >&2; exit 1; }
		if [ -z "${best[$what]:-}" ] ||
		   awk -v a="$s" -v b="${best[$what]}" 'BEGIN { exit !(a < b) }'; then
			best[$what]=$s
		fi
	done
done

echo "frames=$N size=${W}x$H format=BGRA rounds=$ROUNDS (best round)"
for what in alone shmframe shmsink; do
	awk -v n="$N" -v s="${best[$what]}" -v a="${best[alone]}" -v w="$what" \
		-v c="${cpu[$what]}" \
		'BEGIN { printf "%-10s %8.1f frames/s  %5.3f x alone  %6.2f CPU ms/frame\n", w, n / s, a / s, 1000 * c / n }'
done
