#!/bin/bash
# gst-inspect-1.0 finds the element and documents it: its metadata, caps
# and every property of ours; and a pipeline with no server at the address
# fails, naming the address.
. "$(dirname "$0")/../lib.sh"
. "$(dirname "$0")/lib-gst.sh"

command -v gst-inspect-1.0 >/dev/null ||
	{ echo "gst-inspect-1.0 missing: skipped"; exit 77; }
gst-inspect-1.0 shmframesink >"$T/inspect.txt" 2>&1 ||
	fail "gst-inspect-1.0 does not find shmframesink: $(cat "$T/inspect.txt")"
for want in "Long-name                shmframe video sink" "Sink/Video" \
            "libgstshmframe.so" "BGRx" "BGRA" "PRESENTED"; do
	grep -qF "$want" "$T/inspect.txt" || fail "gst-inspect-1.0 lacks '$want'"
done
for p in server transport shm buffers max-lag transport-name \
         transport-reason frames-zero-copy frames-copied frames-shown \
         frames-discarded display-latency; do
	grep -qE "^  $p +: [^ ]" "$T/inspect.txt" ||
		fail "gst-inspect-1.0 does not document the property $p"
done
grep -q '(0): auto' "$T/inspect.txt" && grep -q '(2): socket' "$T/inspect.txt" ||
	fail "the transport values are not listed"
gst-inspect-1.0 shmframe 2>&1 | grep -q shmframesink ||
	fail "the plugin does not list its element"

start_server
run_client gst-launch-1.0 videotestsrc num-buffers=1 ! shmframesink server="unix:$T/nothing"
[ "$RC" -ne 0 ] || fail "gst-launch-1.0 succeeded with no server"
grep -q "unix:$T/nothing" "$OUT_FILE" "$ERR_FILE" ||
	fail "the error does not name the address: $(cat "$OUT_FILE" "$ERR_FILE")"
finish
