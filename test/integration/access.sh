#!/bin/bash
# Who may use a server, as X decides it:
# - the runtime directory holding :N sockets is 0700 and the user's (one
#   open to others or owned by someone else is refused, and left alone);
# - on a Unix socket SO_PEERCRED lets in the server's own uid and root,
#   others only with --allow-uid, with a message naming the uid; the
#   client, for its part, talks only to a server of its own uid or root,
#   or of the uid SHMFRAME_SERVER_UID names (unix:PATH only);
# - over TCP the client must send the cookie of the server's 0600 auth file
#   (a file readable by others is refused, by both sides); a missing or
#   wrong one is refused with a message saying so, and the cookie is all
#   that counts, whatever the client's uid;
# - the segments a client makes are 0600: a server running as another
#   user cannot open a POSIX or System V segment of the client (only a
#   memfd, whose fd the client hands over, reaches it).
# Other uids are played by nobody (65534) and 65533 through setpriv.
. "$(dirname "$0")/../lib.sh"

: "${SF_PHASE_CLIENT:?SF_PHASE_CLIENT must name sf-phase-client}"

need_other_uids

mode_of() { stat -c '%a' "$1"; }

# Others must reach the sockets, images and files made for them, and the
# programs they run.
share_programs "$SF_SEND" "$SF_SERVER"
share_images
NB_SEND=$(shared "$SF_SEND")
NB_SERVER=$(shared "$SF_SERVER")
NOBODY="$(as_uid 65534) env LD_LIBRARY_PATH=$T/bin"
OTHER="$(as_uid 65533) env LD_LIBRARY_PATH=$T/bin"
mkdir -m 755 "$T/pub"
mkdir -m 777 "$T/out"

# ---- the runtime directory and the cookie file --------------------------

start_server --listen :7 --listen "unix:$T/pub/sock"
RUNDIR="$XDG_RUNTIME_DIR/shmframe"
[ -S "$RUNDIR/7" ] || fail "no socket $RUNDIR/7 for display :7"
[ "$(stat -c '%a %u' "$RUNDIR")" = "700 $(id -u)" ] ||
	fail "runtime directory is $(stat -c '%a, uid %u' "$RUNDIR"), not 700 and ours"
[ "$(mode_of "$SHMFRAME_AUTH")" = 600 ] ||
	fail "the cookie file is mode $(mode_of "$SHMFRAME_AUTH"), not 600"
grep -qxE '[0-9a-f]{32}' "$SHMFRAME_AUTH" || fail "the cookie is not 32 hex digits"
SHMFRAME_SERVER=:7 send_ok --readback "$T/d7.png" "$(img testcard.png)"
same_pixels "$(img testcard.png)" "$T/d7.png"

# A runtime directory others may enter, one that belongs to someone else,
# a cookie file others may read and one that is a symbolic link all stop
# the server, with a message naming what is wrong; none is changed (a
# directory others could enter may hold what they left, a cookie others
# could read is no secret).
mkdir -p "$T/open/shmframe" "$T/foreign/shmframe"
chmod 755 "$T/open/shmframe"
chown 65534:65534 "$T/foreign/shmframe"
cp "$SHMFRAME_AUTH" "$T/open-cookie"
chmod 644 "$T/open-cookie"
ln -s "$SHMFRAME_AUTH" "$T/link-cookie"

XDG_RUNTIME_DIR="$T/open" run_client "$SF_SERVER" --listen :1 --display none
[ "$RC" -eq 1 ] || fail "a runtime directory open to others: the server exited $RC, not 1"
grep -q "runtime directory $T/open/shmframe is mode 0755" "$ERR_FILE" ||
	fail "no clear message for an open runtime directory: $(cat "$ERR_FILE")"
[ "$(mode_of "$T/open/shmframe")" = 755 ] ||
	fail "the server changed an open runtime directory to $(mode_of "$T/open/shmframe")"
note "open runtime dir: $(cat "$ERR_FILE")"

SHMFRAME_AUTH="$T/open-cookie" run_client "$SF_SERVER" \
	--listen tcp:127.0.0.1:0 --display none
[ "$RC" -eq 1 ] || fail "a cookie file readable by others: the server exited $RC, not 1"
grep -q "auth file $T/open-cookie is mode 0644" "$ERR_FILE" ||
	fail "no clear message for a cookie file readable by others: $(cat "$ERR_FILE")"
[ "$(mode_of "$T/open-cookie")" = 644 ] && cmp -s "$SHMFRAME_AUTH" "$T/open-cookie" ||
	fail "the server changed a cookie file readable by others"
note "open cookie: $(cat "$ERR_FILE")"

XDG_RUNTIME_DIR="$T/foreign" run_client "$SF_SERVER" --listen :1 --display none
[ "$RC" -eq 1 ] || fail "a runtime directory of uid 65534: the server exited $RC, not 1"
grep -q "runtime directory $T/foreign/shmframe belongs to uid 65534" "$ERR_FILE" ||
	fail "no clear message for a foreign runtime directory: $(cat "$ERR_FILE")"
