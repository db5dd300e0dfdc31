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
	share_programs "$SF_FD_ATTACK"
	chmod 666 "$T/sock"
	ATTACK=$(shared "$SF_FD_ATTACK")
	OTHER="$(as_uid 65533) env LD_LIBRARY_PATH=$T/bin"
else
	note "not root: the before-HELLO attacker runs as our own uid"
fi

healthy_start 6

for when in unread before after nested; do
	prefix=""
	want=11
	[ "$when" = before ] && prefix=$OTHER
	[ "$when" = unread ] && want=unread
	# shellcheck disable=SC2086
	spawn $prefix "$ATTACK" linger "$SERVER_UNIX" "$when" 3 \
		>"$T/attack.$when" 2>"$T/attack.$when.err"
	wait_for_line "$LAST_PID" "$T/attack.$when" passed ||
		fail "the $when attacker did not finish: $(cat "$T/attack.$when" "$T/attack.$when.err")"
	[ "$(grep -c "^error=$want\$" "$T/attack.$when")" -eq 3 ] ||
		fail "$when: expected 3 error=$want (11: UNEXPECTED_FD), got: $(grep error= "$T/attack.$when" | tr '\n' ' ')"
	note "$when${prefix:+ (uid 65533)}: 3 lingering sockets refused"
done

# The healthy client ran through all of it.
healthy_end "while fds were disposed of"
[ "$HEALTHY_FRAMES" -gt 10 ] ||
	fail "the healthy client presented only $HEALTHY_FRAMES frames"

# The sockets are gone from the server (finish counts its fds).
finish
