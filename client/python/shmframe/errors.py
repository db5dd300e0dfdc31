"""Errors as exceptions carrying the library's text."""

import errno as _errno
import os

from . import _lib


class ShmframeError(OSError):
    """A call of libshmframe failed.

    errno is the (positive) errno the library returned; strerror the
    library's own text: the server's ERROR message when it sent one, else
    shmframe_strerror().  A failure that broke the connection says so in
    connection_broken.
    """

    def __init__(self, code, text, connection_broken=False):
        super().__init__(code, text)
        self.connection_broken = connection_broken


def _text(ret):
    raw = _lib.strerror(ret)
    return raw.decode("utf-8", "replace") if raw else os.strerror(-ret)


def from_return(conn_ptr, ret, what):
    """The exception for a negative return of a call on conn_ptr."""
    code = -ret
    broken = bool(conn_ptr) and _lib.conn_error(conn_ptr) != 0
    text = ""
    if broken:
        raw = _lib.last_error(conn_ptr)
        text = raw.decode("utf-8", "replace") if raw else ""
    if not text:
        text = _text(ret)
    return ShmframeError(code, f"{what}: {text}", broken)


def from_errno(conn, what):
    """The exception for the last call on conn (Connection._call), which
    returned NULL with errno set."""
    code = conn._last_errno or _errno.EIO
    return from_return(conn._ptr, -code, what)

