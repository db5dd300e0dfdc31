# X11 helpers of the viewer tests, sourced after lib.sh: a private Xvfb
# for the test, and windows found by their title, grabbed off the X screen
# with `xwd` and compared pixel-exact with what they should show.
#
# Environment (set by CTest): SF_XWD2PNG SF_OVERBLACK SF_XWIN, and
# optionally SF_SHOWPNG.

: "${SF_XWD2PNG:?SF_XWD2PNG must name sf-xwd2png}"
: "${SF_OVERBLACK:?SF_OVERBLACK must name sf-overblack}"

XVFB_PID=""

# start_xvfb: an Xvfb of our own on a free display number (it picks one
# itself and tells us through -displayfd); exports DISPLAY.  Skips the test
# (77) only when Xvfb is not installed.
start_xvfb() {
	local i n=""

	command -v Xvfb >/dev/null || { echo "Xvfb not installed: skipped"; exit 77; }
	command -v xwd >/dev/null || fail "xwd not installed (package x11-apps)"
	[ -n "${SF_XWIN:-}" ] || fail "sf-xwin not built (libxcb missing?)"
	spawn Xvfb -displayfd 3 -screen 0 1280x1024x24 -nolisten tcp \
		3>"$T/xdisplay" 2>"$T/xvfb.log"
	XVFB_PID=$LAST_PID
	for i in $(seq 100); do
		n=$(head -n 1 "$T/xdisplay" 2>/dev/null)
		[ -n "$n" ] && break
		kill -0 "$XVFB_PID" 2>/dev/null ||
			fail "Xvfb exited: $(cat "$T/xvfb.log")"
		sleep 0.1
	done
	[ -n "$n" ] || fail "Xvfb did not start in 10 s"
	export DISPLAY=":$n"
	unset WAYLAND_DISPLAY SDL_VIDEODRIVER
	note "Xvfb $XVFB_PID on $DISPLAY"
}

# start_viewer ARGS...: start_server with windows.  In sanitizer builds
# the server runs without leak detection (memory errors still abort it):
# the X11 and GL libraries SDL loads leak at exit inside modules that
# SDL_Quit unloads, where LeakSanitizer can neither name nor suppress them.
start_viewer() {
	if [ -n "${SF_SANITIZE:-}" ]; then
		ASAN_OPTIONS="${ASAN_OPTIONS:+$ASAN_OPTIONS:}detect_leaks=0" \
			start_server "$@"
	else
		start_server "$@"
	fi
}

# stop_xvfb: after the server stopped (finish), so that the server never
# sees its X server vanish.
stop_xvfb() {
	kill -TERM "$XVFB_PID" 2>/dev/null
	wait "$XVFB_PID" 2>/dev/null
	forget_pid "$XVFB_PID"
	XVFB_PID=""
}

# window_id TITLE: the id of the window with that exact title (waits 10 s).
window_id() {
	"$SF_XWIN" id "$1" || fail "no window titled '$1'"
}

# try_grab TITLE OUT.png: like grab, but returns 1 when the window went
# away between finding it and reading it.
try_grab() {
	local id

	id=$(window_id "$1") || exit 1
	xwd -id "$id" -silent >"$T/grab.xwd" 2>"$T/grab.err" || return 1
	"$SF_XWD2PNG" "$T/grab.xwd" "$2" || fail "sf-xwd2png failed"
}

# grab TITLE OUT.png: the window's content as the X server has it.
grab() {
	try_grab "$1" "$2" || fail "xwd failed: $(cat "$T/grab.err")"
}

# expect_window TITLE EXPECTED.png: the window shows exactly EXPECTED.png
# within 10 s (it may still be mapping, or waiting for the next tick).
expect_window() {
	local i msg=""

	for i in $(seq 50); do
		# The window found by its title can be gone by the time xwd
		# reads it (BadWindow, seen under load while a new window is
		# still being set up): look it up again on the next try.
		if ! try_grab "$1" "$T/window.png"; then
			msg="xwd: $(cat "$T/grab.err")"
			sleep 0.2
			continue
		fi
		msg=$("$SF_PNGCMP" "$2" "$T/window.png" 2>&1) && return 0
		sleep 0.2
	done
	fail "window '$1' does not show $(basename "$2"): $msg"
}

# window_gone TITLE: no window has that title any more (within 10 s).
window_gone() {
	"$SF_XWIN" gone "$1" || fail "window '$1' is still there"
}

# ---- input: real X input (xdotool) read back by sf-event-log clients ------
#
# Each client is named: its window is titled "sf-event-log: NAME", its
# stdin a fifo that never ends (it holds the fifo open for writing too:
# SIGTERM ends it), and its lines (time= and now= taken out) are read from a mark on, so that a
# test says exactly which events an action brings, and nothing more.

