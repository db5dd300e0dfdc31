#!/bin/bash
# Synthetic input without a window (protocol 2.2, the input control
# socket): shmframe-input drives sf-event-log clients of a --display none
# server, and each client prints exactly the events PROTOCOL.md says.
#
#  - every kind of command (enter, motion, buttons, wheel, leave, keys by
#    name and code, typed text with Shift, focus, configure), with the
#    exact values, in order; a client that selected some kinds gets only
#    those, one with --mask none nothing;
#  - surfaces named by CLIENT:SURFACE and by title, and the newest by
#    default; list shows them; bad commands are errors (exit 1) and the
#    connection goes on;
#  - configure answered with --resize: the surface is read back
#    (snapshot) at the new size, pixel-exact;
#  - hostile control peers (garbage, an overlong line, a thousand commands
#    whose answers are never read, more connections than allowed, half a
#    line then silence) leave the server serving clients and the socket;
#  - an --allow-uid uid may use the main socket, never the input socket;
#  - no fd or segment is left afterwards.
. "$(dirname "$0")/../lib.sh"
# ev_new, ev_expect, ev_none and ev_end (no X needed for those).
. "$(dirname "$0")/../lib-x11.sh"

: "${SF_INPUT:?SF_INPUT must name shmframe-input}"
: "${SF_EVENT_LOG:?SF_EVENT_LOG must name sf-event-log}"
: "${SF_EVENT_PATTERN:?SF_EVENT_PATTERN must name sf-event-pattern}"

mkdir -m 700 "$T/dump"
start_server --dump-dir "$T/dump"
CTL="$T/sock.input"
[ -S "$CTL" ] || fail "no input socket $CTL"
[ "$(stat -c '%a %u' "$CTL")" = "600 $(id -u)" ] ||
	fail "the input socket is $(stat -c '%a, uid %u' "$CTL"), not 600 and ours"
grep -q " input=$CTL" "$T/server.out" ||
	fail "the ready line does not name $CTL: $(cat "$T/server.out")"

# inp_fails STATUS TEXT ARGS...: shmframe-input exits STATUS saying TEXT.
inp_fails() {
	local status=$1 text=$2

	shift 2
	run_client "$SF_INPUT" --socket "$CTL" "$@"
	[ "$RC" -eq "$status" ] || fail "shmframe-input $* exited $RC, not $status"
	grep -q "^shmframe-input: .*$text" "$ERR_FILE" ||
		fail "shmframe-input $*: no '$text' in: $(cat "$ERR_FILE")"
}

at() { echo "x=$1 y=$2 buttons=$3 mods=$4"; }
press() { echo "key state=press $1 mods=$2 repeat=0 text=$3"; }
release() { echo "key state=release $1 mods=$2 repeat=0 text=-"; }
SHIFT="code=225 sym=$((0x400000e1))"

# ---- every command, to a client that selected everything ------------------

headless_log some --size 64x48 --mask key,button
headless_log quiet --size 64x48 --mask none
headless_log all --size 200x100 --mask all
ev_expect all "configure width=200 height=100 serial=1"

# list: the three, in the order they came, with masks and titles.
inp list
grep -q '^surface 1:1 width=64 height=48 mask=0x5 view=64x48 name="sf-event-log" title="some"$' "$OUT_FILE" &&
grep -q '^surface 2:1 width=64 height=48 mask=0x0 view=64x48 name="sf-event-log" title="quiet"$' "$OUT_FILE" &&
grep -q '^surface 3:1 width=200 height=100 mask=0x7f view=200x100 name="sf-event-log" title="all"$' "$OUT_FILE" &&
[ "$(grep -c '' "$OUT_FILE")" -eq 3 ] || fail "list: $(cat "$OUT_FILE")"

