# Helpers of the shmframesink tests (sourced after test/lib.sh): the
# plugin from the build tree, a registry of the test's own, references
# written by GStreamer itself, and the server's dumps compared with them.

: "${SF_GST_RUN:?SF_GST_RUN must name sf-gst-run}"
: "${SF_GST_PLUGIN_DIR:?SF_GST_PLUGIN_DIR must name the plugin directory}"

command -v gst-launch-1.0 >/dev/null ||
	{ echo "gst-launch-1.0 missing: skipped"; exit 77; }
export GST_PLUGIN_PATH="$SF_GST_PLUGIN_DIR"
export GST_REGISTRY="$T/registry.bin"
# Warnings of other plugins are not ours.
export GST_DEBUG="${GST_DEBUG:-shmframesink:3}"
gst-inspect-1.0 videotestsrc >/dev/null 2>&1 ||
	{ echo "videotestsrc missing: skipped"; exit 77; }

# gst_ref DIR N CAPS [SRC-ARGS]: the N frames GStreamer itself makes of
# videotestsrc SRC-ARGS at CAPS, as DIR/ref-00000.raw ...
gst_ref() {
	local dir=$1 n=$2 caps=$3
	shift 3
	mkdir -p "$dir"
	gst-launch-1.0 -q videotestsrc num-buffers="$n" "$@" ! "$caps" ! \
		multifilesink location="$dir/ref-%05d.raw" >"$T/ref.log" 2>&1 ||
		fail "reference pipeline failed: $(cat "$T/ref.log")"
	[ -f "$dir/ref-$(printf %05d $((n - 1))).raw" ] ||
		fail "the reference has no frame $((n - 1))"
}

# sink_run [sf-gst-run options] PIPELINE: runs it (shmframesink named
# sink), which must succeed; its last line in OUT.
sink_run() {
	run_client "$SF_GST_RUN" "$@"
	[ "$RC" -eq 0 ] ||
		fail "sf-gst-run $* exited $RC: $(tail -n 20 "$ERR_FILE")"
	note "$OUT"
}

# dump_is RAW: the server's dump of the sink's surface (the newest in
# $T/dump, written at every frame) holds RAW's bytes exactly, alpha or X
# included (the server keeps the surface's bytes).
dump_is() {
	local png
	png=$(ls -t "$T"/dump/surface-*.png 2>/dev/null | head -n 1)
	[ -n "$png" ] || fail "the server dumped no surface"
	"$SF_PNG2RAW" "$png" bgra >"$T/dump.raw" || fail "cannot read $png"
	cmp -s "$T/dump.raw" "$1" ||
		fail "the server's surface ($(stat -c %s "$T/dump.raw") bytes) differs from $1 ($(stat -c %s "$1") bytes): $(cmp "$T/dump.raw" "$1" 2>&1 | head -n 1)"
}

# A fresh dump directory for the next run.
new_dump() {
	rm -rf "$T/dump"
	mkdir -m 700 "$T/dump"
}

# expect_transport shm|socket: the sink said it used that transport (shm
# is memfd, the library's first choice).
expect_transport() {
	case $1 in
	shm) expect transport=shm/memfd ;;
	socket) expect transport=socket ;;
	*) fail "expect_transport: $1?" ;;
	esac
}

# expect_steady WHAT: after sf-gst-run --cycles, the process's fds, the
# server's fds, our /dev/shm names and System V segments were the same
# after the last cycle as after the first, and the server's as at its
# start.
expect_steady() {
	local k v
	for k in fds srv_fds shm sysv; do
		v=$(value_of $k)
		[ "${v%/*}" = "${v#*/}" ] || fail "$1: $k after the first cycle and after the last: $v"
	done
	[ "$(value_of srv_fds | cut -d/ -f2)" = "$SERVER_FDS" ] ||
		fail "$1: the server holds $(value_of srv_fds) fds, $SERVER_FDS at startup"
}
