#!/bin/bash
# The sink stops (PAUSED -> READY -> NULL) while a buffer of its pool is
# still held upstream: sf-gst-run --hold prerolls, takes a buffer of the
# pool the sink proposes, sets the pipeline to NULL, and only then fills
# the buffer and lets it go, five times on every transport.  The write
# must land in memory that is still mapped (the connection and surface
# outlive the pool's last buffer), and once the buffer is gone the
# connection must be too: the process's fds, the server's fds, our
# /dev/shm names and System V segments are the same after the last cycle
# as after the first, and the server's as at its start.  Catches: a stop
# that unmaps (or frees) memory a pool buffer still points at, a
# connection kept alive for ever by the buffer that held it.
. "$(dirname "$0")/../lib.sh"
. "$(dirname "$0")/lib-gst.sh"

start_server
caps="video/x-raw,format=BGRA,width=320,height=240,framerate=30/1"
for mode in "transport=shm shm=memfd" "transport=shm shm=posix" \
            "transport=shm shm=sysv" "transport=socket"; do
	sink_run --hold --cycles 5 --server-pid "$SERVER_PID" --server-fds "$SERVER_FDS" "videotestsrc ! $caps ! shmframesink name=sink server=$SERVER_UNIX $mode"
	expect_steady "$mode"
done
finish
