#!/bin/bash
# --present copy (X MIT-SHM semantics: the server copies the damage at once
# and releases the buffer) gives the same pixels as latching, on every
# transport, over many frames.
. "$(dirname "$0")/../lib.sh"

start_server
frame 64x48 7 "$T/f7.png"

for mode in socket memfd posix sysv; do
	mode_args "$mode"
	for name in 7x5.png odd-333x257.png alpha.png; do
		send_ok --server "$SERVER_UNIX" $MODE_ARGS --present copy \
			--readback "$T/copy.png" "$(img "$name")"
		expect $MODE_WANT frames=1
		same_pixels "$(img "$name")" "$T/copy.png"
	done
	send_ok --server "$SERVER_UNIX" $MODE_ARGS --present copy --repeat 5 \
		--readback "$T/copy-many.png" "$(img testcard.png)" "$T/f7.png"
	expect $MODE_WANT frames=10
	same_pixels "$T/f7.png" "$T/copy-many.png"
done

finish
