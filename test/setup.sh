#!/bin/sh
# shmframe: install what is missing, build, then run the demo or the tests.
#
#   test/setup.sh run    build, start the server and stream the demo into
#                        it: in a window when DISPLAY is set, else headless
#                        for a few seconds, ending with a PNG snapshot
#   test/setup.sh test   build, run every test (the library alone, the
#                        plain build, then with AddressSanitizer + UBSan,
#                        then the fuzz targets when they exist); exit
#                        status 0 only if all pass
#
# Packages are installed with apt-get only when one is missing (sudo only
# when not root).  Builds go to build/ (RelWithDebInfo), build-lib/,
# build-asan/ and build-fuzz/, all with warnings as errors; `run` writes to
# out/run/.
set -eu

ROOT=$(cd "$(dirname "$0")/.." && pwd)
cd "$ROOT"
JOBS=$(nproc 2>/dev/null || echo 2)

PACKAGES="build-essential cmake pkg-config libpng-dev libsdl2-dev libxcb1-dev
libxcb-shm0-dev libxcb-xtest0-dev xvfb x11-apps xauth xdotool socat clang libfuzzer-14-dev imagemagick
valgrind util-linux gnuplot-nox liblz4-dev libzstd-dev iproute2 ffmpeg
python-matplotlib-data openssh-server openssh-client
python3 python3-numpy python3-pytest python3-matplotlib python3-venv python3-pip
python3-setuptools python3-wheel
libegl-dev libgl-dev libgles-dev libegl-mesa0 libgl1-mesa-dri
libgstreamer1.0-dev libgstreamer-plugins-base1.0-dev gstreamer1.0-tools
gstreamer1.0-plugins-base gstreamer1.0-plugins-good gstreamer1.0-plugins-bad"

say() { echo "setup: $*"; }

install_missing() {
	missing=""
	if ! command -v dpkg-query >/dev/null 2>&1; then
		say "not a Debian system: install by hand: $(echo $PACKAGES)"
		return 0
	fi
	for p in $PACKAGES; do
		dpkg-query -W -f='${Status}' "$p" 2>/dev/null |
			grep -q "install ok installed" || missing="$missing $p"
	done
	[ -n "$missing" ] || return 0
	say "installing$missing"
	if [ "$(id -u)" -eq 0 ]; then
		sudo=""
	else
		sudo="sudo"
	fi
	$sudo env DEBIAN_FRONTEND=noninteractive apt-get update -q
	$sudo env DEBIAN_FRONTEND=noninteractive apt-get install -y -q \
		--no-install-recommends $missing
}

# build DIR [cmake args...]
build() {
	dir=$1
	shift
	mkdir -p "$ROOT/$dir"
	cmake -S "$ROOT" -B "$ROOT/$dir" "$@" >"$ROOT/$dir/configure.log" 2>&1 || {
		cat "$ROOT/$dir/configure.log"
		say "configuring $dir failed"
		return 1
	}
	cmake --build "$ROOT/$dir" -j "$JOBS"
}

# ---- run ------------------------------------------------------------------

SERVER_PID=""
stop_server() {
	if [ -n "$SERVER_PID" ] && kill -0 "$SERVER_PID" 2>/dev/null; then
		kill -TERM "$SERVER_PID" 2>/dev/null || true
		wait "$SERVER_PID" 2>/dev/null || true
	fi
	SERVER_PID=""
}

wait_ready() {
	i=0
	while ! grep -q '^ready' "$1" 2>/dev/null; do
		i=$((i + 1))
		if [ "$i" -gt 100 ] || ! kill -0 "$SERVER_PID" 2>/dev/null; then
			say "the server did not start"
			return 1
		fi
		sleep 0.1
	done
}

