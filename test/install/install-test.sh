#!/bin/bash
# Installs shmframe into a staging prefix with DESTDIR, builds a consumer
# outside the tree with find_package and with pkg-config, and runs both
# against a real server.  Also checks that the libraries need nothing but
# libc and show only shmframe_* symbols (the shared library exports, the
# static one's global definitions).
#   install-test.sh [--library-only] BUILD_DIR SOURCE_DIR
# --library-only: for a build of the library alone (every SHMFRAME_BUILD_*
# off): the checks and the consumer builds, without a server to run on.
set -eu
library_only=0
if [ "${1:-}" = --library-only ]; then
	library_only=1
	shift
fi
build=$(cd "$1" && pwd)
src=$(cd "$2" && pwd)
work=$(mktemp -d /tmp/shmframe-install.XXXXXX)
server_pid=
cleanup() {
	[ -n "$server_pid" ] && kill "$server_pid" 2>/dev/null && wait "$server_pid" 2>/dev/null
	rm -rf "$work"
}
trap cleanup EXIT

prefix=/opt/shmframe-test
DESTDIR="$work/stage" cmake --install "$build" --prefix "$prefix" >"$work/install.log"
root="$work/stage$prefix"
installed="include/shmframe.h lib/libshmframe.a lib/pkgconfig/shmframe.pc
	lib/cmake/shmframe/shmframeConfig.cmake
	lib/cmake/shmframe/shmframeConfigVersion.cmake"
[ "$library_only" = 1 ] || installed="$installed bin/shmframe-server"
for f in $installed; do
	[ -e "$root/$f" ] || { echo "FAIL: $f not installed"; exit 1; }
done
so=$(readlink -f "$root/lib/libshmframe.so")
soname=$(objdump -p "$so" | awk '$1 == "SONAME" { print $2 }')
[ "$soname" = "libshmframe.so.1" ] || { echo "FAIL: SONAME is '$soname'"; exit 1; }

# Only the public API may be exported.
bad=$(nm -D --defined-only "$so" | awk '{ print $3 }' | grep -v '^shmframe_' || true)
if [ -n "$bad" ]; then
	echo "FAIL: symbols exported besides shmframe_*:"; echo "$bad"; exit 1
fi
public=$(grep -o 'shmframe_[a-z_]*(' "$src/client/include/shmframe.h" | tr -d '(' | sort -u)
for sym in $public; do
	nm -D --defined-only "$so" | grep -qw "$sym" || { echo "FAIL: $sym not exported"; exit 1; }
done
# Nothing but libc.
needed=$(readelf -d "$so" | sed -n 's/.*(NEEDED).*\[\(.*\)\]/\1/p' | sort | tr '\n' ' ')
if [ "$needed" != "libc.so.6 liblz4.so.1 libzstd.so.1 " ]; then
	echo "FAIL: libshmframe.so needs more than libc and the two codecs:"
	echo "$needed"; exit 1
fi
# The archive: the internals (sf__, sfc__) made local when it was built.
bad=$(nm -g --defined-only "$root/lib/libshmframe.a" | awk 'NF == 3 { print $3 }' |
	grep -v '^shmframe_' || true)
if [ -n "$bad" ]; then
	echo "FAIL: libshmframe.a defines global symbols besides shmframe_*:"
	echo "$bad"; exit 1
fi

# The staged prefix is not where the package says it lives; point the
# tools at it the way a distribution's build root would.
cp "$src/test/install/consumer.c" "$work/"
cp "$src/test/install/CMakeLists.txt.consumer" "$work/CMakeLists.txt"
cmake -S "$work" -B "$work/b-cmake" -DCMAKE_PREFIX_PATH="$root" >"$work/cmake.log" 2>&1 \
	|| { cat "$work/cmake.log"; exit 1; }
cmake --build "$work/b-cmake" >>"$work/cmake.log" 2>&1 || { cat "$work/cmake.log"; exit 1; }
export PKG_CONFIG_PATH="$root/lib/pkgconfig"
# shellcheck disable=SC2046
cc -o "$work/consumer-pc" "$work/consumer.c" $(pkg-config --cflags --libs shmframe) \
	-Wl,-rpath,"$root/lib"
if [ "$library_only" = 1 ]; then
	echo "install test: passed for the library alone (find_package shared+static," \
		"pkg-config, SONAME $soname, libc and the codecs alone, only shmframe_* symbols)"
	exit 0
fi

sock="$work/server.sock"
"$root/bin/shmframe-server" --listen "unix:$sock" --display none >"$work/ready" 2>"$work/server.err" &
server_pid=$!
for _ in $(seq 100); do grep -q '^ready' "$work/ready" 2>/dev/null && break; sleep 0.05; done
grep -q '^ready' "$work/ready" || { echo "FAIL: server did not start"; cat "$work/server.err"; exit 1; }

for prog in "$work/b-cmake/consumer" "$work/b-cmake/consumer_static" "$work/consumer-pc"; do
	LD_LIBRARY_PATH="$root/lib" "$prog" "unix:$sock" || { echo "FAIL: $prog"; exit 1; }
done
ldd "$work/b-cmake/consumer" | grep -q "$root/lib/libshmframe.so.1" || \
	LD_LIBRARY_PATH="$root/lib" ldd "$work/b-cmake/consumer" | grep -q 'libshmframe.so.1' || \
	{ echo "FAIL: consumer not linked to libshmframe.so.1"; exit 1; }
if nm "$work/b-cmake/consumer_static" | grep -q ' U shmframe_'; then
	echo "FAIL: static consumer has undefined shmframe symbols"; exit 1
