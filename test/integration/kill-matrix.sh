#!/bin/bash
# Clients SIGKILLed at every phase of a connection, for each shm kind and
# for the socket transport, while another client of the same kind streams
# into the same server.  After each kill the server must be back where it
# was before that client came: the same fds, the same shared-memory
# mappings, and none of the killed client's /dev/shm names or System V
# segments left.  The streamer must not notice: it ends with exit 0 and
# reads back exactly its last frame.  The matrix is printed with, for each
# cell, what the server held for the live client and what was left after
# the kill.
#
# The phases come from sf-phase-client, which speaks the protocol by hand
# and stops exactly there (mid-HELLO, half a PROBE whose memfd the server
# already queued, half an inline frame, a latched buffer, ...), and with
# the control segment's rings: entries the server has not taken, one it
# must keep waiting, events on the event ring never read.
#
# Server and library signal through the rings by default; with
# SHMFRAME_SIGNAL=socket (the CTest of that name) both do without, and
# the ring phases are left out.
. "$(dirname "$0")/../lib.sh"

: "${SF_PHASE_CLIENT:?SF_PHASE_CLIENT must name sf-phase-client}"
: "${SF_PNG2RAW:?SF_PNG2RAW must name sf-png2raw}"

SHM_PHASES="connect hello-half welcome probe-half probed attached frame-half latched"
SOCKET_PHASES="connect hello-half welcome frame-half"
if [ "${SHMFRAME_SIGNAL:-}" = socket ]; then
	SIGNAL=socket
else
	SIGNAL=ring
	SHM_PHASES="$SHM_PHASES ring-attached ring-pending ring-blocked ring-latched"
fi
note "signalling: $SIGNAL"

# Lines of the server's address space that map a shared-memory segment.
shm_maps() {
	grep -cE '/memfd:|/dev/shm/|SYSV' "/proc/$SERVER_PID/maps" 2>/dev/null || true
}

# The killed client's own segments still there: POSIX names in /dev/shm
# and System V ids in /proc/sysvipc/shm (its "reached" line names them).
shm_left() {
	local n=0 word
	for word in $1; do
		case "$word" in
		name=*) [ -e "/dev/shm/${word#name=}" ] && n=$((n + 1)) ;;
		shmid=*)
			awk -v id="${word#shmid=}" 'NR > 1 && $2 == id { f = 1 } END { exit !f }' \
				/proc/sysvipc/shm && n=$((n + 1)) ;;
		esac
	done
	echo "$n"
}

# System V segments made by the clients in $KILLED, as "LEFT WINDOW":
# WINDOW counts those the client made (shmget) but was killed before it
# marked them for removal, never attached by anyone else (last attach by
# the creator or none, no SHM_DEST): the server never heard of those.  They are
# removed here.  LEFT counts every other one: those only the server's
# detach can free.
sysv_of_killed() {
	local left=0 window=0 id perms cpid lpid
	while read -r id perms cpid lpid; do
		case " $KILLED " in *" $cpid "*) ;; *) continue ;; esac
		if { [ "$lpid" = "$cpid" ] || [ "$lpid" = 0 ]; } && [ "$perms" -lt 1000 ]; then
			ipcrm -m "$id" 2>/dev/null
			window=$((window + 1))
		else
			left=$((left + 1))
		fi
	done < <(awk 'NR > 1 { print $2, $3, $5, $6 }' /proc/sysvipc/shm)
	echo "$left $window"
}

start_server
BASE_FDS=$SERVER_FDS
BASE_MAPS=$(shm_maps)
[ "$BASE_MAPS" = 0 ] || fail "the server maps $BASE_MAPS shm segments with no client"

# The streamer's two frames, as raw BGRA fed through a pipe: the test
# decides when the stream ends (its last frame is always b).
frame 200x150 9 "$T/b.png"
"$SF_PNG2RAW" "$(img alpha.png)" bgra >"$T/a.raw" || fail "sf-png2raw failed"
"$SF_PNG2RAW" "$T/b.png" bgra >"$T/b.raw" || fail "sf-png2raw failed"