note "foreign runtime dir: $(cat "$ERR_FILE")"

SHMFRAME_AUTH="$T/link-cookie" run_client "$SF_SERVER" \
	--listen tcp:127.0.0.1:0 --display none
[ "$RC" -eq 1 ] || fail "a symlinked cookie file: the server exited $RC, not 1"
grep -q "link-cookie is a symbolic link" "$ERR_FILE" ||
	fail "no clear message for a symlinked cookie file: $(cat "$ERR_FILE")"
note "symlinked cookie: $(cat "$ERR_FILE")"

# ---- Unix socket: SO_PEERCRED ---------------------------------------------

# The socket file is made writable by all, so that the uid check is what
# refuses (not the file mode).
chmod 666 "$T/pub/sock"
$NOBODY true || { echo "cannot run as nobody here: skipped"; exit 77; }
run_client $NOBODY "$NB_SEND" --server "unix:$T/pub/sock" "$(img 1x1.png)"
[ "$RC" -eq 1 ] || fail "uid 65534 on the socket of a root server exited $RC, not 1"
grep -q "uid 65534 may not use this server.*--allow-uid 65534" "$ERR_FILE" ||
	fail "no clear refusal for uid 65534: $(cat "$ERR_FILE")"
note "uid 65534, not allowed: $(cat "$ERR_FILE")"
server_alive

# ---- TCP: the cookie ------------------------------------------------------

# A cookie the server does not hold is refused by the server; a missing
# or malformed cookie file stops the client before it connects.
echo 0123456789abcdef0123456789abcdef >"$T/wrong-cookie"
echo "not a cookie" >"$T/bad-cookie"
chmod 600 "$T/wrong-cookie" "$T/bad-cookie"
for c in missing:"no cookie file $T/missing-cookie" \
	 wrong:"wrong or missing cookie" \
	 bad:"refusing the cookie file $T/bad-cookie: it is not a cookie"; do
	SHMFRAME_AUTH="$T/${c%%:*}-cookie" run_client "$SF_SEND" --server "$SERVER_TCP" \
		"$(img 1x1.png)"
	[ "$RC" -eq 1 ] || fail "TCP with a ${c%%:*} cookie exited $RC, not 1"
	grep -q "shmframe-send: cannot connect: .*${c#*:}" "$ERR_FILE" ||
		fail "no clear refusal for a ${c%%:*} cookie: $(cat "$ERR_FILE")"
	note "TCP, ${c%%:*} cookie: $(cat "$ERR_FILE")"
done
# The cookie is the credential: another uid that has it (in a file of its
# own, as the client reads only those) gets in.
cp "$SHMFRAME_AUTH" "$T/cookie-copy"
chown 65534:65534 "$T/cookie-copy"
SHMFRAME_AUTH="$T/cookie-copy" run_client $NOBODY "$NB_SEND" \
	--server "$SERVER_TCP" --transport socket --readback "$T/out/tcp.png" \
	"$(img alpha.png)"
[ "$RC" -eq 0 ] || fail "uid 65534 with the cookie over TCP exited $RC: $(cat "$ERR_FILE")"
same_pixels "$(img alpha.png)" "$T/out/tcp.png"

# ---- segments are 0600 ----------------------------------------------------

# A POSIX segment made the library's way, looked at while it exists.
spawn "$SF_PHASE_CLIENT" --segment posix >"$T/seg.out" 2>"$T/seg.err"
pid=$LAST_PID
for _ in $(seq 100); do
	grep -q '^reached' "$T/seg.out" && break
	sleep 0.05
done
name=$(grep -o 'name=[^ ]*' "$T/seg.out" | cut -d= -f2)
[ -n "$name" ] && [ -e "/dev/shm/$name" ] ||
	fail "no POSIX segment to look at: $(cat "$T/seg.out" "$T/seg.err")"
[ "$(mode_of "/dev/shm/$name")" = 600 ] ||
	fail "a POSIX segment is mode $(mode_of "/dev/shm/$name"), not 600"
kill "$pid"
wait "$pid" 2>/dev/null
forget_pid "$pid"
rm -f "/dev/shm/$name"

# The System V segments of a streaming shmframe-send.
spawn "$SF_SEND" --server "$SERVER_UNIX" --shm sysv --fps 50 --repeat 100000 \
	"$(img testcard.png)" >/dev/null 2>"$T/sysv.err"
pid=$LAST_PID
perms=""
# 1600: mode 0600, plus SHM_DEST (01000) as the client marks each one
# for removal as soon as it is attached (between its shmget and that, a
# segment shows 600: wait for the marks, not for the first sight).
for _ in $(seq 50); do
	perms=$(awk -v p="$pid" 'NR > 1 && $5 == p { print $3 }' /proc/sysvipc/shm | sort -u)
	[ "$perms" = 1600 ] && break
	sleep 0.1