fi
# The Python package, when this build installs it: it names the library
# where the prefix will have it, and, pointed at the staged library, the
# staged package makes a round trip through the staged server.
py=$(sed -n 's/^SHMFRAME_PYTHON_TESTS:INTERNAL=//p' "$build/CMakeCache.txt")
if [ -n "$py" ]; then
	paths=$(find "$root" -path '*/shmframe/_paths.py' | head -n 1)
	[ -n "$paths" ] || { echo "FAIL: the Python package is not installed"; exit 1; }
	grep -qx "LIBRARY = \"$prefix/lib/libshmframe.so.1\"" "$paths" ||
		{ echo "FAIL: $paths names: $(grep LIBRARY "$paths")"; exit 1; }
	for f in __init__ _lib connection surface events errors listener; do
		[ -f "$(dirname "$paths")/$f.py" ] || { echo "FAIL: shmframe/$f.py not installed"; exit 1; }
	done
	PYTHONPATH=$(dirname "$(dirname "$paths")") SHMFRAME_LIBRARY="$root/lib/libshmframe.so.1" \
		"$py" -c "
import sys, numpy as np, shmframe
assert shmframe.__file__.startswith('$root'), shmframe.__file__
with shmframe.connect('unix:$sock') as c:
    s = c.create_surface(33, 17)
    f = s.acquire(); f[:] = 9; s.present(f); del f
    assert (s.readback() == 9).all()
" || { echo "FAIL: the installed Python package"; exit 1; }
fi
# The 1.0 ABI: a program built against the 1.0 header (kept verbatim in
# shmframe-1.0.h) keeps working with this library.  Same enum values and
# struct layouts, every 1.0 declaration still there unchanged, every 1.0
# function exported, and the consumer built against it runs.
mkdir -p "$work/abi-1.0"
cp "$src/test/install/shmframe-1.0.h" "$work/abi-1.0/shmframe.h"
cc -std=c11 -o "$work/layout-1.0" "$src/test/install/abi-layout.c" -I"$work/abi-1.0"
cc -std=c11 -o "$work/layout-now" "$src/test/install/abi-layout.c" -I"$root/include"
"$work/layout-1.0" >"$work/layout-1.0.txt"
"$work/layout-now" >"$work/layout-now.txt"
# struct shmframe_options (1.2) and struct shmframe_surface_listener (1.3)
# grow at their end: their size may only grow, their alignment and every
# 1.0 member stay.
grown='^sizeof(struct shmframe_\(options\|surface_listener\))='
for st in options surface_listener; do
	pat="s/^sizeof(struct shmframe_$st)=\([0-9]*\) align=\([0-9]*\)\$/\1 \2/p"
	read -r size_1_0 align_1_0 < <(sed -n "$pat" "$work/layout-1.0.txt")
	read -r size_now align_now < <(sed -n "$pat" "$work/layout-now.txt")
	[ -n "$size_1_0" ] && [ "$align_now" = "$align_1_0" ] &&
		[ "$size_now" -ge "$size_1_0" ] ||
		{ echo "FAIL: struct shmframe_$st shrank or changed alignment"; exit 1; }
done
diff -u <(grep -v "$grown" "$work/layout-1.0.txt") \
	<(grep -v "$grown" "$work/layout-now.txt") ||
	{ echo "FAIL: the binary layout differs from 1.0's"; exit 1; }
# Declarations as the compiler sees them, one per line, blanks squeezed.
decls() {
	echo '#include <shmframe.h>' | cc -E -P -I"$1" - |
		tr '\n' ' ' | tr ';' '\n' | tr -s ' \t' ' ' | sed 's/^ //; s/ $//' |
		grep 'shmframe_[a-z_]* *(' | sort -u
}
decls "$work/abi-1.0" >"$work/decls-1.0.txt"
decls "$root/include" >"$work/decls-now.txt"
missing=$(comm -23 "$work/decls-1.0.txt" "$work/decls-now.txt")
[ -z "$missing" ] || { echo "FAIL: 1.0 declarations changed or gone:"; echo "$missing"; exit 1; }
for sym in $(grep -o 'shmframe_[a-z_]*(' "$work/abi-1.0/shmframe.h" | tr -d '(' | sort -u); do
	nm -D --defined-only "$so" | grep -qw "$sym" || { echo "FAIL: 1.0's $sym not exported"; exit 1; }
done
cc -o "$work/consumer-1.0" "$work/consumer.c" -I"$work/abi-1.0" -L"$root/lib" -lshmframe \
	-Wl,-rpath,"$root/lib"
LD_LIBRARY_PATH="$root/lib" "$work/consumer-1.0" "unix:$sock" ||
	{ echo "FAIL: a program built against the 1.0 header"; exit 1; }
# Every 1.0 option and callback, with the structs against an inaccessible
# page: the library touches exactly the 1.0 layout (the sized functions
# the new header's macros call are for newer programs; test-api checks
# them with larger and smaller structs).
cc -std=c11 -o "$work/abi-1.0-client" "$src/test/install/abi-1.0-client.c" \
	-I"$work/abi-1.0" -L"$root/lib" -lshmframe -Wl,-rpath,"$root/lib"
if nm "$work/abi-1.0-client" | grep -q 'shmframe_[a-z_]*_sized'; then
	echo "FAIL: the 1.0 header led to a sized function"; exit 1
fi
for transport in socket shm; do
	LD_LIBRARY_PATH="$root/lib" "$work/abi-1.0-client" "unix:$sock" "$transport" ||
		{ echo "FAIL: the 1.0 program over $transport"; exit 1; }
done

echo "install test: passed (find_package shared+static, pkg-config, SONAME $soname, the 1.0 ABI)"
