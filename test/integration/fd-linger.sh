#!/bin/bash
# No fd a peer passes may block the server.  A TCP socket whose close()
# lingers (SO_LINGER 15 s over unacknowledged data) is passed before HELLO
# by a uid the server does not let in, after WELCOME by an allowed one,
# and inside a Unix socket whose close would free the lingering one: each
# is refused with UNEXPECTED_FD and disposed of without the event loop
# waiting; and one left unread in a connection that then closes (the
# server's close of the connection frees it) costs the loop nothing
# either.  A healthy client's present + round trip stays well under a
# second all along.
. "$(dirname "$0")/../lib.sh"

: "${SF_FD_ATTACK:?SF_FD_ATTACK must name sf-fd-attack}"

start_server
ATTACK=$SF_FD_ATTACK
OTHER=""
if [ "$(id -u)" -eq 0 ] && command -v setpriv >/dev/null; then
	# The disallowed uid must reach the socket and its program.
	chmod 711 "$T"
	chmod 666 "$T/sock"
	mkdir -m 755 "$T/bin"
	cp "$SF_FD_ATTACK" "$T/bin/"
	lib=$(ldd "$SF_FD_ATTACK" | awk '/libshmframe/ { print $3 }')
	[ -z "$lib" ] || cp "$lib" "$T/bin/"
	chmod 755 "$T"/bin/*
	ATTACK="$T/bin/$(basename "$SF_FD_ATTACK")"
	OTHER="setpriv --reuid=65533 --regid=65533 --clear-groups --pdeathsig KILL -- env LD_LIBRARY_PATH=$T/bin"
else
	note "not root: the before-HELLO attacker runs as our own uid"
fi

spawn "$SF_FD_ATTACK" ping "$SERVER_UNIX" 6 >"$T/ping.out" 2>"$T/ping.err"
PING=$LAST_PID
for _ in $(seq 50); do
	grep -q '^streaming' "$T/ping.out" 2>/dev/null && break
	sleep 0.1
done
grep -q '^streaming' "$T/ping.out" ||
	fail "the healthy client did not start: $(cat "$T/ping.err")"

for when in unread before after nested; do
	prefix=""
	want=11
	[ "$when" = before ] && prefix=$OTHER
	[ "$when" = unread ] && want=unread
	# shellcheck disable=SC2086
	spawn $prefix "$ATTACK" linger "$SERVER_UNIX" "$when" 3 \
		>"$T/attack.$when" 2>"$T/attack.$when.err"
	pid=$LAST_PID
	for _ in $(seq 300); do
		grep -q '^passed' "$T/attack.$when" 2>/dev/null && break
		kill -0 "$pid" 2>/dev/null || break
		sleep 0.1
	done
	grep -q '^passed' "$T/attack.$when" ||
		fail "the $when attacker did not finish: $(cat "$T/attack.$when" "$T/attack.$when.err")"
	[ "$(grep -c "^error=$want\$" "$T/attack.$when")" -eq 3 ] ||
		fail "$when: expected 3 error=$want (11: UNEXPECTED_FD), got: $(grep error= "$T/attack.$when" | tr '\n' ' ')"
	note "$when${prefix:+ (uid 65533)}: 3 lingering sockets refused"
done

# The healthy client ran through all of it.
timeout 30 tail --pid="$PING" -f /dev/null
wait "$PING"
rc=$?
forget_pid "$PING"
[ "$rc" -eq 0 ] || fail "the healthy client failed (exit $rc): $(cat "$T/ping.err")"
read -r frames worst < <(sed -n 's/^frames=\([0-9]*\) max_ms=\([0-9]*\)$/\1 \2/p' "$T/ping.out")
[ -n "${worst:-}" ] || fail "no result from the healthy client: $(cat "$T/ping.out")"
note "healthy client: $frames frames, slowest round trip $worst ms"
[ "$worst" -lt 1000 ] ||
	fail "a round trip of the healthy client took $worst ms while fds were disposed of"
[ "$frames" -gt 10 ] || fail "the healthy client presented only $frames frames"

# The sockets are gone from the server (finish counts its fds).
finish
