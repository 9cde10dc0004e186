"""Synthetic world generation speed, pinned to one CPU core.

    python benchmarks/synth_speed.py [--frames 300] [--resolutions 320x180 1280x720]

For each resolution: frames/s of the whole generation of one sample (simulate, annotate,
render, encode RGB + depth, write), and of its parts. The reference measured in the same run
is the encoders alone on the same frames (PyAV H.264 + lossless HEVC), so the ratio says how
much the world itself adds on top of writing videos at all. Each rate is given by the wall
clock and by the process's CPU time (on a machine shared with other jobs the CPU time is the
steadier of the two; on an idle one they agree).
"""

from __future__ import annotations

import argparse
import os
import tempfile
import time
from pathlib import Path

from wildworld.synth import SyntheticWorld, make_script, write_sample
from wildworld.synth.world import encode_depth
from wildworld.video import VideoWriter


class _Clock:
    """Wall-clock and CPU seconds of a block."""

    def __enter__(self) -> "_Clock":
        self.wall, self.cpu = time.perf_counter(), time.process_time()
        return self

    def __exit__(self, *exc) -> None:
        self.wall, self.cpu = time.perf_counter() - self.wall, time.process_time() - self.cpu

    def rate(self, frames: int) -> str:
        return f"{frames / self.wall:6.1f} f/s (cpu {frames / self.cpu:6.1f})"


def measure(width: int, height: int, frames: int) -> None:
    script = make_script(0, 0, frames=frames, width=width, height=height)
    world = SyntheticWorld(script)
    world.scene  # built once per process, as in any run of `wildworld synth`
    with tempfile.TemporaryDirectory() as tmp:
        with _Clock() as total:
            write_sample(world, Path(tmp) / "sample")
        with _Clock() as annotate:
            states = world.states()
            world.annotate(states)
        with _Clock() as render:
            pictures = [world.render(state) for state in states]
        with _Clock() as encode:
            with VideoWriter(Path(tmp) / "r.mp4", fps=30, width=width, height=height, crf=23, gop=30) as rgb_w, \
                    VideoWriter(Path(tmp) / "d.mkv", fps=30, width=width, height=height, profile="depth", gop=30) as depth_w:
                for rgb, depth in pictures:
                    rgb_w.write(rgb)
                    depth_w.write(encode_depth(depth))
    print(f"{width}x{height}: {total.rate(frames)} end to end (simulate+annotate {annotate.rate(frames)}, "
          f"render {render.rate(frames)}, encode-only reference {encode.rate(frames)}; "
          f"generation costs {total.cpu / encode.cpu:.2f}x the encoders alone in cpu time)")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--frames", type=int, default=300)
    parser.add_argument("--resolutions", nargs="+", default=["320x180", "1280x720"])
    args = parser.parse_args()
    if hasattr(os, "sched_setaffinity"):
        os.sched_setaffinity(0, {sorted(os.sched_getaffinity(0))[0]})
        print("pinned to one CPU core")
    for text in args.resolutions:
        width, height = (int(v) for v in text.split("x"))
        measure(width, height, args.frames if width <= 640 else max(30, args.frames // 5))


if __name__ == "__main__":
    main()
