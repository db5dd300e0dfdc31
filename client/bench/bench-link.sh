#!/bin/bash
# shmframe-bench-link.sh: the link benchmark.  For each rate, content and
# codec it makes a rate-limited link on this machine (two network
# namespaces joined by a veth pair, a tbf queue on each end: the kernel
# has tbf, not netem), runs shmframe-server on one end and
# shmframe-bench-link on the other (in its own IPC namespace and /dev/shm
# too, so it is a far-side client: socket transport), and prints a
# Markdown table: frames/s shown, MB per frame on the wire, compression
# ratio, present->presented latency, client and server CPU per frame.
#
# Run as root.  Options:
#   --bin DIR      where shmframe-server and shmframe-bench-link are
#                  (default: the build tree this script sits in, i.e.
#                  DIR/../../server and DIR itself when run from
#                  build/client/bench, else the directory of the script,
#                  else $PATH)
#   --seconds S    seconds per row (default 5)
#   --quick        100mbit only, demo and noise, none and lz4
#   --csv FILE     also write the rows as CSV
#   --rates "R..."  --contents "C..."  --codecs "X...": only these (quoted
#                  lists, e.g. --rates 1gbit --contents noise)
# Content: demo (the demo's frames), testsrc2 (ffmpeg's natural test
# sequence, 60 frames), photo (a real photo, matplotlib's sample
# grace_hopper.jpg, upscaled to 3840x2160 and a 1920x1080 window panned
# over it, 60 frames), noise (new random bytes
# every frame).  testsrc2 and photo need ffmpeg; without it they are left
# out with a note.
set -u

here=$(cd "$(dirname "$0")" && pwd)
BIN="" SECONDS_PER=5 QUICK=0 CSV="" ONLY_RATES="" ONLY_CODECS="" ONLY_CONTENTS=""
while [ $# -gt 0 ]; do
	case "$1" in
	--bin) BIN=$2; shift 2 ;;
	--seconds) SECONDS_PER=$2; shift 2 ;;
	--quick) QUICK=1; shift ;;
	--rates) ONLY_RATES=$2; shift 2 ;;
	--contents) ONLY_CONTENTS=$2; shift 2 ;;
	--codecs) ONLY_CODECS=$2; shift 2 ;;
	--csv) CSV=$2; shift 2 ;;
	-h|--help) sed -n '2,/^set -u/p' "$0" | sed '$d; s/^# \{0,1\}//'; exit 0 ;;
	*) echo "shmframe-bench-link.sh: unknown option '$1' (see --help)" >&2; exit 2 ;;
	esac
done

die() { echo "shmframe-bench-link.sh: $*" >&2; exit 1; }
[ "$(id -u)" -eq 0 ] || die "needs root (network namespaces, tc)"

# The programs: --bin, else the build tree around this script, else beside
# it (installed), else $PATH.
find_prog() {
	local name=$1 d
	for d in ${BIN:+"$BIN"} ${BIN:+"$BIN/server"} ${BIN:+"$BIN/client/bench"} \
	         "$here" "$here/../../server"; do
		[ -x "$d/$name" ] && { echo "$d/$name"; return; }
	done
	command -v "$name" || die "$name not found (use --bin DIR)"
}
SERVER=$(find_prog shmframe-server)
CLIENT=$(find_prog shmframe-bench-link)

W=$(mktemp -d /tmp/shmframe-bench-link.XXXXXX) || exit 1
chmod 700 "$W"
export XDG_RUNTIME_DIR="$W/run" SHMFRAME_AUTH="$W/cookie"
mkdir -m 700 "$XDG_RUNTIME_DIR"
unset SHMFRAME_SERVER SHMFRAME_TRANSPORT SHMFRAME_COMPRESS

NS_S="" NS_C="" SERVER_PID=""
link_down() {
	if [ -n "$SERVER_PID" ]; then
		kill -TERM "$SERVER_PID" 2>/dev/null
		wait "$SERVER_PID" 2>/dev/null
		SERVER_PID=""
	fi
	[ -n "$NS_S" ] && ip netns delete "$NS_S" 2>/dev/null
	[ -n "$NS_C" ] && ip netns delete "$NS_C" 2>/dev/null
	NS_S="" NS_C=""
}
cleanup() {
	local status=$?
	trap - EXIT INT TERM
	link_down
	rm -rf "$W"
	exit "$status"
}
trap cleanup EXIT
trap 'exit 130' INT TERM

# The same link as test/lib-link.sh makes: see there why the tbf queue is
# 64 KiB of burst and 5 ms deep.
NET=10.$((100 + $$ % 100)).$((RANDOM % 256))
link_up() {
	local id=$$-$RANDOM
	NS_S=sf-$id-s
	ip netns add "$NS_S" || die "ip netns add failed"
	NS_C=sf-$id-c
	ip netns add "$NS_C" || die "ip netns add failed"
	ip -n "$NS_S" link add sfs type veth peer name sfc netns "$NS_C" &&
	ip -n "$NS_S" addr add "$NET.1/24" dev sfs &&
	ip -n "$NS_C" addr add "$NET.2/24" dev sfc &&
	ip -n "$NS_S" link set lo up && ip -n "$NS_C" link set lo up &&
	ip -n "$NS_S" link set sfs up && ip -n "$NS_C" link set sfc up &&
	ip netns exec "$NS_S" tc qdisc add dev sfs root tbf rate "$1" \
		burst 64kb latency 5ms &&
	ip netns exec "$NS_C" tc qdisc add dev sfc root tbf rate "$1" \
		burst 64kb latency 5ms || die "cannot set up a $1 link"
}

