#!/bin/bash
# Another user's shared memory through the server.  A victim running as
# the server's uid holds a System V and a POSIX segment, mode 0600, whose
# first 32 bytes are zero (fresh memory) and the rest a secret.  A thief of
# another uid (65534) that holds the TCP cookie, or that --allow-uid lets
# onto the Unix socket, names them in PROBE and ATTACH_SEGMENT:
# - PROBE answers the victim's segment exactly as it answers an id or name
#   that does not exist, whatever size it claims (nothing about what
#   exists, nor its size, leaks);
# - ATTACH_SEGMENT is refused, so no secret byte comes back (PUT_IMAGE +
#   GET_IMAGE) and none is overwritten (GET_IMAGE into the segment);
# - the segments are still there afterwards, not marked for removal, their
#   bytes unchanged: the server never removes what failed its proof;
# - even with the exact bytes a proof needs planted in the victim's POSIX
#   segment (nonce and the thief's challenge), a Unix client of another uid
#   is refused because it does not own the segment.
# The server keeps serving a healthy client throughout.
. "$(dirname "$0")/../lib.sh"

: "${SF_SEGATTACK:?SF_SEGATTACK must name sf-segattack}"

[ "$(id -u)" -eq 0 ] || { echo "needs root to run a thief as another uid: skipped"; exit 77; }
command -v setpriv >/dev/null || { echo "setpriv missing: skipped"; exit 77; }

# The thief's programs and cookie where uid 65534 can reach them.
chmod 711 "$T"
mkdir -m 755 "$T/bin" "$T/pub"
cp "$SF_SEGATTACK" "$T/bin/"
chmod 755 "$T/bin/"*
THIEF="setpriv --reuid=65534 --regid=65534 --clear-groups --pdeathsig KILL -- $T/bin/$(basename "$SF_SEGATTACK")"
$THIEF 2>/dev/null; [ $? -eq 2 ] || { echo "cannot run as uid 65534 here: skipped"; exit 77; }

start_server --allow-uid 65534 --listen "unix:$T/pub/sock"
chmod 666 "$T/pub/sock"
cp "$SHMFRAME_AUTH" "$T/cookie-copy"
chmod 644 "$T/cookie-copy"
PUB="unix:$T/pub/sock"

# thief ARGS...: one attempt as uid 65534 with the cookie.
thief() {
	SHMFRAME_AUTH="$T/cookie-copy" run_client $THIEF "$@"
	[ "$RC" -eq 0 ] || fail "sf-segattack $* exited $RC: $(cat "$ERR_FILE")"
}

# victim KIND VAR [--proof-file F]: a segment of ours (the server's uid);
# sets VAR to its id or name.
victim() {
	local kind=$1 var=$2 out
	out="$T/victim.$kind.$RANDOM"
	shift 2
	VICTIM_OUT=$out
	spawn "$SF_SEGATTACK" victim "$kind" "$@" >"$out"
	VICTIM_PIDS="${VICTIM_PIDS:-} $LAST_PID"
	for _ in $(seq 100); do
		grep -q '^ready' "$out" && break
		sleep 0.05
	done
	grep -q '^ready' "$out" || fail "the $kind victim did not start"
	printf -v "$var" '%s' "$(sed -n 's/^ready [a-z]*=//p' "$out")"
}

# 534543524554 is "SECRET": no answer may carry it.
SECRET_HEX=534543524554
no_secret() {
	! grep -q "$SECRET_HEX" "$OUT_FILE" ||
		fail "$1: the victim's secret came back: $(cut -c1-200 "$OUT_FILE")"
}

victim sysv VID
victim posix VNAME
BEFORE_SYSV=$("$SF_SEGATTACK" dump sysv "$VID")
BEFORE_POSIX=$("$SF_SEGATTACK" dump posix "$VNAME")
# An id that existed and is gone, and a name never made.
GONE_ID=$(ipcmk -M 4096 | grep -o '[0-9]*$')
ipcrm -m "$GONE_ID"
GONE_NAME="shmframe-victimnone$$"
note "victims: sysv $VID, posix $VNAME; missing: sysv $GONE_ID, posix $GONE_NAME"

# ---- PROBE says nothing of what exists -------------------------------------

