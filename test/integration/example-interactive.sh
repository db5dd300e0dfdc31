#!/bin/bash
# client/examples/interactive, steered headless through shmframe-input: it
# hears the motion, clicks and typed text sent to its surface, takes the
# size a configure gives (the server's list shows the surface at it),
# keeps its size when the configure is beyond the server's limits, and
# quits on Escape with its summary line.  Nothing is left behind.
. "$(dirname "$0")/../lib.sh"

: "${SF_INTERACTIVE:?SF_INTERACTIVE must name the interactive example}"
: "${SF_INPUT:?SF_INPUT must name shmframe-input}"

start_server --max-size 1024x1024
CTL="$T/sock.input"

inp() {
	run_client "$SF_INPUT" --socket "$CTL" --surface interactive "$@"
	[ "$RC" -eq 0 ] || fail "shmframe-input $* exited $RC: $(cat "$ERR_FILE")"
}

spawn "$SF_INTERACTIVE" --server "$SERVER_UNIX" >"$T/app.out" 2>"$T/app.err"
app=$LAST_PID
for _ in $(seq 100); do
	run_client "$SF_INPUT" --socket "$CTL" list
	grep -q 'mask=0x[1-9a-f][0-9a-f]* .*title="interactive"$' "$OUT_FILE" && break
	sleep 0.1
done
grep -q 'mask=0x[1-9a-f][0-9a-f]* .*title="interactive"$' "$OUT_FILE" ||
	fail "the example selected no input: $(cat "$OUT_FILE") $(cat "$T/app.err")"

inp configure 300 200
inp configure 2000 100          # beyond --max-size: it stays 300x200
inp move 50 60                  # enters
inp leave
inp move 10.75 20.25            # enters again
inp button 1 click
inp button 3 click              # not the left one: no bar
inp button 1 click
inp type "hi!"
# The server holds the surface at the size the example took.
run_client "$SF_INPUT" --socket "$CTL" list
grep -q '^surface [0-9]*:[0-9]* width=300 height=200 .*title="interactive"$' "$OUT_FILE" ||
	fail "the surface is not 300x200 on the server: $(cat "$OUT_FILE")"
inp key Escape

await_exit "$app" "Escape did not end the example"
[ "$RC" -eq 0 ] || fail "the example exited $RC: $(cat "$T/app.err")"
OUT=$(tail -n 1 "$T/app.out")
note "$OUT"
expect width=300 height=200 pointer=10,20 clicks=2 resizes=1 'text="hi!"' \
	transport=shm/memfd
grep -q "2000x100 is too big, staying 300x200" "$T/app.err" ||
	fail "no word on the refused size: $(cat "$T/app.err")"
finish
