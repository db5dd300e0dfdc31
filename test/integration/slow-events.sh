#!/bin/bash
# A client that selected input and never reads its socket is dropped as
# SLOW once its unread events pass --max-output, and harms nobody else: a
# peer of the input control socket floods it with pointer motion (the
# kernel's socket buffers fill, then the server's queue), the flood's
# answer says the client was dropped, the list no longer shows it, while
# another client got every event sent to it before, during and after the
# flood, exactly and in order.  Nothing is left behind.
. "$(dirname "$0")/../lib.sh"
. "$(dirname "$0")/../lib-x11.sh"

: "${SF_INPUT:?SF_INPUT must name shmframe-input}"
: "${SF_EVENT_LOG:?SF_EVENT_LOG must name sf-event-log}"

start_server --max-output 64K
CTL="$T/sock.input"

headless_log deaf --size 64x48 --mask motion,crossing --no-read
headless_log fine --size 64x48 --mask motion,crossing
inp --surface fine move 1 2
ev_expect fine "enter x=1.0000 y=2.0000 buttons=0x0 mods=0x0"

# flood: motions to deaf, one line each, each answer read before the
# next line, with a motion to fine after every 1000; stops at the first answer that
# is not ok (and fails after 200000 lines: the limit would not hold).
cat >"$T/flood.py" <<'EOF'
import socket, sys
s = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
s.connect(sys.argv[1])
f = s.makefile("rwb", buffering=0)
fine = 0
for i in range(200000):
    if i % 1000 == 999:
        fine += 1
        f.write(b'motion %d 3 title="fine"\n' % (fine % 60))
        if f.readline() != b"ok 2:1\n":
            sys.exit("fine's motion was not ok")
    f.write(b'motion %d %d title="deaf"\n' % (i % 64, i % 48))
    a = f.readline().decode()
    if not a.startswith("ok"):
        print("after", i + 1, "motions:", a.strip())
        print("fine", fine)
        sys.exit(0)
sys.exit("deaf was never dropped")
EOF
run_client python3 "$T/flood.py" "$CTL"
[ "$RC" -eq 0 ] || fail "flood: $(cat "$ERR_FILE")"
note "$(head -n 1 "$OUT_FILE")"
grep -q "^after [0-9]* motions: error: the client of 1:1 was dropped: its events were not read (SLOW)$" "$OUT_FILE" ||
	fail "no SLOW answer: $(cat "$OUT_FILE")"
n=$(sed -n 's/^fine //p' "$OUT_FILE")
[ "$n" -ge 1 ] || fail "the flood ended before fine got a motion: $(cat "$OUT_FILE")"

# fine heard the one pointer come and go, in order, nothing else: it left
# for deaf, came back at each of fine's motions (the pointer was over
# deaf: an enter) and left again at the next motion to deaf.
want=("leave x=1.0000 y=2.0000 buttons=0x0 mods=0x0")
for i in $(seq "$n"); do
	want+=("enter x=$((i % 60)).0000 y=3.0000 buttons=0x0 mods=0x0"
	       "leave x=$((i % 60)).0000 y=3.0000 buttons=0x0 mods=0x0")
done
ev_expect fine "${want[@]}"

# deaf is gone from the server; fine is still served.
inp list
grep -q 'title="deaf"' "$OUT_FILE" && fail "deaf is still listed: $(cat "$OUT_FILE")"
grep -q '^surface 2:1 .*title="fine"$' "$OUT_FILE" || fail "fine is not listed: $(cat "$OUT_FILE")"
inp --surface fine move 5 6
inp --surface fine move 7 8
ev_expect fine "enter x=5.0000 y=6.0000 buttons=0x0 mods=0x0" \
	"motion x=7.0000 y=8.0000 buttons=0x0 mods=0x0"

kill -TERM "${EVLOG_PID[deaf]}"
wait "${EVLOG_PID[deaf]}" 2>/dev/null
forget_pid "${EVLOG_PID[deaf]}"
ev_end fine
finish
