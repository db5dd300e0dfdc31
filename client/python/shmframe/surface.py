"""A surface: its buffers as numpy arrays over the shared memory, presents
with damage, readback, and its events."""

import collections
import ctypes
import errno
import select
import time
import weakref

import numpy

from . import _lib, listener
from .errors import ShmframeError, from_errno

_FORMATS = {"argb8888": 1, "xrgb8888": 2}
_MODES = {"latch": 0, "copy": 1}
QUEUE_MAX = 1024   # events kept for events() when nobody reads them


class _Pixels:
    """The base of an array that acquire() returns: numpy reads the
    buffer's address, shape and strides from it, and while it lives its
    surface keeps that memory mapped."""

    __slots__ = ("__array_interface__", "__weakref__")

    def __init__(self, surface, addr, width, height, stride):
        self.__array_interface__ = {
            "version": 3, "typestr": "|u1", "data": (addr, False),
            "shape": (height, width, 4), "strides": (stride, 4, 1)}
        surface._pin()
        # Not at exit: the memory stays mapped until the process is gone.
        weakref.finalize(self, surface._unpin).atexit = False


def _uint(value, what):
    if isinstance(value, bool) or not isinstance(value, (int, numpy.integer)):
        raise TypeError(f"{what} must be an integer, not {value!r}")
    value = int(value)
    if not 0 <= value <= 0xffffffff:
        raise ValueError(f"{what} must be 0..4294967295, not {value}")
    return value


def _rects(damage):
    """damage: None (the whole surface), one (x, y, width, height) or a
    sequence of them."""
    if damage is None:
        return None, 0
    items = list(damage)
    if len(items) == 4 and all(not hasattr(v, "__len__") for v in items):
        items = [items]
    if not items:
        raise ValueError("damage is empty: pass None for the whole surface")
    rects = (_lib.Rect * len(items))()
    for i, r in enumerate(items):
        try:
            x, y, w, h = r
        except (TypeError, ValueError):
            raise ValueError("damage: each rectangle is (x, y, width, "
                             f"height), not {r!r}") from None
        rects[i] = _lib.Rect(_uint(x, "damage x"), _uint(y, "damage y"),
                             _uint(w, "damage width"),
                             _uint(h, "damage height"))
    return rects, len(items)


