"""Conversion throughput (frames/s on one worker) and store size per frame by stream.

    python benchmarks/convert_speed.py [--seconds 10] [--hd-seconds 3]

Generates (once, cached) synthetic sources at 320x180 and 1280x720, converts each with one
worker to a 320x180 store (all streams), and prints frames/s per core next to a reference
measured in the same run: decoding the source RGB and depth alone (conversion cannot beat it).
Also prints the store's bytes per frame for each stream.
"""

from __future__ import annotations

import argparse
import shutil
import tempfile
import time
from pathlib import Path

from _common import cache_dir
from wildworld.store.convert import convert
from wildworld.store.extract import ConvertOptions
from wildworld.store.info import store_info
from wildworld.synth import SynthOptions, generate
from wildworld.video import iter_frames


def source(width: int, height: int, seconds: float) -> Path:
    path = cache_dir("convert_sources") / f"part_{width}x{height}_{seconds:g}s"
    if not (path / "synthetic_world.json").exists():
        generate(path, SynthOptions(samples=1, seconds=seconds, width=width, height=height, seed=1))
    return path


def decode_rate(part: Path) -> float:
    t0 = time.perf_counter()
    frames = sum(1 for _ in iter_frames(part / "000000" / "rgb.mp4"))
    sum(1 for _ in iter_frames(part / "000000" / "depth.mkv", color="gray"))
    return frames / (time.perf_counter() - t0)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--seconds", type=float, default=10.0)
    parser.add_argument("--hd-seconds", type=float, default=3.0)
    args = parser.parse_args()
    for (width, height), seconds in (((320, 180), args.seconds), ((1280, 720), args.hd_seconds)):
        part = source(width, height, seconds)
        reference = decode_rate(part)
        with tempfile.TemporaryDirectory() as tmp:
            t0 = time.perf_counter()
            report = convert([part], Path(tmp) / "store", ConvertOptions(width=320, height=180), workers=1)
            elapsed = time.perf_counter() - t0
            info = store_info(Path(tmp) / "store")
        fps = report.frames / elapsed
        print(f"{width}x{height} source -> 320x180 store: {fps:6.1f} frames/s on one worker "
              f"(decode-only reference {reference:6.1f} frames/s; conversion = {fps / reference:.2f} of it)")
    print("store bytes per frame (320x180):")
    for stream, value in info["bytes per frame"].items():
        print(f"  {stream:32s} {value:10.1f}")


if __name__ == "__main__":
    main()
