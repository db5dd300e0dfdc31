# Shared helpers of the integration tests (sourced by test/integration/*.sh).
#
# Each test gets its own temporary directory, runtime directory and cookie
# file, starts a real server, runs real clients, and ends with finish(),
# which asserts that the server is alive, that its fd count is back to the
# one it had after startup, and that no new POSIX or System V shared-memory
# segment was left behind.  Every process started here is killed on any
# exit (trap), and dies with the script even if the script is SIGKILLed
# (parent-death signal), so a failing or timed-out test leaves nothing.
#
# Environment (set by CTest): SF_SERVER SF_SEND SF_PNGCMP SF_IMGS, and
# optionally SF_DEMO SF_DEMOFRAME SF_FAIL_MEMFD.

set -u

: "${SF_SERVER:?SF_SERVER must name shmframe-server}"
: "${SF_SEND:?SF_SEND must name shmframe-send}"
: "${SF_PNGCMP:?SF_PNGCMP must name sf-pngcmp}"
: "${SF_IMGS:?SF_IMGS must name the imgs directory}"

TEST_NAME=$(basename "$0" .sh)
T=$(mktemp -d "/tmp/shmframe-$TEST_NAME.XXXXXX") || exit 1
export XDG_RUNTIME_DIR="$T/run"
export SHMFRAME_AUTH="$T/cookie"
mkdir -m 700 "$XDG_RUNTIME_DIR"
unset SHMFRAME_SERVER SHMFRAME_TRANSPORT
# Sanitizer builds: a leak in a client is a failure of that client.
export ASAN_OPTIONS="${ASAN_OPTIONS:-detect_leaks=1}"

SF_PIDS=""        # every background process we started
SERVER_PID=""
SERVER_FDS=""
SF_STEP=0         # numbers the output files of run_client
SF_AT_EXIT=""     # functions _sf_cleanup calls once our processes are gone
# The command start_server runs the server under (empty: none), e.g.
# "ip netns exec NS" (lib-link.sh); word-split, so no spaces inside words.
SF_SERVER_WRAP=""

# ---- reporting ------------------------------------------------------------

note() { echo "# $*"; }

fail() {
	echo "FAIL [$TEST_NAME]: $*" >&2
	exit 1
}

_sf_cleanup() {
	local status=$? pid fn
	trap - EXIT INT TERM
	for pid in $SF_PIDS; do
		kill -TERM "$pid" 2>/dev/null
	done
	for pid in $SF_PIDS; do
		for _ in 1 2 3 4 5 6 7 8 9 10 11 12 13 14 15 16 17 18 19 20; do
			kill -0 "$pid" 2>/dev/null || break
			sleep 0.1
		done
		kill -KILL "$pid" 2>/dev/null
		wait "$pid" 2>/dev/null
	done
	for fn in $SF_AT_EXIT; do
		"$fn"
	done
	if [ "$status" -ne 0 ] && [ -s "$T/server.log" ]; then
		echo "---- server log (last 30 lines) ----" >&2
		tail -n 30 "$T/server.log" >&2
	fi
	rm -rf "$T"
	exit "$status"
}
trap _sf_cleanup EXIT
trap 'exit 130' INT TERM

# Starts "$@" in the background, dying with this script; sets LAST_PID.
spawn() {
	setpriv --pdeathsig KILL -- "$@" &
	LAST_PID=$!
	SF_PIDS="$SF_PIDS $LAST_PID"
}

forget_pid() {
	local p out=""
	for p in $SF_PIDS; do
		[ "$p" = "$1" ] || out="$out $p"
	done
	SF_PIDS=$out
}

# snapshot_is WANT FILE: the --dump-dir snapshot FILE that SIGUSR1 makes
# the server write holds WANT, pixel-exact.  A frame may still be on its
# way: snapshots until one holds it (the last one must).
snapshot_is() {
	for _ in $(seq 20); do
		rm -f "$2"
		kill -USR1 "$SERVER_PID"
		for _ in $(seq 50); do
			[ -f "$2" ] && break
			sleep 0.05
		done
		"$SF_PNGCMP" "$1" "$2" >/dev/null 2>&1 && break
		sleep 0.05
	done
	same_pixels "$1" "$2"
}

