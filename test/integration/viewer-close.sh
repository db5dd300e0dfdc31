#!/bin/bash
# Closing a viewer window ends that surface only.  Under --display auto
# (the default) with an X server, three clients each get a window; they are
# closed the three ways a user can: the window manager's close
# (WM_DELETE_WINDOW), Esc, and q.  Each client hears CLOSED (shmframe-demo
# --frames 0 then ends, exit 0, with its summary line), while the others
# keep streaming, the server keeps serving, and nothing leaks.  Esc and q
# close the window only for a client that did not ask for keys (b and c
# run with --no-input); a demo that did gets them and quits by itself (d).
. "$(dirname "$0")/../lib.sh"
. "$(dirname "$0")/../lib-x11.sh"

[ -n "${SF_DEMO:-}" ] || { echo "shmframe-demo not built: skipped"; exit 77; }

start_xvfb
start_viewer --display auto

# demo NAME X,Y ARGS...: a shmframe-demo titled NAME streaming until its
# window closes; the window is moved to X,Y, apart from the others (xwd
# cannot see what another window hides).  Sets DEMO_PID.
demo() {
	local name=$1 pos=$2

	shift 2
	spawn "$SF_DEMO" --server "$SERVER_UNIX" --title "$name" --frames 0 \
		--fps 30 --readback "$T/$name.png" "$@" >"$T/$name.out" \
		2>"$T/$name.err"
	DEMO_PID=$LAST_PID
	"$SF_XWIN" move "shmframe-demo: $name" "$pos" ||
		fail "no window for demo $name: $(cat "$T/$name.err")"
}

# demo_ended NAME PID: the demo exited 0 within 10 s, having shown frames;
# its last frame is what the server holds.  Sets OUT.
demo_ended() {
	local frames anim size

	await_exit "$2" "demo $1 still runs after its window closed"
	OUT=$(tail -n 1 "$T/$1.out")
	[ "$RC" -eq 0 ] || fail "demo $1 exited $RC: $(cat "$T/$1.err")"
	frames=$(echo " $OUT " | grep -o ' frames=[0-9]* ' | tr -dc 0-9)
	[ "${frames:-0}" -gt 0 ] || fail "demo $1 showed no frame: $OUT"
	anim=$(echo " $OUT " | grep -o ' anim_frame=[0-9]* ' | tr -dc 0-9)
	size=$(echo " $OUT " | grep -o ' width=[0-9]* ' | tr -dc 0-9)x$(echo \
		" $OUT " | grep -o ' height=[0-9]* ' | tr -dc 0-9)
	if [ -n "${SF_DEMOFRAME:-}" ]; then
		"$SF_DEMOFRAME" "$size" "$anim" "$T/$1.expect.png" ||
			fail "sf-demoframe failed"
		same_pixels "$T/$1.expect.png" "$T/$1.png"
	fi
	window_gone "shmframe-demo: $1"
	note "demo $1 ended on CLOSED: $OUT"
}

# still_streaming NAME: the demo runs and its window's content changes.
still_streaming() {
	local pid=$2

	kill -0 "$pid" 2>/dev/null || fail "demo $1 died: $(cat "$T/$1.err")"
	grab "shmframe-demo: $1" "$T/before.png"
	sleep 0.5
	grab "shmframe-demo: $1" "$T/after.png"
	"$SF_PNGCMP" "$T/before.png" "$T/after.png" >/dev/null &&
		fail "the window of demo $1 stopped changing"
	kill -0 "$pid" 2>/dev/null || fail "demo $1 died: $(cat "$T/$1.err")"
}

demo a 0,0 --size 160x120
a=$DEMO_PID
demo b 200,0 --size 97x61 --transport socket --no-input
b=$DEMO_PID
still_streaming a "$a"
still_streaming b "$b"

# The close button (the window manager's WM_DELETE_WINDOW).
"$SF_XWIN" close "shmframe-demo: a" || fail "cannot close window a"
demo_ended a "$a"
expect transport=shm width=160 height=120
still_streaming b "$b"
server_alive

# A third client arrives after a window closed; then Esc closes b's window.
demo c 400,0 --size 120x90 --no-input
c=$DEMO_PID
window_id "shmframe-demo: c" >/dev/null
"$SF_XWIN" key "shmframe-demo: b" Escape || fail "cannot press Esc in b"
demo_ended b "$b"
expect transport=socket width=97 height=61
still_streaming c "$c"
server_alive

# q in c's window.
"$SF_XWIN" key "shmframe-demo: c" q || fail "cannot press q in c"
demo_ended c "$c"
server_alive

# d asked for keys: Space in its window pauses its animation, q reaches
# it as a KEY and the demo quits by itself (the window goes when it
# disconnects); the viewer's own close did not act.
demo d 0,200 --size 100x80
d=$DEMO_PID
still_streaming d "$d"        # frames flow: its SELECT_INPUT came first
"$SF_XWIN" key "shmframe-demo: d" " " || fail "cannot press Space in d"
"$SF_XWIN" key "shmframe-demo: d" q || fail "cannot press q in d"
demo_ended d "$d"
expect input=on paused=1
[ "$(value_of keys)" -ge 3 ] || fail "demo d quit without its KEYs: $OUT"
server_alive

# A client that only waits: CLOSED reaches it too (and it may keep its
# surface, headless, until it leaves).
if [ -n "${SF_SHOWPNG:-}" ]; then
	mkfifo "$T/hold.fifo"
	exec 3<>"$T/hold.fifo"
	spawn sh -c 'exec 3>&- <"$0"; exec "$@"' "$T/hold.fifo" "$SF_SHOWPNG" \
		--server "$SERVER_UNIX" --title wait "$(img testcard.png)" \
		>"$T/wait.out" 2>"$T/wait.err"
	pid=$LAST_PID
	# Closed once its frame is shown: libshmframe drops events for a
	# surface that arrive before shmframe_surface_create() returned.
	for i in $(seq 100); do
		grep -q '^shown$' "$T/wait.out" && break
		sleep 0.1
	done
	grep -q '^shown$' "$T/wait.out" || fail "no PRESENTED: $(cat "$T/wait.err")"
	"$SF_XWIN" close "sf-showpng: wait" || fail "cannot close window wait"
	for i in $(seq 100); do
		kill -0 "$pid" 2>/dev/null || break
		sleep 0.1
	done
	exec 3>&-
	wait "$pid" || fail "sf-showpng exited $?: $(cat "$T/wait.err")"
	forget_pid "$pid"
	OUT=$(tail -n 1 "$T/wait.out")
	expect closed=1
fi

finish
stop_xvfb
