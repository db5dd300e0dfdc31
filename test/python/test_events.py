"""Events as callbacks and as an iterator, from real input: the server's
input socket (shmframe-input, as a viewer's window would send it) and
the server's own PRESENTED and RELEASE."""

import os
import subprocess

import pytest

import shmframe

INPUT = os.environ["SF_INPUT"]


def send_input(server, *cmd):
    r = subprocess.run([INPUT, "--socket", server.input, "--surface",
                        "events", *cmd], capture_output=True, text=True,
                       timeout=30)
    assert r.returncode == 0, r.stderr


def collect_until(s, kinds, timeout=10):
    """Events until one of each kind in kinds came (or timeout)."""
    got, want = [], set(kinds)
    for e in s.events(timeout=timeout):
        got.append(e)
        want.discard(e.kind)
        if not want:
            break
    return got


@pytest.mark.parametrize("transport", ["shm", "socket"])
def test_input_iterator(server, transport):
    with shmframe.connect(server.addr, transport=transport) as conn:
        s = conn.create_surface(100, 50, title="events")
        s.select_input(shmframe.KEY | shmframe.POINTER_MOTION |
                       shmframe.POINTER_BUTTON | shmframe.POINTER_CROSSING)
        conn.roundtrip()
        send_input(server, "key", "a", "--mods", "shift", "--text", "A")
        send_input(server, "move", "5", "5")          # enters
        send_input(server, "move", "10.5", "20.25")
        send_input(server, "button", "1", "press")
        got = collect_until(s, ["key", "pointer_enter", "pointer_motion",
                                "pointer_button"])
        keys = [e for e in got if e.kind == "key"]
        assert len(keys) == 2, got
        press, release = keys
        assert press.pressed and not release.pressed
        assert press.keycode == 4 and press.text == "A"
        assert press.modifiers & shmframe.MOD_SHIFT
        enter = [e for e in got if e.kind == "pointer_enter"]
        assert enter and (enter[0].x, enter[0].y) == (5, 5), got
        motion = [e for e in got if e.kind == "pointer_motion"]
        assert motion and (motion[0].x, motion[0].y) == (10.5, 20.25), got
        button = [e for e in got if e.kind == "pointer_button"]
        assert button and button[0].button == shmframe.BUTTON_LEFT, got
        assert button[0].pressed


def test_callbacks_and_presented(server):
    with shmframe.connect(server.addr, transport="shm", buffers=2) as conn:
        s = conn.create_surface(32, 32, title="events")
        presented, released = [], []
        s.on("presented", presented.append)
        s.on("released", lambda e: released.append(e.serial))
        serials = []
        for i in range(4):
            f = s.acquire()
            f[:] = i
            serials.append(s.present(f))
            del f
        conn.roundtrip()
        assert [e.serial for e in presented] == serials
        assert all(e.time_ns > 0 and not e.discarded for e in presented)
        # Latching: each frame's buffer comes back when the next replaces it.
        assert released == serials[:-1]
        assert list(s.events()) == []    # all went to the callbacks

        # An exception in a callback reaches the caller of the library
        # call that received the event, and the connection lives.
        def boom(e):
            raise RuntimeError(f"boom {e.serial}")
        s.on("presented", boom)
        f = s.acquire()
        serial = s.present(f)
        del f
        with pytest.raises(RuntimeError, match=f"boom {serial}"):
            conn.roundtrip()
        s.on("presented", None)
        conn.roundtrip()
        assert conn.error == 0
