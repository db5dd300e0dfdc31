#!/bin/bash
# A client on the far side of a real 100 Mbit/s link (its own network, IPC
# and /dev/shm namespaces: nothing shared with the server but the link)
# ends on the socket, compresses with the codec it asks for (auto: lz4,
# since this is TCP to another host), and every image comes back
# pixel-exact with each codec.
. "$(dirname "$0")/../lib.sh"
. "$(dirname "$0")/../lib-link.sh"

link_up 100mbit
link_server

for image in hd-1920x1080.png odd-333x257.png; do
	for codec in none lz4 zstd auto; do
		want=$codec
		[ "$codec" = auto ] && want=lz4
		out="$T/${image%.png}-$codec.png"
		link_client "$SF_SEND" --server "$LINK_TCP" --compress "$codec" \
			--readback "$out" "$(img "$image")"
		[ "$RC" -eq 0 ] ||
			fail "send $image --compress $codec over the link exited $RC: $(cat "$ERR_FILE")"
		expect transport=socket "compress=$want"
		expect_no_key shm
		same_pixels "$(img "$image")" "$out"
		note "$image --compress $codec: $(value_of compress), pixel-exact"
	done
done

finish