done
[ "$perms" = 1600 ] ||
	fail "System V segments of the client have perms '$perms', not 1600 (0600 + SHM_DEST)"
kill "$pid"
wait "$pid" 2>/dev/null
forget_pid "$pid"

finish

# ---- --allow-uid ------------------------------------------------------------

start_server --allow-uid 65534 --listen "unix:$T/pub/sock"
chmod 666 "$T/pub/sock"
for mode in memfd posix sysv socket; do
	mode_args "$mode"
	run_client $NOBODY "$NB_SEND" --server "unix:$T/pub/sock" $MODE_ARGS \
		--readback "$T/out/allowed-$mode.png" "$(img odd-333x257.png)"
	[ "$RC" -eq 0 ] || fail "uid 65534 with --allow-uid ($mode) exited $RC: $(cat "$ERR_FILE")"
	expect $MODE_WANT
	same_pixels "$(img odd-333x257.png)" "$T/out/allowed-$mode.png"
done
# Another uid is still refused.
run_client $OTHER "$NB_SEND" --server "unix:$T/pub/sock" "$(img 1x1.png)"
[ "$RC" -eq 1 ] || fail "uid 65533 with only 65534 allowed exited $RC, not 1"
grep -q "uid 65533 may not use" "$ERR_FILE" || fail "no clear refusal: $(cat "$ERR_FILE")"
finish

# ---- a server of another user ------------------------------------------------

# Runs as nobody: its own uid and root get in, 65533 does not; root's
# segments, being 0600, are closed to it except through a memfd's fd.
mkdir -m 700 "$T/nb"
chown 65534:65534 "$T/nb"
shm_snapshot
XDG_RUNTIME_DIR="$T/nb" SHMFRAME_AUTH="$T/nb/cookie" spawn $NOBODY \
	"$NB_SERVER" --listen "unix:$T/nb/sock" --display none \
	>"$T/nb.out" 2>"$T/nb.err"
NB_PID=$LAST_PID
for _ in $(seq 100); do
	grep -q '^ready' "$T/nb.out" && break
	kill -0 "$NB_PID" 2>/dev/null || break
	sleep 0.1
done
grep -q '^ready' "$T/nb.out" || fail "the server as nobody did not start: $(cat "$T/nb.err")"
chmod 711 "$T/nb"
chmod 666 "$T/nb/sock"
NB="unix:$T/nb/sock"

# The library talks only to servers of its own uid or root's unless told
# which other uid to trust: nothing is sent to this one without it.
run_client "$SF_SEND" --server "$NB" "$(img 1x1.png)"
[ "$RC" -eq 1 ] || fail "root's client sent to nobody's server untold: exit $RC"
grep -q "refusing to talk to $NB: the server runs as uid 65534.*SHMFRAME_SERVER_UID=65534" \
	"$ERR_FILE" || fail "no clear refusal of another uid's server: $(cat "$ERR_FILE")"
note "another uid's server, untold: $(cat "$ERR_FILE")"
export SHMFRAME_SERVER_UID=65534
send_ok --server "$NB" --transport shm --shm memfd --readback "$T/nb-root.png" \
	"$(img gradient.png)"
same_pixels "$(img gradient.png)" "$T/nb-root.png"
for kind in posix sysv; do
	run_client "$SF_SEND" --server "$NB" --transport shm --shm $kind "$(img 1x1.png)"
	[ "$RC" -eq 1 ] || fail "a $kind segment of root opened by a nobody server: exit $RC"
	# One answer for every segment that is not proven the client's:
	# nothing says whether it exists or whose it is.
	grep -q "no .* segment here that the client proved is its own" "$ERR_FILE" ||
		fail "the $kind refusal does not say why: $(cat "$ERR_FILE")"
done
note "root's sysv segment, nobody's server: $(cat "$ERR_FILE")"
run_client $NOBODY "$NB_SEND" --server "$NB" --transport shm --shm sysv \
	--readback "$T/out/nb-self.png" "$(img alpha.png)"
[ "$RC" -eq 0 ] || fail "nobody on its own server exited $RC: $(cat "$ERR_FILE")"
same_pixels "$(img alpha.png)" "$T/out/nb-self.png"
run_client $OTHER "$NB_SEND" --server "$NB" "$(img 1x1.png)"
[ "$RC" -eq 1 ] || fail "uid 65533 on nobody's server exited $RC, not 1"
grep -q "uid 65533 may not use this server, which runs as uid 65534" "$ERR_FILE" ||
	fail "no clear refusal: $(cat "$ERR_FILE")"
unset SHMFRAME_SERVER_UID

kill -TERM "$NB_PID"
wait "$NB_PID"
rc=$?
forget_pid "$NB_PID"
[ "$rc" -eq 0 ] || fail "the server as nobody exited $rc on SIGTERM"
check_devshm
check_sysv
echo "PASS [$TEST_NAME] (all parts)"
