#!/bin/bash
# The SDL viewer as an input device (protocol 2.2): real X input, injected
# with XTEST (xdotool) on a private Xvfb, reaches sf-event-log clients as
# exactly the events PROTOCOL.md says, in surface pixels.
#
#  - keys (a, Shift+A, Left, Space, a separate press and release) to the
#    focused window only, with keycode, keysym, modifiers and text;
#  - the pointer over a 1:1 window and over one made 2x smaller (then
#    letterboxed) and 4/3 smaller: window points map back to the surface
#    pixels they show, the black bars are nobody's; enter, motion (one
#    per tick), buttons, the wheel, leave, and the implicit grab of a held
#    button (coordinates outside the surface, LEAVE after the release);
#  - focus in and out;
#  - CONFIGURE on a window resize, and on a window made smaller than its
#    surface at creation; with --resize the client's resized surface is
#    shown 1:1, pixel-exact;
#  - a client with --mask none hears nothing of all that;
#  - Esc reaches a client that selected KEY and does not close its window,
#    and closes the window of one that did not.
. "$(dirname "$0")/../lib.sh"
. "$(dirname "$0")/../lib-x11.sh"

: "${SF_EVENT_PATTERN:?SF_EVENT_PATTERN must name sf-event-pattern}"

start_xvfb
need_xdotool
start_viewer --display sdl

# Key and pointer lines, without the times (ev_new drops them).
KEY_A="code=4 sym=97"
KEY_SHIFT="code=225 sym=$((0x400000e1))"
press() { echo "key state=press $1 mods=$2 repeat=0 text=$3"; }
release() { echo "key state=release $1 mods=$2 repeat=0 text=-"; }
at() { echo "x=$1 y=$2 buttons=$3 mods=0x0"; }

# Windows apart from each other: the pointer goes to the one it is over.
# SDL opens them centred on the screen: the pointer stays off the centre
# until they are moved.
xdotool mousemove --sync 400 300
event_log in 40,40 --size 200x100 --mask all
IN=$EVLOG_WIN
ev_expect in "configure width=200 height=100 serial=1"
ev_maybe in "focus in"
# The new window takes the focus (SDL's doing, without a window manager).
event_log quiet 40,500 --size 200x100 --mask none
QUIET=$EVLOG_WIN
ev_expect in "focus out"

# ---- keys: to the focused window --------------------------------------

xdotool windowfocus --sync "$IN"
ev_expect in "focus in"
xdotool key a
ev_expect in "$(press "$KEY_A" 0x0 61)" "$(release "$KEY_A" 0x0)"
xdotool key shift+a
# (xdotool lets go of the keys in the order it pressed them.)
ev_expect in "$(press "$KEY_SHIFT" 0x1 -)" "$(press "$KEY_A" 0x1 41)" \
	"$(release "$KEY_SHIFT" 0x0)" "$(release "$KEY_A" 0x0)"
# Left has no character: 0x40000000 | its usage (80).
xdotool key Left
ev_expect in "$(press "code=80 sym=$((0x40000050))" 0x0 -)" \
	"$(release "code=80 sym=$((0x40000050))" 0x0)"
xdotool key space
ev_expect in "$(press "code=44 sym=32" 0x0 20)" "$(release "code=44 sym=32" 0x0)"
xdotool keydown b
ev_expect in "$(press "code=5 sym=98" 0x0 62)"
xdotool keyup b
ev_expect in "$(release "code=5 sym=98" 0x0)"

# ---- the pointer, 1:1 -------------------------------------------------

xdotool mousemove --sync --window "$IN" 10 20
ev_expect in "enter $(at 10.0000 20.0000 0x0)"
xdotool mousemove --sync --window "$IN" 57 63
ev_expect in "motion $(at 57.0000 63.0000 0x0)"
xdotool click 1
ev_expect in "button button=1 state=press $(at 57.0000 63.0000 0x1)" \
	"button button=1 state=release $(at 57.0000 63.0000 0x0)"
xdotool click 3
ev_expect in "button button=3 state=press $(at 57.0000 63.0000 0x4)" \
	"button button=3 state=release $(at 57.0000 63.0000 0x0)"
# X's wheel buttons: 4 up, 5 down, 6 left, 7 right.
xdotool click 4
ev_expect in "axis dx=0.0000 dy=1.0000 dx120=0 dy120=120"
xdotool click 5
ev_expect in "axis dx=0.0000 dy=-1.0000 dx120=0 dy120=-120"
xdotool click 6
ev_expect in "axis dx=-1.0000 dy=0.0000 dx120=-120 dy120=0"
xdotool click 7
ev_expect in "axis dx=1.0000 dy=0.0000 dx120=120 dy120=0"
# Modifiers held while pointing.
xdotool keydown shift
xdotool mousemove --sync --window "$IN" 58 63
xdotool keyup shift
ev_expect in "$(press "$KEY_SHIFT" 0x1 -)" \
	"motion x=58.0000 y=63.0000 buttons=0x0 mods=0x1" \
	"$(release "$KEY_SHIFT" 0x0)"

