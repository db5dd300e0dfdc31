#!/bin/bash
# Who the client talks to, and the cookie file, against another local user:
# - another uid that makes the victim's runtime directory first and
#   listens there gets nothing: the library checks the directory (the
#   user's, 0700, not a link) and the listener's uid (SO_PEERCRED: the
#   user or root) before it sends a byte, and says which check failed; the
#   victim's own server refuses the directory with a clear message;
# - a unix:PATH server of another uid gets nothing either, unless
#   SHMFRAME_SERVER_UID names it (then it gets HELLO, never the cookie,
#   which only TCP needs);
# - a cookie file that is a FIFO, a symbolic link, readable by others or
#   another uid's is refused by the client and the server, at once; a file
#   that is not a cookie is not overwritten; the all-zero cookie is no
#   cookie.
# The victim is uid 65533, the other user 65534 (nobody), via setpriv.
. "$(dirname "$0")/../lib.sh"

need_other_uids
command -v socat >/dev/null || { echo "socat missing (the attacker's listener): skipped"; exit 77; }

ATTACKER=$(as_uid 65534)
$ATTACKER true || { echo "cannot run as nobody here: skipped"; exit 77; }

# The other uids run copies of the programs they can reach.
share_programs "$SF_SEND" "$SF_SERVER"
share_images
V_SEND=$(shared "$SF_SEND")
V_SERVER=$(shared "$SF_SERVER")
VICTIM="$(as_uid 65533) env LD_LIBRARY_PATH=$T/bin"
mkdir -m 777 "$T/got"

# The victim's cookie, as its server would have made it.
mkdir -m 700 "$T/victim"
head -c 16 /dev/urandom | od -An -tx1 -v | tr -d ' \n' >"$T/victim/cookie"
echo >>"$T/victim/cookie"
chmod 600 "$T/victim/cookie"
chown -R 65533:65533 "$T/victim"
COOKIE_HEX=$(head -c 32 "$T/victim/cookie")

# listen PATH NAME: the attacker listens at PATH, appending whatever a
# client sends to $T/got/NAME and hanging up after 1 s of silence.
listen() {
	spawn $ATTACKER socat -u -T 1 "UNIX-LISTEN:$1,fork,mode=777" \
		"OPEN:$T/got/$2,creat,append,perm=0666"
	for _ in $(seq 50); do
		[ -S "$1" ] && return 0
		sleep 0.1
	done
	fail "the attacker's listener at $1 did not start"
}
got_bytes() { [ -e "$T/got/$1" ] && stat -c %s "$T/got/$1" || echo 0; }

# ---- the runtime directory made first by another user --------------------

# A /tmp of the test's own: sticky and open to all, as /tmp is.
mkdir -m 1777 "$T/tmp"
$ATTACKER mkdir -m 755 "$T/tmp/shmframe" || fail "the attacker cannot make the directory"
listen "$T/tmp/shmframe/0" display0
XDG_RUNTIME_DIR="$T/tmp" SHMFRAME_AUTH="$T/victim/cookie" run_client \
	$VICTIM timeout 10 "$V_SEND" --server :0 "$(img 1x1.png)"
sleep 0.3 # bytes in flight, if any, reach the file
[ "$(got_bytes display0)" -eq 0 ] ||
	fail "the attacker's listener in the victim's runtime directory got $(got_bytes display0) bytes"
[ "$RC" -eq 1 ] || fail "the victim's client exited $RC, not 1: $(cat "$ERR_FILE")"
grep -q "refusing to connect to unix:$T/tmp/shmframe/0: the runtime directory $T/tmp/shmframe belongs to uid 65534, not to uid 65533" \
	"$ERR_FILE" || fail "no clear refusal of a foreign runtime directory: $(cat "$ERR_FILE")"
note "hijacked runtime dir, client: $(cat "$ERR_FILE")"

# The victim's own server cannot start there, and says why.
XDG_RUNTIME_DIR="$T/tmp" SHMFRAME_AUTH="$T/victim/cookie" run_client \
	$VICTIM timeout 10 "$V_SERVER" --listen :0 --display none
[ "$RC" -eq 1 ] || fail "the victim's server in a foreign runtime directory exited $RC, not 1"
grep -q "runtime directory $T/tmp/shmframe belongs to uid 65534" "$ERR_FILE" ||
	fail "no clear message from the victim's server: $(cat "$ERR_FILE")"
note "hijacked runtime dir, server: $(cat "$ERR_FILE")"

# A directory of the victim's that is open to others is refused too.
mkdir -m 711 "$T/tmp2"
mkdir -m 777 "$T/tmp2/shmframe"
chown 65533:65533 "$T/tmp2/shmframe"
chmod 777 "$T/tmp2/shmframe"
listen "$T/tmp2/shmframe/0" open0
XDG_RUNTIME_DIR="$T/tmp2" SHMFRAME_AUTH="$T/victim/cookie" run_client \
	$VICTIM timeout 10 "$V_SEND" --server :0 "$(img 1x1.png)"
sleep 0.3
[ "$(got_bytes open0)" -eq 0 ] ||
	fail "a listener in a runtime directory open to all got $(got_bytes open0) bytes"
[ "$RC" -eq 1 ] && grep -q "runtime directory $T/tmp2/shmframe is mode 0777" "$ERR_FILE" ||
	fail "no clear refusal of an open runtime directory (exit $RC): $(cat "$ERR_FILE")"