for addr in "$SERVER_TCP" "$PUB"; do
	for size in 4096 1048576 64; do
		thief probe "$addr" sysv "$VID" --size $size
		real=$OUT
		thief probe "$addr" sysv "$GONE_ID" --size $size
		[ "$real" = "$OUT" ] ||
			fail "PROBE over $addr tells the victim's System V segment ($real) from a missing one ($OUT)"
		thief probe "$addr" posix "$VNAME" --size $size
		real=$OUT
		thief probe "$addr" posix "$GONE_NAME" --size $size
		[ "$real" = "$OUT" ] ||
			fail "PROBE over $addr tells the victim's POSIX segment ($real) from a missing one ($OUT)"
		case "$real" in status=0*) fail "PROBE of the victim's segment passed: $real" ;; esac
	done
done
note "PROBE of a victim's segment and of none: $OUT"

# ---- ATTACH_SEGMENT is refused: nothing read, nothing written ------------------

for addr in "$SERVER_TCP" "$PUB"; do
	for target in "sysv $VID" "posix $VNAME"; do
		thief steal "$addr" $target
		no_secret "steal $target over $addr"
		expect_text=$(cat "$OUT_FILE")
		case "$expect_text" in
		"error=bad segment"*) ;;
		*) fail "steal $target over $addr was not refused: $(cut -c1-200 "$OUT_FILE")" ;;
		esac
		thief scribble "$addr" $target
		case "$OUT" in
		"error=bad segment"*) ;;
		*) fail "scribble $target over $addr was not refused: $OUT" ;;
		esac
	done
done
note "ATTACH of a victim's segment: $OUT"

# ---- a planted proof does not make a segment the thief's ---------------------

# The thief (uid 65534, on the Unix socket as --allow-uid lets it) gets
# its challenge and writes what its segment must start with; the victim
# plants exactly that in its own segment; the thief then attaches it.
# Only the owner check stands in the way, and it must.
chmod 777 "$T/pub"
for kind in posix sysv; do
	rm -f "$T/pub/proof" "$T/pub/go"
	victim $kind PLANTED --proof-file "$T/pub/proof"
	SHMFRAME_AUTH="$T/cookie-copy" setpriv --pdeathsig KILL -- timeout 30 \
		$THIEF steal "$PUB" $kind "$PLANTED" --proof-out "$T/pub/proof" \
		--go "$T/pub/go" >"$T/planted.out" 2>"$T/planted.err" &
	tpid=$!
	for _ in $(seq 100); do
		grep -q '^planted' "$VICTIM_OUT" && break
		sleep 0.05
	done
	grep -q '^planted' "$VICTIM_OUT" || fail "the $kind victim planted no proof: $(cat "$T/planted.err")"
	touch "$T/pub/go"
	wait $tpid || fail "the planted-proof thief ($kind) failed: $(cat "$T/planted.err")"
	! grep -q "$SECRET_HEX" "$T/planted.out" ||
		fail "a $kind segment of another uid with a planted proof was read by uid 65534"
	grep -q '^error=bad segment' "$T/planted.out" ||
		fail "a $kind segment of another uid with a planted proof was attached: $(cut -c1-200 "$T/planted.out")"
	note "planted proof, $kind segment of another uid: $(cat "$T/planted.out")"
	if [ $kind = posix ]; then
		[ -e "/dev/shm/$PLANTED" ] || fail "the server removed another uid's POSIX segment"
	else
		"$SF_SEGATTACK" dump sysv "$PLANTED" | grep -q 'dest=0$' ||
			fail "the server removed another uid's System V segment"
	fi
done

finish_victims() {
	local pid
	for pid in ${VICTIM_PIDS:-}; do
		kill -TERM "$pid" 2>/dev/null
		wait "$pid" 2>/dev/null
		forget_pid "$pid"
	done
	VICTIM_PIDS=""
}

# ---- the segments survived, untouched -----------------------------------------

AFTER_SYSV=$("$SF_SEGATTACK" dump sysv "$VID") ||
	fail "the victim's System V segment $VID is gone"
[ "$AFTER_SYSV" = "$BEFORE_SYSV" ] ||
	fail "the victim's System V segment changed (or was marked for removal): before $BEFORE_SYSV after $AFTER_SYSV"
[ -e "/dev/shm/$VNAME" ] || fail "the victim's POSIX segment /dev/shm/$VNAME was removed"
AFTER_POSIX=$("$SF_SEGATTACK" dump posix "$VNAME")
[ "$AFTER_POSIX" = "$BEFORE_POSIX" ] || fail "the victim's POSIX segment changed"

server_alive
send_ok --server "$SERVER_UNIX" --transport shm --shm sysv --readback "$T/after.png" \
	"$(img testcard.png)"
same_pixels "$(img testcard.png)" "$T/after.png"
finish_victims
finish
