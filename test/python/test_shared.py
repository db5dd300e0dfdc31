"""The array acquire() returns is the shared buffer itself: no copy on
the way in, strides as the library lays the rows out."""

import ctypes

import numpy as np
import pytest

import shmframe
from shmframe import _lib


@pytest.mark.parametrize("kind", ["memfd", "posix", "sysv"])
def test_write_shows_without_present(server, kind):
    """Latch mode keeps the presented buffer as the surface's content, so
    a write into the array after present (which a real client must not
    do) shows up in the server's readback with no present and no copy
    call: the array's memory is the memory the server reads."""
    with shmframe.connect(server.addr, transport="shm", shm=kind) as conn:
        s = conn.create_surface(64, 32)
        frame = s.acquire()
        frame[:] = 10
        s.present(frame)
        conn.roundtrip()
        assert (s.readback() == 10).all()
        frame[5:9, 7:20] = (1, 2, 3, 4)
        got = s.readback()
        assert (got[5:9, 7:20] == (1, 2, 3, 4)).all()
        got[5:9, 7:20] = 10
        assert (got == 10).all()


def test_array_is_the_buffer(server):
    with shmframe.connect(server.addr, transport="shm", buffers=1) as conn:
        s = conn.create_surface(301, 9)
        s.set_present_mode("copy")
        frame = s.acquire()
        assert frame.shape == (9, 301, 4) and frame.dtype == np.uint8
        assert frame.flags.writeable and not frame.flags.owndata
        # The very address and row stride of the library's buffer.
        buf = s._acquired[frame.ctypes.data]
        stride = ctypes.c_uint32()
        addr = _lib.buffer_pixels(buf, ctypes.byref(stride))
        assert frame.ctypes.data == addr
        assert frame.strides == (stride.value, 4, 1)
        s.present(frame)
        # One buffer: the next acquire is the same memory again.
        again = s.acquire()
        assert again.ctypes.data == addr
        assert np.shares_memory(frame, again)
        s.discard(again)


def test_arrays_keep_memory_mapped(server):
    """Closing while arrays are alive defers the unmapping until the last
    one goes: writing into them never touches unmapped memory (a
    crash here is the bug), and then everything is released."""
    from conftest import fd_count
    fds = fd_count()
    conn = shmframe.connect(server.addr, transport="shm", shm="memfd")
    s = conn.create_surface(128, 128)
    frame = s.acquire()
    view = frame[10:20]
    conn.close()
    assert conn.closed
    with pytest.raises(shmframe.ShmframeError):
        s.acquire()
    frame[:] = 200
    view[:] = 1
    assert fd_count() > fds, "memory released under a live array"
    del frame
    assert fd_count() > fds, "memory released under a live view"
    del view
    assert fd_count() == fds, "the connection's fds are not all closed"