# await_exit PID WHAT: the spawned PID ends within 10 s (else fails saying
# WHAT did not end it); sets RC to its exit status.
await_exit() {
	local i
	for i in $(seq 100); do
		kill -0 "$1" 2>/dev/null || break
		sleep 0.1
	done
	kill -0 "$1" 2>/dev/null && fail "$2"
	wait "$1"
	RC=$?
	forget_pid "$1"
}

# ---- shared-memory bookkeeping ------------------------------------------

# Only our names count: a test run outside test/isolate.sh shares
# /dev/shm with the rest of the machine.
_sf_devshm() { ls -1A /dev/shm 2>/dev/null | grep '^shmframe-' | sort; }
_sf_sysv_ids() { awk 'NR > 1 { print $2 }' /proc/sysvipc/shm | sort; }

# Called by start_server, so every test has a "before".
shm_snapshot() {
	_sf_devshm >"$T/devshm.before"
	_sf_sysv_ids >"$T/sysv.before"
}

# New /dev/shm entries that persist (other programs on the machine may
# create short-lived ones: an entry must still be there half a second later
# to count as left behind).
check_devshm() {
	local now later left
	now=$(_sf_devshm | comm -13 "$T/devshm.before" -)
	[ -z "$now" ] && return 0
	sleep 0.5
	later=$(_sf_devshm | comm -13 "$T/devshm.before" -)
	left=$(comm -12 <(echo "$now") <(echo "$later"))
	[ -z "$left" ] || fail "left behind in /dev/shm: $(echo $left)"
}

# New System V segments whose creator is dead or is one of ours: those are
# leaks (a live segment of some unrelated live process is not ours).
check_sysv() {
	local id cpid bad=""
	for id in $(_sf_sysv_ids | comm -13 "$T/sysv.before" -); do
		cpid=$(awk -v id="$id" 'NR > 1 && $2 == id { print $5 }' /proc/sysvipc/shm)
		[ -n "$cpid" ] || continue
		if ! kill -0 "$cpid" 2>/dev/null || [ "$cpid" = "$SERVER_PID" ] ||
		   case " $SF_PIDS " in *" $cpid "*) true ;; *) false ;; esac; then
			bad="$bad $id(cpid=$cpid)"
		fi
	done
	[ -z "$bad" ] || fail "System V segments left behind (ipcs -m):$bad"
}

# ---- the server -------------------------------------------------------------

count_fds() { ls "/proc/$1/fd" 2>/dev/null | wc -l; }

# start_server [extra server args...]: listens on unix:$T/sock and an
# ephemeral TCP port on 127.0.0.1; sets SERVER_UNIX, SERVER_TCP, SERVER_PID
# and SERVER_FDS (its fd count once ready).
start_server() {
	shm_snapshot
	spawn $SF_SERVER_WRAP "$SF_SERVER" --listen "unix:$T/sock" --listen tcp:127.0.0.1:0 \
		--display none "$@" >"$T/server.out" 2>"$T/server.log"
	SERVER_PID=$LAST_PID
	local i
	for i in $(seq 100); do
		grep -q '^ready' "$T/server.out" 2>/dev/null && break
		kill -0 "$SERVER_PID" 2>/dev/null ||
			fail "server exited before it was ready: $(cat "$T/server.log")"
		sleep 0.1
	done
	grep -q '^ready' "$T/server.out" || fail "server not ready after 10 s"
	SERVER_UNIX="unix:$T/sock"
	SERVER_TCP=$(grep -o 'listen=tcp:[^ ]*' "$T/server.out" | head -n 1 | cut -d= -f2)
	grep -q "listen=unix:$T/sock" "$T/server.out" ||
		fail "ready line lacks listen=unix:$T/sock: $(cat "$T/server.out")"
	case "$SERVER_TCP" in
	tcp:127.0.0.1:[1-9]*) ;;
	*) fail "ready line lacks a TCP port: $(cat "$T/server.out")" ;;
	esac
	SERVER_FDS=$(count_fds "$SERVER_PID")
	note "server $SERVER_PID ready on $SERVER_UNIX $SERVER_TCP, $SERVER_FDS fds"
}

server_alive() {
	kill -0 "$SERVER_PID" 2>/dev/null ||
		fail "the server died (pid $SERVER_PID)"
	# A zombie is dead too.
	! grep -q '^State:.*Z' "/proc/$SERVER_PID/status" 2>/dev/null ||
		fail "the server died (zombie)"
}

