#!/bin/bash
# Eight clients stream at once over every transport, each 50 rounds of two
# images of its own size; each one's final frame must be exactly its own
# last image.
. "$(dirname "$0")/../lib.sh"

start_server

# transport args | sample image | its size | sample image last (1) or not
clients=(
	"--transport socket|testcard.png|64x48|1"
	"--transport shm --shm memfd|odd-333x257.png|333x257|0"
	"--transport shm --shm posix|gradient.png|256x256|1"
	"--transport shm --shm sysv|alpha.png|200x150|1"
	"--transport socket|7x5.png|7x5|0"
	"--transport shm --shm memfd|3x500.png|3x500|1"
	"--transport shm --shm posix|hd-1920x1080.png|1920x1080|0"
	"--transport auto --present copy|1x1.png|1x1|1"
)

pids=()
for i in "${!clients[@]}"; do
	IFS='|' read -r args name size last <<<"${clients[$i]}"
	frame "$size" $((100 + i)) "$T/frame-$i.png"
	if [ "$last" = 1 ]; then
		first="$T/frame-$i.png"; final=$(img "$name")
	else
		first=$(img "$name"); final="$T/frame-$i.png"
	fi
	echo "$final" >"$T/final-$i"
	spawn timeout -k 5 90 "$SF_SEND" --server "$SERVER_UNIX" $args --repeat 50 \
		--readback "$T/out-$i.png" "$first" "$final" \
		>"$T/c$i.out" 2>"$T/c$i.err"
	pids[$i]=$LAST_PID
done

for i in "${!clients[@]}"; do
	wait "${pids[$i]}"
	rc=$?
	forget_pid "${pids[$i]}"
	[ "$rc" -eq 0 ] || fail "client $i (${clients[$i]}) exited $rc: $(cat "$T/c$i.err")"
done

for i in "${!clients[@]}"; do
	IFS='|' read -r args name size last <<<"${clients[$i]}"
	OUT=$(tail -n 1 "$T/c$i.out")
	expect frames=100 "width=${size%x*}" "height=${size#*x}"
	case "$args" in
	*socket*) expect transport=socket ;;
	*memfd*) expect transport=shm shm=memfd ;;
	*posix*) expect transport=shm shm=posix ;;
	*sysv*) expect transport=shm shm=sysv ;;
	*auto*) expect transport=shm shm=memfd ;;
	esac
	same_pixels "$(cat "$T/final-$i")" "$T/out-$i.png"
done

finish
