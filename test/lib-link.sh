# A real link for the integration tests, sourced after lib.sh: two network
# namespaces of this run joined by a veth pair, each end rate-limited by a
# tbf queue, the server in one namespace and the clients in the other (with
# their own IPC namespace and /dev/shm as well), so that nothing but the
# link joins them: the far side of a network, on this machine.
#
# Needs root and `ip netns`; the test is skipped (77) where it cannot have
# them.  The namespaces are deleted on every exit (lib.sh's _sf_cleanup,
# through SF_AT_EXIT, once the processes in them are gone).

LINK_NS_SERVER=""
LINK_NS_CLIENT=""
LINK_NET=""        # "10.X.Y": the server is .1, the client .2
LINK_TCP=""

_sf_link_down() {
	local ns
	for ns in $LINK_NS_SERVER $LINK_NS_CLIENT; do
		ip netns delete "$ns" 2>/dev/null
	done
	LINK_NS_SERVER=""
	LINK_NS_CLIENT=""
}

# link_tbf NS DEV RATE: the rate limit on DEV's egress.  The queue is kept
# small on purpose: a 64 KiB bucket (one GSO segment of TCP passes whole)
# and at most 5 ms of waiting at RATE, as a router's would be.  A queue of
# seconds would hold a backlog of frames itself and hide whether the
# library paces to the link; with this one the backlog can only sit where
# the sender sees it (its socket), and the link runs at RATE.
link_tbf() {
	ip netns exec "$1" tc qdisc add dev "$2" root tbf rate "$3" \
		burst 64kb latency 5ms ||
		fail "tc tbf rate $3 on $2 failed"
}

# link_up RATE: the two namespaces and the link between them, limited to
# RATE (tc's units: 100mbit, 1gbit) both ways, or not at all for "none".
link_up() {
	local rate=$1 id=$$-$RANDOM x y
	[ "$(id -u)" -eq 0 ] || { echo "a link needs root: skipped"; exit 77; }
	command -v ip >/dev/null || { echo "ip (iproute2) missing: skipped"; exit 77; }
	SF_AT_EXIT="$SF_AT_EXIT _sf_link_down"
	ip netns add "sf-$id-s" 2>"$T/netns.err" ||
		{ echo "ip netns add failed: $(cat "$T/netns.err"): skipped"; exit 77; }
	LINK_NS_SERVER=sf-$id-s
	ip netns add "sf-$id-c" || fail "ip netns add sf-$id-c failed"
	LINK_NS_CLIENT=sf-$id-c
	# The addresses live only in our namespaces; still unique per run, so
	# that captures and logs of parallel runs tell them apart.
	x=$((100 + $$ % 100))
	y=$((RANDOM % 256))
	LINK_NET=10.$x.$y
	ip -n "$LINK_NS_SERVER" link add sfs type veth peer name sfc \
		netns "$LINK_NS_CLIENT" || fail "cannot make the veth pair"
	ip -n "$LINK_NS_SERVER" addr add "$LINK_NET.1/24" dev sfs &&
	ip -n "$LINK_NS_CLIENT" addr add "$LINK_NET.2/24" dev sfc &&
	ip -n "$LINK_NS_SERVER" link set lo up &&
	ip -n "$LINK_NS_CLIENT" link set lo up &&
	ip -n "$LINK_NS_SERVER" link set sfs up &&
	ip -n "$LINK_NS_CLIENT" link set sfc up || fail "cannot set up the link"
	if [ "$rate" != none ]; then
		link_tbf "$LINK_NS_SERVER" sfs "$rate"
		link_tbf "$LINK_NS_CLIENT" sfc "$rate"
	fi
	note "link $LINK_NET.1 ($LINK_NS_SERVER) <-> $LINK_NET.2 ($LINK_NS_CLIENT), rate $rate"
}

# link_server [server args...]: start_server inside the server's namespace,
# also listening on the link; sets LINK_TCP (tcp:10.X.Y.1:PORT) besides
# what start_server sets.
link_server() {
	[ -n "$LINK_NS_SERVER" ] || fail "link_server before link_up"
	SF_SERVER_WRAP="ip netns exec $LINK_NS_SERVER"
	start_server --listen "tcp:$LINK_NET.1:0" "$@"
	SF_SERVER_WRAP=""
	LINK_TCP=$(grep -o "listen=tcp:$LINK_NET.1:[1-9][0-9]*" "$T/server.out" |
		head -n 1 | cut -d= -f2)
	[ -n "$LINK_TCP" ] ||
		fail "ready line lacks listen=tcp:$LINK_NET.1: $(cat "$T/server.out")"
	note "server on the link at $LINK_TCP"
}

# link_client CMD...: run_client on the far side: in the client's network
# namespace, with an IPC namespace and a /dev/shm of its own (a private
# tmpfs: POSIX shm lives in /dev/shm, not in the IPC namespace), so that no
# kind of shared memory reaches the server.  Sets RC, OUT etc.
link_client() {
	[ -n "$LINK_NS_CLIENT" ] || fail "link_client before link_up"
	run_client ip netns exec "$LINK_NS_CLIENT" unshare --ipc --mount \
		sh -c 'mount -t tmpfs -o mode=1777 tmpfs /dev/shm && exec "$@"' \
		sh "$@"
}
