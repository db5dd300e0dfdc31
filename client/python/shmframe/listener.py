"""The C listener of a surface: each callback turns its arguments into an
event record and hands it to push().  Nothing of Python's runs inside the
library beyond that: the events are delivered (callbacks called, the
queue filled) once the library call has returned, so an exception in a
callback reaches the caller like any other."""

import ctypes

from . import _lib
from . import events as ev


def make(push):
    """A Listener struct whose callbacks push events; keep it (and so its
    function objects) alive while it is set."""

    def presented(_d, _s, serial, time_ns, discarded):
        push(ev.Presented(serial, time_ns, bool(discarded)))

    def released(_d, _s, serial):
        push(ev.Released(serial))

    def closed(_d, _s):
        push(ev.Closed())

    def key(_d, _s, p):
        k = p.contents
        push(ev.Key(k.time_ns, k.keycode, k.keysym, k.modifiers,
                    bool(k.pressed), bool(k.repeat),
                    k.text.decode("utf-8", "replace")))

    def pointer(kind):
        def cb(_d, _s, p):
            e = p.contents
            push(ev.Pointer(kind, e.time_ns, e.x, e.y, e.buttons,
                            e.modifiers))
        return cb

    def button(_d, _s, p):
        e = p.contents
        push(ev.Button(e.time_ns, e.x, e.y, e.button, bool(e.pressed),
                       e.buttons, e.modifiers))

    def axis(_d, _s, p):
        e = p.contents
        push(ev.Axis(e.time_ns, e.dx, e.dy, e.dx120, e.dy120))

    def focus(_d, _s, focused, time_ns):
        push(ev.Focus(bool(focused), time_ns))

    def configure(_d, _s, width, height, serial):
        push(ev.Configure(width, height, serial))

    return _lib.Listener(
        _lib.PRESENTED_FN(presented), _lib.RELEASED_FN(released),
        _lib.CLOSED_FN(closed), _lib.KEY_FN(key),
        _lib.POINTER_FN(pointer("pointer_motion")), _lib.BUTTON_FN(button),
        _lib.AXIS_FN(axis), _lib.POINTER_FN(pointer("pointer_enter")),
        _lib.POINTER_FN(pointer("pointer_leave")), _lib.FOCUS_FN(focus),
        _lib.CONFIGURE_FN(configure))


SIZE = ctypes.sizeof(_lib.Listener)
