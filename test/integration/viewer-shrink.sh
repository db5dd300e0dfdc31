#!/bin/bash
# The SDL display's per-tick upload of a latched POSIX buffer whose client
# truncated the segment: the SIGBUS comes outside any request, and the
# server drops that client from another client's turn on the backlog
# (both stream SYNCs so that they wait there).  The server must stay
# responsive (1.0 spun at 100% CPU in its backlog walk, deaf to SIGTERM):
# the busy client gets every answer, a healthy client round-trips a frame,
# and SIGTERM ends the server within 5 s.
. "$(dirname "$0")/../lib.sh"
. "$(dirname "$0")/../lib-x11.sh"

: "${SF_SHRINK_CLIENT:?SF_SHRINK_CLIENT must name sf-shrink-client}"

start_xvfb
start_viewer --display sdl

# Which client the walk meets first at the tick depends on timing: 1.0
# hung within the first few rounds.
run_client "$SF_SHRINK_CLIENT" "$SERVER_UNIX" display 8
[ "$RC" -eq 0 ] || fail "shrinking under the display: $(cat "$ERR_FILE")"
expect rounds=8
server_alive

roundtrip_ok
# SIGTERM is heard: a clean exit within 5 s.
finish 5
stop_xvfb
