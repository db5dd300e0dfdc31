#!/bin/bash
# client/examples/poll-renderer embeds the library in its own poll() loop:
# it must render and present its frames, see RELEASE and PRESENTED, exit
# cleanly, and reconnect when the server goes away and comes back.
. "$(dirname "$0")/../lib.sh"

: "${SF_EXAMPLE:?SF_EXAMPLE must name poll-renderer}"

start_server

# A plain run on the default transport.
run_client "$SF_EXAMPLE" --server "$SERVER_UNIX" --frames 120 --fps 400 --no-reconnect
[ "$RC" -eq 0 ] || fail "poll-renderer exited $RC: $(cat "$ERR_FILE")"
expect frames=120 reconnects=0 transport=shm shm=memfd signal=ring
presented=$(echo "$OUT" | sed -n 's/.*presented=\([0-9]*\).*/\1/p')
released=$(echo "$OUT" | sed -n 's/.*released=\([0-9]*\).*/\1/p')
# Every frame is answered with PRESENTED; every latched buffer but the one
# still shown comes back.
[ "$presented" -eq 120 ] || fail "presented=$presented, want 120: $OUT"
[ "$released" -ge 119 ] || fail "released=$released, want >= 119: $OUT"

# The socket transport through the same loop.
SHMFRAME_TRANSPORT=socket run_client "$SF_EXAMPLE" --server "$SERVER_UNIX" \
	--frames 60 --fps 400 --no-reconnect
[ "$RC" -eq 0 ] || fail "poll-renderer (socket) exited $RC: $(cat "$ERR_FILE")"
expect frames=60 transport=socket
# Shared memory with every event on the socket: the same loop.
SHMFRAME_SIGNAL=socket run_client "$SF_EXAMPLE" --server "$SERVER_UNIX" \
	--frames 60 --fps 400 --no-reconnect
[ "$RC" -eq 0 ] || fail "poll-renderer (socket signalling) exited $RC: $(cat "$ERR_FILE")"
expect frames=60 presented=60 transport=shm signal=socket
check_server_fds

# Without --no-reconnect, a server that dies mid-stream is reconnected to.
spawn "$SF_EXAMPLE" --server "$SERVER_UNIX" --frames 600 --fps 200 \
	>"$T/renderer.out" 2>"$T/renderer.err"
renderer=$LAST_PID
sleep 0.7
kill -KILL "$SERVER_PID"
wait "$SERVER_PID" 2>/dev/null
forget_pid "$SERVER_PID"
sleep 0.3
fds_fresh=$SERVER_FDS
start_server
# The renderer may reconnect before start_server counts the fds; a fresh
# server with the same arguments holds as many as the first one did.
SERVER_FDS=$fds_fresh
for _ in $(seq 200); do kill -0 "$renderer" 2>/dev/null || break; sleep 0.1; done
kill -0 "$renderer" 2>/dev/null && fail "poll-renderer still running after 20 s"
wait "$renderer"
rc=$?
forget_pid "$renderer"
[ "$rc" -eq 0 ] || fail "poll-renderer exited $rc after the server restart: $(cat "$T/renderer.err")"
OUT=$(tail -n 1 "$T/renderer.out")
expect frames=600
reconnects=$(echo "$OUT" | sed -n 's/.*reconnects=\([0-9]*\).*/\1/p')
[ "${reconnects:-0}" -ge 1 ] || fail "no reconnect after the server was killed: $OUT"
grep -q "connection lost" "$T/renderer.err" ||
	fail "poll-renderer did not say why it reconnected: $(cat "$T/renderer.err")"
finish
