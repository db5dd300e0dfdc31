#!/usr/bin/env python3
"""A numpy animation streamed into a shmframe server: scrolling colour
bands and a bouncing square, drawn straight into the shared buffer that
acquire() gives (no copy on the way to the server).

    numpy_anim.py [--server ADDR] [--size 1920x1080] [--frames 300]
                  [--transport auto|shm|socket] [--buffers N] [--alone]
                  [--check]

--alone draws the same frames into arrays of its own (as many as
--buffers, in turn, as the surface's buffers are) and sends nothing: the
cost of the drawing itself, to compare with.  --check reads
the last frame back from the server and compares it byte for byte.  The
last line says frames, seconds, fps and the transport.
"""

import argparse
import sys
import time

import numpy as np


def size(text):
    w, _, h = text.partition("x")
    return int(w), int(h)


class Scene:
    """Frame t of the animation, drawn into any (h, w, 4) uint8 array."""

    def __init__(self, w, h):
        self.w, self.h = w, h
        x = np.arange(2 * w)
        bands = np.empty((2 * w, 4), np.uint8)
        bands[:, 0] = (128 + 127 * np.sin(x * 2 * np.pi / w)).astype(np.uint8)
        bands[:, 1] = (x * 255 // (2 * w)).astype(np.uint8)
        bands[:, 2] = (128 + 127 * np.cos(x * 6 * np.pi / w)).astype(np.uint8)
        bands[:, 3] = 255
        # Twice as wide as the surface, so frame t is one slice of it.
        self.bg = np.broadcast_to(bands, (h, 2 * w, 4))
        self.side = max(1, min(w, h) // 6)

    def draw(self, out, t):
        w, h, side = self.w, self.h, self.side
        off = (t * 8) % w
        out[:] = self.bg[:, off:off + w]
        x = abs((t * 13) % (2 * (w - side)) - (w - side))
        y = abs((t * 7) % (2 * (h - side)) - (h - side))
        out[y:y + side, x:x + side] = (255, 255, 255, 255)


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--server")
    ap.add_argument("--size", type=size, default=(1920, 1080))
    ap.add_argument("--frames", type=int, default=300)
    ap.add_argument("--transport", choices=["auto", "shm", "socket"])
    ap.add_argument("--buffers", type=int, default=3)
    ap.add_argument("--alone", action="store_true")
    ap.add_argument("--check", action="store_true")
    args = ap.parse_args()
    w, h = args.size
    scene = Scene(w, h)

    if args.alone:
        arrays = [np.empty((h, w, 4), np.uint8) for _ in range(args.buffers)]
        t0 = time.perf_counter()
        for t in range(args.frames):
            scene.draw(arrays[t % args.buffers], t)
        dt = time.perf_counter() - t0
        print(f"frames={args.frames} seconds={dt:.3f} "
              f"fps={args.frames / dt:.1f} transport=none")
        return 0

    import shmframe
    with shmframe.connect(args.server, transport=args.transport,
                          buffers=args.buffers, name="numpy_anim") as conn:
        s = conn.create_surface(w, h, title="numpy animation")
        t0 = time.perf_counter()
        for t in range(args.frames):
            frame = s.acquire()
            scene.draw(frame, t)
            s.present(frame)
            del frame
        conn.roundtrip()
        dt = time.perf_counter() - t0
        status = 0
        if args.check:
            want = np.empty((h, w, 4), np.uint8)
            scene.draw(want, args.frames - 1)
            same = np.array_equal(s.readback(), want)
            print(f"check={'ok' if same else 'DIFFERS'}")
            status = 0 if same else 1
        print(f"frames={args.frames} seconds={dt:.3f} "
              f"fps={args.frames / dt:.1f} transport={conn.transport} "
              f"reason={conn.transport_reason!r}")
        return status


if __name__ == "__main__":
    sys.exit(main())
