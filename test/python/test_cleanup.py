"""No fd or segment is left once the interpreter exits: closed or not,
with arrays alive at exit, or killed in the middle of a frame.  The
server fixture counts the server's fds and our /dev/shm names and
System V segments before and after each test."""

import os
import signal
import subprocess
import sys
import time

import pytest

from conftest import run_python

CLIENT = """
import os, sys, numpy as np, shmframe
fds0 = len(os.listdir("/proc/self/fd"))
conn = shmframe.connect({addr!r}, transport={tr!r}, shm={kind!r})
surfaces = [conn.create_surface(256, 128 + i) for i in range(3)]
arrays = []
for s in surfaces:
    for i in range(4):
        f = s.acquire()
        f[:] = i
        s.present(f, damage=(0, 0, 16, 16))
    arrays.append(s.acquire())     # acquired, never presented
conn.roundtrip()
print("transport", conn.transport, flush=True)
{ending}
"""

ENDINGS = {
    # A tidy program.
    "close": ("del arrays, f\nconn.close()\n"
              "assert len(os.listdir('/proc/self/fd')) == fds0, 'fds kept'"),
    # Arrays alive, connection open: left to the interpreter's exit.
    "exit": "sys.exit(0)",
    # Without even the interpreter's teardown.
    "os_exit": "os._exit(0)",
    # An exception escapes with everything open.
    "raise": "raise SystemExit('bye')",
}


@pytest.mark.parametrize("kind", ["memfd", "posix", "sysv"])
@pytest.mark.parametrize("ending", list(ENDINGS))
def test_interpreter_exit(server, kind, ending):
    code = CLIENT.format(addr=server.addr, tr="shm", kind=kind,
                         ending=ENDINGS[ending])
    r = run_python(code)
    assert f"transport shm/{kind}" in r.stdout, r.stderr
    assert "Traceback" not in r.stderr, r.stderr
    # A crash at exit (a signal: negative) is a failure too.
    assert r.returncode == (1 if ending == "raise" else 0), r.stderr


def test_socket_exit(server):
    r = run_python(CLIENT.format(addr=server.addr, tr="socket", kind="any",
                                 ending=ENDINGS["exit"]))
    assert "transport socket" in r.stdout, r.stderr
    assert r.returncode == 0, r.stderr


@pytest.mark.parametrize("kind", ["memfd", "posix", "sysv"])
def test_killed_mid_frame(server, kind):
    """SIGKILL while drawing into an acquired buffer, frames in flight."""
    code = f"""
import numpy as np, shmframe
conn = shmframe.connect({server.addr!r}, transport="shm", shm={kind!r})
s = conn.create_surface(640, 480)
print("drawing", flush=True)
n = 0
while True:
    f = s.acquire()
    f[:] = n & 255
    s.present(f)
    n += 1
"""
    p = subprocess.Popen([sys.executable, "-c", code], stdout=subprocess.PIPE,
                         text=True)
    assert p.stdout.readline().strip() == "drawing"
    time.sleep(0.3)
    p.send_signal(signal.SIGKILL)
    assert p.wait(10) == -signal.SIGKILL


def test_own_fds_after_close(server):
    """In the same interpreter: close() gives back every fd it made."""
    import shmframe
    from conftest import fd_count
    before = fd_count()
    for kind in ("memfd", "posix", "sysv"):
        with shmframe.connect(server.addr, transport="shm", shm=kind) as c:
            s = c.create_surface(64, 64)
            f = s.acquire()
            s.present(f)
            del f
    assert fd_count() == before