# 40 moves in one go: at most one POINTER_MOTION per tick, the last one
# at the last position.
moves=()
for i in $(seq 40); do
	moves+=(mousemove --window "$IN" $((60 + i)) 50)
done
xdotool "${moves[@]}"
for _ in $(seq 50); do
	ev_new in | grep -q '^motion x=100.0000 y=50.0000 ' && break
	sleep 0.1
done
n=$(ev_new in | grep -c '^motion ')
ev_new in | tail -n 1 | grep -q '^motion x=100.0000 y=50.0000 buttons=0x0 mods=0x0$' ||
	fail "the last motion is not at (100, 50): $(ev_new in | tail -n 3)"
[ "$(ev_new in | grep -vc '^motion ')" -eq 0 ] ||
	fail "not only motion: $(ev_new in)"
[ "$n" -lt 20 ] || fail "40 quick moves gave $n POINTER_MOTIONs (not coalesced)"
note "40 quick moves: $n POINTER_MOTION events"
EVLOG_MARK[in]=$((EVLOG_MARK[in] + n))

# Out of the window: LEAVE at the last position over the surface.
xdotool mousemove --sync 400 300
ev_expect in "leave $(at 100.0000 50.0000 0x0)"

# A held button keeps the pointer: motion outside, even negative, the
# release where it happens, then LEAVE (at the last point over it).
xdotool mousemove --sync --window "$IN" 20 30
ev_expect in "enter $(at 20.0000 30.0000 0x0)"
xdotool mousedown 1
ev_expect in "button button=1 state=press $(at 20.0000 30.0000 0x1)"
xdotool mousemove --sync --window "$IN" 250 150
ev_expect in "motion $(at 250.0000 150.0000 0x1)"
xdotool mousemove --sync --window "$IN" -- -5 -7
ev_expect in "motion $(at -5.0000 -7.0000 0x1)"
xdotool mouseup 1
ev_expect in "button button=1 state=release $(at -5.0000 -7.0000 0x0)" \
	"leave $(at 20.0000 30.0000 0x0)"
# Released over the image: the pointer stays.
xdotool mousemove --sync --window "$IN" 30 30
ev_expect in "enter $(at 30.0000 30.0000 0x0)"
xdotool mousedown 1 mousemove --sync --window "$IN" 31 30 mouseup 1
ev_expect in "button button=1 state=press $(at 30.0000 30.0000 0x1)" \
	"motion $(at 31.0000 30.0000 0x1)" \
	"button button=1 state=release $(at 31.0000 30.0000 0x0)"
xdotool mousemove --sync 400 300
ev_expect in "leave $(at 31.0000 30.0000 0x0)"

# ---- a window 2x smaller: letterboxed ---------------------------------

# 100x100 shows the 200x100 surface as 100x50 at (0, 25).
xdotool windowsize --sync "$IN" 100 100
ev_expect in "configure width=100 height=100 serial=2"
xdotool mousemove --sync --window "$IN" 10 10   # the bar above
xdotool mousemove --sync --window "$IN" 50 24
ev_none in
xdotool mousemove --sync --window "$IN" 10 30
ev_expect in "enter $(at 20.0000 10.0000 0x0)"
xdotool mousemove --sync --window "$IN" 99 74
ev_expect in "motion $(at 198.0000 98.0000 0x0)"
xdotool click 2
ev_expect in "button button=2 state=press $(at 198.0000 98.0000 0x2)" \
	"button button=2 state=release $(at 198.0000 98.0000 0x0)"
xdotool mousemove --sync --window "$IN" 50 75  # the bar below
ev_expect in "leave $(at 198.0000 98.0000 0x0)"
# A click or the wheel on a bar is nobody's.
xdotool click 1 click 4
ev_none in

# 150x150 shows it as 150x75 at (0, 37): scale 3/4, 1/256 pixels rounded.
xdotool windowsize --sync "$IN" 150 150
ev_expect in "configure width=150 height=150 serial=3"
xdotool mousemove --sync --window "$IN" 10 40
# x = 10 * 4/3 = 13.333: 3413/256; y = 3 * 4/3 = 4.
ev_expect in "enter $(at 13.3320 4.0000 0x0)"
xdotool mousemove --sync --window "$IN" 149 111
# x = 198.667: 50859/256 (198.6680); y = 74 * 4/3 = 98.667 (98.6680).
ev_expect in "motion $(at 198.6680 98.6680 0x0)"
xdotool mousemove --sync 400 300
ev_expect in "leave $(at 198.6680 98.6680 0x0)"

