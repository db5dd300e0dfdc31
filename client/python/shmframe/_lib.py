"""The C library through ctypes: finding libshmframe, its structs and the
prototypes of the functions this module calls.

The structs mirror client/include/shmframe.h of 1.4.  The options and the
listener are passed with their size (the *_sized entry points), so an
older library reads only the members it knows and a newer one treats the
rest as absent: the same promise a C program built against this header
gets.
"""

import ctypes
import ctypes.util
import os

from ctypes import (CFUNCTYPE, POINTER, Structure, c_char, c_char_p, c_double,
                    c_int, c_int32, c_size_t, c_uint, c_uint32, c_uint64,
                    c_void_p)

SONAME = "libshmframe.so.1"


def _candidates():
    env = os.environ.get("SHMFRAME_LIBRARY")
    if env:
        # Asked for by name: that one or an error, never another.
        yield env
        return
    try:
        from . import _paths  # written by `cmake --install`
        yield _paths.LIBRARY
    except ImportError:
        pass
    yield SONAME
    found = ctypes.util.find_library("shmframe")
    if found:
        yield found


def _load():
    tried = []
    for path in _candidates():
        try:
            return ctypes.CDLL(path, use_errno=True)
        except OSError as e:
            tried.append(f"{path}: {e}")
    raise ImportError("shmframe: cannot load libshmframe ("
                      + "; ".join(tried)
                      + "); set SHMFRAME_LIBRARY to the library's path")


lib = _load()


class Rect(Structure):
    _fields_ = [("x", c_uint32), ("y", c_uint32),
                ("width", c_uint32), ("height", c_uint32)]


LOG_FN = CFUNCTYPE(None, c_void_p, c_int, c_char_p)


class Options(Structure):
    _fields_ = [("transport", c_int),
                ("shm", c_int),
                ("name", c_char_p),
                ("buffers", c_uint),
                ("auth_file", c_char_p),
                ("log", LOG_FN),
                ("log_data", c_void_p),
                ("signal", c_int),       # 1.2
                ("spin_us", c_uint),     # 1.2
                ("compress", c_int)]     # 1.4


class KeyEvent(Structure):
    _fields_ = [("time_ns", c_uint64), ("keycode", c_uint32),
                ("keysym", c_uint32), ("modifiers", c_uint32),
                ("pressed", c_int), ("repeat", c_int),
                ("text", c_char * 16)]


class PointerEvent(Structure):
    _fields_ = [("time_ns", c_uint64), ("x", c_double), ("y", c_double),
                ("buttons", c_uint32), ("modifiers", c_uint32)]


class ButtonEvent(Structure):
    _fields_ = [("time_ns", c_uint64), ("x", c_double), ("y", c_double),
                ("button", c_uint32), ("pressed", c_int),
                ("buttons", c_uint32), ("modifiers", c_uint32)]


class AxisEvent(Structure):
    _fields_ = [("time_ns", c_uint64), ("dx", c_double), ("dy", c_double),
                ("dx120", c_int32), ("dy120", c_int32)]


class Stats(Structure):
    _fields_ = [(n, c_uint64) for n in (
        "presents", "frames_sent", "frames_merged", "pixel_bytes",
        "payload_bytes", "compress_ns", "blocks_stored", "blocks_coded")]


PRESENTED_FN = CFUNCTYPE(None, c_void_p, c_void_p, c_uint32, c_uint64, c_int)
RELEASED_FN = CFUNCTYPE(None, c_void_p, c_void_p, c_uint32)
CLOSED_FN = CFUNCTYPE(None, c_void_p, c_void_p)
KEY_FN = CFUNCTYPE(None, c_void_p, c_void_p, POINTER(KeyEvent))
POINTER_FN = CFUNCTYPE(None, c_void_p, c_void_p, POINTER(PointerEvent))
BUTTON_FN = CFUNCTYPE(None, c_void_p, c_void_p, POINTER(ButtonEvent))
AXIS_FN = CFUNCTYPE(None, c_void_p, c_void_p, POINTER(AxisEvent))
FOCUS_FN = CFUNCTYPE(None, c_void_p, c_void_p, c_int, c_uint64)
CONFIGURE_FN = CFUNCTYPE(None, c_void_p, c_void_p, c_uint32, c_uint32,
                         c_uint32)


