#!/bin/bash
# Load: 64 clients stream at once for SF_LOAD_SECONDS (default 30; 12 in
# sanitizer builds) at 30 frames per second each, over every transport
# and shm kind, Unix and TCP, shmframe-send and shmframe-demo mixed.  No
# client may fail, each one's last frame must read back pixel-exact, and
# the server's memory must stay flat once warmed up: its VmRSS, sampled
# every second, may not grow by more than RSS_MARGIN_KB (2 MiB) above the
# sample taken WARMUP (5) seconds after the last client connected.  At
# 64 x 30 = 1920 frames a second, a leak of 64 bytes per frame would add
# 3 MB in 25 s; the noise measured here is a few kB.
. "$(dirname "$0")/../lib.sh"

[ -n "${SF_DEMO:-}" ] || { echo "shmframe-demo not built: skipped"; exit 77; }

if [ -n "${SF_SANITIZE:-}" ]; then
	RUN_SECONDS=${SF_LOAD_SECONDS:-12}
else
	RUN_SECONDS=${SF_LOAD_SECONDS:-30}
fi
FPS=30
WARMUP=5
RSS_MARGIN_KB=2048
SIZE=320x240
FRAMES=$((RUN_SECONDS * FPS))

# Under AddressSanitizer every free() goes to a quarantine of up to 256 MB
# before its memory is reused, so a server that allocates and frees (an
# output chunk per batch of events) grows for minutes without leaking.  A
# small quarantine fills within the warm-up and keeps use-after-free
# detection for the most recent frees.
ASAN_OPTIONS="$ASAN_OPTIONS:quarantine_size_mb=8" start_server -v

# Eight pairs of 320x240 images; each send client alternates its pair and
# must end on the second image.
for k in $(seq 0 15); do
	frame $SIZE $((200 + k)) "$T/img-$k.png"
done
"$SF_DEMOFRAME" $SIZE $((FRAMES - 1)) "$T/demo-last.png" || fail "sf-demoframe failed"

# count | program | arguments (@ADDR@ @TCP@ substituted) | expected pairs
groups=(
	"16|send|--server @ADDR@ --transport socket|transport=socket"
	"12|send|--server @ADDR@ --transport shm --shm memfd|transport=shm shm=memfd"
	"10|send|--server @ADDR@ --transport shm --shm posix|transport=shm shm=posix"
	"10|send|--server @ADDR@ --transport shm --shm sysv|transport=shm shm=sysv"
	"4|send|--server @TCP@ --transport auto|transport=shm shm=posix"
	"4|send|--server @TCP@ --transport socket|transport=socket"
	"4|demo|--server @ADDR@ --transport shm --shm memfd|transport=shm shm=memfd"
	"2|demo|--server @ADDR@ --transport socket|transport=socket"
	"2|demo|--server @TCP@ --transport shm --shm sysv|transport=shm shm=sysv"
)

n=0
pids=()
wants=()
finals=()
for g in "${groups[@]}"; do
	IFS='|' read -r count prog args want <<<"$g"
	args=${args//@ADDR@/$SERVER_UNIX}
	args=${args//@TCP@/$SERVER_TCP}
	for _ in $(seq "$count"); do
		if [ "$prog" = send ]; then
			pair=$((n % 8))
			first="$T/img-$((2 * pair)).png"
			finals[$n]="$T/img-$((2 * pair + 1)).png"
			spawn "$SF_SEND" $args --fps $FPS --repeat $((FRAMES / 2)) \
				--readback "$T/out-$n.png" "$first" "${finals[$n]}" \
				>"$T/c$n.out" 2>"$T/c$n.err"
		else
			finals[$n]="$T/demo-last.png"
			spawn "$SF_DEMO" $args --size $SIZE --fps $FPS --frames $FRAMES \
				--readback "$T/out-$n.png" >"$T/c$n.out" 2>"$T/c$n.err"
		fi
		pids[$n]=$LAST_PID
		wants[$n]=$want
		n=$((n + 1))
	done
done
[ "$n" -eq 64 ] || fail "the plan has $n clients, not 64"
note "$n clients, $FRAMES frames each at $FPS fps, ${RUN_SECONDS} s"

# VmRSS every second until every client is done (or 60 s past the plan).
# The warm-up is counted from the moment the last client connected.
rss() { awk '/^VmRSS:/ { print $2 }' "/proc/$SERVER_PID/status"; }
samples=()
all_in=""
start=$SECONDS
while :; do
	samples+=("$(rss)")
	if [ -z "$all_in" ] && [ "$(grep -c '" connected (' "$T/server.log")" -ge "$n" ]; then
		all_in=$((${#samples[@]} - 1))
	fi
	running=0
	for pid in "${pids[@]}"; do
		kill -0 "$pid" 2>/dev/null && running=$((running + 1))
	done
	[ "$running" -eq 0 ] && break
	[ $((SECONDS - start)) -gt $((RUN_SECONDS + 60)) ] &&
		fail "$running clients still run $((SECONDS - start)) s after the start"
	server_alive
	sleep 1
done
elapsed=$((SECONDS - start))

# A readback byte-identical to one already proven pixel-exact against the
# same image is exact too (sf-pngcmp is slow under sanitizers).
declare -A proven
total=0
for i in $(seq 0 $((n - 1))); do
	wait "${pids[$i]}"
	rc=$?
	forget_pid "${pids[$i]}"
	[ "$rc" -eq 0 ] || fail "client $i exited $rc: $(cat "$T/c$i.err")"
	OUT=$(tail -n 1 "$T/c$i.out")
	expect ${wants[$i]} "frames=$FRAMES"
	ref=${proven[${finals[$i]}]:-}
	if [ -z "$ref" ] || ! cmp -s "$ref" "$T/out-$i.png"; then
		same_pixels "${finals[$i]}" "$T/out-$i.png"
		proven[${finals[$i]}]="$T/out-$i.png"
	fi
	total=$((total + FRAMES))
done

# Memory: flat from the warm-up sample on.
[ -n "$all_in" ] || fail "the server never had all $n clients connected"
WARM=$((all_in + WARMUP))
[ "${#samples[@]}" -gt $((WARM + 2)) ] ||
	fail "only ${#samples[@]} RSS samples, all clients in at $all_in s: the run is too short"
# The base is the highest sample of the warm-up, not its last one: with
# sanitizers the quarantine hands freed memory back in batches, so RSS
# swings by several MB from one second to the next without growing (a
# single low sample at the warm-up's end once made a swing look like
# growth).  A leak still shows: it climbs past every earlier sample.
base=0
for s in "${samples[@]:$all_in:$((WARM - all_in + 1))}"; do
	[ "$s" -gt "$base" ] && base=$s
done
peak=0
for s in "${samples[@]}"; do
	[ "$s" -gt "$peak" ] && peak=$s
done
late_peak=0
for s in "${samples[@]:$WARM}"; do
	[ "$s" -gt "$late_peak" ] && late_peak=$s
done
growth=$((late_peak - base))
note "clients=$n frames=$total seconds=$elapsed fps=$((total / (elapsed > 0 ? elapsed : 1)))"
note "server VmRSS kB: all clients in at $all_in s; warm-up peak (to $WARM s) $base, peak $peak, last ${samples[-1]}, growth after warm-up $growth (limit $RSS_MARGIN_KB)"
note "samples: ${samples[*]}"
[ "$growth" -le "$RSS_MARGIN_KB" ] ||
	fail "server RSS grew by $growth kB after warm-up (limit $RSS_MARGIN_KB kB)"

finish