# The newest surface is the default target: "all".
inp move 10.5 20
ev_expect all "enter $(at 10.5000 20.0000 0x0 0x0)"
inp move 11.25 -2.125
ev_expect all "motion $(at 11.2500 -2.1250 0x0 0x0)"
inp button 1 press
ev_expect all "button button=1 state=press $(at 11.2500 -2.1250 0x1 0x0)"
inp button 3
ev_expect all "button button=3 state=press $(at 11.2500 -2.1250 0x5 0x0)" \
	"button button=3 state=release $(at 11.2500 -2.1250 0x1 0x0)"
inp button 1 release
ev_expect all "button button=1 state=release $(at 11.2500 -2.1250 0x0 0x0)"
inp wheel -1 0.5
ev_expect all "axis dx=-1.0000 dy=0.5000 dx120=-120 dy120=60"
inp leave
ev_expect all "leave $(at 11.2500 -2.1250 0x0 0x0)"
inp enter 0 0
ev_expect all "enter $(at 0.0000 0.0000 0x0 0x0)"
inp leave
ev_expect all "leave $(at 0.0000 0.0000 0x0 0x0)"

inp key a
ev_expect all "$(press "code=4 sym=97" 0x0 61)" "$(release "code=4 sym=97" 0x0)"
inp key Return press
ev_expect all "$(press "code=40 sym=$((0x40000028))" 0x0 -)"
inp key 0x28 release
ev_expect all "$(release "code=40 sym=$((0x40000028))" 0x0)"
inp key F12 tap --mods ctrl,alt
ev_expect all "$(press "code=69 sym=$((0x40000045))" 0x6 -)" \
	"$(release "code=69 sym=$((0x40000045))" 0x6)"
inp key x --text "é"
ev_expect all "$(press "code=27 sym=120" 0x0 c3a9)" "$(release "code=27 sym=120" 0x0)"
inp key shift press
ev_expect all "$(press "$SHIFT" 0x1 -)"
inp key shift release
ev_expect all "$(release "$SHIFT" 0x0)"
# Capitals and shifted punctuation with Shift around them; a character
# of no key with code 0.
inp type 'A1?ß'
ev_expect all "$(press "$SHIFT" 0x1 -)" \
	"$(press "code=4 sym=97" 0x1 41)" "$(release "code=4 sym=97" 0x1)" \
	"$(release "$SHIFT" 0x0)" \
	"$(press "code=30 sym=49" 0x0 31)" "$(release "code=30 sym=49" 0x0)" \
	"$(press "$SHIFT" 0x1 -)" \
	"$(press "code=56 sym=47" 0x1 3f)" "$(release "code=56 sym=47" 0x1)" \
	"$(release "$SHIFT" 0x0)" \
	"$(press "code=0 sym=223" 0x0 c39f)" "$(release "code=0 sym=223" 0x0)"
inp focus in
ev_expect all "focus in"
inp focus out
ev_expect all "focus out"
inp configure 150 80
ev_expect all "configure width=150 height=80 serial=2"
inp list
grep -q '^surface 3:1 width=200 height=100 mask=0x7f view=150x80 ' "$OUT_FILE" ||
	fail "list after configure: $(cat "$OUT_FILE")"

# ---- selection: by id and by title; only what each selected ----------------

for target in 1:1 some; do
	inp --surface "$target" move 5 6
	inp --surface "$target" button 2
	inp --surface "$target" wheel 0 1
	inp --surface "$target" key b
	inp --surface "$target" focus in
	inp --surface "$target" configure 10 10
	inp --surface "$target" leave
	ev_expect some "button button=2 state=press $(at 5.0000 6.0000 0x2 0x0)" \
		"button button=2 state=release $(at 5.0000 6.0000 0x0 0x0)" \
		"$(press "code=5 sym=98" 0x0 62)" "$(release "code=5 sym=98" 0x0)"
done
for target in 2:1 quiet; do
	inp --surface "$target" move 1 1
	inp --surface "$target" button 1
	inp --surface "$target" wheel 1 1
	inp --surface "$target" type 'Hi'
	inp --surface "$target" focus in
	inp --surface "$target" configure 20 20
	inp --surface "$target" leave