class Listener(Structure):
    _fields_ = [("presented", PRESENTED_FN),
                ("released", RELEASED_FN),
                ("closed", CLOSED_FN),
                ("key", KEY_FN),                 # 1.3
                ("pointer_motion", POINTER_FN),
                ("pointer_button", BUTTON_FN),
                ("pointer_axis", AXIS_FN),
                ("pointer_enter", POINTER_FN),
                ("pointer_leave", POINTER_FN),
                ("focus", FOCUS_FN),
                ("configure", CONFIGURE_FN)]


def _proto(name, restype, *argtypes):
    fn = getattr(lib, name)
    fn.restype = restype
    fn.argtypes = argtypes
    return fn


conn_p = c_void_p
surface_p = c_void_p
buffer_p = c_void_p

options_init_sized = _proto("shmframe_options_init_sized", None,
                            POINTER(Options), c_size_t)
connect_sized = _proto("shmframe_connect_sized", conn_p, c_char_p,
                       POINTER(Options), c_size_t)
disconnect = _proto("shmframe_disconnect", None, conn_p)
conn_error = _proto("shmframe_conn_error", c_int, conn_p)
last_error = _proto("shmframe_last_error", c_char_p, conn_p)
strerror = _proto("shmframe_strerror", c_char_p, c_int)
transport_name = _proto("shmframe_transport_name", c_char_p, conn_p)
transport_reason = _proto("shmframe_transport_reason", c_char_p, conn_p)
signal_reason = _proto("shmframe_signal_reason", c_char_p, conn_p)
compression_reason = _proto("shmframe_compression_reason", c_char_p, conn_p)
get_stats_sized = _proto("shmframe_get_stats_sized", c_int, conn_p,
                         POINTER(Stats), c_size_t)
get_fd = _proto("shmframe_get_fd", c_int, conn_p)
dispatch = _proto("shmframe_dispatch", c_int, conn_p)
flush = _proto("shmframe_flush", c_int, conn_p)
roundtrip = _proto("shmframe_roundtrip", c_int, conn_p)
surface_create = _proto("shmframe_surface_create", surface_p, conn_p,
                        c_uint32, c_uint32, c_int, c_char_p)
surface_destroy = _proto("shmframe_surface_destroy", None, surface_p)
set_listener_sized = _proto("shmframe_surface_set_listener_sized", None,
                            surface_p, POINTER(Listener), c_size_t, c_void_p)
set_present_mode = _proto("shmframe_surface_set_present_mode", c_int,
                          surface_p, c_int)
select_input = _proto("shmframe_surface_select_input", c_int, surface_p,
                      c_uint32)
surface_resize = _proto("shmframe_surface_resize", c_int, surface_p,
                        c_uint32, c_uint32, c_uint32)
surface_closed = _proto("shmframe_surface_closed", c_int, surface_p)
surface_width = _proto("shmframe_surface_width", c_uint32, surface_p)
surface_height = _proto("shmframe_surface_height", c_uint32, surface_p)
acquire = _proto("shmframe_acquire", buffer_p, surface_p)
try_acquire = _proto("shmframe_try_acquire", buffer_p, surface_p)
buffer_pixels = _proto("shmframe_buffer_pixels", c_void_p, buffer_p,
                       POINTER(c_uint32))
present = _proto("shmframe_present", c_int, surface_p, buffer_p,
                 POINTER(Rect), c_uint, POINTER(c_uint32))
buffer_discard = _proto("shmframe_buffer_discard", None, surface_p, buffer_p)
readback = _proto("shmframe_readback", c_int, surface_p, c_uint32, c_uint32,
                  c_uint32, c_uint32, c_void_p, c_uint32)
version = _proto("shmframe_version", c_char_p)
