#!/bin/bash
# A Unix socket behind a proxy that drops file descriptors (socat copies
# bytes only): memfd cannot pass the probe, so auto must settle on POSIX shm
# (the probe, not the socket family, decides) with exact pixels, and a
# forced memfd must fail saying why.
. "$(dirname "$0")/../lib.sh"

command -v socat >/dev/null || { echo "socat missing: skipped"; exit 77; }

start_server
spawn socat "UNIX-LISTEN:$T/proxy,fork" "UNIX-CONNECT:$T/sock"
SOCAT_PID=$LAST_PID
for _ in $(seq 50); do
	[ -S "$T/proxy" ] && break
	sleep 0.1
done
[ -S "$T/proxy" ] || fail "socat did not listen"

send_ok --server "unix:$T/proxy" --transport auto --readback "$T/auto.png" \
	"$(img odd-333x257.png)"
expect transport=shm shm=posix
case "$OUT" in
*memfd*) ;;
*) fail "the reason does not say why memfd was not used: $OUT" ;;
esac
# ... in the server's own words, carried in PROBE_RESULT: the fd never
# arrived.  (Runs without root, unlike the access test.)
case "$OUT" in
*"memfd: "*"(no file descriptor arrived with the memfd"*) ;;
*) fail "the reason lost the server's text about the memfd: $OUT" ;;
esac
same_pixels "$(img odd-333x257.png)" "$T/auto.png"

run_client "$SF_SEND" --server "unix:$T/proxy" --transport shm --shm memfd \
	"$(img testcard.png)"
[ "$RC" -eq 1 ] || fail "forced memfd through an fd-dropping proxy exited $RC, not 1"
grep -qiE '(^|[^a-z])fd|file descriptor' "$ERR_FILE" ||
	fail "the error does not mention the fd: $(cat "$ERR_FILE")"

# The socket transport through the proxy still works.
send_ok --server "unix:$T/proxy" --transport socket --readback "$T/sock.png" \
	"$(img alpha.png)"
expect transport=socket
same_pixels "$(img alpha.png)" "$T/sock.png"

kill "$SOCAT_PID"
wait "$SOCAT_PID" 2>/dev/null
forget_pid "$SOCAT_PID"
finish
