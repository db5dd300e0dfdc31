#!/bin/bash
# From a real X event to the client's callback, through the SDL viewer on a
# private Xvfb: sf-x11-latency injects 200 pointer motions and 200 key
# presses and releases with XTEST into an sf-event-log client's window,
# one at a time at random phases of the viewer's tick, and each must
# reach the client as its callback's line.
# The times are printed (p50, p99, max), not judged: the machine is
# shared, and what the numbers are is in the README.
. "$(dirname "$0")/../lib.sh"
. "$(dirname "$0")/../lib-x11.sh"

: "${SF_X11_LATENCY:?SF_X11_LATENCY must name sf-x11-latency}"

start_xvfb
need_xdotool
start_viewer --display sdl

event_log lat 40,40 --size 200x100 --mask key,motion,crossing,focus
run_client "$SF_X11_LATENCY" "$EVLOG_WIN" "$T/lat.log" 200
[ "$RC" -eq 0 ] || fail "sf-x11-latency exited $RC: $(cat "$OUT_FILE" "$ERR_FILE")"
for kind in motion key; do
	line=$(grep "^latency kind=$kind " "$OUT_FILE") ||
		fail "no $kind line: $(cat "$OUT_FILE")"
	note "$line"
	echo "$line" | grep -Eq ' missed=0 p50_us=[0-9.]+ p99_us=[0-9.]+ max_us=[0-9.]+$' ||
		fail "$kind: $line" 
done
# The client heard every one: 200 motions (after the pointer came over the
# window) and 200 presses and releases of A.
[ "$(grep -c '^motion ' "$T/lat.log")" -ge 200 ] || fail "motions lost"
[ "$(grep -c '^key state=press code=4 ' "$T/lat.log")" -eq 200 ] ||
	fail "presses: $(grep -c '^key state=press' "$T/lat.log")"
[ "$(grep -c '^key state=release code=4 ' "$T/lat.log")" -eq 200 ] ||
	fail "releases: $(grep -c '^key state=release' "$T/lat.log")"
EVLOG_MARK[lat]=$(ev_new lat | wc -l)
ev_end lat
finish
