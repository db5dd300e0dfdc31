#!/bin/bash
# memfd_create fails inside the client (an interposed libc call, as on a
# kernel without it): auto moves on to POSIX shm with exact pixels; forced
# memfd fails.
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

finish
