#!/bin/sh
# Runs one test ("$@") with a /dev/shm and System V IPC namespace of its
# own when the machine allows it (root, unshare), so that the test's leak
# checks see only what this test made: other programs, and other test
# runs on the same machine, cannot make it fail, and nothing it leaks
# survives it.  Elsewhere the test runs as it is, and its checks count
# only new names under our prefix that persist.
if [ "${SF_ISOLATED:-0}" != 1 ] && [ "$(id -u)" -eq 0 ] &&
   unshare -m -i --propagation private true 2>/dev/null; then
	exec unshare -m -i --propagation private sh -c '
		mount -t tmpfs -o mode=1777,nosuid,nodev tmpfs /dev/shm || exit 1
		SF_ISOLATED=1 exec "$@"' sh "$@"
fi
exec "$@"
