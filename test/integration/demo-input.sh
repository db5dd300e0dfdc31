#!/bin/bash
# shmframe-demo played without a window: shmframe-input sends a --display
# none server's demo the keys, pointer and wheel a person would, and the
# demo's last frame, read back from the server, is exactly the scene of
# the state it reports (sf-demoframe renders it), which is the state the
# input must have made:
#
#  - Right twice and Down move the square by SF_DEMO_STEP (8) a press;
#  - two wheel notches up zoom it from 4 to 6; one down and one up again
#    leave it there;
#  - a left press on the square, a motion and a release drag it; a press
#    beside it drags nothing;
#  - configure 200x100 makes the demo resize its surface and re-render at
#    that size (the square clamped inside it);
#  - Space starts the paused animation and Space stops it again;
#  - Escape ends the demo by itself (exit 0, summary line), and nothing is
#    left behind.
. "$(dirname "$0")/../lib.sh"

: "${SF_DEMO:?SF_DEMO must name shmframe-demo}"
: "${SF_INPUT:?SF_INPUT must name shmframe-input}"
: "${SF_DEMOFRAME:?SF_DEMOFRAME must name sf-demoframe}"

start_server
CTL="$T/sock.input"
[ -S "$CTL" ] || fail "no input socket $CTL"

# inp ARGS...: shmframe-input to the demo's surface, which must succeed.
inp() {
	run_client "$SF_INPUT" --socket "$CTL" --surface play "$@"
	[ "$RC" -eq 0 ] || fail "shmframe-input $* exited $RC: $(cat "$ERR_FILE")"
}

spawn "$SF_DEMO" --server "$SERVER_UNIX" --title play --size 160x120 \
	--paused --frames 0 --readback "$T/last.png" >"$T/demo.out" \
	2>"$T/demo.err"
demo=$LAST_PID

# Input is sent once the demo selected it (the list shows a mask), which
# it does before its first frame.
for _ in $(seq 100); do
	run_client "$SF_INPUT" --socket "$CTL" list
	grep -q 'mask=0x[1-9a-f][0-9a-f]* .*title="play"$' "$OUT_FILE" && break
	kill -0 "$demo" 2>/dev/null || fail "the demo died: $(cat "$T/demo.err")"
	sleep 0.1
done
grep -q 'mask=0x[1-9a-f][0-9a-f]* .*title="play"$' "$OUT_FILE" ||
	fail "the demo selected no input: $(cat "$OUT_FILE")"

# 160x120 starts with the square's centre at (80, 60), zoom 4.
inp key Right
inp key Right
inp key Down            # (96, 68)
inp move 150 110        # the wheel acts where the pointer is
inp wheel 0 1
inp wheel 0 1           # zoom 6: side 120 * 6 / 32 = 22
inp wheel 0 -1
inp wheel 0 1
# A press beside the square (it spans 85..106 x 57..78) drags nothing.
inp move 20 20          # (motions from here on)
inp button 1 press
inp move 30 90
inp button 1 release
# A press on it, 3 px right of the centre, keeps that offset.
inp move 99 68
inp button 1 press
inp move 53.5 30.75     # pixel (53, 30): the centre goes to (50, 30)
inp button 1 release
inp move 150 110        # released: the square stays
inp configure 200 100
inp key space
sleep 0.2               # a few animation frames
inp key space
inp key Escape

await_exit "$demo" "Escape did not end the demo"
[ "$RC" -eq 0 ] || fail "the demo exited $RC: $(cat "$T/demo.err")"
OUT=$(tail -n 1 "$T/demo.out")
note "$OUT"
expect input=on paused=1 width=200 height=100 shape_x=50 shape_y=30 zoom=6 \
	resizes=1 axes=4
# Six taps (the last release may come after the demo stopped reading),
# four presses and releases, and a motion for every move after the first
# (which enters).
[ "$(value_of keys)" -ge 11 ] || fail "keys lost: $OUT"
[ "$(value_of buttons)" -eq 4 ] || fail "buttons: $OUT"
[ "$(value_of motions)" -eq 5 ] || fail "motions: $OUT"
anim=$(value_of anim_frame)
[ "$anim" -gt 0 ] || fail "Space did not run the animation: $OUT"
"$SF_DEMOFRAME" 200x100 "$anim" "$T/want.png" 50,30 6 ||
	fail "sf-demoframe failed"
same_pixels "$T/want.png" "$T/last.png"

finish
