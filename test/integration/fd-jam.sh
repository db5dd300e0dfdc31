#!/bin/bash
# Fds a peer passes must not fill the server's fd table, however they come.
# Under a limit of 1024 fds, an attacker first passes, on four connections,
# a Unix socket holding a TCP socket that lingers for an hour (the closer
# threads must empty such a socket, defusing what is in it, rather than
# sleep the hour in its close: four of them used to take every closer),
# then floods ten connections with bytes carrying 253 pipe fds apiece.
# Meanwhile a healthy client keeps presenting (round trips well under a
# second), and new healthy clients connect during the flood and after the
# attacker is gone: the server reads no more fds than the closers have
# room for, and its listeners never stay paused.
. "$(dirname "$0")/../lib.sh"

: "${SF_FD_ATTACK:?SF_FD_ATTACK must name sf-fd-attack}"

ulimit -n 1024 || fail "cannot set the fd limit to 1024"
start_server

healthy_start 8

spawn "$SF_FD_ATTACK" jam "$SERVER_UNIX" 4 10 >"$T/jam.out" 2>"$T/jam.err"
JAM=$LAST_PID
most=0
for _ in $(seq 300); do
	n=$(count_fds "$SERVER_PID")
	[ "$n" -gt "$most" ] && most=$n
	grep -q '^flooded' "$T/jam.out" 2>/dev/null && break
	kill -0 "$JAM" 2>/dev/null || break
	sleep 0.05
done
grep -q '^flooded' "$T/jam.out" ||
	fail "the attacker did not finish: $(cat "$T/jam.out" "$T/jam.err")"
[ "$(grep -c '^error=11$' "$T/jam.out")" -eq 4 ] ||
	fail "expected 4 error=11 (UNEXPECTED_FD): $(cat "$T/jam.out")"
note "attack: $(grep '^flooded' "$T/jam.out"); the server held at most $most fds"
server_alive
[ "$most" -lt 1024 ] || fail "the server's fd table filled up ($most of 1024)"

# With the lingering sockets still held by the attacker.
run_client timeout 10 "$SF_FD_ATTACK" ping "$SERVER_UNIX" 1
[ "$RC" -eq 0 ] || fail "a new client could not connect during the attack (exit $RC): $(cat "$ERR_FILE")"
note "a new client during the attack: $OUT"

kill "$JAM"
wait "$JAM" 2>/dev/null
forget_pid "$JAM"
run_client timeout 10 "$SF_FD_ATTACK" ping "$SERVER_UNIX" 1
[ "$RC" -eq 0 ] || fail "a new client could not connect after the attack (exit $RC): $(cat "$ERR_FILE")"
! grep -q 'cannot accept' "$T/server.log" ||
	fail "the server ran out of fds: $(grep 'cannot accept' "$T/server.log" | head -n 1)"

healthy_end

finish
