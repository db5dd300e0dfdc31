"""A connection to a shmframe server."""

import atexit
import ctypes
import errno
import select
import threading
import time
import weakref

from . import _lib
from .errors import ShmframeError, from_return

_TRANSPORTS = {"auto": 0, "shm": 1, "socket": 2}
_SHM_KINDS = {"any": 0, "memfd": 1, "posix": 2, "sysv": 3}
_SIGNALS = {"auto": 0, "ring": 1, "socket": 2}
_COMPRESS = {"auto": 0, "none": 1, "lz4": 2, "zstd": 3}
_LEVELS = {0: "error", 1: "info", 2: "debug"}

_open = weakref.WeakSet()


def _choice(table, value, what):
    if value is None:
        return None
    try:
        return table[value]
    except (KeyError, TypeError):
        raise ValueError(f"{what} must be one of {', '.join(table)}, "
                         f"not {value!r}") from None


def _text(raw):
    return raw.decode("utf-8", "replace") if raw else ""


def connect(server=None, *, transport=None, shm=None, name=None,
            buffers=None, auth_file=None, signal=None, compress=None,
            log=None):
    """Connects to the server at server ("unix:/path", "tcp:HOST:PORT" or
    ":N"; None: $SHMFRAME_SERVER, else ":0") and shakes hands.

    transport: "auto" (shared memory when the probe passes, else the
    socket), "shm" (or fail with the probe's reason) or "socket"; None
    takes $SHMFRAME_TRANSPORT, else "auto".  shm: "any", "memfd", "posix"
    or "sysv".  buffers: per surface, 1..16 (default 3).  log: a callable
    log(level, message), level "error", "info" or "debug".

    Raises ShmframeError with the library's text when it fails.
    """
    opts = _lib.Options()
    _lib.options_init_sized(ctypes.byref(opts), ctypes.sizeof(opts))
    keep = []   # bytes the library reads during the call

    def text_arg(value, what):
        if value is None:
            return None
        if not isinstance(value, str) or "\0" in value:
            raise ValueError(f"{what} must be a string without NUL bytes")
        b = value.encode()
        keep.append(b)
        return b

    for field, table, value, what in (
            ("transport", _TRANSPORTS, transport, "transport"),
            ("shm", _SHM_KINDS, shm, "shm"),
            ("signal", _SIGNALS, signal, "signal"),
            ("compress", _COMPRESS, compress, "compress")):
        v = _choice(table, value, what)
        if v is not None:
            setattr(opts, field, v)
    if buffers is not None:
        if not isinstance(buffers, int) or not 1 <= buffers <= 16:
            raise ValueError(f"buffers must be 1..16, not {buffers!r}")
        opts.buffers = buffers
    opts.name = text_arg(name, "name")
    opts.auth_file = text_arg(auth_file, "auth_file")
    log_fn = None
    if log is not None:
        if not callable(log):
            raise TypeError("log must be callable")

        def log_cb(_data, level, msg):
            try:
                log(_LEVELS.get(level, str(level)), _text(msg))
            except Exception:   # never into the C library
                pass
        log_fn = _lib.LOG_FN(log_cb)
        opts.log = log_fn
    addr = text_arg(server, "server")
    ptr = _lib.connect_sized(addr, ctypes.byref(opts), ctypes.sizeof(opts))
    if not ptr:
        raise MemoryError("shmframe: no memory for a connection")
    err = _lib.conn_error(ptr)
    if err:
        text = _text(_lib.last_error(ptr)) or _text(_lib.strerror(err))
        _lib.disconnect(ptr)
        raise ShmframeError(-err, f"connect: {text}", True)
    return Connection(ptr, log_fn)


