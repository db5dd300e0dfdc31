#!/bin/bash
# videotestsrc ! shmframesink ends pixel-exact: the server's surface holds
# the last frame GStreamer itself writes of the same moving pattern, over
# shared memory and over the socket, in BGRA and BGRx, every frame drawn
# by videotestsrc straight into the surface's buffers (the pool: all
# zero-copy, none copied), also at a width whose rows the library pads.
# Catches: a pool that upstream does not use, a wrong stride or offset in
# the video meta, frames presented out of order or not at all at the end,
# the transport property ignored.
. "$(dirname "$0")/../lib.sh"
. "$(dirname "$0")/lib-gst.sh"

mkdir -m 700 "$T/dump"
start_server --dump-dir "$T/dump" --dump-every 1
N=12
for fmt in BGRA BGRx; do
	caps="video/x-raw,format=$fmt,width=176,height=144,framerate=30/1"
	gst_ref "$T/$fmt" $N "$caps" pattern=ball
	cmp -s "$T/$fmt/ref-00000.raw" "$T/$fmt/ref-$(printf %05d $((N - 1))).raw" &&
		fail "the pattern does not move: the test would prove nothing"
	for tr in shm socket; do
		new_dump
		sink_run "videotestsrc num-buffers=$N pattern=ball ! $caps ! shmframesink name=sink sync=false server=$SERVER_UNIX transport=$tr"
		expect_transport "$tr"
		expect zero_copy=$N copied=0
		dump_is "$T/$fmt/ref-$(printf %05d $((N - 1))).raw"
	done
done
# Each shared-memory kind, once.
caps="video/x-raw,format=BGRA,width=176,height=144,framerate=30/1"
for kind in posix sysv; do
	new_dump
	sink_run "videotestsrc num-buffers=$N pattern=ball ! $caps ! shmframesink name=sink sync=false server=$SERVER_UNIX transport=shm shm=$kind"
	expect transport=shm/$kind zero_copy=$N copied=0
	dump_is "$T/BGRA/ref-$(printf %05d $((N - 1))).raw"
done
# A width whose rows are padded in shared memory (170*4 = 680 bytes, the
# library aligns rows to 64: 704): videotestsrc writes rows of the
# surface's stride, as the video meta says, still without a copy.
caps="video/x-raw,format=BGRA,width=170,height=100,framerate=30/1"
gst_ref "$T/pad" $N "$caps" pattern=ball
for tr in shm socket; do
	new_dump
	sink_run "videotestsrc num-buffers=$N pattern=ball ! $caps ! shmframesink name=sink sync=false server=$SERVER_UNIX transport=$tr"
	expect_transport "$tr"
	expect zero_copy=$N copied=0
	dump_is "$T/pad/ref-$(printf %05d $((N - 1))).raw"
done
finish
