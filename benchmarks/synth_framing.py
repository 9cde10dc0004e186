"""How well `wildworld synth` samples frame the tracked player, measured on the written files.

    python benchmarks/synth_framing.py [--samples 8] [--seconds 20] [--resolution 320x180]
        [--seed 0] [--part DIR] [--sheet DIR]

Generates a part (or measures an existing one with ``--part``) and prints, per sample and in
total, the share of valid-camera frames on which the tracked player is in view (at least half
its joints inside the image and in front) and unoccluded (the decoded depth map at the
projected root joint is not nearer than the joint by more than 1 m); see
``wildworld.synth.framing``. The issue's targets are >= 95 % and >= 90 %. The long-horizon
check is ``--seconds 40`` (or more). ``--sheet DIR`` writes, per sample, frames where the player
is not framed and evenly spaced ones as PNGs, to look at.
"""

from __future__ import annotations

import argparse
import tempfile
from pathlib import Path

import numpy as np

from wildworld.synth import SynthOptions, generate
from wildworld.synth.framing import measure_framing


def _sheets(sample_dir: Path, report, out: Path, count: int = 4) -> None:
    """``count`` frames where the player is not framed (spread over the sample), ``count``
    evenly spaced ones, as PNGs named ``<sample>_<frame>_{ok,miss}.png``."""
    import cv2

    from wildworld import open_sample
    from wildworld.video import read_frames

    valid = open_sample(sample_dir).camera.valid
    failed = np.flatnonzero(valid & ~(report.per_frame_in_view & report.per_frame_unoccluded))
    picks = list(failed[np.linspace(0, len(failed) - 1, min(count, len(failed))).astype(int)]) if len(failed) else []
    picks += list(np.linspace(0, report.frames - 1, count).astype(int))
    frames = read_frames(sample_dir / "rgb.mp4", sorted(set(int(p) for p in picks)), backend="pyav")
    out.mkdir(parents=True, exist_ok=True)
    for index, image in zip(sorted(set(int(p) for p in picks)), frames):
        tag = "ok" if report.per_frame_in_view[index] and report.per_frame_unoccluded[index] else "miss" if valid[index] else "nocam"
        cv2.imwrite(str(out / f"{sample_dir.name}_{index:05d}_{tag}.png"), image[..., ::-1])


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--samples", type=int, default=8)
    parser.add_argument("--seconds", type=float, default=20.0)
    parser.add_argument("--resolution", default="320x180")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--part", type=Path, help="measure this existing part instead of generating one")
    parser.add_argument("--sheet", type=Path, help="write frames (missed ones and evenly spaced ones) as PNGs here")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        part = args.part
        if part is None:
            width, height = (int(v) for v in args.resolution.split("x"))
            part = Path(tmp) / "part"
            options = SynthOptions(samples=args.samples, seconds=args.seconds, width=width, height=height, seed=args.seed)
            generate(part, options)
            print(f"wildworld synth PART --samples {args.samples} --seconds {args.seconds:g} "
                  f"--resolution {args.resolution} --seed {args.seed}")
        totals = np.zeros(3, np.int64)
        for sample_dir in sorted(p for p in part.iterdir() if (p / "state.csv").exists()):
            report = measure_framing(sample_dir)
            totals += (report.valid_frames, report.in_view, report.unoccluded)
            print(f"  {report.sample}: {report.valid_frames:5d} valid-camera frames, in view {report.in_view_rate:6.1%}, "
                  f"unoccluded {report.unoccluded_rate:6.1%}")
            if args.sheet is not None:
                _sheets(sample_dir, report, args.sheet)
        valid, in_view, unoccluded = totals
        print(f"  all: {valid} valid-camera frames, in view {in_view / valid:6.1%} (target >= 95%), "
              f"unoccluded {unoccluded / valid:6.1%} (target >= 90%)")


if __name__ == "__main__":
    main()
