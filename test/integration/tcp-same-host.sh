#!/bin/bash
# TCP to 127.0.0.1 is still the same host: no fd can pass, but POSIX and
# System V shm pass the probe.  Without the cookie the server refuses.
. "$(dirname "$0")/../lib.sh"

start_server
[ -s "$SHMFRAME_AUTH" ] || fail "the server wrote no cookie at \$SHMFRAME_AUTH"

send_ok --server "$SERVER_TCP" --transport auto --readback "$T/auto.png" \
	"$(img gradient.png)"
expect transport=shm shm=posix
same_pixels "$(img gradient.png)" "$T/auto.png"

send_ok --server "$SERVER_TCP" --transport shm --shm sysv \
	--readback "$T/sysv.png" "$(img odd-333x257.png)"
expect transport=shm shm=sysv
same_pixels "$(img odd-333x257.png)" "$T/sysv.png"

send_ok --server "$SERVER_TCP" --transport socket --readback "$T/sock.png" \
	"$(img alpha.png)"
expect transport=socket
expect_no_key shm
same_pixels "$(img alpha.png)" "$T/sock.png"

run_client "$SF_SEND" --server "$SERVER_TCP" --transport shm --shm memfd \
	"$(img 1x1.png)"
[ "$RC" -eq 1 ] || fail "memfd over TCP exited $RC, not 1"

# A client with the wrong cookie is turned away; the server carries on.
head -c 16 /dev/zero >"$T/wrong-cookie"
SHMFRAME_AUTH="$T/wrong-cookie" run_client "$SF_SEND" --server "$SERVER_TCP" \
	"$(img 1x1.png)"
[ "$RC" -eq 1 ] || fail "a client with the wrong cookie exited $RC, not 1"
SHMFRAME_AUTH="$T/no-such-cookie" run_client "$SF_SEND" --server "$SERVER_TCP" \
	"$(img 1x1.png)"
[ "$RC" -eq 1 ] || fail "a client without a cookie exited $RC, not 1"

send_ok --server "$SERVER_TCP" --readback "$T/after.png" "$(img 7x5.png)"
same_pixels "$(img 7x5.png)" "$T/after.png"

finish
