#!/bin/sh
# shmframe-bench-syscalls: the syscalls one shm-latch client and its server
# make per frame, by name, for each signalling path.
#
#   shmframe-bench-syscalls [--size WxH] [--damage full|WxH] [--buffers N]
#                           [--frames N1,N2]
#                           [--repeat R] [--signal LIST] [--spin-us N]
#                           [--tool auto|perf|strace] [--all-names]
#
# The client is shmframe-bench's own shm-latch client (one client, every
# pixel of the damage drawn, whole frames by default, end-to-end pass only); the server is a shmframe-server
# started here per path (--spin-us N for ring+spin, 0 for the others).
# Each path runs with N1 and then N2 frames, R times; a count per frame is
# (count at N2 - count at N1) / (N2 - N1) summed over the R pairs, so that
# what does not grow with the frames (start, handshake, warm-up, the
# readback that checks the last frame, the bench's own pipes and its
# wake-up round trip, exit) cancels out.  The client's count is that of
# every process of the bench; the server's that of the server's threads.
#
# Counted with perf stat on the syscall tracepoints (raw_syscalls:sys_enter
# for the total, syscalls:sys_enter_NAME by name), which cost the counted
# process nothing measurable.  By name: the syscalls a frame may plausibly
# cost (I/O, polling, futexes, sleeps, clocks, memory), the rest as
# "other"; --all-names counts every syscall by name, at about 8 s per run
# to set up its 360 counters.  Or, where perf may not count them (it needs
# root, CAP_PERFMON or kernel.perf_event_paranoid <= 1), with strace -c -f,
# which stops the process at every syscall (tens of microseconds each) and
# so changes when a ring's consumer is found awake: its counts for the
# ring paths are an upper bound.  The output says which it used.
#
# The server's wake-ups are its voluntary context switches per frame
# (/proc/PID/task/*/status), counted the same way.
set -eu

prog=shmframe-bench-syscalls
here=$(cd "$(dirname "$0")" && pwd)
size=1920x1080
damage=full
buffers=3
frames=500,2500
repeat=3
signals=
spin=0
tool=auto
all_names=0

usage() { # the comment at the top
	awk 'NR > 1 && /^#/ { sub(/^# ?/, ""); print; next } NR > 1 { exit }' "$0"
}
die() { echo "$prog: $*" >&2; exit 1; }
bad() { echo "$prog: $*" >&2; echo "Try '$prog --help'." >&2; exit 2; }

while [ $# -gt 0 ]; do
	case $1 in
	--size) [ $# -ge 2 ] || bad "--size needs WxH"; size=$2; shift ;;
	--damage) [ $# -ge 2 ] || bad "--damage needs full or WxH"; damage=$2; shift ;;
	--buffers) [ $# -ge 2 ] || bad "--buffers needs N"; buffers=$2; shift ;;
	--frames) [ $# -ge 2 ] || bad "--frames needs N1,N2"; frames=$2; shift ;;
	--repeat) [ $# -ge 2 ] || bad "--repeat needs R"; repeat=$2; shift ;;
	--signal) [ $# -ge 2 ] || bad "--signal needs a list"; signals=$2; shift ;;
	--spin-us) [ $# -ge 2 ] || bad "--spin-us needs N"; spin=$2; shift ;;
	--tool) [ $# -ge 2 ] || bad "--tool needs perf or strace"; tool=$2; shift ;;
	--all-names) all_names=1 ;;
	-h|--help) usage; exit 0 ;;
	*) bad "unknown option '$1'" ;;
	esac
	shift
done

isnum() { case $1 in ''|*[!0-9]*) return 1 ;; esac; }
n1=${frames%%,*}
n2=${frames#*,}
isnum "$n1" && isnum "$n2" && [ "$n2" -gt "$n1" ] ||
	bad "--frames takes N1,N2 with N2 > N1"
isnum "$repeat" && [ "$repeat" -ge 1 ] || bad "--repeat takes a count"
isnum "$spin" || bad "--spin-us takes microseconds"
isnum "$buffers" || bad "--buffers takes a count"
if [ -z "$signals" ]; then
	signals=socket,ring
	if [ "$spin" -gt 0 ]; then signals=$signals,ring+spin; fi
fi
signals=$(echo "$signals" | tr ',' ' ')
for s in $signals; do
	case $s in
	socket|ring) ;;
	ring+spin) [ "$spin" -gt 0 ] || bad "ring+spin needs --spin-us N" ;;
	*) bad "unknown signalling path '$s'" ;;
	esac
