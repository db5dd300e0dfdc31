"""A bad argument raises, with a text saying what was wrong, and the
connection lives: the next frame still round trips exactly."""

import errno
import re

import numpy as np
import pytest

import shmframe


def still_works(conn, s):
    assert conn.error == 0
    conn.roundtrip()
    img = np.full((s.height, s.width, 4), 77, np.uint8)
    frame = s.acquire()
    frame[:] = img
    s.present(frame)
    assert np.array_equal(s.readback(), img)


@pytest.mark.parametrize("transport", ["shm", "socket"])
def test_bad_arguments_leave_the_connection_usable(server, transport):
    with shmframe.connect(server.addr, transport=transport) as conn:
        s = conn.create_surface(40, 30)
        frame = s.acquire()
        bad_damage = [
            ((0, 0, 41, 1), ValueError, "not inside the 40x30"),
            ((39, 29, 2, 1), ValueError, "not inside"),
            ((-1, 0, 1, 1), ValueError, "0..4294967295"),
            ((0, 0, 1.5, 1), TypeError, "integer"),
            ([(0, 0, 1)], ValueError, "(x, y, width, height)"),
            ([], ValueError, "empty"),
        ]
        for damage, exc, text in bad_damage:
            with pytest.raises(exc, match=re.escape(text)):
                s.present(frame, damage=damage)
        # The buffer is still ours after each refusal.
        s.present(frame, damage=(0, 0, 40, 30))
        with pytest.raises(ValueError, match="not an array that acquire"):
            s.present(frame)        # presented already
        with pytest.raises(ValueError, match="not an array that acquire"):
            s.present(np.zeros((30, 40, 4), np.uint8))
        with pytest.raises(TypeError):
            s.present([1, 2, 3])
        with pytest.raises(ValueError, match="out must be"):
            s.readback(out=np.zeros((30, 40, 3), np.uint8))
        with pytest.raises(shmframe.ShmframeError) as e:
            s.readback(30, 0, 20, 1)    # beyond the right edge
        assert e.value.errno == errno.EINVAL and not e.value.connection_broken
        with pytest.raises(ValueError, match="mode must be"):
            s.set_present_mode("sideways")
        with pytest.raises(shmframe.ShmframeError) as e:
            s.select_input(1 << 20)
        assert e.value.errno == errno.EINVAL
        with pytest.raises(ValueError, match="kind must be"):
            s.on("explode", print)
        del frame
        still_works(conn, s)
        # A surface the server refuses (0 wide) raises; the connection
        # and the other surface live on.
        with pytest.raises((shmframe.ShmframeError, ValueError)):
            conn.create_surface(0, 10)
        with pytest.raises(ValueError, match="format"):
            conn.create_surface(10, 10, format="rgb565")
        still_works(conn, s)


def test_acquire_more_than_exist(server):
    with shmframe.connect(server.addr, buffers=2) as conn:
        s = conn.create_surface(16, 16)
        a, b = s.acquire(), s.acquire()
        assert s.acquire(block=False) is None
        with pytest.raises(shmframe.ShmframeError) as e:
            s.acquire()                 # would wait forever
        assert e.value.errno == errno.EDEADLK
        s.discard(a)
        s.present(b)
        del a, b
        still_works(conn, s)


def test_resize_refuses_live_arrays(server):
    with shmframe.connect(server.addr) as conn:
        s = conn.create_surface(16, 16)
        frame = s.acquire()
        s.present(frame)
        with pytest.raises(BufferError, match="del them"):
            s.resize(32, 8)
        del frame
        s.resize(32, 8)
        assert (s.width, s.height) == (32, 8)
        still_works(conn, s)


def test_bad_options_and_servers(server, tmp_path):
    for kwargs, text in ((dict(transport="carrier-pigeon"), "transport"),
                         (dict(shm="nfs"), "shm"),
                         (dict(buffers=0), "buffers"),
                         (dict(buffers=17), "buffers"),
                         (dict(name="a\0b"), "NUL")):
        with pytest.raises(ValueError, match=text):
            shmframe.connect(server.addr, **kwargs)
    # No server there: the library's own text.
    with pytest.raises(shmframe.ShmframeError) as e:
        shmframe.connect("unix:" + str(tmp_path / "nobody"))
    assert e.value.connection_broken
    assert "connect:" in str(e.value) and len(str(e.value)) > 10
    with pytest.raises(shmframe.ShmframeError):
        shmframe.connect("bogus-address")
    # And the server still serves.
    with shmframe.connect(server.addr) as conn:
        still_works(conn, conn.create_surface(8, 8))


def test_closed_objects_raise(server):
    conn = shmframe.connect(server.addr)
    s = conn.create_surface(8, 8)
    s.destroy()
    with pytest.raises(shmframe.ShmframeError, match="destroyed"):
        s.acquire()
    conn.close()
    with pytest.raises(shmframe.ShmframeError, match="closed"):
        conn.roundtrip()
    with pytest.raises(shmframe.ShmframeError, match="closed"):
        conn.create_surface(8, 8)
    conn.close()    # twice is fine
