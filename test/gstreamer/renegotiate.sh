#!/bin/bash
# New caps mid-stream (a smaller, then the frames go on): the surface is
# resized, the pool replaced, and streaming goes on into the new pool; the
# server ends holding the last frame at the new size, pixel-exact.
# Then the same with buffer K kept elsewhere over the change (as a tee's
# other branch would) and written once the pipeline has stopped: the old
# surface's memory must outlive it.
# Catches: a surface left at the old size, buffers of the old pool
# presented on the new surface, a stream that stops at the change, a
# resize that frees memory a buffer still shows (a fault or, under ASan,
# a use after free when the kept buffer is written).
. "$(dirname "$0")/../lib.sh"
. "$(dirname "$0")/lib-gst.sh"

mkdir -m 700 "$T/dump"
start_server --dump-dir "$T/dump" --dump-every 1
N=14 K=5
old="video/x-raw,format=BGRA,width=160,height=120,framerate=30/1"
new="video/x-raw,format=BGRA,width=96,height=72,framerate=30/1"
# videotestsrc starts its pattern again at new caps: the N - K frames
# after the change are frames 0 .. N-K-1 of the pattern at the new size.
gst_ref "$T/ref" $((N - K)) "$new" pattern=ball
for tr in shm socket; do
	new_dump
	sink_run --resize-after $K "$new" "videotestsrc num-buffers=$N pattern=ball ! capsfilter name=cf caps=$old ! shmframesink name=sink sync=false server=$SERVER_UNIX transport=$tr"
	expect zero_copy=$N copied=0
	dump_is "$T/ref/ref-$(printf %05d $((N - K - 1))).raw"
	new_dump
	sink_run --resize-after $K "$new" --keep "videotestsrc num-buffers=$N pattern=ball ! capsfilter name=cf caps=$old ! shmframesink name=sink sync=false server=$SERVER_UNIX transport=$tr"
	expect zero_copy=$N copied=0
	# The frames after the change went to a surface of their own.
	[ "$(ls "$T"/dump/surface-*.png | wc -l)" -eq 2 ] ||
		fail "$tr, buffer kept: not two surfaces: $(ls "$T/dump")"
	dump_is "$T/ref/ref-$(printf %05d $((N - K - 1))).raw"
done
finish
