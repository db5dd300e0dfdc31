#!/bin/bash
# Raw frames on standard input (what a renderer or ffmpeg writes), in each
# input format, over the socket and shm: the surface ends up holding
# exactly the last frame.
. "$(dirname "$0")/../lib.sh"

: "${SF_PNG2RAW:?}"

start_server
frame 333x257 4 "$T/f4.png"

for mode in socket shm; do
	for fmt in bgra rgba rgb24; do
		# rgb24 has no alpha: it is checked with opaque images.
		if [ "$fmt" = rgb24 ]; then
			specs="testcard.png:64x48 gradient.png:256x256"
		else
			specs="alpha.png:200x150 7x5.png:7x5"
		fi
		for spec in $specs; do
			name=${spec%%:*}
			size=${spec#*:}
			"$SF_PNG2RAW" "$(img "$name")" $fmt >"$T/in.raw" ||
				fail "sf-png2raw $name failed"
			run_client sh -c 'exec "$0" "$@" <"'"$T/in.raw"'"' "$SF_SEND" \
				--server "$SERVER_UNIX" --transport $mode \
				--raw "$size:$fmt" - --readback "$T/out.png"
			[ "$RC" -eq 0 ] ||
				fail "--raw $size:$fmt ($mode) exited $RC: $(cat "$ERR_FILE")"
			expect transport=$mode frames=1
			same_pixels "$(img "$name")" "$T/out.png"
		done
	done
	# Two frames in a row: the second one stays.
	"$SF_PNG2RAW" "$(img odd-333x257.png)" rgba >"$T/two.raw"
	"$SF_PNG2RAW" "$T/f4.png" rgba >>"$T/two.raw"
	run_client sh -c 'exec "$0" "$@" <"'"$T/two.raw"'"' "$SF_SEND" \
		--server "$SERVER_UNIX" --transport $mode --raw 333x257:rgba - \
		--readback "$T/two.png"
	[ "$RC" -eq 0 ] || fail "two raw frames ($mode) exited $RC: $(cat "$ERR_FILE")"
	expect transport=$mode frames=2
	same_pixels "$T/f4.png" "$T/two.png"
done

# A short last frame is an error, not a silent success.
head -c 1000 "$T/two.raw" >"$T/short.raw"
run_client sh -c 'exec "$0" "$@" <"'"$T/short.raw"'"' "$SF_SEND" \
	--server "$SERVER_UNIX" --raw 333x257:rgba -
[ "$RC" -ne 0 ] || fail "a truncated raw frame was accepted"

finish
