"""The events of a surface, as small immutable records.

Each has a kind (the name of the listener callback of the C library it
comes from) and the members of that callback's arguments or event struct.
"""

from dataclasses import dataclass

# Bits of Surface.select_input() (enum shmframe_event_mask).
KEY = 1 << 0
POINTER_MOTION = 1 << 1
POINTER_BUTTON = 1 << 2
POINTER_AXIS = 1 << 3
POINTER_CROSSING = 1 << 4
FOCUS = 1 << 5
CONFIGURE = 1 << 6
ALL = 0x7f

# Modifier bits (enum shmframe_modifier).
MOD_SHIFT, MOD_CTRL, MOD_ALT, MOD_SUPER = 1, 2, 4, 8
MOD_CAPS_LOCK, MOD_NUM_LOCK, MOD_ALTGR = 16, 32, 64

# Buttons (enum shmframe_button).
BUTTON_LEFT, BUTTON_MIDDLE, BUTTON_RIGHT = 1, 2, 3


@dataclass(frozen=True)
class Presented:
    serial: int
    time_ns: int
    discarded: bool
    kind: str = "presented"


@dataclass(frozen=True)
class Released:
    serial: int
    kind: str = "released"


@dataclass(frozen=True)
class Closed:
    kind: str = "closed"


@dataclass(frozen=True)
class Key:
    time_ns: int
    keycode: int
    keysym: int
    modifiers: int
    pressed: bool
    repeat: bool
    text: str
    kind: str = "key"


@dataclass(frozen=True)
class Pointer:
    """pointer_motion, pointer_enter or pointer_leave (see kind)."""
    kind: str
    time_ns: int
    x: float
    y: float
    buttons: int
    modifiers: int


@dataclass(frozen=True)
class Button:
    time_ns: int
    x: float
    y: float
    button: int
    pressed: bool
    buttons: int
    modifiers: int
    kind: str = "pointer_button"


@dataclass(frozen=True)
class Axis:
    time_ns: int
    dx: float
    dy: float
    dx120: int
    dy120: int
    kind: str = "pointer_axis"


@dataclass(frozen=True)
class Focus:
    focused: bool
    time_ns: int
    kind: str = "focus"


@dataclass(frozen=True)
class Configure:
    width: int
    height: int
    serial: int
    kind: str = "configure"


KINDS = ("presented", "released", "closed", "key", "pointer_motion",
         "pointer_button", "pointer_axis", "pointer_enter", "pointer_leave",
         "focus", "configure")
