"""Pixel-exact round trips from numpy on each transport: what a client
writes into the array acquire() gives is what the server holds, byte for
byte, whole frames and damaged parts, at sizes whose rows are not a
round number of bytes."""

import numpy as np
import pytest

import shmframe
from conftest import MODES


def random_image(rng, h, w):
    return rng.integers(0, 256, (h, w, 4), dtype=np.uint8)


@pytest.mark.parametrize("mode", list(MODES))
@pytest.mark.parametrize("fmt", ["xrgb8888", "argb8888"])
def test_whole_frames(server, mode, fmt):
    kwargs, want = MODES[mode]
    rng = np.random.default_rng(1)
    with shmframe.connect(server.addr, **kwargs) as conn:
        assert conn.transport == want, conn.transport_reason
        s = conn.create_surface(333, 77, format=fmt)
        for i in range(5):   # more frames than buffers: each one comes back
            img = random_image(rng, 77, 333)
            frame = s.acquire()
            frame[:] = img
            s.present(frame)
            del frame
            assert np.array_equal(s.readback(), img), f"frame {i}"


@pytest.mark.parametrize("mode", list(MODES))
def test_damage(server, mode):
    """Only the damaged rectangles change; over the socket only they are
    sent, so the rest must stay what the frame before was."""
    kwargs, want = MODES[mode]
    rng = np.random.default_rng(2)
    with shmframe.connect(server.addr, buffers=2, **kwargs) as conn:
        assert conn.transport == want
        s = conn.create_surface(200, 120)
        ref = random_image(rng, 120, 200)
        frame = s.acquire()
        frame[:] = ref
        s.present(frame)
        for i in range(6):
            frame = s.acquire()
            # A latched buffer holds an older frame: bring it up to date
            # as a client keeping its own copy would.
            frame[:] = ref
            rects = [(10 * i, 5, 30, 20), (150, 100 - i, 50, 20)]
            for x, y, w, h in rects:
                patch = random_image(rng, h, w)
                frame[y:y + h, x:x + w] = patch
                ref[y:y + h, x:x + w] = patch
            s.present(frame, damage=rects)
            del frame
            assert np.array_equal(s.readback(), ref), f"frame {i}"
        # A part of the surface, into an array of our own with wide rows.
        out = np.zeros((40, 64 + 16, 4), np.uint8)[:, :64]
        s.readback(30, 50, 64, 40, out=out)
        assert np.array_equal(out, ref[50:90, 30:94])


def test_tcp(server):
    """TCP with the cookie (auto: shm when the probe proves the server
    shares memory, else the socket): the same bytes either way."""
    rng = np.random.default_rng(3)
    with shmframe.connect(server.tcp) as conn:
        assert conn.transport in ("shm/memfd", "shm/posix", "shm/sysv",
                                  "socket")
        s = conn.create_surface(97, 31)
        img = random_image(rng, 31, 97)
        frame = s.acquire()
        frame[:] = img
        s.present(frame)
        assert np.array_equal(s.readback(), img)
