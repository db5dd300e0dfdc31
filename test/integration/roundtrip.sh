#!/bin/bash
# Pixel-exact round trips through shmframe-send --readback: every transport
# and every shm kind, at the edge sizes (1x1, odd widths whose rows the
# library pads to 64 bytes, a 3-pixel-wide tall image) and real alpha.
. "$(dirname "$0")/../lib.sh"

start_server
frame 200x150 1 "$T/f1.png"
frame 200x150 2 "$T/f2.png"

images="1x1.png:1x1 7x5.png:7x5 3x500.png:3x500 odd-333x257.png:333x257
        alpha.png:200x150 testcard.png:64x48 gradient.png:256x256"

for mode in socket memfd posix sysv; do
	mode_args "$mode"
	for spec in $images; do
		name=${spec%%:*}
		size=${spec#*:}
		out="$T/$mode-$name"
		send_ok --server "$SERVER_UNIX" $MODE_ARGS --readback "$out" "$(img "$name")"
		expect $MODE_WANT frames=1 "width=${size%x*}" "height=${size#*x}"
		[ "$mode" = socket ] && expect_no_key shm
		same_pixels "$(img "$name")" "$out"
	done
	# The surface shows the last of several images.
	send_ok --server "$SERVER_UNIX" $MODE_ARGS --readback "$T/$mode-last.png" \
		"$T/f1.png" "$T/f2.png" "$(img alpha.png)"
	expect $MODE_WANT frames=3
	same_pixels "$(img alpha.png)" "$T/$mode-last.png"
	send_ok --server "$SERVER_UNIX" $MODE_ARGS --readback "$T/$mode-last.png" \
		"$(img alpha.png)" "$T/f1.png" "$T/f2.png"
	expect $MODE_WANT frames=3
	same_pixels "$T/f2.png" "$T/$mode-last.png"
done

# One full-HD frame on each transport.
send_ok --server "$SERVER_UNIX" --transport shm --readback "$T/hd-shm.png" \
	"$(img hd-1920x1080.png)"
expect transport=shm shm=memfd width=1920 height=1080
same_pixels "$(img hd-1920x1080.png)" "$T/hd-shm.png"
send_ok --server "$SERVER_UNIX" --transport socket --readback "$T/hd-sock.png" \
	"$(img hd-1920x1080.png)"
expect transport=socket width=1920 height=1080
same_pixels "$(img hd-1920x1080.png)" "$T/hd-sock.png"

finish