done

bench=$here/shmframe-bench
[ -x "$bench" ] || die "no shmframe-bench beside this script ($bench)"
if [ -n "${SHMFRAME_SERVER_BIN:-}" ]; then
	server=$SHMFRAME_SERVER_BIN
elif [ -x "$here/../../server/shmframe-server" ]; then
	server=$here/../../server/shmframe-server
else
	server=$here/shmframe-server
fi
[ -x "$server" ] || die "cannot find shmframe-server (set SHMFRAME_SERVER_BIN)"

# perf where it may count the tracepoints, else strace.
perf_ok() {
	command -v perf >/dev/null 2>&1 &&
		perf stat -x, -o /dev/null -e raw_syscalls:sys_enter true 2>/dev/null
}
case $tool in
auto)
	if perf_ok; then tool=perf
	elif command -v strace >/dev/null 2>&1; then tool=strace
	else die "neither perf (permitted to count syscall tracepoints) nor strace is here"
	fi ;;
perf) perf_ok || die "perf cannot count raw_syscalls:sys_enter here" ;;
strace) command -v strace >/dev/null 2>&1 || die "strace is not installed" ;;
*) bad "--tool takes auto, perf or strace" ;;
esac

tmp=$(mktemp -d "${TMPDIR:-/tmp}/shmframe-syscalls.XXXXXX")
pids=
counter=
cleanup() {
	[ -z "$counter" ] || kill "$counter" 2>/dev/null || true
	for p in $pids; do kill "$p" 2>/dev/null || true; done
	for p in $pids; do wait "$p" 2>/dev/null || true; done
	rm -rf "$tmp"
}
trap cleanup EXIT
trap 'exit 130' INT TERM HUP

# The tracepoints perf counts: the total and the names.
events="-e raw_syscalls:sys_enter"
if [ "$tool" = perf ] && [ "$all_names" = 1 ]; then
	events="$events -e syscalls:sys_enter_*"
elif [ "$tool" = perf ]; then
	tp=/sys/kernel/tracing/events/syscalls
	[ -d $tp ] || tp=/sys/kernel/debug/tracing/events/syscalls
	for n in read write readv writev pread64 pwrite64 sendmsg recvmsg \
		sendto recvfrom sendmmsg recvmmsg poll ppoll select pselect6 \
		epoll_wait epoll_pwait epoll_pwait2 epoll_ctl futex futex_waitv \
		nanosleep clock_nanosleep sched_yield ioctl clock_gettime \
		gettimeofday getrusage eventfd2 mmap munmap mremap madvise mprotect \
		brk close fcntl openat newfstatat getpid kill rt_sigprocmask \
		rt_sigaction membarrier memfd_create ftruncate shmat shmdt; do
		if [ -d "$tp/sys_enter_$n" ]; then
			events="$events -e syscalls:sys_enter_$n"
		fi
	done
fi

# A server per path, started once, each on its own socket.
srv_has_spin=0
"$server" --help 2>/dev/null | grep -q -- '--spin-us' && srv_has_spin=1
start_server() { # name spin
	args="--display none --listen unix:$tmp/$1.sock"
	if [ "$srv_has_spin" = 1 ]; then
		args="$args --spin-us $2"
	elif [ "$2" -gt 0 ]; then
		die "$server has no --spin-us: it cannot spin"
	fi
	# shellcheck disable=SC2086
	"$server" $args >"$tmp/$1.out" 2>"$tmp/$1.err" &
	pid=$!
	pids="$pids $pid"
	i=0
	until grep -q '^ready' "$tmp/$1.out" 2>/dev/null; do
		kill -0 "$pid" 2>/dev/null || die "$server exited: $(cat "$tmp/$1.err")"
		i=$((i + 1))
		[ $i -lt 200 ] || die "$server did not say it was ready"
		sleep 0.05
	done
	eval "pid_$(echo "$1" | tr '+' '_')=$pid"
}
for s in $signals; do
	if [ "$s" = ring+spin ]; then start_server "$s" "$spin"
	else start_server "$s" 0
	fi
