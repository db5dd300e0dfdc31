#!/bin/bash
# Peers that do not speak the protocol, or speak it wrong, lose their own
# connection and nothing else: the server answers a bad HELLO with an
# ERROR, survives garbage and abrupt hang-ups, and keeps serving.
. "$(dirname "$0")/../lib.sh"

command -v socat >/dev/null || { echo "socat missing: skipped"; exit 77; }

start_server

# Sends the bytes of stdin to the server and prints what came back as hex.
exchange() {
	timeout -k 2 10 socat -t 2 - "UNIX-CONNECT:$T/sock" | od -An -v -tx1 | tr -d ' \n'
}

# HELLO with the wrong magic: ERROR (0x88) code 2 (bad magic).
reply=$(printf '\x01\x00\x00\x00\x28\x00\x00\x00XXXX\x01\x00\x00\x00\x00\x00\x00\x00\0\0\0\0\0\0\0\0\0\0\0\0\0\0\0\0\x00\x00\x00\x00' | exchange)
case "$reply" in
88000000????????02000000*) ;;
*) fail "bad magic: expected ERROR code 2, got '$reply'" ;;
esac

# HELLO with another major version: ERROR code 3 (bad version).
reply=$(printf '\x01\x00\x00\x00\x28\x00\x00\x00SFRM\x09\x00\x00\x00\x00\x00\x00\x00\0\0\0\0\0\0\0\0\0\0\0\0\0\0\0\0\x00\x00\x00\x00' | exchange)
case "$reply" in
88000000????????03000000*) ;;
*) fail "bad version: expected ERROR code 3, got '$reply'" ;;
esac

# Not the protocol at all, a header that lies about its length, a huge
# length, and a connection that hangs up half-way through a message.
printf 'GET / HTTP/1.0\r\n\r\n' | exchange >/dev/null
printf '\x01\x00\x00\x00\x03\x00\x00\x00' | exchange >/dev/null
printf '\x01\x00\x00\x00\xff\xff\xff\x7f' | exchange >/dev/null
printf '\x01\x00\x00\x00\x28\x00\x00\x00SF' | exchange >/dev/null
head -c 100000 /dev/urandom | exchange >/dev/null
server_alive

# Fifty connections that open and close at once.
for _ in $(seq 50); do
	timeout 5 socat -u /dev/null "UNIX-CONNECT:$T/sock" 2>/dev/null
done
server_alive
check_server_fds

# An idle connection does not block anyone.
spawn socat -u "UNIX-CONNECT:$T/sock" /dev/null
IDLE=$LAST_PID
roundtrip_ok
kill "$IDLE"
wait "$IDLE" 2>/dev/null
forget_pid "$IDLE"

finish
