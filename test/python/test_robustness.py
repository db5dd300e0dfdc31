"""What Python adds to the library's rules, held under pressure: threads,
the garbage collector inside a library callback, callbacks that raise,
and arrays still in use while the interpreter ends."""

import gc
import threading
import traceback

import numpy as np
import pytest

import shmframe
from conftest import run_python


def test_exit_while_a_thread_draws(server):
    """A daemon thread still writes into its array while the interpreter
    exits: the memory must stay mapped to the very end (a SIGSEGV at exit
    is the bug)."""
    code = f"""
import threading, time, shmframe
conn = shmframe.connect({server.addr!r}, transport="shm", shm="memfd")
s = conn.create_surface(1024, 1024)
arr = s.acquire()
def draw():
    n = 0
    while True:
        arr[:] = n & 255
        n += 1
threading.Thread(target=draw, daemon=True).start()
time.sleep(0.2)
print("exiting", flush=True)
"""
    for _ in range(3):
        r = run_python(code)
        assert r.returncode == 0 and "exiting" in r.stdout, r.stderr


@pytest.mark.parametrize("transport", ["shm", "socket"])
def test_threads_share_a_connection(server, transport):
    """Two threads drawing on their own surfaces and a third pumping
    round trips: the module serialises the library calls (one thread in
    the library at a time), so the connection never breaks."""
    with shmframe.connect(server.addr, transport=transport) as conn:
        a = conn.create_surface(128, 128)
        b = conn.create_surface(128, 128)
        errors = []

        def draw(s, value):
            try:
                for i in range(500):
                    f = s.acquire()
                    f[:2] = value
                    s.present(f, damage=(0, 0, 128, 2))
                    del f
            except Exception:
                errors.append(traceback.format_exc())

        def pump():
            try:
                for _ in range(500):
                    conn.roundtrip()
            except Exception:
                errors.append(traceback.format_exc())

        ts = [threading.Thread(target=draw, args=(a, 1)),
              threading.Thread(target=draw, args=(b, 2)),
              threading.Thread(target=pump)]
        for t in ts:
            t.start()
        for t in ts:
            t.join(60)
        assert not errors, errors[0]
        assert conn.error == 0
        assert (a.readback(0, 0, 128, 2) == 1).all()
        assert (b.readback(0, 0, 128, 2) == 2).all()


def test_gc_inside_a_callback_defers_destroy(server, monkeypatch):
    """A surface that only the garbage collector frees may be collected
    while a library callback runs (Python allocates there): its destroy
    must wait until the library call has returned, never re-enter it."""
    from shmframe import _lib, surface as surface_mod
    conn = shmframe.connect(server.addr, transport="shm")
    inside, destroyed = [], []
    real = _lib.surface_destroy

    def spy(ptr):
        destroyed.append(ptr)
        if conn._depth:
            inside.append(ptr)
        real(ptr)
    monkeypatch.setattr(surface_mod._lib, "surface_destroy", spy)
    try:
        for _ in range(20):
            surfaces = []
            for _ in range(10):
                s = conn.create_surface(32, 32)
                s._cycle = s            # only the collector frees it
                s.present(s.acquire())
                surfaces.append(s)
            del surfaces, s
            gc.set_threshold(1, 1, 1)
            conn.roundtrip()            # their PRESENTEDs arrive in there
            gc.set_threshold(700, 10, 10)
        gc.collect()
        conn.roundtrip()
        assert destroyed, "the test collected no surface"
        assert not inside, f"{len(inside)} destroys inside a library call"
    finally:
        conn.close()


def test_raising_callback_loses_nothing(server):
    """A callback that raises reaches the caller of whichever call
    delivered its event; the other events of that surface and of every
    other surface are still delivered by the next calls, and a buffer
    being acquired when a callback raises is not lost."""
    with shmframe.connect(server.addr, transport="shm", buffers=2) as conn:
        a = conn.create_surface(16, 16)
        b = conn.create_surface(16, 16)
        seen_b, raised = [], []

        def a_presented(e):
            if not raised:
                raised.append(e.serial)
                raise RuntimeError("once")
        a.on("presented", a_presented)
        b.on("presented", lambda e: seen_b.append(e.serial))

        def call(fn, *args):
            try:
                return fn(*args)
            except RuntimeError:
                return None
        f = a.acquire()
        a.present(f)
        del f
        serials_b = []
        for _ in range(5):
            f = call(b.acquire)
            while f is None:
                f = call(b.acquire)
            serials_b.append(b.present(f) if raised else call(b.present, f))
            del f
        call(conn.roundtrip)
        conn.roundtrip()
        assert raised, "the callback never ran"
        assert seen_b == serials_b

        # Raising while acquire() waited (or after a present): no buffer
        # is lost.  With two buffers, one latched by the server, a lost
        # one makes a later acquire fail with EDEADLK.
        a.on("presented", None)
        a.on("released", lambda e: 1 / 0)
        for _ in range(6):
            try:
                f = a.acquire()
            except ZeroDivisionError:
                continue
            try:
                a.present(f)
            except ZeroDivisionError:
                pass
            del f
        a.on("released", None)
        conn.roundtrip()
        assert not a._acquired, "a buffer acquired and lost"
        for _ in range(4):
            f = a.acquire()
            a.present(f)
            del f
        assert conn.error == 0