class Surface:
    """A window's worth of pixels on the server (from
    Connection.create_surface())."""

    @classmethod
    def _create(cls, conn, width, height, fmt, title):
        width = _uint(width, "width")
        height = _uint(height, "height")
        if fmt not in _FORMATS:
            raise ValueError(f"format must be one of {', '.join(_FORMATS)}")
        if title is not None and (not isinstance(title, str) or
                                  "\0" in title):
            raise ValueError("title must be a string without NUL bytes")
        with conn._lock:
            ptr = conn._call(_lib.surface_create, conn._live(), width, height,
                             _FORMATS[fmt], title.encode() if title else None)
            exc = None if ptr else from_errno(conn, "create_surface")
            s = cls(conn, ptr, fmt) if ptr else None
        conn._deliver()
        if exc:
            raise exc
        return s

    def __init__(self, conn, ptr, fmt):
        self._conn = conn
        self._ptr = ptr
        self.format = fmt
        self._acquired = {}      # pixel address -> buffer of the library
        self._pins = 0           # arrays alive over this surface's memory
        self._destroying = False
        self._events = []        # pushed by the listener during a call
        self._queue = collections.deque()
        self._callbacks = {}
        self.events_dropped = 0
        self._listener = listener.make(self._push)
        conn._call(_lib.set_listener_sized, ptr, ctypes.byref(self._listener),
                   listener.SIZE, None)
        conn._surfaces.add(self)

    # ---- state ---------------------------------------------------------

    def _live(self):
        if self._destroying or not self._ptr:
            raise ShmframeError(errno.EBADF, "the surface is destroyed")
        self._conn._live()
        return self._ptr

    @property
    def width(self):
        return self._conn._call(_lib.surface_width, self._live())

    @property
    def height(self):
        return self._conn._call(_lib.surface_height, self._live())

    @property
    def closed(self):
        """True once the viewer's window was closed."""
        return bool(self._conn._call(_lib.surface_closed, self._live()))

    @property
    def connection(self):
        return self._conn

    # ---- buffers -------------------------------------------------------

    def acquire(self, block=True):
        """A free buffer as a writable uint8 array of shape (height, width,
        4), bytes B, G, R, X/A: the shared buffer itself, no copy (its row
        stride is the buffer's).  Waits for the server to release one
        unless block is False (then None when all are busy)."""
        conn = self._conn
        with conn._lock:
            ptr = self._live()
            buf = conn._call(_lib.acquire if block else _lib.try_acquire, ptr)
            exc = None if buf else from_errno(conn, "acquire")
        # The events that came while waiting, before the buffer is
        # anyone's: when a callback raises, the buffer goes back.
        try:
            conn._deliver()
        except BaseException:
            if buf:
                with conn._lock:
                    if self._ptr:
                        conn._call(_lib.buffer_discard, self._ptr, buf)
            raise
        if exc:
            if not block and exc.errno == errno.EAGAIN:
                return None
            raise exc
        with conn._lock:
            ptr = self._live()
            stride = ctypes.c_uint32()
            addr = conn._call(_lib.buffer_pixels, buf, ctypes.byref(stride))
            self._acquired[addr] = buf
            holder = _Pixels(self, addr, _lib.surface_width(ptr),
                             _lib.surface_height(ptr), stride.value)
        return numpy.asarray(holder)

    def _buffer_of(self, array, w, h):
        if array is None:
            if len(self._acquired) != 1:
                raise ValueError("name the array to present: "
                                 f"{len(self._acquired)} are acquired")
            return next(iter(self._acquired.items()))
        if not isinstance(array, numpy.ndarray):
            raise TypeError("expected an array from acquire()")
        addr = array.__array_interface__["data"][0]
        buf = self._acquired.get(addr)
        if buf is None or array.shape != (h, w, 4):
            raise ValueError("not an array that acquire() returned and "
                             "that is not yet presented or discarded")
        return addr, buf

    def present(self, array=None, damage=None):
        """Shows the acquired array (the only one acquired when None) as
        the surface's new content; damage lists the (x, y, width, height)
        rectangles that changed (None: all).  Returns the frame's serial.
        Do not write to the array until acquire() returns it again."""
        ptr = self._live()
        w, h = self.width, self.height
        addr, buf = self._buffer_of(array, w, h)
        rects, n = _rects(damage)
        for r in rects or ():
            if r.x + r.width > w or r.y + r.height > h:
                raise ValueError(f"damage ({r.x}, {r.y}, {r.width}, "
                                 f"{r.height}) is not inside the {w}x{h} "
                                 "surface")
        serial = ctypes.c_uint32()
        ret = self._conn._call(_lib.present, ptr, buf, rects, n,
                               ctypes.byref(serial))
        if ret >= 0:
            del self._acquired[addr]
        self._conn._check(ret, "present")
        return serial.value

    def discard(self, array=None):
        """Gives an acquired array back unpresented."""
        ptr = self._live()
        addr, buf = self._buffer_of(array, self.width, self.height)
        self._conn._call(_lib.buffer_discard, ptr, buf)
        del self._acquired[addr]

    def readback(self, x=0, y=0, width=None, height=None, out=None):
        """What the server holds for the rectangle, as a new (height,
        width, 4) uint8 array, or into out (such an array, rows of any
        stride)."""
        ptr = self._live()
        x, y = _uint(x, "x"), _uint(y, "y")
        width = self.width - x if width is None else width
        height = self.height - y if height is None else height
        width, height = _uint(width, "width"), _uint(height, "height")
        if out is None:
            out = numpy.empty((height, width, 4), numpy.uint8)
        elif (not isinstance(out, numpy.ndarray) or out.dtype != numpy.uint8
              or out.shape != (height, width, 4) or out.strides[1:] != (4, 1)
              or not width * 4 <= out.strides[0] <= 0xffffffff
              or not out.flags.writeable):
            raise ValueError(f"out must be a writable uint8 array of shape "
                             f"({height}, {width}, 4) with packed rows")
        ret = self._conn._call(_lib.readback, ptr, x, y, width, height,
                               out.__array_interface__["data"][0],
                               out.strides[0])
        self._conn._check(ret, "readback")
        return out

    # ---- settings ------------------------------------------------------

    def set_present_mode(self, mode):
        """"latch" (the server keeps the buffer until the next frame) or
        "copy" (it copies and releases at once; works with one buffer)."""
        if mode not in _MODES:
            raise ValueError(f"mode must be one of {', '.join(_MODES)}")
        self._conn._check(self._conn._call(_lib.set_present_mode,
                                           self._live(), _MODES[mode]),
                          "set_present_mode")

    def select_input(self, mask):
        """The events to get (shmframe.KEY | shmframe.CONFIGURE ...)."""
        self._conn._check(self._conn._call(_lib.select_input, self._live(),
                                           _uint(mask, "mask")),
                          "select_input")

    def resize(self, width, height, serial=0):
        """New buffers of width x height.  The old buffers' memory goes,
        so no array of them may be alive (del them first)."""
        ptr = self._live()
        if self._pins:
            raise BufferError(f"{self._pins} array(s) of the old buffers "
                              "still alive: del them before resize()")
        ret = self._conn._call(_lib.surface_resize, ptr,
                               _uint(width, "width"),
                                  _uint(height, "height"),
                                  _uint(serial, "serial"))
        self._conn._check(ret, "resize")

    # ---- events --------------------------------------------------------

    def on(self, kind, callback):
        """Calls callback(event) for every event of kind ("presented",
        "released", "closed", "key", "pointer_motion", "pointer_button",
        "pointer_axis", "pointer_enter", "pointer_leave", "focus",
        "configure"); None removes it.  Events without a callback wait for
        events().  Callbacks run after the library call that received the
        event returned (acquire, dispatch, roundtrip...), so they may
        present, acquire or raise."""
        from .events import KINDS
        if kind not in KINDS:
            raise ValueError(f"kind must be one of {', '.join(KINDS)}")
        if callback is None:
            self._callbacks.pop(kind, None)
        elif not callable(callback):
            raise TypeError("callback must be callable")
        else:
            self._callbacks[kind] = callback

    def events(self, timeout=0):
        """Iterates over the events received (those without a callback),
        waiting up to timeout seconds (None: no limit) for the next one;
        ends when none came in time."""
        deadline = None if timeout is None else time.monotonic() + timeout
        while True:
            while self._queue:
                yield self._queue.popleft()
            conn = self._conn
            conn.flush()
            if conn.dispatch() and self._queue:
                continue
            left = None if deadline is None else deadline - time.monotonic()
            if left is not None and left <= 0:
                return
            select.select([conn.fileno()], [], [], left)

    def _push(self, event):
        if not self._events:
            self._conn._pending.append(self)
        self._events.append(event)

    def _deliver(self):
        try:
            while self._events:
                e = self._events.pop(0)
                cb = self._callbacks.get(e.kind)
                if cb is not None:
                    cb(e)
                else:
                    if len(self._queue) >= QUEUE_MAX:
                        self._queue.popleft()
                        self.events_dropped += 1
                    self._queue.append(e)
        except BaseException:
            # The rest waits for the next call.
            if self._events and self not in self._conn._pending:
                self._conn._pending.insert(0, self)
            raise

    # ---- the end -------------------------------------------------------

    def _pin(self):
        with self._conn._pin_lock:
            self._pins += 1
            self._conn._pins += 1

    def _unpin(self):
        # May run in any thread, whenever the last reference to an array
        # goes (the garbage collector, inside a library callback too).
        with self._conn._pin_lock:
            self._pins -= 1
            self._conn._pins -= 1
            last = self._pins == 0
        if last:
            self._maybe_destroy()
        self._conn._maybe_disconnect()

    def destroy(self):
        """Destroys the surface.  Arrays from acquire() keep its memory
        mapped until the last of them is gone."""
        self._destroying = True
        self._maybe_destroy()

    def _maybe_destroy(self):
        if self._destroying and self._pins == 0 and self._ptr:
            self._conn._when_free(self._destroy_now)

    def _destroy_now(self):
        if self._pins or not self._ptr:
            return
        ptr, self._ptr = self._ptr, None
        self._acquired.clear()
        if self._conn._ptr:
            _lib.surface_destroy(ptr)

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.destroy()

    def __del__(self):
        try:
            self.destroy()
        except Exception:
            pass
