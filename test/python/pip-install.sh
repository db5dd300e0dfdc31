#!/bin/bash
# `pip install ./client/python` works with no network: into a new venv
# that sees Debian's numpy (--system-site-packages), from a copy of the
# source (pip builds in the tree it is given), with --no-index so that a
# download would fail the test.  The installed module, not the source
# tree's, then makes an exact round trip through a real server.
. "$(dirname "$0")/../lib.sh"
: "${SF_PYTHON:?SF_PYTHON must name the python3 under test}"
"$SF_PYTHON" -c 'import venv, ensurepip' 2>/dev/null ||
	{ echo "python3-venv missing: skipped"; exit 77; }

cp -r "$(dirname "$0")/../../client/python" "$T/src"
rm -rf "$T/src/build" "$T/src"/*.egg-info
"$SF_PYTHON" -m venv --system-site-packages "$T/venv" >"$T/venv.log" 2>&1 ||
	fail "venv: $(cat "$T/venv.log")"
PIP_NO_INDEX=1 PIP_DISABLE_PIP_VERSION_CHECK=1 "$T/venv/bin/pip" install \
	--no-index "$T/src" >"$T/pip.log" 2>&1 || fail "pip install: $(tail -n 20 "$T/pip.log")"
grep -q "Successfully installed shmframe-1.4.0" "$T/pip.log" ||
	fail "pip did not say it installed shmframe 1.4.0: $(tail -n 5 "$T/pip.log")"

start_server
cat >"$T/client.py" <<'PY'
import sys, numpy as np, shmframe
assert shmframe.__file__.startswith(sys.prefix), shmframe.__file__
img = np.random.default_rng(7).integers(0, 256, (50, 70, 4), dtype=np.uint8)
with shmframe.connect(sys.argv[1], transport=sys.argv[2]) as conn:
    s = conn.create_surface(70, 50)
    f = s.acquire()
    f[:] = img
    s.present(f)
    del f
    same = np.array_equal(s.readback(), img)
    print(f"exact={int(same)} transport={conn.transport} from={shmframe.__file__}")
PY
for tr in shm socket; do
	run_client env -u PYTHONPATH "$T/venv/bin/python" "$T/client.py" "$SERVER_UNIX" "$tr"
	[ "$RC" -eq 0 ] || fail "the installed module on $tr exited $RC: $(tail -n 5 "$ERR_FILE")"
	expect exact=1
	note "$OUT"
done
finish