done
ev_none all some quiet

# ---- errors: exit 1 with the server's text, the server goes on ------------

inp_fails 1 "no surface 9:9" --surface 9:9 key a
inp_fails 1 "no surface titled \"nope\"" --surface nope focus in
inp_fails 1 "the pointer is over no surface" button 1
inp_fails 1 "the pointer is over no surface" leave
inp_fails 2 "unknown key 'zz'" key zz
inp_fails 2 "unknown command 'jump'" jump
# Numbers past their bound on the raw socket, each digit alone included
# (the tool checks its own; a peer may not): errors, no event sent.
run_client python3 -c '
import socket, sys
s = socket.socket(socket.AF_UNIX); s.connect(sys.argv[1])
f = s.makefile("rwb", buffering=0)
for line in (b"button 9 press", b"button 6 press", b"button 0x10 press"):
    f.write(line + b"\n"); print(f.readline().decode().strip())
' "$CTL"
[ "$(grep -c "^error: bad button '.*' (expected 1 to 5)$" "$OUT_FILE")" -eq 3 ] ||
	fail "buttons past 5: $(cat "$OUT_FILE")"
ev_none all some quiet

# ---- configure answered with a resize: a frame of the new size -------------

headless_log big --size 120x90 --mask configure --resize
ev_expect big "configure width=120 height=90 serial=1" \
	"resized width=120 height=90 serial=1"
inp --surface big configure 77 41
ev_expect big "configure width=77 height=41 serial=2" \
	"resized width=77 height=41 serial=2"
inp list
grep -q '^surface 4:1 width=77 height=41 mask=0x40 view=77x41 .* title="big"$' "$OUT_FILE" ||
	fail "list after the resize: $(cat "$OUT_FILE")"
# The frame after the resize may still be on its way when "resized" is
# printed.
"$SF_EVENT_PATTERN" 77x41 "$T/want-77x41.png" || fail "sf-event-pattern failed"
snapshot_is "$T/want-77x41.png" "$T/dump/surface-4-1.png"

# ---- hostile control peers ---------------------------------------------------

# hostile NAME: a python3 peer (below) doing NAME to the input socket.
command -v python3 >/dev/null || fail "python3 missing"
cat >"$T/hostile.py" <<'EOF'
import socket, sys, time
path, what = sys.argv[1], sys.argv[2]

def conn():
    s = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    s.connect(path)
    return s

def lines(s, n):
    f = s.makefile("rb")
    return [f.readline() for _ in range(n)]

if what == "garbage":
    s = conn()
    s.sendall(b"\x00\xff\x1b[2J\r\n=\n\"\nkey press\nkey press 1 2 text=\"abc\nmotion 1e9 0\n"
              b"motion 99999999999 1\nwheel nan 0\nconfigure 0 5\nbutton 9 press\n"
              b"list surface=0:0\nfocus in title=\"\\x00\"\n\n")
    got = lines(s, 13)
    bad = [l for l in got if not l.startswith(b"error: ")]
    assert not bad, got
    # The same connection goes on.
    s.sendall(b"list\n")
    rest = lines(s, 5)
    assert rest[-1].startswith(b"ok 4"), rest
    print("garbage ok")
elif what == "overlong":
    s = conn()
    s.sendall(b"x" * 100000 + b"\nlist\n")
    got = lines(s, 6)
    assert got[0] == b"error: line longer than 4095 bytes\n", got
    assert got[5].startswith(b"ok 4"), got
    print("overlong ok")
elif what == "flood":
    # A thousand commands whose answers are never read, on two connections.
    a, b = conn(), conn()
    for s in (a, b):
        s.setblocking(False)
        try:
            for i in range(1000):
                s.send(b"list\n" * 50)
        except BlockingIOError:
            pass
    print("flood sent")
    time.sleep(30)
