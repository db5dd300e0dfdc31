# Sourced by the bench scripts of the bindings (client/examples/bench-gl.sh,
# client/gstreamer/bench-gst.sh, client/python/bench-numpy.sh): a private
# directory and a headless shmframe-server for one run, and their end.
#
# bench_server NAME BUILD-DIR: makes $T (/tmp/shmframe-bench-NAME.*),
# starts BUILD-DIR's server on unix:$T/sock (SERVER_ADDR, SERVER_PID) with
# a runtime directory of its own, and waits until it is ready.  On exit
# every pid in BENCH_PIDS (the server's, and what the script adds) is
# stopped and $T removed; INT and TERM end the run.

BENCH_PIDS=""

bench_cleanup() {
	local p
	for p in $BENCH_PIDS; do
		kill "$p" 2>/dev/null || true
		wait "$p" 2>/dev/null || true
	done
	rm -rf "$T"
}

bench_server() {
	T=$(mktemp -d "/tmp/shmframe-bench-$1.XXXXXX")
	trap bench_cleanup EXIT
	trap 'exit 130' INT TERM
	mkdir -m 700 "$T/run"
	XDG_RUNTIME_DIR="$T/run" "$2/server/shmframe-server" \
		--listen "unix:$T/sock" --display none >"$T/server.out" 2>&1 &
	SERVER_PID=$!
	BENCH_PIDS=$SERVER_PID
	SERVER_ADDR="unix:$T/sock"
	for _ in $(seq 100); do
		grep -q '^ready' "$T/server.out" && return 0
		sleep 0.05
	done
	echo "bench-$1: the server did not start: $(cat "$T/server.out")" >&2
	exit 1
}
