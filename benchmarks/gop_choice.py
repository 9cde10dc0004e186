"""Keyframe interval (GOP) of the store's RGB videos: size vs random-access decode speed.

    python benchmarks/gop_choice.py [--frames 600] [--resolution 320x180] [--window 16]

Renders frames of the synthetic world (a third-person camera moving through a textured
scene), encodes them as the store does (H.264, crf 20, no B-frames) with several GOPs, and
measures bytes per frame, sequential decode frames/s and random 16-frame-window frames/s with
decord (and PyAV). The reference in the same run is GOP 250, a typical long-GOP source.
"""

from __future__ import annotations

import argparse
import tempfile
import time
from pathlib import Path

import numpy as np

from wildworld.synth import SyntheticWorld, make_script
from wildworld.video import open_video, write_video


def rate(path: Path, backend: str, windows: list[int], window: int) -> tuple[float, float]:
    with open_video(path, backend=backend) as reader:
        n = reader.num_frames
        t0 = time.perf_counter()
        for start in range(0, n - window + 1, window):
            reader.get(range(start, start + window))
        sequential = (n // window) * window / (time.perf_counter() - t0)
    with open_video(path, backend=backend) as reader:
        t0 = time.perf_counter()
        for start in windows:
            reader.get(range(start, start + window))
        random = len(windows) * window / (time.perf_counter() - t0)
    return sequential, random


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--frames", type=int, default=600)
    parser.add_argument("--resolution", default="320x180")
    parser.add_argument("--window", type=int, default=16)
    parser.add_argument("--windows", type=int, default=40)
    args = parser.parse_args()
    width, height = (int(v) for v in args.resolution.split("x"))
    world = SyntheticWorld(make_script(0, 0, frames=args.frames, width=width, height=height))
    frames = np.stack([world.render(state)[0] for state in world.states()])
    starts = np.random.default_rng(0).integers(0, args.frames - args.window, args.windows).tolist()
    backends = ["decord", "pyav"]
    try:
        import decord  # noqa: F401
    except ImportError:
        backends = ["pyav"]
    rows = []
    with tempfile.TemporaryDirectory() as tmp:
        for gop in (1, 4, 8, 16, 32, 64, 250):
            path = Path(tmp) / f"g{gop}.mp4"
            write_video(path, frames, fps=30, gop=gop, crf=20, preset="medium")
            size = path.stat().st_size / args.frames
            measured = {b: rate(path, b, starts, args.window) for b in backends}
            rows.append((gop, size, measured))
    reference = rows[-1]
    print(f"{args.frames} frames at {width}x{height}, {args.window}-frame windows; reference: GOP 250")
    header = f"{'GOP':>4} {'bytes/frame':>12} {'size x':>7}"
    for b in backends:
        header += f" {b + ' seq f/s':>16} {b + ' random f/s':>18} {'random x':>9}"
    print(header)
    for gop, size, measured in rows:
        line = f"{gop:>4} {size:>12.0f} {size / reference[1]:>7.2f}"
        for b in backends:
            seq, rnd = measured[b]
            line += f" {seq:>16.0f} {rnd:>18.0f} {rnd / reference[2][b][1]:>9.2f}"
        print(line)


if __name__ == "__main__":
    main()