server_up() {
	local i
	setpriv --pdeathsig KILL -- ip netns exec "$NS_S" "$SERVER" \
		--listen "tcp:$NET.1:0" --display none >"$W/server.out" 2>"$W/server.log" &
	SERVER_PID=$!
	for i in $(seq 100); do
		grep -q '^ready' "$W/server.out" && break
		kill -0 "$SERVER_PID" 2>/dev/null || die "server failed: $(cat "$W/server.log")"
		sleep 0.1
	done
	ADDR=$(grep -o "listen=tcp:$NET.1:[0-9]*" "$W/server.out" | cut -d= -f2)
	[ -n "$ADDR" ] || die "server not ready: $(cat "$W/server.out")"
}

# CPU time of a process in ns (utime + stime from /proc/PID/stat).
cpu_ns() {
	awk -v hz="$(getconf CLK_TCK)" '{ sub(/.*\) /, ""); printf "%.0f\n", ($12 + $13) * 1e9 / hz }' \
		"/proc/$1/stat"
}

# ---- content ------------------------------------------------------------
CONTENTS="demo"
FFMPEG=$(command -v ffmpeg || true)
if [ -n "$FFMPEG" ]; then
	ffmpeg -v error -f lavfi -i testsrc2=size=1920x1080:rate=30 -frames:v 60 \
		-pix_fmt bgra -f rawvideo "$W/testsrc2.bgra" &&
		CONTENTS="$CONTENTS testsrc2"
	# A real photo (Debian's python-matplotlib-data has one), 3840x2160,
	# and a window moving 32 px a frame across it.
	PHOTO=/usr/share/matplotlib/mpl-data/sample_data/grace_hopper.jpg
	if [ -f "$PHOTO" ]; then
		ffmpeg -v error -loop 1 -i "$PHOTO" -frames:v 60 \
			-vf "scale=3840:2160,crop=1920:1080:n*32:n*18" \
			-pix_fmt bgra -f rawvideo "$W/photo.bgra" &&
			CONTENTS="$CONTENTS photo"
	else
		echo "# $PHOTO not found (Debian: python-matplotlib-data): no photo rows" >&2
	fi
else
	echo "# ffmpeg not installed: no testsrc2 and photo rows" >&2
fi
CONTENTS="$CONTENTS noise"
RATES=${ONLY_RATES:-"100mbit 1gbit"}
CODECS=${ONLY_CODECS:-"none lz4 zstd"}
if [ "$QUICK" = 1 ]; then
	RATES=100mbit CONTENTS="demo noise" CODECS="none lz4"
fi
[ -n "$ONLY_CONTENTS" ] && CONTENTS=$ONLY_CONTENTS

content_arg() {
	case "$1" in
	demo|noise) echo "$1" ;;
	*) echo "$W/$1.bgra" ;;
	esac
}

# ---- the rows -----------------------------------------------------------
[ -n "$CSV" ] && echo "rate,content,codec,fps,mb_per_frame,ratio,latency_p50_ms,latency_p99_ms,client_cpu_ms_per_frame,server_cpu_ms_per_frame,frames,shown,discarded" >"$CSV"
echo "| rate | content | codec | fps | MB/frame | ratio | latency p50/p99 ms | client CPU ms/frame | server CPU ms/frame |"
echo "|---|---|---|---:|---:|---:|---:|---:|---:|"
val() { sed -n "s/.* $1=\([^ ]*\).*/\1/p" <<<" $2"; }
for rate in $RATES; do
	for content in $CONTENTS; do
		for codec in $CODECS; do
			link_up "$rate"
			server_up
			c0=$(cpu_ns "$SERVER_PID")
			line=$(ip netns exec "$NS_C" unshare --ipc --mount sh -c \
				'mount -t tmpfs -o mode=1777 tmpfs /dev/shm && exec "$@"' sh \
				"$CLIENT" --server "$ADDR" --transport socket --compress "$codec" \
				--content "$(content_arg "$content")" --seconds "$SECONDS_PER" \
				2>"$W/client.err" | tail -n 1)
			c1=$(cpu_ns "$SERVER_PID")
			link_down
			if [ -z "$line" ]; then
				echo "| $rate | $content | $codec | failed: $(head -c 200 "$W/client.err") |"
				continue
			fi
			shown=$(val shown "$line")
			srv=$(awk -v a="$c0" -v b="$c1" -v n="$shown" \
				'BEGIN { printf "%.2f", (n > 0 ? (b - a) / 1e6 / n : 0) }')
			mb=$(awk -v b="$(val bytes_per_frame "$line")" 'BEGIN { printf "%.2f", b / 1e6 }')
			printf '| %s | %s | %s | %s | %s | %s | %s / %s | %s | %s |\n' \
				"$rate" "$content" "$(val compress "$line")" "$(val fps "$line")" \
				"$mb" "$(val ratio "$line")" "$(val latency_p50_ms "$line")" \
				"$(val latency_p99_ms "$line")" \
				"$(val client_cpu_ms_per_frame "$line")" "$srv"
			[ -n "$CSV" ] && echo "$rate,$content,$(val compress "$line"),$(val fps "$line"),$mb,$(val ratio "$line"),$(val latency_p50_ms "$line"),$(val latency_p99_ms "$line"),$(val client_cpu_ms_per_frame "$line"),$srv,$(val frames "$line"),$shown,$(val discarded "$line")" >>"$CSV"
		done
	done
done
