#!/bin/bash
# The SDL viewer on a real X server (a private Xvfb): each surface gets a
# window titled "CLIENT: TITLE" that shows the frame 1:1 at its top-left,
# read off the X screen with xwd and compared pixel-exact: opaque images as
# they are, images with alpha composited over black, XRGB surfaces with
# their fourth byte ignored.  Resized, the window keeps the aspect and
# centres the frame between black bars.  PRESENTED comes once the window
# shows the frame, and the readback still holds the surface's own bytes.
. "$(dirname "$0")/../lib.sh"
. "$(dirname "$0")/../lib-x11.sh"

: "${SF_PNG2RAW:?}"

start_xvfb
start_viewer --display sdl

# spawn_reading FILE PROGRAM ARGS...: spawn with standard input from FILE
# (a background command's stdin is /dev/null unless its own redirection
# says otherwise), without the test's fds 3 and 4.
spawn_reading() {
	local in=$1

	shift
	spawn sh -c 'exec 3>&- 4>&- <"$0"; exec "$@"' "$in" "$@"
}

# open_raw TITLE WxH: shmframe-send --raw reading a FIFO that fd 3 keeps
# open, so its window stays until close_raw.
open_raw() {
	local fifo="$T/$1.fifo"

	mkfifo "$fifo" || fail "mkfifo failed"
	# Read-write: opening waits for no reader.  The client must not
	# inherit it (it would hold its own input open): see spawn_reading.
	exec 3<>"$fifo"
	spawn_reading "$fifo" "$SF_SEND" --server "$SERVER_UNIX" --title "$1" \
		--raw "$2:rgba" - --readback "$T/$1.back.png" >"$T/$1.out" \
		2>"$T/$1.err"
	SEND_PID=$LAST_PID
}

# close_raw TITLE FRAMES: ends the input; the client must then exit 0
# having presented FRAMES frames.
close_raw() {
	local rc

	exec 3>&-
	wait "$SEND_PID"
	rc=$?
	forget_pid "$SEND_PID"
	OUT=$(tail -n 1 "$T/$1.out")
	[ "$rc" -eq 0 ] || fail "shmframe-send ($1) exited $rc: $(cat "$T/$1.err")"
	expect "frames=$2"
	window_gone "shmframe-send: $1"
}

for spec in testcard.png:64x48 odd-333x257.png:333x257 alpha.png:200x150; do
	name=${spec%%:*}
	size=${spec#*:}
	title=${name%.png}
	note "$name in a window"
	"$SF_OVERBLACK" "$(img "$name")" "$T/expect.png" || fail "sf-overblack"
	open_raw "$title" "$size"
	"$SF_PNG2RAW" "$(img "$name")" rgba >&3 || fail "cannot write the frame"
	expect_window "shmframe-send: $title" "$T/expect.png"

	if [ "$name" = testcard.png ]; then
		# Wider: full height, centred between bars left and right.
		"$SF_XWIN" resize "shmframe-send: $title" 256x48 || fail "resize"
		"$SF_OVERBLACK" --canvas 256x48+96+0 "$(img "$name")" "$T/wide.png"
		expect_window "shmframe-send: $title" "$T/wide.png"
		# Taller: full width, bars above and below.
		"$SF_XWIN" resize "shmframe-send: $title" 64x148 || fail "resize"
		"$SF_OVERBLACK" --canvas 64x148+0+50 "$(img "$name")" "$T/tall.png"
		expect_window "shmframe-send: $title" "$T/tall.png"
		# Back to its size: 1:1 again.
		"$SF_XWIN" resize "shmframe-send: $title" 64x48 || fail "resize"
		expect_window "shmframe-send: $title" "$T/expect.png"
		# A second frame replaces the first on screen.
		frame 64x48 3 "$T/second.png"
		"$SF_PNG2RAW" "$T/second.png" rgba >&3 || fail "cannot write"
		expect_window "shmframe-send: $title" "$T/second.png"
		close_raw "$title" 2
		same_pixels "$T/second.png" "$T/$title.back.png"
		continue
	fi
	close_raw "$title" 1
	same_pixels "$(img "$name")" "$T/$title.back.png"
done

# An XRGB8888 surface whose fourth byte is garbage: ignored on screen.  Its
# client hears PRESENTED only once the window showed the frame.
if [ -n "${SF_SHOWPNG:-}" ]; then
	note "XRGB surface in a window"
	mkfifo "$T/hold.fifo"
	exec 4<>"$T/hold.fifo"
	spawn_reading "$T/hold.fifo" "$SF_SHOWPNG" --server "$SERVER_UNIX" \
		--title xrgb --xrgb "$(img odd-333x257.png)" >"$T/xrgb.out" \
		2>"$T/xrgb.err"
	pid=$LAST_PID
	expect_window "sf-showpng: xrgb" "$(img odd-333x257.png)"
	for i in $(seq 50); do
		grep -q '^shown$' "$T/xrgb.out" && break
		sleep 0.1
	done
	grep -q '^shown$' "$T/xrgb.out" || fail "no PRESENTED for a shown frame"
	exec 4>&-
	wait "$pid" || fail "sf-showpng exited $?: $(cat "$T/xrgb.err")"
	forget_pid "$pid"
	OUT=$(tail -n 1 "$T/xrgb.out")
	expect presented=1 closed=0
	window_gone "sf-showpng: xrgb"
fi

finish
stop_xvfb
