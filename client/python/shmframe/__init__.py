"""shmframe: stream numpy images to a shmframe display server.

    import shmframe
    with shmframe.connect() as conn:
        surface = conn.create_surface(640, 480, title="demo")
        frame = surface.acquire()      # the shared buffer, as numpy
        frame[:] = (255, 0, 0, 255)    # B, G, R, A: blue
        surface.present(frame)

acquire() returns the shared buffer itself (no copy); present() sends
only a small message over shared memory, or the damaged pixels over the
socket when the two processes do not share memory (conn.transport and
conn.transport_reason say which, and why).
"""

from ._lib import lib as _cdll, version as _version
from .connection import Connection, connect
from .errors import ShmframeError
from .events import (ALL, BUTTON_LEFT, BUTTON_MIDDLE, BUTTON_RIGHT,
                     CONFIGURE, FOCUS, KEY, MOD_ALT, MOD_ALTGR,
                     MOD_CAPS_LOCK, MOD_CTRL, MOD_NUM_LOCK, MOD_SHIFT,
                     MOD_SUPER, POINTER_AXIS, POINTER_BUTTON,
                     POINTER_CROSSING, POINTER_MOTION)
from .surface import Surface

__version__ = "1.4.0"
library_version = _version().decode()

__all__ = ["connect", "Connection", "Surface", "ShmframeError",
           "library_version", "KEY", "POINTER_MOTION", "POINTER_BUTTON",
           "POINTER_AXIS", "POINTER_CROSSING", "FOCUS", "CONFIGURE", "ALL",
           "MOD_SHIFT", "MOD_CTRL", "MOD_ALT", "MOD_SUPER", "MOD_CAPS_LOCK",
           "MOD_NUM_LOCK", "MOD_ALTGR", "BUTTON_LEFT", "BUTTON_MIDDLE",
           "BUTTON_RIGHT"]
