#!/bin/bash
# --dump-dir against another local user (uid 65534 via setpriv): the
# server writes snapshots only into a directory of its own uid that nobody
# else may write into (a shared one, sticky or not, is refused: whoever
# may write there can plant names for the server to follow), through a
# temporary file of an unpredictable name created O_EXCL|O_NOFOLLOW beside
# the snapshot and renamed over it; snapshots are mode 0600.  A symbolic
# link planted at the temporary name of old (".surface-C-S.png.tmp-PID")
# or at the snapshot's name never gets its target written.
. "$(dirname "$0")/../lib.sh"

[ "$(id -u)" -eq 0 ] || { echo "needs root to run processes as other uids: skipped"; exit 77; }
command -v setpriv >/dev/null || { echo "setpriv missing: skipped"; exit 77; }
ATTACKER="setpriv --reuid=65534 --regid=65534 --clear-groups --pdeathsig KILL --"
$ATTACKER true || { echo "cannot run as nobody here: skipped"; exit 77; }
chmod 711 "$T"

echo "precious, must stay" >"$T/precious"
chmod 600 "$T/precious"
cp "$T/precious" "$T/precious.orig"

# start_dumping DIR: a server with --dump-dir DIR --dump-every 1; sets
# DPID, and DREADY=1 once it is ready, or DRC when it exited instead.
start_dumping() {
	spawn "$SF_SERVER" --listen "unix:$T/dsock" --display none \
		--dump-dir "$1" --dump-every 1 >"$T/d.out" 2>"$T/d.err"
	DPID=$LAST_PID DREADY=0 DRC=""
	for _ in $(seq 100); do
		grep -q '^ready' "$T/d.out" && { DREADY=1; return 0; }
		kill -0 "$DPID" 2>/dev/null || break
		sleep 0.1
	done
	wait "$DPID"
	DRC=$?
	forget_pid "$DPID"
}
stop_dumping() {
	[ "$DREADY" = 1 ] || return 0
	kill -TERM "$DPID"
	wait "$DPID" 2>/dev/null
	forget_pid "$DPID"
}

# ---- a dump directory another user made --------------------------------------

# The other user made it first (as anyone may under /tmp) and plants a
# link where the server would write, for the first client's surface.
mkdir -m 755 "$T/theirs"
chown 65534:65534 "$T/theirs"
start_dumping "$T/theirs"
if [ "$DREADY" = 1 ]; then
	for c in 1 2; do
		$ATTACKER ln -s "$T/precious" "$T/theirs/.surface-$c-1.png.tmp-$DPID"
	done
	run_client "$SF_SEND" --server "unix:$T/dsock" "$(img testcard.png)"
	sleep 0.5
	stop_dumping
fi
cmp -s "$T/precious" "$T/precious.orig" ||
	fail "a link in another user's dump directory got its target overwritten"
[ "$DREADY" = 0 ] && [ "$DRC" = 1 ] ||
	fail "the server used a dump directory of uid 65534 (ready=$DREADY, exit '$DRC')"
grep -q "dump directory $T/theirs belongs to uid 65534, not to uid 0: refusing to start" "$T/d.err" ||
	fail "no clear message for another user's dump directory: $(cat "$T/d.err")"
note "another user's dump dir: $(cat "$T/d.err")"

# Shared directories, even one the server's uid owns, are refused.
for mode in 1777 777 770; do
	mkdir -m "$mode" "$T/shared-$mode"
	run_client timeout 10 "$SF_SERVER" --listen "unix:$T/dsock" --display none \
		--dump-dir "$T/shared-$mode"
	[ "$RC" -eq 1 ] || fail "a dump directory of mode $mode: the server exited $RC, not 1"
	grep -q "dump directory $T/shared-$mode is mode 0*$mode: others may write into it" \
		"$ERR_FILE" || fail "no clear message for mode $mode: $(cat "$ERR_FILE")"
done
note "shared dump dir: $(cat "$ERR_FILE")"
mkdir -m 700 "$T/real"
ln -s "$T/real" "$T/link"
run_client timeout 10 "$SF_SERVER" --listen "unix:$T/dsock" --display none \
	--dump-dir "$T/link"
[ "$RC" -eq 1 ] && grep -q "dump directory $T/link is a symbolic link" "$ERR_FILE" ||
	fail "a dump directory that is a link (exit $RC): $(cat "$ERR_FILE")"

# ---- links in the server's own directory ----------------------------------------

# Whatever was left in it, links included, never redirects a write.
mkdir -m 700 "$T/ours"
start_dumping "$T/ours"
[ "$DREADY" = 1 ] || fail "the server refused its own dump directory: $(cat "$T/d.err")"
for c in 1 2; do
	ln -s "$T/precious" "$T/ours/.surface-$c-1.png.tmp-$DPID"
	ln -s "$T/precious" "$T/ours/surface-$c-1.png"
done
run_client "$SF_SEND" --server "unix:$T/dsock" "$(img testcard.png)"
[ "$RC" -eq 0 ] || fail "shmframe-send exited $RC: $(cat "$ERR_FILE")"
snap=""
for _ in $(seq 50); do
	for f in "$T"/ours/surface-*-1.png; do
		[ -f "$f" ] && [ ! -L "$f" ] && snap=$f
	done
	[ -n "$snap" ] && break
	sleep 0.1
done
sleep 0.2
cmp -s "$T/precious" "$T/precious.orig" ||
	fail "a link in the dump directory got its target overwritten"
[ -n "$snap" ] || fail "no snapshot replaced the link: $(ls -lA "$T/ours")"
[ "$(stat -c %a "$snap")" = 600 ] ||
	fail "the snapshot is mode $(stat -c %a "$snap"), not 600"
same_pixels "$(img testcard.png)" "$snap"
left=$(ls -A "$T/ours" | grep -v '^surface-.*\.png$' | grep -v "\.tmp-$DPID\$")
[ -z "$left" ] || fail "temporary files left behind: $left"
stop_dumping
echo "PASS [$TEST_NAME]"
