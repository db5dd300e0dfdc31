"""Fixtures of the Python module's tests: a real server of our own (its
private runtime directory, socket and cookie), and the accounting of fds
and shared-memory segments before and after.

Environment (set by CTest): SF_SERVER (shmframe-server), SF_INPUT
(shmframe-input), SHMFRAME_LIBRARY (the libshmframe under test), and
PYTHONPATH naming client/python.
"""

import os
import subprocess
import sys
import tempfile
import time

import pytest

SERVER = os.environ["SF_SERVER"]


def devshm_names():
    """Our POSIX segments in /dev/shm (those of other programs are not
    ours to count)."""
    return {n for n in os.listdir("/dev/shm") if n.startswith("shmframe-")}


def sysv_ids():
    with open("/proc/sysvipc/shm") as f:
        next(f)
        return {line.split()[1] for line in f}


def fd_count(pid="self"):
    return len(os.listdir(f"/proc/{pid}/fd"))


class Server:
    def __init__(self, tmp, *args):
        self.tmp = tmp
        self.run = os.path.join(tmp, "run")
        os.mkdir(self.run, 0o700)
        self.sock = os.path.join(tmp, "sock")
        self.addr = "unix:" + self.sock
        self.env = dict(os.environ, XDG_RUNTIME_DIR=self.run,
                        SHMFRAME_AUTH=os.path.join(tmp, "cookie"))
        self.env.pop("SHMFRAME_SERVER", None)
        self.env.pop("SHMFRAME_TRANSPORT", None)
        self.out = open(os.path.join(tmp, "server.out"), "w+")
        self.log = open(os.path.join(tmp, "server.log"), "w+")
        self.proc = subprocess.Popen(
            [SERVER, "--listen", self.addr, "--listen", "tcp:127.0.0.1:0",
             "--display", "none", *args],
            stdout=self.out, stderr=self.log, env=self.env)
        for _ in range(200):
            self.out.seek(0)
            line = self.out.read()
            if line.startswith("ready"):
                break
            if self.proc.poll() is not None:
                raise RuntimeError("server exited: " + self.log_text())
            time.sleep(0.05)
        else:
            raise RuntimeError("server not ready after 10 s")
        self.tcp = next(w.split("=", 1)[1] for w in line.split()
                        if w.startswith("listen=tcp:"))
        self.input = os.path.join(tmp, "sock.input")
        self.fds = fd_count(self.proc.pid)

    def log_text(self):
        self.log.seek(0)
        return self.log.read()

    def alive(self):
        return self.proc.poll() is None

    def settle_fds(self):
        """The server's fd count once it noticed the clients that left
        (at most 5 s)."""
        for _ in range(100):
            n = fd_count(self.proc.pid)
            if n == self.fds:
                return n
            time.sleep(0.05)
        return n

    def stop(self):
        self.proc.terminate()
        rc = self.proc.wait(30)
        self.out.close()
        self.log.close()
        return rc


@pytest.fixture
def server(monkeypatch):
    """A server for one test; at its end the server must be alive, hold
    the fds it had once ready, and no segment of ours may be left."""
    shm0, sysv0 = devshm_names(), sysv_ids()
    with tempfile.TemporaryDirectory(prefix="shmframe-py.") as tmp:
        s = Server(tmp)
        for k in ("XDG_RUNTIME_DIR", "SHMFRAME_AUTH"):
            monkeypatch.setenv(k, s.env[k])
        for k in ("SHMFRAME_SERVER", "SHMFRAME_TRANSPORT"):
            monkeypatch.delenv(k, raising=False)
        try:
            yield s
            assert s.alive(), "the server died: " + s.log_text()
            assert s.settle_fds() == s.fds, "the server leaks fds"
            assert devshm_names() - shm0 == set(), "segments left in /dev/shm"
            assert sysv_ids() - sysv0 == set(), "System V segments left"
        finally:
            rc = s.stop()
        assert rc == 0, f"server exited {rc} on SIGTERM"


# transport name -> connect() arguments and what conn.transport says
MODES = {
    "memfd": (dict(transport="shm", shm="memfd"), "shm/memfd"),
    "posix": (dict(transport="shm", shm="posix"), "shm/posix"),
    "sysv": (dict(transport="shm", shm="sysv"), "shm/sysv"),
    "socket": (dict(transport="socket"), "socket"),
}


def run_python(code, env=None, timeout=60):
    """Runs code in a new interpreter (this one), as a separate client."""
    return subprocess.run([sys.executable, "-c", code], env=env,
                          capture_output=True, text=True, timeout=timeout)
