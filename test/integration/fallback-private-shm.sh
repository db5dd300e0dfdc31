#!/bin/bash
# A client that shares no memory with the server: its own /dev/shm (a
# private tmpfs) and its own System V IPC namespace, over TCP so no fd can
# pass either.  Every probe fails for real; auto must fall back to the
# socket with exact pixels, and forced shm must fail.
. "$(dirname "$0")/../lib.sh"

UNSHARE=""
for u in "unshare -m -i" "unshare -r -m -i"; do
	if $u sh -c 'mount -t tmpfs tmpfs /dev/shm' 2>/dev/null; then
		UNSHARE=$u
		break
	fi
done
[ -n "$UNSHARE" ] || { echo "cannot make a private /dev/shm here: skipped"; exit 77; }

isolated() {
	run_client $UNSHARE sh -c 'mount -t tmpfs tmpfs /dev/shm && exec "$@"' \
		sh "$@"
}

start_server
frame 200x150 3 "$T/f3.png"

isolated "$SF_SEND" --server "$SERVER_TCP" --transport auto \
	--readback "$T/auto.png" "$(img odd-333x257.png)"
[ "$RC" -eq 0 ] || fail "send in a private /dev/shm exited $RC: $(cat "$ERR_FILE")"
expect transport=socket
expect_no_key shm
same_pixels "$(img odd-333x257.png)" "$T/auto.png"

isolated "$SF_SEND" --server "$SERVER_TCP" --transport auto --repeat 3 \
	--readback "$T/alpha.png" "$T/f3.png" "$(img alpha.png)"
[ "$RC" -eq 0 ] || fail "send exited $RC: $(cat "$ERR_FILE")"
expect transport=socket frames=6
same_pixels "$(img alpha.png)" "$T/alpha.png"

for kind in posix sysv; do
	isolated "$SF_SEND" --server "$SERVER_TCP" --transport shm --shm $kind \
		"$(img testcard.png)"
	[ "$RC" -eq 1 ] ||
		fail "forced $kind shm without shared memory exited $RC, not 1"
done

finish
