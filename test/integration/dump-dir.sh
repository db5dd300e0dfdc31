#!/bin/bash
# Headless snapshots: with --dump-dir the server writes what a surface
# shows as PNG (every N frames, and on SIGUSR1), and the file holds exactly
# the client's pixels, readable by the server's user only.
. "$(dirname "$0")/../lib.sh"

# wait_png DIR: prints the newest PNG in DIR once one is there (5 s).
wait_png() {
	local snap
	for _ in $(seq 50); do
		snap=$(ls -t "$1"/*.png 2>/dev/null | head -n 1)
		if [ -n "$snap" ]; then
			sleep 0.2 # let the writer finish the file
			echo "$snap"
			return 0
		fi
		sleep 0.1
	done
}

mkdir "$T/dump"
start_server --dump-dir "$T/dump" --dump-every 1

send_ok --server "$SERVER_UNIX" --transport shm "$(img testcard.png)"
expect transport=shm
snap=$(wait_png "$T/dump")
[ -n "$snap" ] || fail "no PNG appeared in the dump directory"
same_pixels "$(img testcard.png)" "$snap"
# Screen contents are the user's: snapshots are 0600, whatever the umask.
[ "$(stat -c %a "$snap")" = 600 ] || fail "the snapshot is mode $(stat -c %a "$snap"), not 600"
server_alive
check_server_fds
stop_server

# SIGUSR1: a snapshot of every live surface, now.
mkdir "$T/usr1"
start_server --dump-dir "$T/usr1"
spawn "$SF_SEND" --server "$SERVER_UNIX" --transport socket --repeat 1000000 \
	--fps 20 "$(img alpha.png)" >/dev/null 2>"$T/streamer.err"
STREAMER=$LAST_PID
sleep 0.5
kill -0 "$STREAMER" 2>/dev/null || fail "the streamer ended: $(cat "$T/streamer.err")"
[ -z "$(ls "$T/usr1")" ] || fail "snapshots without SIGUSR1 or --dump-every"
kill -USR1 "$SERVER_PID"
snap=$(wait_png "$T/usr1")
[ -n "$snap" ] || fail "no PNG after SIGUSR1"
same_pixels "$(img alpha.png)" "$snap"
kill "$STREAMER"
wait "$STREAMER" 2>/dev/null
forget_pid "$STREAMER"

finish
