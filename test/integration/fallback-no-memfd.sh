#!/bin/bash
# memfd_create fails inside the client (an interposed libc call, as on a
# kernel without it): auto moves on to POSIX shm with exact pixels; forced
# memfd fails.  When only the control segment cannot be made, frames stay
# on memfd and signalling falls back to the socket, saying why; forced
# rings fail.
. "$(dirname "$0")/../lib.sh"

: "${SF_FAIL_MEMFD:?}"
# ASan insists on being first in the library list; this preload is not a
# problem for it.
export ASAN_OPTIONS="$ASAN_OPTIONS:verify_asan_link_order=0"

start_server

LD_PRELOAD="$SF_FAIL_MEMFD" send_ok --server "$SERVER_UNIX" --transport auto \
	--readback "$T/out.png" "$(img 7x5.png)"
expect transport=shm shm=posix
same_pixels "$(img 7x5.png)" "$T/out.png"

LD_PRELOAD="$SF_FAIL_MEMFD" run_client "$SF_SEND" --server "$SERVER_UNIX" \
	--transport shm --shm memfd "$(img 7x5.png)"
[ "$RC" -eq 1 ] || fail "forced memfd without memfd_create exited $RC, not 1"

SF_FAIL_MEMFD_CALL=2 LD_PRELOAD="$SF_FAIL_MEMFD" send_ok --server "$SERVER_UNIX" \
	--shm memfd --readback "$T/out2.png" "$(img 7x5.png)"
expect transport=shm shm=memfd signal=socket
case "$OUT" in
*'signal_reason="cannot create a memfd control segment'*) ;;
*) fail "no reason for socket signalling in: $OUT" ;;
esac
same_pixels "$(img 7x5.png)" "$T/out2.png"

SF_FAIL_MEMFD_CALL=2 LD_PRELOAD="$SF_FAIL_MEMFD" run_client "$SF_SEND" \
	--server "$SERVER_UNIX" --shm memfd --signal ring "$(img 7x5.png)"
[ "$RC" -eq 1 ] || fail "forced rings without a control segment exited $RC, not 1"

finish
