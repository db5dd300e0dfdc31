#!/usr/bin/env python3
"""Writes the seed corpus of fuzz-server (test/fuzz/corpus-server/).

    python3 test/fuzz/fuzz-server-seeds.py [DIR]

Each seed is a whole fuzz-server input (see the top of fuzz-server.c):
a byte with the number of clients, then chunks of ctl, 2-byte length and
bytes.  The messages are laid out as protocol/wire.h has them.
"""
import ctypes
import ctypes.util
import os
import struct
import sys

NONCE = b"shmframe-fuzzer!"
VERSION = 2            # SF_VERSION_MAJOR of protocol/wire.h
POSIX_NAME = b"/shmframe-fuzz"
SYSV_ID = 0            # the first segment of a fresh IPC namespace
HELLO, PROBE, ATTACH, DETACH, CREATE, DESTROY, PUT, GET, SYNC = range(1, 10)
MEMFD, POSIX, SYSV = 1, 2, 3
ARGB, XRGB = 1, 2
LATCH, COPY = 0, 1
WRITABLE = 1
PUT_COPY = 1
PUT_BLOCKS = 2                      # 2.3: the payload is blocks
GET_LZ4, GET_ZSTD = 1, 2
NONE, LZ4, ZSTD = 0, 1, 2           # enum sf_codec

# ctl bits
FD = 0x04
SIZE_4K, SIZE_64K, SIZE_1M, SIZE_16 = 0x00, 0x08, 0x10, 0x18
UNSEALED = 0x20
ONE_ITERATION = 0x40
SHUT = 0x80
DEAF = 0x8000


def pad4(b):
    return b + b"\0" * (-len(b) % 4)


def msg(type_, body, flags=0, tail=b""):
    tail = pad4(tail)
    return struct.pack("<HHI", type_, flags, 8 + len(body) + len(tail)) + \
        body + tail


SELECT_INPUT, RESIZE = 0x0c, 0x0d
EVENT_ALL = 0x7f


def hello(name=b"fuzz", minor=0):
    return msg(HELLO, struct.pack("<IHHI16sHH", 0x4d524653, VERSION, minor, 0xf,
                                  b"\0" * 16, len(name), 0), tail=name)


def segment(type_, id_, kind, size, flags=0, shmid=-1, name=b"",
            nonce=NONCE):
    return msg(type_, struct.pack("<IBBHQiI16s32s", id_, kind, flags, 0, size,
                                  shmid, 0, nonce, name))


def create(id_, w, h, fmt=ARGB, mode=LATCH, title=b"seed"):
    return msg(CREATE, struct.pack("<IIIIIHH", id_, w, h, fmt, mode,
                                   len(title), 0), tail=title)


def rect(x, y, w, h):
    return struct.pack("<IIII", x, y, w, h)


def put(surface, serial, segment_=0, buffer=0, offset=0, stride=0, rects=(),
        flags=0):
    body = struct.pack("<IIIIQII", surface, serial, segment_, buffer, offset,
                       stride, len(rects))
    return msg(PUT, body + b"".join(rects), flags=flags)


def get(surface, serial, r, segment_=0, stride=0, offset=0, flags=0):
    return msg(GET, struct.pack("<II", surface, serial) + r +
               struct.pack("<IIQ", segment_, stride, offset), flags=flags)


def _lib(name):
    path = ctypes.util.find_library(name)
    if not path:
        sys.exit(f"fuzz-server-seeds: lib{name} is needed for the block seeds")
    return ctypes.CDLL(path)


def compressed(codec, raw):
    """raw as one LZ4 block or one zstd frame (level 1), as the library
    compresses them."""
    cap = 2 * len(raw) + 64
    out = ctypes.create_string_buffer(cap)
    if codec == LZ4:
        n = _lib("lz4").LZ4_compress_default(raw, out, len(raw), cap)
    else:
        zstd = _lib("zstd")
        zstd.ZSTD_compress.restype = ctypes.c_size_t
        n = zstd.ZSTD_compress(out, ctypes.c_size_t(cap), raw,
                               ctypes.c_size_t(len(raw)), 1)
    return out.raw[:n]


