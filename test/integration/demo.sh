#!/bin/bash
# shmframe-demo renders frames with its deterministic renderer; what the
# server holds at the end must be exactly the last frame, which
# sf-demoframe renders with the same code.
. "$(dirname "$0")/../lib.sh"

[ -n "${SF_DEMO:-}" ] || { echo "shmframe-demo not built: skipped"; exit 77; }

start_server

for mode in socket memfd posix sysv; do
	mode_args "$mode"
	run_client "$SF_DEMO" --server "$SERVER_UNIX" $MODE_ARGS --size 97x61 \
		--frames 12 --readback "$T/demo-$mode.png"
	[ "$RC" -eq 0 ] || fail "demo ($mode) exited $RC: $(cat "$ERR_FILE")"
	expect $MODE_WANT frames=12 width=97 height=61
	if [ -n "${SF_DEMOFRAME:-}" ]; then
		"$SF_DEMOFRAME" 97x61 11 "$T/expect.png" ||
			fail "sf-demoframe failed"
		same_pixels "$T/expect.png" "$T/demo-$mode.png"
	fi
done

finish
