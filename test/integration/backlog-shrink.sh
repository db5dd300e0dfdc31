#!/bin/bash
# A POSIX client latches a buffer and truncates its segment while it and
# another client wait on the server's backlog; a SIGUSR1 snapshot then
# reads the shrunk pages outside any request, and the server drops that
# client from the other client's turn.  The server must stay responsive
# (1.0 spun at 100% CPU in its backlog walk, deaf to SIGTERM): the busy
# client gets every answer, a healthy client round-trips a frame, and
# SIGTERM ends the server within 5 s.
. "$(dirname "$0")/../lib.sh"

: "${SF_SHRINK_CLIENT:?SF_SHRINK_CLIENT must name sf-shrink-client}"

mkdir "$T/dump"
start_server --dump-dir "$T/dump"

# 3 rounds; each one, on 1.0, hangs the server (the attack is ordered,
# not a race).
run_client "$SF_SHRINK_CLIENT" "$SERVER_UNIX" snapshot "$SERVER_PID" 3
[ "$RC" -eq 0 ] || fail "shrinking during snapshots: $(cat "$ERR_FILE")"
expect rounds=3
server_alive

roundtrip_ok
# SIGTERM is heard: a clean exit within 5 s.
finish 5
