#!/bin/bash
# The runtime directory swapped between the library's check and its
# connect.  $XDG_RUNTIME_DIR belongs to another user (65534), who may
# therefore rename its entries; the victim (65533) runs its server there,
# in RUNTIME_DIR of its own (0700).  The attacker exchanges that directory,
# as fast as it can, with one of its own holding "0": a link to a socket
# of root's (the stand-in for any root daemon, which the library trusts
# by its uid).  A library that checks RUNTIME_DIR by path and then
# connects by path sometimes checks the victim's directory and connects
# through the attacker's, and sends root's socket its HELLO; one that
# connects in the very directory it checked (/proc/self/fd/DFD/0) is
# either refused (it opened the attacker's) or reaches its own server.
# And a listener of the attacker's that never accepts, its backlog full,
# holds the victim's connect (before its uid can be checked) for 5 s at
# most, not forever.
. "$(dirname "$0")/../lib.sh"

need_other_uids
command -v socat >/dev/null || { echo "socat missing (root's listener): skipped"; exit 77; }
: "${SF_RACE_DIR:?SF_RACE_DIR must name sf-race-dir}"

ATTACKER=$(as_uid 65534)
$ATTACKER true || { echo "cannot run as nobody here: skipped"; exit 77; }

# The other uids run copies of the programs they can reach.
share_programs "$SF_SERVER" "$SF_RACE_DIR"
V_SERVER=$(shared "$SF_SERVER")
RACE=$(shared "$SF_RACE_DIR")
mkdir -m 700 "$T/victim"
chown 65533:65533 "$T/victim"
XDG="$T/xdg"
VICTIM="$(as_uid 65533) env LD_LIBRARY_PATH=$T/bin XDG_RUNTIME_DIR=$XDG SHMFRAME_AUTH=$T/victim/cookie"

# The attacker's $XDG_RUNTIME_DIR, open for the victim to make its
# directory in (as a careless setup would have it).
mkdir -m 777 "$XDG"
chown 65534:65534 "$XDG"

# Root's listener: whatever reaches it is appended to $T/got.
spawn socat -u -T 0.2 "UNIX-LISTEN:$T/root.sock,fork,mode=777" "OPEN:$T/got,creat,append"
for _ in $(seq 50); do [ -S "$T/root.sock" ] && break; sleep 0.1; done
[ -S "$T/root.sock" ] || fail "root's listener did not start"

spawn $VICTIM "$V_SERVER" --listen :0 --display none
for _ in $(seq 100); do [ -S "$XDG/shmframe/0" ] && break; sleep 0.05; done
[ -S "$XDG/shmframe/0" ] || fail "the victim's server did not start"

$ATTACKER mkdir -m 755 "$XDG/evil" || fail "the attacker cannot make its directory"
$ATTACKER ln -s "$T/root.sock" "$XDG/evil/0"

# Without the race, the victim reaches its own server.
run_client $VICTIM "$RACE" connect :0 3 10
[ "$OUT" = "connected=3 refused=0 other=0" ] ||
	fail "the victim does not reach its own server: $OUT $(cat "$ERR_FILE")"

# Each arrangement held 2 us, about the victim's time from check to
# connect: a swap then falls between the two most often.
spawn $ATTACKER "$RACE" swap "$XDG/shmframe" "$XDG/evil" 40 2
SWAPPER=$LAST_PID
sleep 0.2
run_client $VICTIM timeout 30 "$RACE" connect :0 1000000 6
kill "$SWAPPER" 2>/dev/null
note "while the attacker swapped: $OUT"
sleep 0.3 # bytes in flight, if any, reach the file
got=$( [ -e "$T/got" ] && stat -c %s "$T/got" || echo 0)
[ "$got" -eq 0 ] || fail "root's socket got $got bytes through the attacker's directory ($OUT)"
case "$OUT" in
*" other=0") ;;
*) fail "the victim reached something else: $OUT $(cat "$ERR_FILE")" ;;
esac
# The race was run: some attempts found the attacker's directory.
refused=$(value_of refused)
[ "${refused:-0}" -gt 0 ] || fail "the attacker's swaps were never seen ($OUT)"

mkdir -m 755 "$T/stuck"
chown 65534:65534 "$T/stuck"
spawn $ATTACKER "$RACE" stuck "$T/stuck/s"
for _ in $(seq 50); do [ -S "$T/stuck/s" ] && break; sleep 0.1; done
sleep 0.2
start=$(date +%s%N)
run_client $VICTIM timeout 20 "$RACE" connect "unix:$T/stuck/s" 1 30
ms=$(( ($(date +%s%N) - start) / 1000000 ))
note "a listener that never accepts: $OUT after $ms ms: $(cat "$ERR_FILE")"
[ "$ms" -lt 10000 ] || fail "the connect to a full backlog took $ms ms"
grep -q "its backlog stayed full for 5 s" "$ERR_FILE" ||
	fail "no clear error for a listener that never accepts: $OUT $(cat "$ERR_FILE")"
echo "PASS [$TEST_NAME]"