def block(codec, raw_len, data, pad=b"\0\0\0"):
    """A block (struct sf_block): its header, data and padding to 4."""
    return struct.pack("<B3sII", codec, pad, raw_len, len(data)) + pad4(data)


def coded(codec, raw):
    return block(codec, len(raw), compressed(codec, raw))


def select_input(surface, mask):
    return msg(SELECT_INPUT, struct.pack("<II", surface, mask))


def resize(surface, w, h, serial=0):
    return msg(RESIZE, struct.pack("<IIII", surface, w, h, serial))


def sync(serial):
    return msg(SYNC, struct.pack("<II", serial, 0))


def detach(id_):
    return msg(DETACH, struct.pack("<II", id_, 0))


def destroy(id_):
    return msg(DESTROY, struct.pack("<II", id_, 0))


def chunk(client, data, ctl=0, deaf=False):
    n = len(data)
    assert n < 0x8000
    return bytes([ctl | client]) + struct.pack("<H", n | (DEAF if deaf else 0)) \
        + data


def pixels(w, h, seed=1):
    return bytes((seed * 37 + i) & 0xff for i in range(w * h * 4))


def seeds():
    s = {}
    # The brief's session: HELLO, CREATE_SURFACE, inline PUT_IMAGE,
    # GET_IMAGE inline, SYNC.
    s["inline-roundtrip"] = b"\x00" + chunk(
        0, hello() + create(1, 8, 4) + put(1, 1) + pixels(8, 4) +
        get(1, 1, rect(0, 0, 8, 4)) + sync(1))
    # Damage rectangles and the pixels split over chunks.
    s["inline-rects-split"] = b"\x00" + chunk(
        0, hello() + create(1, 16, 16, XRGB) +
        put(1, 2, rects=(rect(0, 0, 4, 4), rect(8, 8, 8, 2))) +
        pixels(4, 4)[:30]) + chunk(0, pixels(4, 4)[30:] + pixels(8, 2) +
                                   get(1, 2, rect(2, 2, 10, 10)))
    # A sealed memfd: PROBE, ATTACH (twice: one writable), a latched frame,
    # a copied frame, a readback into the segment, DETACH, DESTROY.
    s["memfd-session"] = b"\x00" + chunk(0, hello()) + \
        chunk(0, segment(PROBE, 0, MEMFD, 4096), FD | SIZE_4K) + \
        chunk(0, segment(ATTACH, 1, MEMFD, 65536), FD | SIZE_64K) + \
        chunk(0, segment(ATTACH, 2, MEMFD, 4096, WRITABLE), FD | SIZE_4K) + \
        chunk(0, create(1, 32, 32) + put(1, 1, 1, 1, 0, 128) +
              put(1, 2, 1, 2, 4096, 128, (rect(0, 0, 8, 8),)) +
              put(1, 3, 1, 3, 8192, 128, flags=PUT_COPY) +
              get(1, 4, rect(0, 0, 16, 16), 2, 64, 0) + sync(9) +
              detach(1) + destroy(1) + detach(2) + sync(10))
    # The fds that must be refused: unsealed, too small, none, two.
    s["memfd-refused"] = b"\x00" + chunk(0, hello()) + \
        chunk(0, segment(PROBE, 0, MEMFD, 4096), FD | SIZE_4K | UNSEALED) + \
        chunk(0, segment(ATTACH, 1, MEMFD, 4096), FD | SIZE_16) + \
        chunk(0, segment(ATTACH, 2, MEMFD, 4096) + sync(1))
    s["fd-with-sync"] = b"\x00" + chunk(0, hello() + sync(1)) + \
        chunk(0, sync(2), FD | SIZE_4K)
    # Segments by name, made by the target in its namespaces.  HELLO in a
    # chunk of its own: the target writes the proof (nonce and the
    # challenge of WELCOME) into the segments before each chunk.
    s["posix-latched"] = b"\x00" + chunk(0, hello()) + chunk(
        0, segment(ATTACH, 1, POSIX, 65536, WRITABLE,
                             name=POSIX_NAME) + create(1, 64, 64) +
        put(1, 1, 1, 1, 0, 256) + get(1, 2, rect(0, 0, 64, 64)) +
        get(1, 3, rect(0, 0, 8, 8), 1, 32, 32768) + sync(1))
    s["sysv-probe-attach"] = b"\x00" + chunk(0, hello()) + chunk(
        0, segment(PROBE, 0, SYSV, 4096, shmid=SYSV_ID) +
        segment(ATTACH, 3, SYSV, 65536, WRITABLE, shmid=SYSV_ID) +
        create(2, 16, 16, XRGB, COPY) + put(2, 1, 3, 1, 64, 64) +
        get(2, 2, rect(1, 1, 4, 4), 3, 16, 0) + sync(7))
    # Two clients taking turns; one stops reading and is left with its
    # readbacks queued, the other hangs up mid-message.
    s["two-clients"] = b"\x01" + \
        chunk(0, hello(b"one") + create(1, 64, 64) + put(1, 1) +
              pixels(64, 64)[:8000], ONE_ITERATION) + \
        chunk(1, hello(b"two") + b"".join(sync(i) for i in range(40))) + \
        chunk(0, pixels(64, 64)[8000:] +
              b"".join(get(1, i, rect(0, 0, 64, 64)) for i in range(12)),
              deaf=True) + \
        chunk(1, create(5, 4, 4)[:12], SHUT)
    # Many small requests: the backlog.
    s["backlog"] = b"\x02" + b"".join(
        chunk(c, hello() + b"".join(sync(i) for i in range(100)), ONE_ITERATION)
        for c in range(3)) + chunk(0, sync(1000))
    # Wrong order and bad values: a request before HELLO, a bad rectangle,
    # an unknown type, a lying length.
    s["errors"] = b"\x03" + chunk(0, sync(1)) + \
        chunk(1, hello() + create(1, 8, 8) + put(1, 1, rects=(rect(0, 9, 1, 1),))) + \
        chunk(2, hello() + msg(0x7f, b"\0" * 8)) + \
        chunk(3, hello() + struct.pack("<HHI", SYNC, 0, 0x10000) + b"\0" * 64)
    # The backlog walk of 1.0 (issue 9, attack 2): client 1 latches a
    # buffer of the POSIX object, both queue 100 SYNCs and get one turn
    # (client 0 first), the object is truncated and a snapshot reads it:
    # the next turn of client 0 fails client 1, next on the backlog.
    s["backlog-shrunk-snapshot"] = b"\x01" + \
        chunk(0, hello(b"busy")) + \
        chunk(1, hello(b"shrinker")) + \
        chunk(1, segment(ATTACH, 1, POSIX, 65536, name=POSIX_NAME) +
              create(1, 64, 64) + put(1, 1, 1, 1, 0, 256) + sync(1)) + \
        chunk(0, b"".join(sync(i) for i in range(100)), ONE_ITERATION) + \
        chunk(1, b"".join(sync(i) for i in range(100)), ONE_ITERATION) + \
        chunk(0, b"", FD | ONE_ITERATION) + \
        chunk(0, b"", FD | UNSEALED | ONE_ITERATION) + \
        chunk(0, sync(1000))
    # A readback and a copied frame from the truncated object.
    s["shrunk-readback"] = b"\x00" + chunk(0, hello()) + chunk(
        0, segment(ATTACH, 1, POSIX, 65536, WRITABLE,
                             name=POSIX_NAME) + create(1, 64, 64) +
        put(1, 1, 1, 1, 0, 256) + sync(1)) + \
        chunk(0, b"", FD) + \
        chunk(0, get(1, 2, rect(0, 0, 64, 64)) + sync(2))
    # A client that stops reading: its answers fill the socket, then the
    # output queue (max_output) and it is dropped as SLOW; an inline
    # readback goes out in pieces to the other.
    s["deaf-slow"] = b"\x01" + chunk(0, hello(), deaf=True) + \
        chunk(0, b"".join(sync(i) for i in range(1500))) + \
        chunk(1, hello() + create(1, 128, 128) +
              get(1, 1, rect(0, 0, 128, 128)) + sync(1))
    # 2.2: a client of minor 2 selects every event (a CONFIGURE comes at
    # once), acknowledges it, resizes over a latched frame and sends a
    # frame and a readback of the new size; one of minor 1 sends the
    # same requests and is told they do not exist; bad serials and sizes.
    s["input-resize"] = b"\x01" + chunk(0, hello(minor=2)) + \
        chunk(0, segment(ATTACH, 1, MEMFD, 65536), FD | SIZE_64K) + \
        chunk(0, create(1, 32, 32) + select_input(1, EVENT_ALL) +
              put(1, 1, 1, 1, 0, 128) + resize(1, 32, 32, 1) +
              resize(1, 16, 8) + put(1, 2, 1, 2, 4096, 64) +
              put(1, 3, rects=(rect(0, 0, 16, 8),)) + pixels(16, 8) +
              get(1, 4, rect(0, 0, 16, 8)) + resize(1, 64, 64) +
              sync(1)) + \
        chunk(1, hello(b"old", minor=1) + create(1, 8, 8) +
              select_input(1, 1) + resize(1, 4, 4))
    s["resize-errors"] = b"\x03" + \
        chunk(0, hello(minor=2) + create(1, 8, 8) + resize(1, 8, 8, 5)) + \
        chunk(1, hello(minor=2) + create(1, 8, 8) + resize(1, 0, 8)) + \
        chunk(2, hello(minor=2) + create(1, 8, 8) + resize(1, 16385, 8)) + \
        chunk(3, hello(minor=2) + create(1, 8, 8) + select_input(2, 1) +
              select_input(1, 0x80))
    # 2.3: inline pixels in blocks.  A full-width rectangle (decoded in
    # place: LZ4 rows, then stored rows) and a part-width one (zstd,
    # decoded aside), cut over chunks in the middle of a block; readbacks
    # asking for each codec.
    flat, part = pixels(64, 8, 3)[:64 * 4 * 4] * 2, bytes(20 * 8 * 4)
    payload = coded(LZ4, flat[:64 * 4 * 4]) + \
        block(NONE, 64 * 4 * 4, flat[64 * 4 * 4:]) + coded(ZSTD, part)
    s["blocks-lz4-zstd"] = b"\x00" + chunk(
        0, hello(minor=3) + create(1, 64, 16) +
        put(1, 1, rects=(rect(0, 0, 64, 8), rect(4, 8, 20, 8)),
            flags=PUT_BLOCKS) + payload[:40]) + chunk(
        0, payload[40:] + get(1, 2, rect(0, 0, 64, 16), flags=GET_LZ4) +
        get(1, 3, rect(4, 4, 20, 8), flags=GET_ZSTD) + sync(1))
    # Blocks that lie, one client each: from a client of minor 2, a
    # codec past the enum, an LZ4 bomb (4 KiB of zeros for a block of
    # 1 KiB), a zstd frame cut short and the stream shut after it.
    rows = rect(0, 0, 16, 4)
    s["blocks-errors"] = b"\x03" + \
        chunk(0, hello(minor=2) + create(1, 16, 4) +
              put(1, 1, rects=(rows,), flags=PUT_BLOCKS) +
              block(NONE, 256, bytes(256))) + \
        chunk(1, hello(minor=3) + create(1, 16, 4) +
              put(1, 1, rects=(rows,), flags=PUT_BLOCKS) +
              block(3, 256, bytes(256))) + \
        chunk(2, hello(minor=3) + create(1, 16, 4) +
              put(1, 1, rects=(rows,), flags=PUT_BLOCKS) +
              block(LZ4, 256, compressed(LZ4, bytes(4096)))) + \
        chunk(3, hello(minor=3) + create(1, 16, 4) +
              put(1, 1, rects=(rows,), flags=PUT_BLOCKS) +
              block(ZSTD, 256, compressed(ZSTD, pixels(16, 4))[:20]), SHUT)
    return s


def main():
    out = sys.argv[1] if len(sys.argv) > 1 else os.path.join(
        os.path.dirname(os.path.abspath(__file__)), "corpus-server")
    os.makedirs(out, exist_ok=True)
    for name, data in sorted(seeds().items()):
        with open(os.path.join(out, name), "wb") as f:
            f.write(data)
        print(f"{name}: {len(data)} bytes")


if __name__ == "__main__":
    main()
