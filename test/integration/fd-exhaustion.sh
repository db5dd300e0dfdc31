#!/bin/bash
# Attackers cannot run the server out of file descriptors.  The server
# runs with a low limit (ulimit -n 512).  Connections before HELLO, and
# clients past WELCOME, try to make it hold 28 memfds each: with the
# first bytes of a HELLO, of a memfd PROBE, or with the inline pixels of a
# PUT_IMAGE they never finish.  Each is refused at once (UNEXPECTED_FD,
# the fds closed) instead of being held until the message completes, and
# a healthy memfd client still connects and round-trips pixels exactly,
# over shm/memfd.
. "$(dirname "$0")/../lib.sh"

: "${SF_FD_ATTACK:?SF_FD_ATTACK must name sf-fd-attack}"

# Hard and soft: the server cannot raise it.
ulimit -n 512 || { echo "cannot lower the fd limit: skipped"; exit 77; }
# A long timeout: what an attacker holds, it holds for as long as the
# messages it never finishes are allowed to take.
start_server --max-clients 64 --timeout 60

attack() { # HOW N
	spawn "$SF_FD_ATTACK" queue "$SERVER_UNIX" "$2" "$1" \
		>"$T/attack.$1" 2>"$T/attack.$1.err"
	wait_for_line "$LAST_PID" "$T/attack.$1" connections= ||
		fail "the $1 attacker did not finish: $(cat "$T/attack.$1.err")"
	note "$1: $(cat "$T/attack.$1")"
}


# 20 connections of each kind, 28 fds each: 1680 fds offered to a server
# that may open 512.
attack hello 20
attack probe 20
attack pixels 20
server_alive

# A healthy memfd client gets in and round-trips exactly.
run_client timeout 5 "$SF_SEND" --server "$SERVER_UNIX" --transport shm \
	--shm memfd --readback "$T/out.png" "$(img testcard.png)"
[ "$RC" -eq 0 ] || fail "the healthy client failed ($RC): $(cat "$ERR_FILE")"
expect transport=shm shm=memfd
same_pixels "$(img testcard.png)" "$T/out.png"

# Every attacking connection was refused, not left holding fds.
for how in hello probe pixels; do
	refused=$(sed -n 's/.* refused=\([0-9]*\)$/\1/p' "$T/attack.$how")
	[ "${refused:-0}" -ge 20 ] ||
		fail "$how: only ${refused:-0} of 20 connections were refused: $(cat "$T/attack.$how")"
done
n=$(count_fds "$SERVER_PID")
note "the server holds $n fds with the attackers still connected"
[ "$n" -lt 100 ] || fail "the server holds $n fds for the attackers"

for pid in $SF_PIDS; do
	[ "$pid" = "$SERVER_PID" ] && continue
	kill "$pid" 2>/dev/null
	wait "$pid" 2>/dev/null
	forget_pid "$pid"
done
finish
