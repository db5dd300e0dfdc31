#!/bin/bash
# Connections that never say HELLO cannot lock anyone out.  A TCP peer
# without the cookie (another host: source 127.0.0.2) holds 200
# connections open and opens a new one each time the server closes one;
# meanwhile every one of 10 legitimate clients (over Unix, and over TCP
# from 127.0.0.1) gets in and round-trips its pixels.  The server keeps such connections
# to a budget of their own (--max-clients 16 here: 16 in all, 4 from one
# source) and evicts the oldest, so the attacker holds 4 at any time.
. "$(dirname "$0")/../lib.sh"

: "${SF_FD_ATTACK:?SF_FD_ATTACK must name sf-fd-attack}"

start_server --max-clients 16
spawn "$SF_FD_ATTACK" hold "$SERVER_TCP" 200 90 127.0.0.2 >"$T/hold.out" 2>"$T/hold.err"
HOLD=$LAST_PID
sleep 1

start=$(date +%s)
for i in $(seq 10); do
	if [ $((i % 2)) -eq 0 ]; then addr=$SERVER_TCP; else addr=$SERVER_UNIX; fi
	run_client timeout 10 "$SF_SEND" --server "$addr" --readback "$T/out.png" \
		"$(img testcard.png)"
	[ "$RC" -eq 0 ] ||
		fail "legitimate client $i ($addr) did not get in: $(cat "$ERR_FILE")"
	same_pixels "$(img testcard.png)" "$T/out.png"
done
took=$(( $(date +%s) - start ))
note "10 legitimate clients in $took s while the attacker held its connections"
# Sanitizer builds are several times slower, under the flood too.
bound=20
[ -n "${SF_SANITIZE:-}" ] && bound=60
[ "$took" -le "$bound" ] || fail "the legitimate clients took $took s"

kill -0 "$HOLD" 2>/dev/null || fail "the attacker stopped early: $(cat "$T/hold.err")"
n=$(ls "/proc/$SERVER_PID/fd" | wc -l)
note "the server holds $n fds under the attack"
[ "$n" -le $((SERVER_FDS + 16)) ] ||
	fail "the server holds $n fds: the attacker's connections are not bounded"
kill "$HOLD"
wait "$HOLD" 2>/dev/null
forget_pid "$HOLD"
finish
