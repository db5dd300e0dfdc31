#!/bin/bash
# The tools' --signal: shmframe-send and shmframe-demo over the control
# segment's rings and over the socket, for every shm kind, pixel-exact,
# their last line saying which signalling was used; a forced ring where
# there can be none (the socket transport, a server started with
# --signal socket) fails with a reason; SHMFRAME_SIGNAL is the default.
. "$(dirname "$0")/../lib.sh"

: "${SF_DEMO:?SF_DEMO must name shmframe-demo}"

unset SHMFRAME_SIGNAL
start_server
frame 200x150 1 "$T/f1.png"
frame 200x150 2 "$T/f2.png"

for kind in memfd posix sysv; do
	mode_args "$kind"
	for signal in ring socket; do
		send_ok --server "$SERVER_UNIX" $MODE_ARGS --signal "$signal" \
			--repeat 3 --readback "$T/$kind-$signal.png" \
			"$(img alpha.png)" "$T/f1.png" "$T/f2.png"
		expect $MODE_WANT "signal=$signal" frames=9
		same_pixels "$T/f2.png" "$T/$kind-$signal.png"
		send_ok --server "$SERVER_UNIX" $MODE_ARGS --signal "$signal" \
			--present copy --buffers 1 --readback "$T/$kind-$signal-copy.png" \
			"$(img odd-333x257.png)"
		expect $MODE_WANT "signal=$signal" frames=1
		same_pixels "$(img odd-333x257.png)" "$T/$kind-$signal-copy.png"
	done
	run_client "$SF_DEMO" --server "$SERVER_UNIX" $MODE_ARGS --signal ring \
		--size 320x240 --frames 120 --fps 0
	[ "$RC" -eq 0 ] || fail "shmframe-demo --signal ring exited $RC: $(cat "$ERR_FILE")"
	expect $MODE_WANT signal=ring frames=120 presented=120
done

# The environment's default, and the option over it.
SHMFRAME_SIGNAL=socket send_ok --server "$SERVER_UNIX" --readback "$T/env.png" \
	"$(img testcard.png)"
expect transport=shm signal=socket
same_pixels "$(img testcard.png)" "$T/env.png"
SHMFRAME_SIGNAL=socket send_ok --server "$SERVER_UNIX" --signal ring \
	"$(img testcard.png)"
expect transport=shm signal=ring

# No rings over the socket: auto says so, ring fails.
send_ok --server "$SERVER_UNIX" --transport socket --readback "$T/sock.png" \
	"$(img testcard.png)"
expect transport=socket signal=socket
same_pixels "$(img testcard.png)" "$T/sock.png"
run_client "$SF_SEND" --server "$SERVER_UNIX" --transport socket --signal ring \
	"$(img testcard.png)"
[ "$RC" -eq 1 ] || fail "--transport socket --signal ring exited $RC, 1 expected"
grep -q "ring" "$ERR_FILE" || fail "no reason given: $(cat "$ERR_FILE")"
finish

# SHMFRAME_SIGNAL is the library's variable too: its words (auto, in any
# case) must not stop a server, whose auto is its default, the rings.
for word in auto Auto RING; do
	export SHMFRAME_SIGNAL=$word
	start_server
	unset SHMFRAME_SIGNAL
	send_ok --server "$SERVER_UNIX" "$(img testcard.png)"
	expect transport=shm signal=ring
	finish
done
export SHMFRAME_SIGNAL=Socket
start_server
unset SHMFRAME_SIGNAL
send_ok --server "$SERVER_UNIX" "$(img testcard.png)"
expect transport=shm signal=socket
finish
# Words neither knows, and spins out of range, are usage errors.
for args in "--signal bogus" "--spin-us 10001" "--spin-us -1"; do
	"$SF_SERVER" --display none --listen "unix:$T/bad.sock" $args \
		>/dev/null 2>"$T/bad.err"
	rc=$?
	[ "$rc" -eq 2 ] || fail "shmframe-server $args exited $rc, 2 expected"
	grep -q "shmframe-server: invalid" "$T/bad.err" ||
		fail "shmframe-server $args: $(cat "$T/bad.err")"
done

# A server that does without: auto falls back, ring fails with its reason.
start_server --signal socket
send_ok --server "$SERVER_UNIX" --readback "$T/nosig.png" "$(img testcard.png)"
expect transport=shm shm=memfd signal=socket
same_pixels "$(img testcard.png)" "$T/nosig.png"
run_client "$SF_SEND" --server "$SERVER_UNIX" --signal ring "$(img testcard.png)"
[ "$RC" -eq 1 ] || fail "--signal ring against --signal socket exited $RC, 1 expected"
grep -q "ring" "$ERR_FILE" || fail "no reason given: $(cat "$ERR_FILE")"
note "refused: $(head -n 1 "$ERR_FILE")"
finish