MATRIX="$T/matrix"
printf '%-7s %-13s | %-14s | %-18s\n' kind phase "held fds/maps" "left fds/maps/shm" >"$MATRIX"
TOTAL_LEFT=0

for kind in memfd posix sysv socket; do
	if [ "$kind" = socket ]; then
		args="--transport socket"; phases=$SOCKET_PHASES
	else
		args="--transport shm --shm $kind"; phases=$SHM_PHASES
	fi

	# (b) the client that must not notice anything.
	rm -f "$T/stop" "$T/feed"
	mkfifo "$T/feed"
	export FEED="$T/feed"
	spawn bash -c 'while [ ! -e "$1" ]; do cat "$2" "$3" || exit 0; done >"$4"' \
		feeder "$T/stop" "$T/a.raw" "$T/b.raw" "$T/feed"
	FEEDER=$LAST_PID
	# (An asynchronous command's stdin is /dev/null unless it opens its
	# own: hence the sh.)
	spawn sh -c 'exec "$0" "$@" <"$FEED"' "$SF_SEND" --server "$SERVER_UNIX" \
		$args --fps 100 --raw 200x150:bgra - --readback "$T/stream-$kind.png" \
		>"$T/stream-$kind.out" 2>"$T/stream-$kind.err"
	STREAMER=$LAST_PID
	# Once its surface is made and its first frames are through, what the
	# server holds for it stays constant.  It reads its input only into
	# acquired buffers: four frames read (rchar) mean it is streaming.
	for _ in $(seq 200); do
		kill -0 "$STREAMER" 2>/dev/null ||
			fail "$kind streamer ended early: $(cat "$T/stream-$kind.err")"
		read_bytes=$(awk '/^rchar:/ { print $2 }' "/proc/$STREAMER/io" 2>/dev/null)
		[ "${read_bytes:-0}" -gt 480000 ] && break
		sleep 0.05
	done
	[ "${read_bytes:-0}" -gt 480000 ] || fail "the $kind streamer does not stream"
	ROW_FDS=$(count_fds "$SERVER_PID")
	ROW_MAPS=$(shm_maps)

	for phase in $phases; do
		rm -f "$T/phase.out"
		spawn "$SF_PHASE_CLIENT" "$SERVER_UNIX" "$kind" "$phase" \
			>"$T/phase.out" 2>"$T/phase.err"
		pid=$LAST_PID
		wait_for_line "$pid" "$T/phase.out" reached 200 0.025
		grep -q "^reached $phase" "$T/phase.out" 2>/dev/null ||
			fail "$kind $phase: the client did not get there: $(cat "$T/phase.err")"
		line=$(cat "$T/phase.out")
		# What the server holds for this client (the phase is real).
		held_fds=$(( $(count_fds "$SERVER_PID") - ROW_FDS ))
		held_maps=$(( $(shm_maps) - ROW_MAPS ))
		case "$phase" in
		attached | frame-half | latched)
			[ "$kind" = socket ] || [ "$held_maps" -ge 2 ] ||
				fail "$kind $phase: the server maps $held_maps of the client's 2 segments" ;;
		ring-*)
			[ "$held_maps" -ge 3 ] ||
				fail "$kind $phase: the server maps $held_maps of the client's 3 segments" ;;
		esac

		kill -KILL "$pid"
		wait "$pid" 2>/dev/null
		forget_pid "$pid"

		# The server notices the hang-up at once; give it 5 s.
		for _ in $(seq 100); do
			left_fds=$(( $(count_fds "$SERVER_PID") - ROW_FDS ))
			left_maps=$(( $(shm_maps) - ROW_MAPS ))
			left_shm=$(shm_left "$line")
			[ "$left_fds$left_maps$left_shm" = 000 ] && break
			sleep 0.05
		done
		printf '%-7s %-13s | %+3d / %+3d      | %d / %d / %d\n' "$kind" "$phase" \
			"$held_fds" "$held_maps" "$left_fds" "$left_maps" "$left_shm" >>"$MATRIX"
		TOTAL_LEFT=$((TOTAL_LEFT + left_fds + left_maps + left_shm))
		server_alive
		kill -0 "$STREAMER" 2>/dev/null ||
			fail "the $kind streamer died when a $phase client was killed: $(cat "$T/stream-$kind.err")"
	done

	# The real library killed at random moments of its start (connect,
	# HELLO, probe, attach, first frames), 20 times.  A client killed
	# between making a segment and handing it over can leave it behind
	# itself: a POSIX name lives from shm_open until the server opens it,
	# a System V id from shmget until the client's IPC_RMID.  No server
	# can close those windows; POSIX is left out (its names cannot be told
	# from other tests' live ones), System V ones are counted apart.
	if [ "$kind" != posix ]; then
		KILLED=""
		for _ in $(seq 20); do
			spawn "$SF_SEND" --server "$SERVER_UNIX" $args --repeat 1000 \
				"$(img testcard.png)" >/dev/null 2>&1
			pid=$LAST_PID
			sleep "0.0$((RANDOM % 40 + 10))"
			kill -KILL "$pid" 2>/dev/null
			wait "$pid" 2>/dev/null
			forget_pid "$pid"
			KILLED="$KILLED $pid"
		done
		WINDOW=0
		for _ in $(seq 100); do
			left_fds=$(( $(count_fds "$SERVER_PID") - ROW_FDS ))
			left_maps=$(( $(shm_maps) - ROW_MAPS ))
			read -r left_shm window < <(sysv_of_killed)
			WINDOW=$((WINDOW + window))
			[ "$left_fds$left_maps$left_shm" = 000 ] && break
			sleep 0.05
		done
		printf '%-7s %-13s | %-14s | %d / %d / %d%s\n' "$kind" "random x20" "-" \
			"$left_fds" "$left_maps" "$left_shm" \
			"$([ "$WINDOW" -gt 0 ] && echo " (+$WINDOW killed before IPC_RMID)")" >>"$MATRIX"
		TOTAL_LEFT=$((TOTAL_LEFT + left_fds + left_maps + left_shm))
		server_alive
		kill -0 "$STREAMER" 2>/dev/null ||
			fail "the $kind streamer died when clients were killed: $(cat "$T/stream-$kind.err")"
	fi

	# The streamer ends its input after a whole a, b pair: b is last.
	touch "$T/stop"
	wait "$STREAMER"
	rc=$?
	forget_pid "$STREAMER"
	wait "$FEEDER" 2>/dev/null
	forget_pid "$FEEDER"
	[ "$rc" -eq 0 ] || fail "the $kind streamer exited $rc: $(cat "$T/stream-$kind.err")"
	OUT=$(tail -n 1 "$T/stream-$kind.out")
	if [ "$kind" = socket ]; then expect transport=socket signal=socket
	else expect transport=shm "shm=$kind" "signal=$SIGNAL"; fi
	same_pixels "$T/b.png" "$T/stream-$kind.png"
	note "$kind streamer: $OUT"

	# Everything the row made is gone.
	check_server_fds
	maps=$(shm_maps)
	[ "$maps" = "$BASE_MAPS" ] ||
		fail "after the $kind row the server maps $maps shm segments, $BASE_MAPS before"
	check_devshm
	check_sysv
done

echo "# kill matrix: server resources held for the live client, and left after SIGKILL"
sed 's/^/# /' "$MATRIX"
echo "# total left behind: $TOTAL_LEFT"
[ "$TOTAL_LEFT" -eq 0 ] || fail "$TOTAL_LEFT resources left behind by killed clients (matrix above)"

finish
