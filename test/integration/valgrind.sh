#!/bin/bash
# Valgrind memcheck on both sides of a round trip on every transport: the
# server runs under memcheck for the whole test, and each shmframe-send
# (with --readback) runs under it too.  Neither may report an error, a
# definitely or indirectly lost block, or an fd it opened and left open at
# exit.  The server also sees clients SIGKILLed mid-stream on every kind,
# so its tear-down paths run under memcheck.
#
# Skipped (77) in sanitizer builds (ASan and valgrind do not mix) and when
# valgrind is missing.
. "$(dirname "$0")/../lib.sh"

[ -z "${SF_SANITIZE:-}" ] || { echo "sanitizer build: skipped"; exit 77; }
command -v valgrind >/dev/null || { echo "valgrind missing: skipped"; exit 77; }

VG_OPTS="--leak-check=full --errors-for-leak-kinds=definite,indirect
--error-exitcode=99 --track-fds=yes"
export VG_OPTS REAL_SERVER="$SF_SERVER" VG_LOG="$T/server.vg"

# The server under memcheck, started the usual way.
cat >"$T/vg-server" <<'EOF'
#!/bin/sh
exec valgrind $VG_OPTS --log-file="$VG_LOG" "$REAL_SERVER" "$@"
EOF
chmod +x "$T/vg-server"
SF_SERVER="$T/vg-server"

# check_log FILE WHAT: memcheck found nothing in FILE.
check_log() {
	local log=$1 what=$2 bad
	[ -s "$log" ] || fail "$what: no valgrind log"
	grep -q 'ERROR SUMMARY: 0 errors' "$log" ||
		fail "$what: memcheck errors: $(grep -A 30 -m 1 -E '== (Invalid|Conditional|Syscall|Mismatched|Source and)' "$log" | head -n 40)"
	bad=$(grep -E '(definitely|indirectly) lost: [1-9]' "$log")
	[ -z "$bad" ] || fail "$what: leaks: $bad $(grep -B 2 -A 20 -m 1 'are definitely lost' "$log")"
	# Every fd open at exit came from the parent (the log file, the test
	# harness's own): an fd the program opened is listed with the stack
	# that opened it instead.
	bad=$(awk '/Open (file descriptor|AF_UNIX socket|AF_INET socket)/ { fd = $0; getline;
		if ($0 !~ /inherited from parent/) print fd }' "$log")
	[ -z "$bad" ] || fail "$what: fds left open at exit: $bad"
}

summary() {
	local log=$1
	echo "$(grep -o 'ERROR SUMMARY: [0-9]* errors' "$log" | head -n 1), $(
		grep -oE 'in use at exit: [0-9,]+ bytes in [0-9,]+ blocks' "$log" | head -n 1), $(
		grep -oE 'FILE DESCRIPTORS: [0-9]+ open( \([0-9]+ std\))?' "$log" | head -n 1)"
}

start_server
frame 333x257 1 "$T/f1.png"

for mode in memfd posix sysv socket tcp-posix tcp-socket; do
	case "$mode" in
	socket) args="--server $SERVER_UNIX --transport socket"; want="transport=socket" ;;
	tcp-posix) args="--server $SERVER_TCP --transport shm --shm posix"; want="transport=shm shm=posix" ;;
	tcp-socket) args="--server $SERVER_TCP --transport socket"; want="transport=socket" ;;
	*) args="--server $SERVER_UNIX --transport shm --shm $mode"; want="transport=shm shm=$mode" ;;
	esac
	run_client valgrind $VG_OPTS --log-file="$T/client-$mode.vg" "$SF_SEND" $args \
		--readback "$T/$mode.png" "$T/f1.png" "$(img odd-333x257.png)"
	[ "$RC" -eq 0 ] || fail "shmframe-send ($mode) under valgrind exited $RC: $(cat "$ERR_FILE") $(tail -n 30 "$T/client-$mode.vg")"
	expect $want frames=2
	same_pixels "$(img odd-333x257.png)" "$T/$mode.png"
	check_log "$T/client-$mode.vg" "shmframe-send ($mode)"
	note "$(printf 'client %-10s %s' "$mode" "$(summary "$T/client-$mode.vg")")"
done

# Clients killed mid-stream: the server frees what they held.
for mode in memfd posix sysv socket; do
	mode_args "$mode"
	spawn "$SF_SEND" --server "$SERVER_UNIX" $MODE_ARGS --repeat 100000 \
		"$(img alpha.png)" >/dev/null 2>&1
	pid=$LAST_PID
	sleep 0.3
	kill -KILL "$pid"
	wait "$pid" 2>/dev/null
	forget_pid "$pid"
done

server_alive
check_server_fds
check_devshm
check_sysv
kill -TERM "$SERVER_PID"
wait "$SERVER_PID"
rc=$?
forget_pid "$SERVER_PID"
[ "$rc" -eq 0 ] || fail "the server under valgrind exited $rc on SIGTERM: $(tail -n 40 "$VG_LOG")"
check_log "$VG_LOG" "shmframe-server"
note "$(printf 'server %-10s %s' "" "$(summary "$VG_LOG")")"
check_devshm
echo "PASS [$TEST_NAME]"
