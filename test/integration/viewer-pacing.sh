#!/bin/bash
# A client that presents far faster than the SDL viewer shows frames (a
# private Xvfb at 60 Hz): every frame still gets exactly one PRESENTED, in
# order.  Those replaced before the display's next tick come back as
# discarded, each under its own serial; at least the last one is shown.
# For the latched shm path, the copy path and the socket.
. "$(dirname "$0")/../lib.sh"
. "$(dirname "$0")/../lib-x11.sh"

: "${SF_PRESENTER:?SF_PRESENTER must name sf-presenter}"

start_xvfb
start_viewer --display sdl

for mode in "--transport shm" "--transport shm --copy" "--transport socket"; do
	note "300 frames at full speed: $mode"
	# shellcheck disable=SC2086
	run_client "$SF_PRESENTER" --server "$SERVER_UNIX" --frames 300 $mode
	[ "$RC" -eq 0 ] || fail "sf-presenter $mode exited $RC: $(cat "$ERR_FILE")"
	note "$OUT"
	expect frames=300 duplicates=0 unknown=0 missing=0 out_of_order=0
	shown=$(value_of shown) discarded=$(value_of discarded)
	[ $((shown + discarded)) -eq 300 ] ||
		fail "$mode: $shown shown + $discarded discarded is not 300: $OUT"
	[ "$shown" -ge 1 ] || fail "$mode: no frame was shown: $OUT"
	# 300 frames take a few ms to present; a 60 Hz display shows a
	# handful of them.
	[ "$discarded" -ge 1 ] ||
		fail "$mode: nothing was discarded, so the display kept up: $OUT"
done

finish
stop_xvfb
