#!/bin/bash
# Names and titles are any bytes a client chooses, and the -v log goes to
# a terminal: an ESC (or BEL, or the one-byte CSI 0x9b) a client puts in
# its name or a surface's title reaches the log written as \xNN, never
# raw.  The name comes in a hand-made HELLO over TCP (the tools always name
# themselves), the title through shmframe-send --title.
. "$(dirname "$0")/../lib.sh"

start_server -v

le16() { printf '%b' "$(printf '\\x%02x\\x%02x' $(($1 & 255)) $(($1 >> 8 & 255)))"; }
le32() { le16 $(($1 & 65535)); le16 $(($1 >> 16 & 65535)); }

# The name: clear the screen, set the window title, then a C1 CSI.
name=$'evil\e[2J\e]0;pwned\a\x9b31m'
export LC_ALL=C
len=${#name}
pad=$(((4 - len % 4) % 4))
cookie=$(head -c 32 "$SHMFRAME_AUTH")
# The protocol version this tree speaks.
major=$(sed -n 's/^#define SF_VERSION_MAJOR *\([0-9]*\).*/\1/p' \
	"$(dirname "$0")/../../protocol/wire.h")
[ -n "$major" ] || fail "no SF_VERSION_MAJOR in protocol/wire.h"
{
	le16 1; le16 0; le32 $((40 + len + pad))        # header: HELLO
	le32 $((0x4d524653)); le16 "$major"; le16 0; le32 15 # magic, version, caps
	for i in $(seq 0 2 30); do printf "\\x${cookie:$i:2}"; done
	le16 "$len"; le16 0
} >"$T/hello"
printf '%s' "$name" >>"$T/hello"
head -c "$pad" /dev/zero >>"$T/hello"

port=${SERVER_TCP##*:}
exec 3<>"/dev/tcp/127.0.0.1/$port" || fail "cannot connect to $SERVER_TCP"
cat "$T/hello" >&3
# Once WELCOME's header is here, the connect line is logged.
timeout 5 head -c 8 <&3 >"$T/welcome"
exec 3<&-
[ "$(head -c 2 "$T/welcome" | od -An -tx1 | tr -d ' ')" = 8100 ] ||
	fail "no WELCOME for the hand-made HELLO: $(od -An -tx1 "$T/welcome" | head -n 2)"

send_ok --server "$SERVER_UNIX" --title $'title\e[5m\x07' "$(img 1x1.png)"

for _ in $(seq 50); do
	grep -q 'disconnected' "$T/server.log" && grep -q 'surface 1' "$T/server.log" &&
		break
	sleep 0.1
done
! grep -q $'[\e\a\x9b]' "$T/server.log" ||
	fail "a raw control byte reached the log: $(grep $'[\e\a\x9b]' "$T/server.log" | od -c | head)"
grep -qF 'connected' "$T/server.log" || fail "no connect line in the log"
grep -qF 'client 1 "evil\x1b[2J\x1b]0;pwned\x07\x9b31m" connected' "$T/server.log" ||
	fail "the client's name is not in the log, escaped: $(cat "$T/server.log")"
grep -qF '"title\x1b[5m\x07"' "$T/server.log" ||
	fail "the surface's title is not in the log, escaped: $(cat "$T/server.log")"
note "$(grep -F 'evil' "$T/server.log" | head -n 1)"
finish