declare -A EVLOG_PID EVLOG_MARK

# need_xdotool: X input is injected with XTEST, as a person's would come.
need_xdotool() {
	command -v xdotool >/dev/null ||
		fail "xdotool not installed (package xdotool)"
}

# event_log NAME X,Y ARGS...: an sf-event-log titled NAME on the server
# (ARGS: its options), its window moved to X,Y; waits for it to be ready
# (events may come before it says ready: the CONFIGURE its SELECT_INPUT
# brings).  Sets EVLOG_WIN (the window).
event_log() {
	local name=$1 pos=$2

	shift 2
	headless_log "$name" "$@"
	EVLOG_WIN=$(window_id "sf-event-log: $name") || exit 1
	xdotool windowmove --sync "$EVLOG_WIN" "${pos%,*}" "${pos#*,}" ||
		fail "cannot move the window of $name"
}

# ev_new NAME: the client's lines after the mark, without its ready line
# and without time= and now=.
ev_new() {
	grep -v '^ready ' "$T/$1.log" | tail -n +$((EVLOG_MARK[$1] + 1)) |
		sed -e 's/ time=[0-9]*//' -e 's/ now=[0-9]*//'
}

# ev_expect NAME LINE...: within 10 s the client printed exactly these
# lines after the mark (one more is a failure too); the mark moves past
# them.
ev_expect() {
	local name=$1 got want n

	shift
	want=$(printf '%s\n' "$@")
	for _ in $(seq 100); do
		got=$(ev_new "$name")
		n=$(printf '%s' "$got" | grep -c '')
		[ "$n" -ge $# ] && break
		kill -0 "${EVLOG_PID[$name]}" 2>/dev/null || break
		sleep 0.1
	done
	[ "$got" = "$want" ] ||
		fail "$name: expected
$want
got
$got"
	EVLOG_MARK[$name]=$((EVLOG_MARK[$name] + $#))
}

# ev_maybe NAME LINE: moves the mark past LINE when it is the next line (a
# moment after the last action), for an event that races with the
# client's SELECT_INPUT: without a window manager, SDL gives each window
# it shows the focus, which the new client hears of when its mask was
# there first.
ev_maybe() {
	sleep 0.3
	[ "$(ev_new "$1" | head -n 1)" != "$2" ] ||
		EVLOG_MARK[$1]=$((EVLOG_MARK[$1] + 1))
}

# ev_none NAME...: no client printed anything after its mark (a moment
# after the last action: the viewer's tick and the socket are quick).
ev_none() {
	local name got

	sleep 0.3
	for name in "$@"; do
		got=$(ev_new "$name")
		[ -z "$got" ] || fail "$name: unexpected events:
$got"
	done
}

# ev_end NAME: SIGTERM ends the client: it says bye and exits 0.
ev_end() {
	local name=$1 pid=${EVLOG_PID[$1]} rc

	kill -TERM "$pid"
	timeout 10 tail --pid="$pid" -f /dev/null
	wait "$pid"
	rc=$?
	forget_pid "$pid"
	[ "$rc" -eq 0 ] || fail "sf-event-log $name exited $rc: $(cat "$T/$name.err")"
	ev_expect "$name" bye
}

# headless_log NAME ARGS...: an sf-event-log titled NAME (ARGS: its
# options), ready; its stdin a fifo held open.  event_log adds the window.
headless_log() {
	local name=$1

	shift
	: "${SF_EVENT_LOG:?SF_EVENT_LOG must name sf-event-log}"
	mkfifo "$T/$name.in"
	# As spawn does, but stdin is redirected here: bash gives a command
	# put in the background without a redirection of its own /dev/null.
	# Read-write, opening the fifo does not wait for a writer.
	setpriv --pdeathsig KILL -- "$SF_EVENT_LOG" --server "$SERVER_UNIX" \
		--title "$name" "$@" 0<>"$T/$name.in" >"$T/$name.log" \
		2>"$T/$name.err" &
	LAST_PID=$!
	SF_PIDS="$SF_PIDS $LAST_PID"
	EVLOG_PID[$name]=$LAST_PID
	EVLOG_MARK[$name]=0
	wait_for_line "$LAST_PID" "$T/$name.log" ready ||
		fail "sf-event-log $name did not start: $(cat "$T/$name.err")"
}

# inp ARGS...: shmframe-input on the input socket $CTL that must succeed.
inp() {
	run_client "$SF_INPUT" --socket "$CTL" "$@"
	[ "$RC" -eq 0 ] || fail "shmframe-input $* exited $RC: $(cat "$ERR_FILE")"
}
