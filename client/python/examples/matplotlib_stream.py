#!/usr/bin/env python3
"""A matplotlib figure (the Agg backend, no window) streamed into a
shmframe server as it updates: a travelling wave and its spectrum.

    matplotlib_stream.py [--server ADDR] [--size 800x600] [--frames 100]
                         [--transport auto|shm|socket] [--check]

Agg draws RGBA into its own buffer; each frame is converted once into
the surface's BGRA buffer (the only copy), presented with the damage of
the figure's whole area.  --check compares the server's last frame with
the figure's pixels byte for byte.
"""

import argparse
import sys
import time

import matplotlib
matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402

import shmframe  # noqa: E402


def size(text):
    w, _, h = text.partition("x")
    return int(w), int(h)


def rgba_to_bgra(rgba, out):
    out[..., 0] = rgba[..., 2]
    out[..., 1] = rgba[..., 1]
    out[..., 2] = rgba[..., 0]
    out[..., 3] = rgba[..., 3]


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--server")
    ap.add_argument("--size", type=size, default=(800, 600))
    ap.add_argument("--frames", type=int, default=100)
    ap.add_argument("--transport", choices=["auto", "shm", "socket"])
    ap.add_argument("--check", action="store_true")
    args = ap.parse_args()
    w, h = args.size
    dpi = 100
    fig, (wave_ax, spec_ax) = plt.subplots(2, 1, figsize=(w / dpi, h / dpi),
                                           dpi=dpi)
    x = np.linspace(0, 4 * np.pi, 512)
    line, = wave_ax.plot(x, np.sin(x))
    wave_ax.set_ylim(-2, 2)
    wave_ax.set_title("wave")
    bars = spec_ax.bar(np.arange(32), np.zeros(32))
    spec_ax.set_ylim(0, 1)
    spec_ax.set_title("spectrum")
    fig.tight_layout()
    canvas = fig.canvas

    with shmframe.connect(args.server, transport=args.transport,
                          name="matplotlib_stream") as conn:
        canvas.draw()
        cw, ch = canvas.get_width_height()
        s = conn.create_surface(cw, ch, format="argb8888",
                                title="matplotlib")
        t0 = time.perf_counter()
        for t in range(args.frames):
            y = np.sin(x - t * 0.2) + 0.5 * np.sin(3 * x + t * 0.1)
            line.set_ydata(y)
            spectrum = np.abs(np.fft.rfft(y))[:32]
            for bar, v in zip(bars, spectrum / spectrum.max()):
                bar.set_height(v)
            canvas.draw()
            rgba = np.asarray(canvas.buffer_rgba())
            frame = s.acquire()
            rgba_to_bgra(rgba, frame)
            s.present(frame)
            del frame
        conn.roundtrip()
        dt = time.perf_counter() - t0
        status = 0
        if args.check:
            want = np.empty((ch, cw, 4), np.uint8)
            rgba_to_bgra(np.asarray(canvas.buffer_rgba()), want)
            same = np.array_equal(s.readback(), want)
            print(f"check={'ok' if same else 'DIFFERS'}")
            status = 0 if same else 1
        print(f"frames={args.frames} seconds={dt:.3f} "
              f"fps={args.frames / dt:.1f} size={cw}x{ch} "
              f"transport={conn.transport}")
        return status


if __name__ == "__main__":
    sys.exit(main())
