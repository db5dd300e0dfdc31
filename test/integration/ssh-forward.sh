#!/bin/bash
# A server reached across SSH, as README's "Across SSH" shows it: sshd on
# the server's side of a 100 Mbit/s link, `ssh -L` on the far side
# forwarding a local TCP port to the server's loopback listener and a
# local Unix socket to its Unix listener.  The client sees a loopback or
# Unix socket whose other end shares no memory with it: the probe must
# fail, the library fall back to the socket by itself and, measuring the
# link, compress (auto); the frame arrives pixel-exact.  A library that
# took loopback or a Unix socket for "the same host" would send raw frames
# (compress=none), one that trusted the socket family would try shm.
. "$(dirname "$0")/../lib.sh"
. "$(dirname "$0")/../lib-link.sh"

SSHD=$(command -v sshd || echo /usr/sbin/sshd)
[ -x "$SSHD" ] && command -v ssh >/dev/null && command -v ssh-keygen >/dev/null ||
	{ echo "sshd, ssh or ssh-keygen missing: skipped"; exit 77; }

link_up 100mbit
link_server

# sshd of this test alone: its own keys, config and port, root by key.
mkdir -m 700 "$T/ssh"
ssh-keygen -q -t ed25519 -N '' -f "$T/ssh/host" || fail "ssh-keygen failed"
ssh-keygen -q -t ed25519 -N '' -f "$T/ssh/id" || fail "ssh-keygen failed"
cp "$T/ssh/id.pub" "$T/ssh/authorized_keys"
PORT=$((20000 + RANDOM % 20000))
cat >"$T/ssh/sshd_config" <<EOF
Port $PORT
ListenAddress $LINK_NET.1
HostKey $T/ssh/host
AuthorizedKeysFile $T/ssh/authorized_keys
PermitRootLogin prohibit-password
PasswordAuthentication no
KbdInteractiveAuthentication no
StrictModes no
UsePAM no
PidFile none
AllowTcpForwarding yes
AllowStreamLocalForwarding yes
StreamLocalBindUnlink yes
EOF
mkdir -p /run/sshd
spawn ip netns exec "$LINK_NS_SERVER" "$SSHD" -D -e -f "$T/ssh/sshd_config" \
	2>"$T/sshd.log"
SSHD_PID=$LAST_PID
for _ in $(seq 100); do
	grep -q 'Server listening' "$T/sshd.log" && break
	kill -0 "$SSHD_PID" 2>/dev/null || fail "sshd exited: $(cat "$T/sshd.log")"
	sleep 0.1
done
grep -q 'Server listening' "$T/sshd.log" || fail "sshd not listening after 10 s"

FWD_SOCK="$T/fwd.sock"
LOCAL_PORT=$((40000 + RANDOM % 20000))
SERVER_LOOP=$(echo "$SERVER_TCP" | cut -d: -f2-)   # 127.0.0.1:PORT in the server's namespace
spawn ip netns exec "$LINK_NS_CLIENT" ssh -N -i "$T/ssh/id" -p "$PORT" \
	-o StrictHostKeyChecking=no -o UserKnownHostsFile=/dev/null \
	-o LogLevel=ERROR -o ExitOnForwardFailure=yes \
	-L "$LOCAL_PORT:$SERVER_LOOP" -L "$FWD_SOCK:$T/sock" "root@$LINK_NET.1"
SSH_PID=$LAST_PID
for _ in $(seq 100); do
	[ -S "$FWD_SOCK" ] && break
	kill -0 "$SSH_PID" 2>/dev/null || fail "ssh exited: $(tail -n 5 "$T/sshd.log")"
	sleep 0.1
done
[ -S "$FWD_SOCK" ] || fail "ssh made no forwarded socket in 10 s"

for server in "tcp:127.0.0.1:$LOCAL_PORT" "unix:$FWD_SOCK"; do
	note "the demo through the forward $server"
	link_client "$SF_DEMO" --server "$server" --size 1280x720 --fps 30 \
		--frames 60 --no-input --readback "$T/demo.png"
	[ "$RC" -eq 0 ] || fail "demo through $server exited $RC: $(cat "$ERR_FILE")"
	note "$OUT"
	expect transport=socket compress=lz4
	case "$OUT" in
	*'compress_reason="lz4: the link ('*'is slower than lz4'*) ;;
	*) fail "auto did not compress for the link it measured: $OUT" ;;
	esac
	# The last frame the demo drew, pixel-exact, at the far end.
	"$SF_DEMOFRAME" 1280x720 "$(value_of anim_frame)" "$T/want.png" ||
		fail "sf-demoframe failed"
	same_pixels "$T/want.png" "$T/demo.png"
	[ "$(value_of payload_bytes)" -lt "$(value_of pixel_bytes)" ] ||
		fail "nothing was saved on the wire: $OUT"
done

kill "$SSH_PID" "$SSHD_PID" 2>/dev/null
finish
