#!/bin/bash
# The Python examples stream into a real server and end pixel-exact:
# numpy_anim (its last frame read back equals the same frame drawn into
# an array of its own) on shared memory and on the socket, and
# matplotlib_stream (the server holds the figure's pixels as Agg drew
# them).  Catches: a wrong stride or channel order, frames lost or out of
# order, the transport option ignored.
. "$(dirname "$0")/../lib.sh"
: "${SF_PYTHON:?SF_PYTHON must name the python3 under test}"
EX="$(dirname "$0")/../../client/python/examples"

start_server
for tr in shm socket; do
	run_client "$SF_PYTHON" "$EX/numpy_anim.py" --server "$SERVER_UNIX" \
		--size 321x203 --frames 40 --transport "$tr" --check
	[ "$RC" -eq 0 ] || fail "numpy_anim on $tr exited $RC: $(tail -n 5 "$ERR_FILE")"
	grep -qx 'check=ok' "$OUT_FILE" || fail "numpy_anim on $tr: $(cat "$OUT_FILE")"
	case $tr in
	shm) expect transport=shm/memfd frames=40 ;;
	socket) expect transport=socket frames=40 ;;
	esac
done
run_client "$SF_PYTHON" "$EX/numpy_anim.py" --alone --size 321x203 --frames 10
[ "$RC" -eq 0 ] && expect transport=none || fail "numpy_anim --alone exited $RC"
run_client "$SF_PYTHON" "$EX/matplotlib_stream.py" --server "$SERVER_UNIX" \
	--size 320x240 --frames 6 --check
[ "$RC" -eq 0 ] || fail "matplotlib_stream exited $RC: $(tail -n 5 "$ERR_FILE")"
grep -qx 'check=ok' "$OUT_FILE" || fail "matplotlib_stream: $(cat "$OUT_FILE")"
expect size=320x240 transport=shm/memfd
finish