# Back to the surface's size: CONFIGURE says so.
xdotool windowsize --sync "$IN" 200 100
ev_expect in "configure width=200 height=100 serial=4"

# ---- focus ------------------------------------------------------------

# Another window shown takes the focus, as one focused does.
event_log other 400,40 --size 120x90 --mask key
OTHER=$EVLOG_WIN
ev_expect in "focus out"
xdotool windowfocus --sync "$IN"
ev_expect in "focus in"
xdotool windowfocus --sync "$OTHER"
ev_expect in "focus out"
# Keys go to the focused window only.
xdotool key a
ev_expect other "$(press "$KEY_A" 0x0 61)" "$(release "$KEY_A" 0x0)"
ev_none in

# ---- Esc: a key for a client that selected KEY, else a close ------------

xdotool key Escape
ev_expect other "$(press "code=41 sym=$((0x40000029))" 0x0 -)" \
	"$(release "code=41 sym=$((0x40000029))" 0x0)"
window_id "sf-event-log: other" >/dev/null
xdotool key q
ev_expect other "$(press "code=20 sym=113" 0x0 71)" \
	"$(release "code=20 sym=113" 0x0)"
window_id "sf-event-log: other" >/dev/null

event_log noesc 400,300 --size 120x90 --mask configure
ev_expect noesc "configure width=120 height=90 serial=1"
xdotool windowfocus --sync "$EVLOG_WIN"
xdotool key Escape
ev_expect noesc closed
window_gone "sf-event-log: noesc"
event_log noq 400,300 --size 120x90 --mask configure
ev_expect noq "configure width=120 height=90 serial=1"
xdotool windowfocus --sync "$EVLOG_WIN"
xdotool key q
ev_expect noq closed
window_gone "sf-event-log: noq"

# ---- configure and resize ---------------------------------------------

# The client answers each CONFIGURE with RESIZE_SURFACE and a frame at the
# new size: the window then shows it 1:1.
event_log rs 700,40 --size 120x90 --mask configure --resize
RS=$EVLOG_WIN
ev_expect rs "configure width=120 height=90 serial=1" \
	"resized width=120 height=90 serial=1"
"$SF_EVENT_PATTERN" 120x90 "$T/rs-120x90.png" || fail "sf-event-pattern failed"
expect_window "sf-event-log: rs" "$T/rs-120x90.png"
xdotool windowsize --sync "$RS" 160 100
ev_expect rs "configure width=160 height=100 serial=2" \
	"resized width=160 height=100 serial=2"
"$SF_EVENT_PATTERN" 160x100 "$T/rs-160x100.png" || fail "sf-event-pattern failed"
expect_window "sf-event-log: rs" "$T/rs-160x100.png"
xdotool windowsize --sync "$RS" 90 70
ev_expect rs "configure width=90 height=70 serial=3" \
	"resized width=90 height=70 serial=3"
"$SF_EVENT_PATTERN" 90x70 "$T/rs-90x70.png" || fail "sf-event-pattern failed"
expect_window "sf-event-log: rs" "$T/rs-90x70.png"

# A surface larger than the screen (1280x1024) gets a window made smaller,
# aspect kept: 2000x1500 at 0.64 is 1280x960, and CONFIGURE says so.
event_log big 0,0 --size 2000x1500 --mask configure
ev_expect big "configure width=1280 height=960 serial=1"
ev_end big

# ---- --mask none: nothing at all ---------------------------------------

# (Not Esc or q: without KEY they close its window, and CLOSED is an
# event.)
xdotool windowfocus --sync "$QUIET"
xdotool key a key shift+a key Left key space
xdotool mousemove --sync --window "$QUIET" 10 10 click 1 click 4 \
	mousedown 1 mousemove --sync 900 900 mouseup 1
xdotool windowsize --sync "$QUIET" 100 100
window_id "sf-event-log: quiet" >/dev/null
ev_none quiet in other rs

# From the server seeing the input to the client's callback (one host:
# the same CLOCK_MONOTONIC): the viewer's coalescing holds motion at most
# until the end of its pump, nothing waits for a later tick.
read -r n median worst < <(sed -n 's/.* time=\([0-9]*\) now=\([0-9]*\)$/\1 \2/p' \
	"$T/in.log" | awk '{ print $2 - $1 }' | sort -n |
	awk '{ v[NR] = $1 } END { print NR, v[int((NR + 1) / 2)], v[NR] }')
note "latency server -> client over $n events: median $((median / 1000)) us, worst $((worst / 1000)) us"
[ "$worst" -lt 1000000000 ] || fail "an event took $((worst / 1000000)) ms to reach its client"

for c in in quiet other noesc noq rs; do
	ev_end "$c"
done
finish
stop_xvfb
