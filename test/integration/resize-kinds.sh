#!/bin/bash
# shmframe_surface_resize against a real --display none server, for each
# shm kind (memfd, posix, sysv over transport=shm; latched and copied) and
# for transport=socket:
# configures through shmframe-input (grow, shrink, odd sizes, 1x1, the
# server's --max-size) are answered with a resize and a frame read back
# (snapshot) pixel-exact; a resize to a configure over the limit is refused
# by the library (EFBIG) and the client keeps its size and goes on; a
# client killed between a resize and its frame leaves nothing; no /dev/shm
# name or sysv segment is left.
. "$(dirname "$0")/../lib.sh"
. "$(dirname "$0")/../lib-x11.sh"

: "${SF_INPUT:?SF_INPUT must name shmframe-input}"
: "${SF_EVENT_LOG:?SF_EVENT_LOG must name sf-event-log}"
: "${SF_EVENT_PATTERN:?SF_EVENT_PATTERN must name sf-event-pattern}"

MAXW=320 MAXH=200
mkdir -m 700 "$T/dump"
start_server --dump-dir "$T/dump" --max-size ${MAXW}x$MAXH
CTL="$T/sock.input"

# surface_id NAME: CLIENT-SURFACE of the surface titled NAME.
surface_id() {
	inp list
	sed -n "s/^surface \([0-9]*\):\([0-9]*\) .* title=\"$1\"\$/\1-\2/p" "$OUT_FILE"
}

# readback NAME W H: the snapshot of NAME (its surface id in ID) is the
# pattern at WxH.
readback() {
	local want="$T/want-$2x$3.png"

	[ -f "$want" ] || "$SF_EVENT_PATTERN" "$2x$3" "$want" ||
		fail "sf-event-pattern $2x$3 failed"
	snapshot_is "$want" "$T/dump/surface-$ID.png"
}

# no_leak: nothing of ours in /dev/shm or sysv beyond what live clients hold.
count_ours() {
	echo "$(_sf_devshm | comm -13 "$T/devshm.before" - | wc -l)" \
		"$(_sf_sysv_ids | comm -13 "$T/sysv.before" - | wc -l)"
}

serial=0
# Each shm kind with the server latching the buffer and with it copying
# (X MIT-SHM's semantics: the buffer comes back at once), and the socket.
for run in memfd posix sysv memfd-copy posix-copy sysv-copy socket; do
	mode=${run%-copy}
	name=rs-$run
	if [ "$mode" = socket ]; then
		args=(--transport socket)
	else
		args=(--transport shm --shm "$mode")
	fi
	# Every size latched; copied, a grow, the smallest and a shrink (the
	# same code at every size, and each step costs an ASan build seconds).
	sizes=("200 150" "40 30" "97 61" "1 1" "$MAXW $MAXH" "63 47")
	if [ "$run" != "$mode" ]; then
		args+=(--present copy)
		sizes=("200 150" "1 1" "63 47")
	fi
	before=$(count_ours)
	headless_log "$name" --size 64x48 --mask configure --resize "${args[@]}"
	want=shm/$mode
	[ "$mode" = socket ] && want=socket
	grep -q "^ready width=64 height=48 transport=$want\$" "$T/$name.log" ||
		fail "$name: $(head -1 "$T/$name.log")"
	ID=$(surface_id "$name")
	[ -n "$ID" ] || fail "no surface $name in: $(cat "$OUT_FILE")"
	serial=$((serial + 1))
	ev_expect "$name" "configure width=64 height=48 serial=1" \
		"resized width=64 height=48 serial=1"
	readback "$name" 64 48
	s=1
	during=$(count_ours)
	for size in "${sizes[@]}"; do
		set -- $size
		s=$((s + 1))
		inp --surface "$name" configure "$1" "$2"
		ev_expect "$name" "configure width=$1 height=$2 serial=$s" \
			"resized width=$1 height=$2 serial=$s"
		readback "$name" "$1" "$2"
		# The old buffers are retired: as many names/segments as at 64x48.
		[ "$(count_ours)" = "$during" ] ||
			fail "$name at $1x$2: shm count $(count_ours), not $during"
	done
	# A window larger than --max-size: the library refuses the resize
	# (EFBIG) before anything is sent, the client keeps 63x47 and goes on,
	# and the server keeps it (the serial is simply never answered).
	s=$((s + 1))
	inp --surface "$name" configure $((MAXW + 1)) "$MAXH"
	ev_expect "$name" "configure width=$((MAXW + 1)) height=$MAXH serial=$s" \
		"refused width=$((MAXW + 1)) height=$MAXH error=EFBIG kept=63x47"
	kill -0 "${EVLOG_PID[$name]}" || fail "$name died on an oversize configure"
	readback "$name" 63 47
	s=$((s + 1))
	inp --surface "$name" configure 50 50
	ev_expect "$name" "configure width=50 height=50 serial=$s" \
		"resized width=50 height=50 serial=$s"
	readback "$name" 50 50
	kill -TERM "${EVLOG_PID[$name]}"
	wait "${EVLOG_PID[$name]}" 2>/dev/null
	sleep 0.2
	[ "$(count_ours)" = "$before" ] ||
		fail "$name gone: shm count $(count_ours), not $before"
done

# Killed between a resize and its frame: nothing left behind.
for mode in memfd posix sysv; do
	name=kill-$mode
	before=$(count_ours)
	headless_log "$name" --size 64x48 --mask configure --resize \
		--transport shm --shm "$mode"
	inp --surface "$name" configure 150 100
	kill -9 "${EVLOG_PID[$name]}"
	wait "${EVLOG_PID[$name]}" 2>/dev/null
	for _ in $(seq 40); do
		[ "$(count_ours)" = "$before" ] && break
		sleep 0.05
	done
	[ "$(count_ours)" = "$before" ] ||
		fail "$name killed: shm count $(count_ours), not $before"
done

finish
