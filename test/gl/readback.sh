#!/bin/bash
# gl-renderer --check on llvmpipe: after every frame the server's surface,
# read back, equals glReadPixels of the same frame byte for byte, and
# outside the damage the renderer gave the frame equals the one before; on
# shared memory (each kind: the server takes the whole buffer, so a
# buffer read only in part shows) and on the socket (where only the damage
# travels, so a box too small shows), with desktop OpenGL and with OpenGL
# ES.  A frame drawn over the last one is the frame drawn alone.  The
# scene really moves (frames differ, the server's surface after
# 20 frames is not the one after 7) and is deterministic (the same frame
# drawn by two runs is the same picture).  Skipped (77) only when no EGL
# context can be made.
. "$(dirname "$0")/../lib.sh"

: "${SF_GL_RENDERER:?SF_GL_RENDERER must name gl-renderer}"

# gl-renderer, and in sanitizer builds with Mesa's driver kept loaded:
# eglTerminate unloads swrast_dri.so, and what the driver still held then
# is memory of a library no longer there, which LeakSanitizer reports as
# leaked from "<unknown module>".  Kept loaded, that memory stays
# reachable, and a real leak in it is named (lsan.supp lets Mesa's pass).
GL=("$SF_GL_RENDERER")
if [ "${SF_SANITIZE:-0}" = 1 ]; then
	for dri in ${LIBGL_DRIVERS_PATH:+$LIBGL_DRIVERS_PATH/swrast_dri.so} \
	           /usr/lib/*/dri/swrast_dri.so /usr/lib64/dri/swrast_dri.so \
	           /usr/lib/dri/swrast_dri.so; do
		[ -f "$dri" ] || continue
		GL=(env "LD_PRELOAD=$dri" "ASAN_OPTIONS=$ASAN_OPTIONS:verify_asan_link_order=0"
		    "$SF_GL_RENDERER")
		break
	done
fi

mkdir -m 700 "$T/dump"
start_server --dump-dir "$T/dump" --dump-every 1
SIZE=320x240

# gl_run NAME ARGS...: gl-renderer ARGS at $SIZE that must succeed and
# pass its check; the server's last dump of its surface kept as
# $T/NAME.png.
gl_run() {
	local name=$1 png
	shift
	run_client "${GL[@]}" --server "$SERVER_UNIX" --size "$SIZE" "$@"
	if [ "$RC" -eq 77 ] && [ "$SF_STEP" -eq 1 ]; then
		echo "no EGL context: $(cat "$ERR_FILE"): skipped"
		exit 77
	fi
	[ "$RC" -eq 0 ] ||
		fail "gl-renderer $* exited $RC: $(tail -n 5 "$ERR_FILE")"
	note "$(sed -n '1s/^# //p' "$OUT_FILE")"
	note "$OUT"
	png=$(ls -t "$T"/dump/surface-*.png 2>/dev/null | head -n 1)
	[ -n "$png" ] || fail "the server dumped no surface for gl-renderer $*"
	mv "$png" "$T/$name.png"
}

# expect_check N: the check line says N frames passed, each one changed.
expect_check() {
	grep -qx "check=ok frames=$1 changed=$(($1 - 1))" "$OUT_FILE" ||
		fail "expected check=ok frames=$1 changed=$(($1 - 1)): $(cat "$OUT_FILE")"
}

gl_run shm --frames 20 --check --transport shm
expect_check 20
expect frames=20 transport=shm/memfd present=yes read=stale gl=desktop

gl_run socket --frames 20 --check --transport socket
expect_check 20
expect frames=20 transport=socket present=yes gl=desktop
same_pixels "$T/shm.png" "$T/socket.png"

for kind in posix sysv; do
	gl_run "$kind" --frames 8 --check --transport shm --shm "$kind"
	expect_check 8
	expect frames=8 transport=shm/$kind
done

# Each frame read whole into its buffer (rather than what the buffer's
# older frame lacks) is the same picture.
gl_run full --frames 20 --check --transport shm --full-read
expect_check 20
expect read=full
same_pixels "$T/shm.png" "$T/full.png"

# Frame 19 drawn alone (the whole framebuffer) is frame 19 drawn over
# frame 18 (only where the object was and is): redrawing only that part
# leaves no trail.
gl_run alone --frames 1 --start 19 --check --transport shm
expect_check 1
same_pixels "$T/shm.png" "$T/alone.png"

# Frame 6 is not frame 19: the scene turns.
gl_run seven --frames 7 --check --transport shm
expect_check 7
"$SF_PNGCMP" "$T/shm.png" "$T/seven.png" >/dev/null 2>&1 &&
	fail "the surface after 20 frames equals the one after 7: the scene does not move"

# OpenGL ES draws the same scene through the same checks.
run_client "${GL[@]}" --server "$SERVER_UNIX" --size "$SIZE" \
	--frames 8 --check --transport socket --api gles
if [ "$RC" -eq 77 ]; then
	note "no OpenGL ES context: $(cat "$ERR_FILE")"
else
	[ "$RC" -eq 0 ] || fail "gl-renderer --api gles exited $RC: $(tail -n 5 "$ERR_FILE")"
	expect_check 8
	expect frames=8 transport=socket gl=gles
fi

# Drawing without presenting ends as well and says so.
run_client "${GL[@]}" --server "$SERVER_UNIX" --size "$SIZE" \
	--frames 5 --no-present
[ "$RC" -eq 0 ] || fail "gl-renderer --no-present exited $RC: $(tail -n 5 "$ERR_FILE")"
expect frames=5 present=no
finish
