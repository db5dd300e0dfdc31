#!/bin/bash
# Upstream that does not use the sink's pool (rawvideoparse hands on the
# file's own buffers) is copied into the surface and still exact, over
# shm and the socket; with a source that does use it, nothing is copied.
# Catches: a copy with the wrong stride or size, a foreign buffer taken
# for a pool buffer (presenting memory that is not the surface's).
. "$(dirname "$0")/../lib.sh"
. "$(dirname "$0")/lib-gst.sh"

gst-inspect-1.0 rawvideoparse >/dev/null 2>&1 ||
	{ echo "rawvideoparse missing: skipped"; exit 77; }
mkdir -m 700 "$T/dump"
start_server --dump-dir "$T/dump" --dump-every 1
N=8 W=200 H=150
caps="video/x-raw,format=BGRA,width=$W,height=$H,framerate=30/1"
gst_ref "$T/ref" $N "$caps" pattern=ball
cat "$T"/ref/ref-*.raw >"$T/all.raw"
for tr in shm socket; do
	new_dump
	sink_run "filesrc location=$T/all.raw ! rawvideoparse width=$W height=$H format=bgra framerate=30/1 ! shmframesink name=sink sync=false server=$SERVER_UNIX transport=$tr"
	expect_transport "$tr"
	expect zero_copy=0 copied=$N
	dump_is "$T/ref/ref-$(printf %05d $((N - 1))).raw"
done
finish