# The server frees a client's fds when it notices the disconnect: give it
# up to 5 s.
check_server_fds() {
	local n i
	for i in $(seq 50); do
		n=$(count_fds "$SERVER_PID")
		[ "$n" = "$SERVER_FDS" ] && return 0
		sleep 0.1
	done
	ls -l "/proc/$SERVER_PID/fd" >&2
	fail "server holds $n fds, $SERVER_FDS after startup (fd leak)"
}

# stop_server [SECONDS]: SIGTERM must end the server, with status 0,
# within SECONDS (default 30: sanitizers and valgrind exit slowly).
stop_server() {
	local rc i within=${1:-30}
	server_alive
	kill -TERM "$SERVER_PID"
	for ((i = 0; i < within * 10; i++)); do
		kill -0 "$SERVER_PID" 2>/dev/null || break
		sleep 0.1
	done
	! kill -0 "$SERVER_PID" 2>/dev/null ||
		fail "the server ignored SIGTERM for $within s (spinning?)"
	wait "$SERVER_PID"
	rc=$?
	forget_pid "$SERVER_PID"
	[ "$rc" -eq 0 ] || fail "server exited with status $rc on SIGTERM"
	SERVER_PID=""
}

# finish [SECONDS]: the end of every test, everything back where it
# started; the server must exit within SECONDS of SIGTERM (stop_server).
finish() {
	server_alive
	check_server_fds
	check_devshm
	check_sysv
	stop_server "${1:-30}"
	check_devshm
	echo "PASS [$TEST_NAME]"
}

# ---- clients ------------------------------------------------------------------

# run_client PROGRAM ARGS...: runs a client to completion (60 s at most)
# and sets RC, OUT (last stdout line), OUT_FILE and ERR_FILE.
run_client() {
	SF_STEP=$((SF_STEP + 1))
	OUT_FILE="$T/client.$SF_STEP.out"
	ERR_FILE="$T/client.$SF_STEP.err"
	timeout -k 5 60 setpriv --pdeathsig KILL -- "$@" \
		>"$OUT_FILE" 2>"$ERR_FILE" </dev/null
	RC=$?
	OUT=$(tail -n 1 "$OUT_FILE")
}

# mode_args MODE: for MODE socket, memfd, posix or sysv, sets MODE_ARGS
# (the client options that force it) and MODE_WANT (what the client's
# last line then says).
mode_args() {
	if [ "$1" = socket ]; then
		MODE_ARGS="--transport socket"
		MODE_WANT="transport=socket"
	else
		MODE_ARGS="--transport shm --shm $1"
		MODE_WANT="transport=shm shm=$1"
	fi
}

# send_ok ARGS...: shmframe-send that must succeed.
send_ok() {
	run_client "$SF_SEND" "$@"
	[ "$RC" -eq 0 ] ||
		fail "shmframe-send $* exited $RC: $(cat "$ERR_FILE")"
}

# expect KEY=VALUE...: each pair must be in the last client line.
expect() {
	local kv
	for kv in "$@"; do
		case " $OUT " in
		*" $kv "*) ;;
		*) fail "expected $kv in: $OUT" ;;
		esac
	done
}

# value_of KEY: the value of KEY= in the last client line (empty if none).
value_of() {
	local w
	for w in $OUT; do
		case "$w" in "$1="*) echo "${w#*=}"; return ;; esac
	done
}

# expect_no_key KEY: the last client line has no KEY=.
expect_no_key() {
	case " $OUT " in
	*" $1="*) fail "unexpected $1= in: $OUT" ;;
	esac
}

# same_pixels A.png B.png: pixel-exact, alpha included.
same_pixels() {
	local msg
	msg=$("$SF_PNGCMP" "$1" "$2" 2>&1) ||
		fail "pixels differ: $msg"
}

# roundtrip_ok: a frame sent over the Unix socket comes back pixel-exact.
roundtrip_ok() {
	send_ok --server "$SERVER_UNIX" --readback "$T/out.png" "$(img testcard.png)"
	same_pixels "$(img testcard.png)" "$T/out.png"
}

# img NAME: path of a sample image.
img() { echo "$SF_IMGS/$1"; }

