#!/bin/bash
# The server SIGKILLed while clients stream to it over every transport:
# shmframe-send, shmframe-demo and the public API (sf-streamer, whose
# SIGPIPE keeps its default action) must each end with exit status 1 and a
# clear message on stderr, prefixed with the program's name and saying the
# server is gone -- never killed by SIGPIPE (status 141), never hung.
# Afterwards nothing is left in /dev/shm or `ipcs -m`, and a new client
# finds no server with a clear message too.
. "$(dirname "$0")/../lib.sh"

: "${SF_STREAMER:?SF_STREAMER must name sf-streamer}"

start_server -v
frame 320x240 3 "$T/f3.png"
frame 320x240 4 "$T/f4.png"

# name | program and arguments (@ADDR@ and @TCP@ are substituted)
clients=(
	"send-socket|$SF_SEND --server @ADDR@ --transport socket --repeat 1000000 $T/f3.png $T/f4.png"
	"send-memfd|$SF_SEND --server @ADDR@ --shm memfd --repeat 1000000 $T/f3.png $T/f4.png"
	"send-posix-paced|$SF_SEND --server @ADDR@ --shm posix --fps 40 --repeat 1000000 $T/f3.png $T/f4.png"
	"send-sysv|$SF_SEND --server @ADDR@ --shm sysv --repeat 1000000 $T/f3.png $T/f4.png"
	"send-tcp-posix|$SF_SEND --server @TCP@ --repeat 1000000 $T/f3.png $T/f4.png"
	"send-tcp-socket|$SF_SEND --server @TCP@ --transport socket --fps 40 --repeat 1000000 $T/f3.png $T/f4.png"
	"api-socket-present|$SF_STREAMER @ADDR@ socket any present"
	"api-socket-paced|$SF_STREAMER @ADDR@ socket any present 25"
	"api-tcp-paced|$SF_STREAMER @TCP@ socket any present 25"
	"api-memfd-paced|$SF_STREAMER @ADDR@ shm memfd present 25"
	"api-memfd-roundtrip|$SF_STREAMER @ADDR@ shm memfd roundtrip"
	"api-posix-readback|$SF_STREAMER @ADDR@ shm posix readback"
	"api-sysv-present|$SF_STREAMER @ADDR@ shm sysv present"
	"api-tcp-readback|$SF_STREAMER @TCP@ auto any readback"
)
if [ -n "${SF_DEMO:-}" ]; then
	clients+=(
		"demo-memfd|$SF_DEMO --server @ADDR@ --size 320x240 --frames 0 --fps 60"
		"demo-socket|$SF_DEMO --server @ADDR@ --transport socket --size 320x240 --frames 0"
	)
fi

pids=()
for i in "${!clients[@]}"; do
	IFS='|' read -r name cmd <<<"${clients[$i]}"
	cmd=${cmd//@ADDR@/$SERVER_UNIX}
	cmd=${cmd//@TCP@/$SERVER_TCP}
	spawn $cmd >"$T/c$i.out" 2>"$T/c$i.err"
	pids[$i]=$LAST_PID
done

# Every client is streaming: all are connected (the server's log says so),
# the API ones have presented a frame, and none has ended.
for _ in $(seq 200); do
	n=$(grep -c '" connected (' "$T/server.log")
	a=$(cat "$T"/c*.out 2>/dev/null | grep -c '^streaming')
	[ "$n" -ge "${#clients[@]}" ] && [ "$a" -ge 8 ] && break
	sleep 0.05
done
[ "$n" -ge "${#clients[@]}" ] || fail "only $n of ${#clients[@]} clients connected"
sleep 0.3
for i in "${!clients[@]}"; do
	kill -0 "${pids[$i]}" 2>/dev/null ||
		fail "${clients[$i]%%|*} ended before the server was killed: $(cat "$T/c$i.err")"
done

kill -KILL "$SERVER_PID"
wait "$SERVER_PID" 2>/dev/null
forget_pid "$SERVER_PID"
note "server $SERVER_PID killed with $((${#clients[@]})) clients streaming"
SERVER_PID=""

# Each client: exit 1 within 10 s, and a message that names the program
# and says what happened to the server.
deadline=$((SECONDS + 10))
WRITES=0
for i in "${!clients[@]}"; do
	name=${clients[$i]%%|*}
	pid=${pids[$i]}
	while kill -0 "$pid" 2>/dev/null && [ "$SECONDS" -lt "$deadline" ]; do
		sleep 0.05
	done
	kill -0 "$pid" 2>/dev/null && fail "$name still runs 10 s after the server died"
	wait "$pid"
	rc=$?
	forget_pid "$pid"
	msg=$(tail -n 1 "$T/c$i.err")
	case "$rc" in
	1) ;;
	141) fail "$name was killed by SIGPIPE: $msg" ;;
	*) fail "$name exited $rc, not 1: $(cat "$T/c$i.err")" ;;
	esac
	case "$name" in
	send-*) prog=shmframe-send ;;
	demo-*) prog=shmframe-demo ;;
	api-*) prog=sf-streamer ;;
	esac
	case "$msg" in
	"$prog: "*) ;;
	*) fail "$name: the message is not prefixed with '$prog: ': '$msg'" ;;
	esac
	echo "$msg" | grep -qi 'server' ||
		fail "$name: the message does not say the server is gone: '$msg'"
	note "$(printf '%-20s exit %d: %s' "$name" "$rc" "$msg")"
	case "$name:$msg" in
	api-*"cannot write"*) WRITES=$((WRITES + 1)) ;;
	esac
done
# A paced client usually meets the dead server with a write, which would
# raise SIGPIPE without MSG_NOSIGNAL; how many did is timing, so it is
# only reported.
note "public-API clients that met the dead server on a write (SIGPIPE at its default): $WRITES"

# No server at all: a clear refusal, for a stale socket file and for TCP.
for addr in "$SERVER_UNIX" "$SERVER_TCP"; do
	run_client "$SF_SEND" --server "$addr" "$(img 1x1.png)"
	[ "$RC" -eq 1 ] || fail "send to the dead server at $addr exited $RC, not 1"
	msg=$(tail -n 1 "$ERR_FILE")
	case "$msg" in
	"shmframe-send: cannot connect: "*) ;;
	*) fail "no clear message for a dead server at $addr: '$msg'" ;;
	esac
	note "no server at $addr: $msg"
done

# The clients are gone and so is the server: their segments are too.
check_devshm
check_sysv
echo "PASS [$TEST_NAME]"
