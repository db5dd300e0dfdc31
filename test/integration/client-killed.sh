#!/bin/bash
# Clients killed with SIGKILL in the middle of streaming, on every
# transport: the server notices, frees their fds, mappings and segments,
# and keeps serving.
. "$(dirname "$0")/../lib.sh"

start_server
frame 333x257 1 "$T/f333.png"
frame 200x150 1 "$T/f200.png"

for mode in socket memfd posix sysv; do
	mode_args "$mode"
	spawn "$SF_SEND" --server "$SERVER_UNIX" $MODE_ARGS --repeat 100000 \
		"$(img odd-333x257.png)" "$T/f333.png" \
		>"$T/k-$mode.out" 2>"$T/k-$mode.err"
	pid=$LAST_PID
	sleep 0.4
	kill -0 "$pid" 2>/dev/null ||
		fail "$mode streamer ended before it was killed: $(cat "$T/k-$mode.err")"
	kill -KILL "$pid"
	wait "$pid" 2>/dev/null
	forget_pid "$pid"
	server_alive
	check_server_fds
done

# Several at once, then all killed together.
pids=""
for mode in socket memfd posix sysv; do
	mode_args "$mode"
	spawn "$SF_SEND" --server "$SERVER_UNIX" $MODE_ARGS --repeat 100000 \
		"$T/f200.png" "$(img alpha.png)" >/dev/null 2>&1
	pids="$pids $LAST_PID"
done
sleep 0.4
for pid in $pids; do
	kill -KILL "$pid"
	wait "$pid" 2>/dev/null
	forget_pid "$pid"
done

send_ok --server "$SERVER_UNIX" --readback "$T/after.png" "$(img testcard.png)"
same_pixels "$(img testcard.png)" "$T/after.png"

finish
