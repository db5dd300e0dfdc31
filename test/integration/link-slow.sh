#!/bin/bash
# A link too slow for the frame rate: 640x480 noise (1.2 MB a frame, which
# no codec shrinks) at 60 frames/s over 20 Mbit/s, where one frame takes
# about 0.5 s to cross.  The library must not build a queue of stale
# frames: frames it could not send in time are merged into the latest and
# reported discarded, so the latency of what is shown stays within a few
# frame-transfer times however long the run.  The bug this catches is the
# queue: every present written to the socket behind the others, nothing
# discarded, and the latency growing with the run's length (here to the
# whole 4 s run's worth of backlog, 240 frames at 0.5 s each).
. "$(dirname "$0")/../lib.sh"
. "$(dirname "$0")/../lib-link.sh"
: "${SF_BENCH_LINK:?SF_BENCH_LINK must name shmframe-bench-link}"

RATE_MBIT=20
link_up ${RATE_MBIT}mbit
link_server

link_client "$SF_BENCH_LINK" --server "$LINK_TCP" --transport socket \
	--compress none --size 640x480 --content noise --fps 60 --seconds 4
[ "$RC" -eq 0 ] || fail "shmframe-bench-link exited $RC: $(cat "$ERR_FILE")"
note "$OUT"
expect transport=socket content=noise

frames=$(value_of frames)
shown=$(value_of shown)
discarded=$(value_of discarded)
bpf=$(value_of bytes_per_frame)
p99=$(value_of latency_p99_ms)
[ "$shown" -gt 0 ] || fail "no frame was shown: $OUT"
[ "$discarded" -gt 0 ] ||
	fail "nothing discarded at 60 frames/s on a link carrying a few: a queue of stale frames ($OUT)"
[ $((shown + discarded)) -eq "$frames" ] ||
	fail "presents unaccounted for: shown $shown + discarded $discarded != frames $frames"

# One frame's transfer at the link's rate (what the library says it sent
# a frame; the raw size when it does not say), and the bound: the frame
# being sent, the one waiting, the latest, and one more of slack for TCP
# and the 5 ms queue of the link, plus 250 ms.
[ "${bpf%.*}" -gt 0 ] 2>/dev/null || bpf=$((640 * 480 * 4))
bound=$(awk -v b="$bpf" -v r="$RATE_MBIT" \
	'BEGIN { printf "%.0f", 4 * b * 8 / (r * 1e6) * 1000 + 250 }')
note "one frame takes $(awk -v b="$bpf" -v r="$RATE_MBIT" 'BEGIN { printf "%.0f", b * 8 / (r * 1e3) }') ms on the link; p99 $p99 ms, bound $bound ms"
awk -v p="$p99" -v b="$bound" 'BEGIN { exit !(p <= b) }' ||
	fail "latency p99 $p99 ms over the $bound ms of 4 frame transfers: frames queue up ($OUT)"

finish