do_run() {
	out="$ROOT/out/run"
	bin="$ROOT/build"
	rm -rf "$out"
	mkdir -p "$out/dump"
	trap stop_server EXIT
	trap 'exit 130' INT TERM
	if [ -n "${DISPLAY:-}" ]; then
		say "DISPLAY=$DISPLAY: the demo opens a window: arrows move the" \
			"square, drag it with the left button, the wheel zooms," \
			"Space pauses, resize the window; Esc, q or closing it stops"
		"$bin/server/shmframe-server" --listen "unix:$out/sock" \
			--display auto >"$out/server.out" &
		SERVER_PID=$!
		wait_ready "$out/server.out"
		# Runs until the window is closed or Esc/q (or Ctrl-C, which
		# may stop the server first: not an error here).
		"$bin/client/tools/shmframe-demo" --server "unix:$out/sock" \
			--frames 0 --fps 60 || true
		stop_server
		return 0
	else
		say "no DISPLAY: headless server, demo for 3 seconds"
		"$bin/server/shmframe-server" --listen "unix:$out/sock" \
			--display none --dump-dir "$out/dump" --dump-every 60 \
			>"$out/server.out" &
		SERVER_PID=$!
		wait_ready "$out/server.out"
		"$bin/client/tools/shmframe-demo" --server "unix:$out/sock" \
			--frames 180 --fps 60 --readback "$out/demo-last.png"
	fi
	stop_server
	[ -s "$out/demo-last.png" ] || { say "no snapshot was written"; return 1; }
	say "snapshot of the last frame: $out/demo-last.png"
	dumps=$(ls "$out"/dump/*.png 2>/dev/null | head -n 3)
	[ -z "$dumps" ] || say "server snapshots: $(echo $dumps)"
}

# ---- test -----------------------------------------------------------------

# The library alone, every SHMFRAME_BUILD_* off: it must configure with a C
# compiler, CMake and the two codecs (liblz4, libzstd, through pkg-config)
# only (no other package even looked for), build, install, need nothing
# but libc and the codecs and show only shmframe_* symbols.
library_alone() {
	dir=build-lib
	rm -rf "${ROOT:?}/$dir"
	build "$dir" -DCMAKE_BUILD_TYPE=RelWithDebInfo -DSHMFRAME_WERROR=ON \
		-DSHMFRAME_BUILD_SERVER=OFF -DSHMFRAME_BUILD_TOOLS=OFF \
		-DSHMFRAME_BUILD_BENCH=OFF -DSHMFRAME_BUILD_EXAMPLES=OFF \
		-DSHMFRAME_BUILD_PYTHON=OFF -DSHMFRAME_BUILD_GL=OFF \
		-DSHMFRAME_BUILD_GSTREAMER=OFF \
		-DSHMFRAME_BUILD_TESTS=OFF >/dev/null || return 1
	looked=$(grep -oE '^(PNG|ZLIB|SDL2|XCB|Threads|CMAKE_HAVE_LIBC_PTHREAD|Python3|OPENGL|SF_GST)[A-Za-z_]*' \
		"$ROOT/$dir/CMakeCache.txt" | sort -u)
	if [ -n "$looked" ]; then
		say "the library alone looked for other packages:" $looked
		return 1
	fi
	bash "$ROOT/test/install/install-test.sh" --library-only "$ROOT/$dir" "$ROOT"
}

do_test() {
	failed=""
	say "the library alone (build-lib)"
	library_alone || failed="$failed build-lib"

	ctest --test-dir "$ROOT/build" --output-on-failure -j 2 ||
		failed="$failed build"

	say "sanitizer build (build-asan)"
	if build build-asan -DCMAKE_BUILD_TYPE=Debug -DSHMFRAME_SANITIZE=ON \
		-DSHMFRAME_WERROR=ON; then
		ASAN_OPTIONS=detect_leaks=1:abort_on_error=0 \
		UBSAN_OPTIONS=print_stacktrace=1:halt_on_error=1 \
			ctest --test-dir "$ROOT/build-asan" --output-on-failure -j 2 ||
			failed="$failed build-asan"
	else
		failed="$failed build-asan(build)"
	fi

	# Fuzz targets (test/fuzz/): clang's libFuzzer, each run for a bounded
	# time from the committed seeds through its CTest entry (label fuzz).
	# Only the fuzz targets are built there.
	if [ -d "$ROOT/test/fuzz" ]; then
		say "fuzz build (build-fuzz)"
		mkdir -p "$ROOT/build-fuzz"
		if cmake -S "$ROOT" -B "$ROOT/build-fuzz" -DCMAKE_C_COMPILER=clang \
			-DCMAKE_BUILD_TYPE=RelWithDebInfo -DSHMFRAME_FUZZ=ON \
			-DSHMFRAME_SANITIZE=ON -DSHMFRAME_SDL=OFF -DSHMFRAME_WERROR=ON \
			>"$ROOT/build-fuzz/configure.log" 2>&1 &&
		   cmake --build "$ROOT/build-fuzz" -j "$JOBS" --target fuzz-all; then
			ctest --test-dir "$ROOT/build-fuzz" -L fuzz \
				--output-on-failure -j 2 || failed="$failed build-fuzz"
		else
			cat "$ROOT/build-fuzz/configure.log"
			failed="$failed build-fuzz(build)"
		fi
	fi

	if [ -n "$failed" ]; then
		say "FAILED in:$failed"
		return 1
	fi
	say "all tests passed"
}

case "${1:-}" in
run | test) ;;
*)
	echo "usage: test/setup.sh run|test" >&2
	exit 2
	;;
esac

install_missing
build build -DCMAKE_BUILD_TYPE=RelWithDebInfo -DSHMFRAME_WERROR=ON
if [ "$1" = run ]; then
	do_run
else
	do_test
fi