done

sleeps() { # pid: voluntary context switches of every thread
	cat /proc/"$1"/task/*/status 2>/dev/null |
		awk '/^voluntary_ctxt_switches/ { n += $2 } END { print n + 0 }'
}

# Writes "name count" lines (and "TOTAL count") for a count file.
parse() { # tool file
	if [ "$1" = perf ]; then
		awk -F, '$1 ~ /^[0-9]+$/ {
			if ($3 == "raw_syscalls:sys_enter") print "TOTAL", $1
			else if (sub(/^syscalls:sys_enter_/, "", $3)) print $3, $1
		}' "$2"
	else
		awk '/^-----/ { inside = !inside; next }
		inside && $NF != "total" && $4 ~ /^[0-9]+$/ { print $NF, $4; n += $4 }
		END { print "TOTAL", n + 0 }' "$2"
	fi
}

# The bench's one row, counted into file by $tool.
run_client() { # file path frames
	name=$2
	frames_=$3
	extra=
	if [ "$name" = ring+spin ]; then extra="--spin-us $spin"; fi
	set -f # the names of --all-names are perf's pattern, not files
	if [ "$tool" = perf ]; then
		# shellcheck disable=SC2086
		set -- perf stat -x, -o "$1" $events --
	else
		set -- strace -f -c -o "$1" --
	fi
	set +f
	# shellcheck disable=SC2086
	if ! "$@" "$bench" --server "unix:$tmp/$name.sock" --mode shm-latch \
		--size "$size" --buffers "$buffers" --clients 1 --damage "$damage" \
		--frames "$frames_" --repeat 1 --warmup 0 --e2e-only \
		--signal "$name" $extra >"$tmp/bench.out" 2>&1; then
		cat "$tmp/bench.out" >&2
		die "shmframe-bench failed ($name, $frames_ frames)"
	fi
}

# Runs the client once: counts into $tmp/c.$tag and $tmp/s.$tag, the
# server's sleeps into $tmp/w.$tag.
run_once() { # path frames tag
	spid=$(eval echo "\$pid_$(echo "$1" | tr '+' '_')")
	w0=$(sleeps "$spid")
	if [ "$tool" = perf ]; then
		rm -f "$tmp/ctl" "$tmp/ack"
		mkfifo "$tmp/ctl" "$tmp/ack"
		# Stopped until told: it counts from the moment we know it does.
		set -f
		# shellcheck disable=SC2086
		perf stat -x, -o "$tmp/s.$3" -D -1 \
			--control "fifo:$tmp/ctl,$tmp/ack" $events -p "$spid" \
			2>"$tmp/perf.err" &
		counter=$!
		set +f
		exec 8>"$tmp/ctl" 9<"$tmp/ack"
		echo enable >&8
		read -r _ <&9
		run_client "$tmp/c.$3" "$1" "$2"
		sleep 0.2 # the server's end of the connection, in every run alike
		echo disable >&8
		read -r _ <&9
		exec 8>&- 9<&-
	else
		strace -f -c -o "$tmp/s.$3" -p "$spid" 2>"$tmp/strace.err" &
		counter=$!
		i=0
		until grep -q attached "$tmp/strace.err" 2>/dev/null; do
			i=$((i + 1))
			[ $i -lt 200 ] || die "strace did not attach: $(cat "$tmp/strace.err")"
			sleep 0.05
		done
		run_client "$tmp/c.$3" "$1" "$2"
		sleep 0.2
	fi
	# SIGINT: both write their counts and exit.
	kill -INT "$counter"
	wait "$counter" || true
	counter=
	echo $(( $(sleeps "$spid") - w0 )) >"$tmp/w.$3"
	parse "$tool" "$tmp/c.$3" >"$tmp/cn.$3"
	parse "$tool" "$tmp/s.$3" >"$tmp/sn.$3"
}

# Interleaved, so that a burst of load elsewhere spreads over the paths.
r=1
while [ $r -le "$repeat" ]; do
	for s in $signals; do
		echo "$prog: round $r/$repeat: $s, $n1 and $n2 frames" >&2
		run_once "$s" "$n1" "$s.$r.a"
		run_once "$s" "$n2" "$s.$r.b"
	done
	r=$((r + 1))
done

# Per frame: (sum at N2 - sum at N1) / (R (N2 - N1)).
per_frame() { # side(cn|sn) path
	for r in $(seq 1 "$repeat"); do
		sed 's/^/b /' "$tmp/$1.$2.$r.b"
		sed 's/^/a /' "$tmp/$1.$2.$r.a"
	done | awk -v d="$(( (n2 - n1) * repeat ))" '
		{ v[$2] += ($1 == "b" ? $3 : -$3) }
		END {
			for (k in v) {
				printf "%s %.4f\n", k, v[k] / d
				if (k != "TOTAL") named += v[k]
			}
			# Those perf did not count by name (none for strace).
			printf "other %.4f\n", (v["TOTAL"] - named) / d
		}'
}
wakes() { # path
	for r in $(seq 1 "$repeat"); do
		echo "b $(cat "$tmp/w.$1.$r.b")"
		echo "a $(cat "$tmp/w.$1.$r.a")"
	done | awk -v d="$(( (n2 - n1) * repeat ))" '
		{ v += ($1 == "b" ? $2 : -$2) } END { printf "%.4f\n", v / d }'
}

if [ "$tool" = perf ]; then
	how="perf stat on the tracepoints raw_syscalls:sys_enter (total) and syscalls:sys_enter_NAME (by name; other: the rest)"
else
	how="strace -f -c (stops the process at every syscall: ring counts are an upper bound)"
fi
echo "shm-latch $size, damage $damage, $buffers buffers, one client drawing every pixel of the damage of every frame"
echo "counted with $how"
echo "per frame = (count at $n2 frames - count at $n1) / $((n2 - n1)), over $repeat pairs of runs"
echo "(what does not grow with the frames cancels: setup, warm-up, the check, exit)"
echo
printf '%-10s %-7s %9s  %s\n' path side "per frame" "by name, per frame (those >= 0.005)"
kv="tool=$tool size=$size damage=$damage buffers=$buffers frames=$n1,$n2 repeat=$repeat"
for s in $signals; do
	for side in client server; do
		f=cn
		[ $side = server ] && f=sn
		per_frame "$f" "$s" >"$tmp/pf"
		total=$(awk '$1 == "TOTAL" { print $2 }' "$tmp/pf")
		names=$(awk '$1 != "TOTAL" && ($2 >= 0.005 || $2 <= -0.005)' "$tmp/pf" |
			sort -k2,2 -g -r | awk '{ printf "%s%s %.3f", (NR > 1 ? ", " : ""), $1, $2 }')
		printf '%-10s %-7s %9.3f  %s\n' "$s" "$side" "$total" "${names:--}"
		v=$(echo "$s" | tr '+' '_')
		eval "total_${v}_$side=$total"
		kv="$kv ${v}_${side}=$total"
	done
	w=$(wakes "$s")
	what="the server's voluntary context switches"
	[ "$tool" = perf ] || what="$what (strace's stops count too: no measure of wake-ups)"
	printf '%-10s %-7s %9.3f  %s\n' "$s" "wakes" "$w" "$what"
	eval "wakes_$v=$w"
	kv="$kv ${v}_server_wakes=$w"
done

# The issue's targets for this row, reported, never asserted.
target() { # what value cmp want
	awk -v w="$1" -v v="$2" -v c="$3" -v t="$4" 'BEGIN {
		met = c == "<=" ? v <= t : v >= t
		printf "  %-48s %7.3f %s %-5s %s\n", w, v, c, t, met ? "met" : "MISSED"
	}'
}
header=0
# The targets are for whole frames.
[ "$damage" = full ] || signals=
for s in $signals; do
	[ "$s" = socket ] && continue
	[ $header = 1 ] || { echo; echo "targets (reported, not asserted):"; header=1; }
	v=$(echo "$s" | tr '+' '_')
	eval "c=\$total_${v}_client s_=\$total_${v}_server w=\$wakes_$v"
	if [ "$s" = ring ]; then
		target "ring: client syscalls per frame" "$c" "<=" 0.1
		target "ring: server wake-ups per frame" "$w" "<=" 1
	else
		target "ring+spin: client syscalls per frame" "$c" "<=" 0.05
		target "ring+spin: server syscalls per frame" "$s_" "<=" 0.05
	fi
done
echo
echo "$kv"