class Connection:
    """An open connection (from connect()).  Use it as a context manager,
    or call close().  Surfaces come from create_surface()."""

    def __init__(self, ptr, log_fn=None):
        self._ptr = ptr
        self._log_fn = log_fn     # the library calls it until disconnect
        self._closing = False
        self._pins = 0            # arrays alive over this connection's memory
        self._surfaces = weakref.WeakSet()
        self._pending = []        # surfaces with events to deliver
        # One thread in the library at a time (the C library's rule), and
        # never back into it from its own callbacks: a destroy that the
        # garbage collector or another thread asks for meanwhile waits in
        # _doomed until the call in progress has returned.
        self._lock = threading.RLock()
        self._depth = 0
        self._doomed = []
        self._pin_lock = threading.Lock()
        self._last_errno = 0
        _open.add(self)

    # ---- state ---------------------------------------------------------

    def _live(self):
        if self._closing or not self._ptr:
            raise ShmframeError(errno.EBADF, "the connection is closed")
        return self._ptr

    def _call(self, fn, *args):
        """fn(*args), a library call, under the connection's lock."""
        with self._lock:
            self._depth += 1
            try:
                ret = fn(*args)
                # Now, before a deferred destroy in _reap can change it.
                self._last_errno = ctypes.get_errno()
                return ret
            finally:
                self._depth -= 1
                if self._depth == 0:
                    self._reap()

    def _reap(self):
        while self._doomed:
            self._doomed.pop(0)()

    def _when_free(self, job):
        """Runs job (a destroy or disconnect) now when no library call is
        in progress on this connection, else once it has returned."""
        if self._lock.acquire(blocking=False):
            try:
                if self._depth == 0:
                    self._reap()
                    job()
                    return
                self._doomed.append(job)
            finally:
                self._lock.release()
        else:
            self._doomed.append(job)

    def _error(self, ret, what):
        with self._lock:
            return from_return(self._ptr, ret, what)

    def _check(self, ret, what):
        """Delivers events, then raises for a negative ret."""
        self._deliver()
        if ret < 0:
            raise self._error(ret, what)
        return ret

    @property
    def closed(self):
        return self._closing

    @property
    def error(self):
        """0 while the connection is usable, else the errno that broke it."""
        with self._lock:
            return -_lib.conn_error(self._ptr) if self._ptr else errno.EBADF

    @property
    def transport(self):
        """"shm/memfd", "shm/posix", "shm/sysv" or "socket"."""
        return _text(self._call(_lib.transport_name, self._live()))

    @property
    def transport_reason(self):
        """Why this transport: the probe's outcome for each kind tried."""
        return _text(self._call(_lib.transport_reason, self._live()))

    @property
    def signal_reason(self):
        return _text(self._call(_lib.signal_reason, self._live()))

    @property
    def compression_reason(self):
        return _text(self._call(_lib.compression_reason, self._live()))

    def stats(self):
        """What the frames cost so far, as a dict (struct shmframe_stats)."""
        s = _lib.Stats()
        self._check(self._call(_lib.get_stats_sized, self._live(),
                               ctypes.byref(s), ctypes.sizeof(s)), "stats")
        return {name: getattr(s, name) for name, _ in s._fields_}

    def fileno(self):
        """The socket to wait on for events (select, poll, selectors)."""
        return self._call(_lib.get_fd, self._live())

    # ---- events --------------------------------------------------------

    def dispatch(self):
        """Handles the events that have arrived, without blocking; returns
        how many."""
        return self._check(self._call(_lib.dispatch, self._live()),
                           "dispatch")

    def flush(self):
        """Writes queued requests; False when some are still queued."""
        ret = self._call(_lib.flush, self._live())
        if ret == -errno.EAGAIN:
            return False
        self._check(ret, "flush")
        return True

    def roundtrip(self):
        """Waits until the server has handled every earlier request."""
        self._check(self._call(_lib.roundtrip, self._live()), "roundtrip")

    def wait(self, timeout=None):
        """Waits up to timeout seconds (None: no limit) for events and
        handles them; returns how many."""
        fd = self.fileno()
        deadline = None if timeout is None else time.monotonic() + timeout
        while True:
            self.flush()
            n = self.dispatch()
            if n:
                return n
            left = None if deadline is None else deadline - time.monotonic()
            if left is not None and left <= 0:
                return 0
            select.select([fd], [], [], left)

    def _deliver(self):
        # A callback that raises ends the delivery; what it did not reach
        # stays pending for the next call, of this surface and the others.
        while self._pending:
            s = self._pending.pop(0)
            s._deliver()

    # ---- surfaces ------------------------------------------------------

    def create_surface(self, width, height, *, format="xrgb8888",
                       title=None):
        """A surface of width x height pixels; format "xrgb8888" or
        "argb8888" (bytes B, G, R, X/A in memory)."""
        from .surface import Surface
        return Surface._create(self, width, height, format, title)

    # ---- the end -------------------------------------------------------

    def close(self):
        """Closes the connection and its surfaces.  Arrays from acquire()
        keep the memory they show mapped: the library lets it go once the
        last of them is gone, so no array ever points at unmapped memory."""
        if self._closing:
            return
        self._closing = True
        for s in list(self._surfaces):
            s.destroy()
        self._maybe_disconnect()

    def _maybe_disconnect(self):
        if self._closing and self._pins == 0 and self._ptr:
            self._when_free(self._disconnect)

    def _disconnect(self):
        if self._pins or not self._ptr:
            return
        ptr, self._ptr = self._ptr, None
        for s in list(self._surfaces):
            s._ptr = None
        _lib.disconnect(ptr)
        self._log_fn = None

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.close()

    def __del__(self):
        try:
            self.close()
        except Exception:
            pass

    def __repr__(self):
        if self._closing:
            return "<shmframe.Connection closed>"
        return f"<shmframe.Connection {self.transport}>"


@atexit.register
def _close_all():
    # An orderly goodbye to the servers.  A connection whose memory an
    # array still shows is left to the exit itself (a thread may still
    # draw into it while the interpreter ends).
    for c in list(_open):
        if c._pins:
            continue
        try:
            c.close()
        except Exception:
            pass
