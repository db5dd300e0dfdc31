#!/bin/bash
# NULL -> PLAYING -> NULL twenty times (each run to EOS) on every transport:
# the process's fds, the server's fds, our /dev/shm names and the System
# V segments are the same after the last cycle as after the first.  Then
# the server is killed mid-stream: the pipeline ends in an error, within
# seconds, instead of hanging.  Catches: a connection, segment or eventfd
# kept over a stop, a pool left referencing a dead surface.
. "$(dirname "$0")/../lib.sh"
. "$(dirname "$0")/lib-gst.sh"

start_server
caps="video/x-raw,format=BGRx,width=64,height=48,framerate=30/1"
for mode in "transport=shm shm=memfd" "transport=shm shm=posix" \
            "transport=shm shm=sysv" "transport=socket"; do
	sink_run --cycles 20 --server-pid "$SERVER_PID" --server-fds "$SERVER_FDS" "videotestsrc num-buffers=3 ! $caps ! shmframesink name=sink sync=false server=$SERVER_UNIX $mode"
	expect zero_copy=3
	expect_steady "$mode"
done
check_server_fds

# The server dies mid-stream: an error, not a hang.
stop_server
start_server
spawn "$SF_GST_RUN" "videotestsrc is-live=true ! $caps ! shmframesink name=sink server=$SERVER_UNIX"
PIPE=$LAST_PID
sleep 1
kill -0 "$PIPE" 2>/dev/null || fail "the pipeline ended before the server was killed"
kill -KILL "$SERVER_PID"
wait "$SERVER_PID" 2>/dev/null
forget_pid "$SERVER_PID"
await_exit "$PIPE" "the pipeline did not end within 10 s of the server's death"
[ "$RC" -ne 0 ] || fail "the pipeline succeeded with its server dead"
check_devshm
check_sysv
echo "PASS [$TEST_NAME]"