elif what == "many":
    # More connections than the server takes: the extra ones are told.
    held, told = [], 0
    for i in range(40):
        s = conn()
        held.append(s)
    for s in held:
        s.settimeout(0.2)
        try:
            if s.recv(200).startswith(b"error: too many control connections"):
                told += 1
        except socket.timeout:
            pass
    print("many told=%d" % told)
    time.sleep(30)
elif what == "half":
    s = conn()
    s.sendall(b"key press 4 9")
    print("half sent")
    time.sleep(30)
EOF
hostile() {
	timeout 60 python3 "$T/hostile.py" "$CTL" "$1"
}
# hostile_bg NAME: the same in the background, killed by PID.
hostile_bg() {
	spawn timeout 60 python3 "$T/hostile.py" "$CTL" "$1" >"$T/$1.out" 2>&1
}

hostile garbage >"$T/h.out" 2>&1 || fail "garbage peer: $(cat "$T/h.out")"
hostile overlong >"$T/h.out" 2>&1 || fail "overlong peer: $(cat "$T/h.out")"
# Those that stay connected: flood's two and half a line, then 40 more
# of which the server takes 13 (16 at once); meanwhile a client is
# served, and once the hogs go the socket is everyone's again.
hostile_bg flood
FLOOD=$LAST_PID
hostile_bg half
HALF=$LAST_PID
for _ in $(seq 100); do
	grep -q "flood sent" "$T/flood.out" && grep -q "half sent" "$T/half.out" && break
	sleep 0.1
done
grep -q "flood sent" "$T/flood.out" || fail "flood peer: $(cat "$T/flood.out")"
hostile_bg many
MANY=$LAST_PID
for _ in $(seq 100); do
	grep -q "many told" "$T/many.out" && break
	sleep 0.1
done
# 16 at once: flood's two and half's one leave 13 of the 40.
grep -q "many told=27" "$T/many.out" || fail "many peer: $(cat "$T/many.out")"
# The server serves a client meanwhile, events included.
roundtrip_ok
server_alive
for pid in "$FLOOD" "$HALF" "$MANY"; do
	kill "$pid"
	wait "$pid" 2>/dev/null
	forget_pid "$pid"
done
# The server sees them go within a moment.
for _ in $(seq 50); do
	run_client "$SF_INPUT" --socket "$CTL" list
	[ "$RC" -eq 0 ] && break
	sleep 0.1
done
inp --surface all focus in
ev_expect all "focus in"

# ---- the end: clients go, nothing left ----------------------------------------

for name in all some quiet big; do
	ev_end "$name"
done
finish

# ---- an --allow-uid uid: the main socket, not the input socket ----------------

if [ "$(id -u)" -eq 0 ] && command -v setpriv >/dev/null; then
	share_programs "$SF_INPUT" "$SF_SEND"
	share_images
	start_server --allow-uid 65534
	chmod 666 "$T/sock" "$CTL"
	NOBODY="$(as_uid 65534) env LD_LIBRARY_PATH=$T/bin"
	run_client $NOBODY "$(shared "$SF_SEND")" --server "$SERVER_UNIX" \
		--transport socket "$(img 1x1.png)"
	[ "$RC" -eq 0 ] || fail "uid 65534 with --allow-uid on the main socket: exit $RC: $(cat "$ERR_FILE")"
	run_client $NOBODY "$(shared "$SF_INPUT")" \
		--socket "$CTL" list
	[ "$RC" -eq 1 ] || fail "uid 65534 on the input socket exited $RC, not 1"
	grep -q "uid 65534 may not use the input socket of this server" "$ERR_FILE" ||
		fail "no clear refusal on the input socket: $(cat "$ERR_FILE")"
	note "uid 65534 on the input socket: $(cat "$ERR_FILE")"
	inp list
	finish
else
	note "not root: the --allow-uid part is skipped"
fi
echo "PASS [$TEST_NAME] (all parts)"