# ---- unix:PATH of another uid ------------------------------------------------

mkdir -m 755 "$T/evil"
chown 65534:65534 "$T/evil"
listen "$T/evil/sock" path
SHMFRAME_AUTH="$T/victim/cookie" run_client \
	$VICTIM timeout 10 "$V_SEND" --server "unix:$T/evil/sock" "$(img 1x1.png)"
sleep 0.3
[ "$(got_bytes path)" -eq 0 ] ||
	fail "another uid's listener at unix:PATH got $(got_bytes path) bytes"
[ "$RC" -eq 1 ] || fail "the victim's client exited $RC, not 1: $(cat "$ERR_FILE")"
grep -q "refusing to talk to unix:$T/evil/sock: the server runs as uid 65534, not as you (uid 65533) or root" \
	"$ERR_FILE" || fail "no clear refusal of another uid's listener: $(cat "$ERR_FILE")"
note "unix:PATH of another uid: $(cat "$ERR_FILE")"

# Trusted on purpose: HELLO goes out (so the listener above would have
# seen bytes), but the cookie does not.
SHMFRAME_SERVER_UID=65534 SHMFRAME_AUTH="$T/victim/cookie" run_client \
	$VICTIM timeout 10 "$V_SEND" --server "unix:$T/evil/sock" "$(img 1x1.png)"
for _ in $(seq 30); do
	[ "$(got_bytes path)" -ge 40 ] && break
	sleep 0.1
done
[ "$(got_bytes path)" -ge 40 ] ||
	fail "with SHMFRAME_SERVER_UID=65534 no HELLO reached the listener ($(got_bytes path) bytes)"
od -An -tx1 -v "$T/got/path" | tr -d ' \n' | grep -q "$COOKIE_HEX" &&
	fail "the cookie went out over a Unix socket"
note "trusted on purpose: $(got_bytes path) bytes, no cookie"

# ---- the cookie file -----------------------------------------------------------

start_server
mkfifo -m 600 "$T/fifo-cookie"
cp "$SHMFRAME_AUTH" "$T/open-cookie"
chmod 644 "$T/open-cookie"
ln -s "$SHMFRAME_AUTH" "$T/link-cookie"
cp "$SHMFRAME_AUTH" "$T/foreign-cookie"
chown 65534:65534 "$T/foreign-cookie"
for c in fifo:"is not a regular file" link:"is a symbolic link" \
	 open:"is mode 0644" foreign:"belongs to uid 65534"; do
	SHMFRAME_AUTH="$T/${c%%:*}-cookie" run_client timeout 10 "$SF_SEND" \
		--server "$SERVER_TCP" "$(img 1x1.png)"
	[ "$RC" -eq 1 ] || fail "the client with a ${c%%:*} cookie file exited $RC, not 1"
	grep -q "refusing the cookie file $T/${c%%:*}-cookie: it ${c#*:}" "$ERR_FILE" ||
		fail "no clear refusal of a ${c%%:*} cookie file: $(cat "$ERR_FILE")"
	note "client, ${c%%:*} cookie: $(cat "$ERR_FILE")"
done
finish

# The server: a FIFO does not hang it, other files it cannot use stop it
# and are left as they were.
echo "my notes, not a cookie" >"$T/garbage-cookie"
echo 00000000000000000000000000000000 >"$T/zero-cookie"
chmod 600 "$T/garbage-cookie" "$T/zero-cookie"
cp "$T/garbage-cookie" "$T/garbage-cookie.orig"
cp "$T/zero-cookie" "$T/zero-cookie.orig"
for c in fifo:"is not a regular file" open:"is mode 0644" \
	 foreign:"belongs to uid 65534" garbage:"is not a cookie" zero:"holds the all-zero"; do
	SHMFRAME_AUTH="$T/${c%%:*}-cookie" run_client timeout 10 "$SF_SERVER" \
		--listen tcp:127.0.0.1:0 --display none
	[ "$RC" -eq 1 ] || fail "the server with a ${c%%:*} cookie file exited $RC, not 1"
	grep -q "auth file $T/${c%%:*}-cookie ${c#*:}.*refusing to start" "$ERR_FILE" ||
		fail "no clear message for a ${c%%:*} cookie file: $(cat "$ERR_FILE")"
	note "server, ${c%%:*} cookie: $(cat "$ERR_FILE")"
done
cmp -s "$T/garbage-cookie" "$T/garbage-cookie.orig" ||
	fail "the server overwrote a cookie file it could not parse"
cmp -s "$T/zero-cookie" "$T/zero-cookie.orig" ||
	fail "the server overwrote the all-zero cookie file"
[ -p "$T/fifo-cookie" ] || fail "the FIFO cookie is gone"

# The client refuses the all-zero cookie too (it is what HELLO sends for
# none).
start_server
SHMFRAME_AUTH="$T/zero-cookie" run_client timeout 10 "$SF_SEND" \
	--server "$SERVER_TCP" "$(img 1x1.png)"
[ "$RC" -eq 1 ] && grep -q "zero-cookie: it holds the all-zero cookie" "$ERR_FILE" ||
	fail "the client with the all-zero cookie (exit $RC): $(cat "$ERR_FILE")"
finish
echo "PASS [$TEST_NAME] (all parts)"
