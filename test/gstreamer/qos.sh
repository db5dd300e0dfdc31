#!/bin/bash
# QoS from PRESENTED: when the display falls behind, the pipeline hears
# of it.  The server is stopped (SIGSTOP) for a second in the middle of a
# clock-synchronised stream: the sink's render waits for the server's
# PRESENTED (and RELEASE), the frames after the stall reach it late, and
# basesink sends QoS events upstream.  Catches: a sink that queues or
# drops frames on its own without waiting on the server (no QoS ever
# reaches upstream), one that hangs once the server is back, frames lost
# between present and PRESENTED.
. "$(dirname "$0")/../lib.sh"
. "$(dirname "$0")/lib-gst.sh"

start_server
caps="video/x-raw,format=BGRx,width=176,height=144,framerate=30/1"
# Without a stall, for the record (not asserted: a loaded machine makes
# frames late too).
sink_run "videotestsrc num-buffers=30 pattern=ball ! $caps ! shmframesink name=sink server=$SERVER_UNIX"
caps="video/x-raw,format=BGRx,width=176,height=144,framerate=30/1"
for tr in shm socket; do
	SF_STEP=$((SF_STEP + 1))
	out="$T/qos.$SF_STEP.out"
	timeout -k 5 60 setpriv --pdeathsig KILL -- "$SF_GST_RUN" \
		"videotestsrc num-buffers=75 pattern=ball ! $caps ! shmframesink name=sink server=$SERVER_UNIX transport=$tr" \
		>"$out" 2>"$T/qos.$SF_STEP.err" &
	pid=$!
	sleep 0.8
	kill -STOP "$SERVER_PID"
	sleep 1
	kill -CONT "$SERVER_PID"
	wait "$pid"
	rc=$?
	[ "$rc" -eq 0 ] || fail "sf-gst-run on $tr exited $rc: $(tail -n 5 "$T/qos.$SF_STEP.err")"
	OUT=$(tail -n 1 "$out")
	note "$OUT"
	expect_transport "$tr"
	late=$(value_of qos_late)
	[ "${late:-0}" -ge 5 ] ||
		fail "across a 1 s stall over $tr, ${late:-no} QoS events upstream said a buffer was late: $OUT"
	# Every frame the sink presented was shown or replaced, none lost.
	sent=$(($(value_of zero_copy) + $(value_of copied)))
	[ $(($(value_of shown) + $(value_of discarded))) -eq "$sent" ] ||
		fail "$sent frames presented over $tr, not all shown or discarded: $OUT"
	# basesink dropped frames that came too late (its QoS at work).
	[ "$sent" -lt 75 ] || fail "no frame dropped over $tr after a 1 s stall: $OUT"
done
finish