# frame WxH K OUT.png: frame K of the demo's scene, a second image of any
# size for tests that stream several same-sized images.
frame() {
	[ -n "${SF_DEMOFRAME:-}" ] ||
		{ echo "sf-demoframe not built: skipped"; exit 77; }
	"$SF_DEMOFRAME" "$1" "$2" "$3" || fail "sf-demoframe $* failed"
}

# ---- processes that answer on standard output ------------------------------

# wait_for_line PID FILE PATTERN [TRIES] [DELAY]: waits, while PID runs,
# until a line of FILE starts with PATTERN: TRIES looks DELAY seconds
# apart (default 300 and 0.1).  Status 0 when the line is there.
wait_for_line() {
	local pid=$1 file=$2 pattern=$3 tries=${4:-300} delay=${5:-0.1}
	for _ in $(seq "$tries"); do
		grep -q "^$pattern" "$file" 2>/dev/null && return 0
		kill -0 "$pid" 2>/dev/null || break
		sleep "$delay"
	done
	grep -q "^$pattern" "$file" 2>/dev/null
}

# healthy_start SECONDS: the healthy client of sf-fd-attack presents and
# round-trips on the Unix socket for SECONDS, timing each round trip.
healthy_start() {
	: "${SF_FD_ATTACK:?SF_FD_ATTACK must name sf-fd-attack}"
	spawn "$SF_FD_ATTACK" ping "$SERVER_UNIX" "$1" >"$T/ping.out" 2>"$T/ping.err"
	HEALTHY_PID=$LAST_PID
	wait_for_line "$HEALTHY_PID" "$T/ping.out" streaming 50 ||
		fail "the healthy client did not start: $(cat "$T/ping.err")"
}

# healthy_end [WHILE]: waits for the healthy client, which must succeed
# with no round trip of a second or more (WHILE says during what); sets
# HEALTHY_FRAMES to the frames it presented.
healthy_end() {
	local rc worst
	timeout 30 tail --pid="$HEALTHY_PID" -f /dev/null
	wait "$HEALTHY_PID"
	rc=$?
	forget_pid "$HEALTHY_PID"
	[ "$rc" -eq 0 ] ||
		fail "the healthy client failed (exit $rc): $(cat "$T/ping.err")"
	read -r HEALTHY_FRAMES worst < <(sed -n 's/^frames=\([0-9]*\) max_ms=\([0-9]*\)$/\1 \2/p' "$T/ping.out")
	[ -n "${worst:-}" ] ||
		fail "no result from the healthy client: $(cat "$T/ping.out")"
	note "healthy client: $HEALTHY_FRAMES frames, slowest round trip $worst ms"
	[ "$worst" -lt 1000 ] ||
		fail "a round trip of the healthy client took $worst ms${1:+ $1}"
}

# ---- other users -----------------------------------------------------------

# need_other_uids: other users are played through setpriv, as root; the
# test is skipped (77) where that cannot be.
need_other_uids() {
	[ "$(id -u)" -eq 0 ] ||
		{ echo "needs root to run processes as other uids: skipped"; exit 77; }
	command -v setpriv >/dev/null || { echo "setpriv missing: skipped"; exit 77; }
}

# as_uid UID: the prefix that runs a command as UID (setpriv sets the
# parent-death signal again after changing uid, which clears it).
as_uid() {
	echo "setpriv --reuid=$1 --regid=$1 --clear-groups --pdeathsig KILL --"
}

# share_programs PROGRAM...: copies of the programs, and of the
# libshmframe they link, in $T/bin (run them with LD_LIBRARY_PATH=$T/bin),
# so that other uids can run them even when the build tree is not theirs
# to reach (a checkout may sit in a private directory); $T becomes 711.
share_programs() {
	local lib
	chmod 711 "$T"
	mkdir -p -m 755 "$T/bin"
	cp "$@" "$T/bin/"
	lib=$(ldd "$@" | awk '/libshmframe/ { print $3; exit }')
	[ -z "$lib" ] || cp "$lib" "$T/bin/"
	chmod 755 "$T"/bin/*
}

# shared PROGRAM: the path of its copy in $T/bin.
shared() { echo "$T/bin/$(basename "$1")"; }

# share_images: the sample images, where other uids can read them.
share_images() {
	cp -r "$SF_IMGS" "$T/imgs"
	chmod -R a+rX "$T/imgs"
	SF_IMGS="$T/imgs"
}
