"""State Alignment under many degradations of the true video: does the truth stay on top?

    python benchmarks/wildbench_degradations.py [--cases 10]

Builds (once, cached) the same synthetic store as ``wildbench_speed.py``, a split of 81-frame
cases and the four reference submissions, then scores them and a catalogue of degraded copies
of the oracle (spatial, photometric, compression, temporal) with State Alignment. Prints the mean score per
degradation, its ratio to the oracle's score measured in the same run, and flags any
degradation that scores at or above the oracle. Degradations that leave every pixel's motion
untouched (a colour change, grey scale) are expected to tie with the oracle: State Alignment
measures where things move, not how they look (that is Video Quality's job).
"""

from __future__ import annotations

import argparse
import tempfile
from pathlib import Path
from typing import Callable

import cv2
import numpy as np

from _common import wildbench_store

Degrade = Callable[[np.ndarray, np.random.Generator, dict], np.ndarray]


def _per_frame(function: Callable[[np.ndarray], np.ndarray]) -> Degrade:
    return lambda video, rng, ctx: np.stack([function(frame) for frame in video])


def _affine(matrix_for: Callable[[int, int], np.ndarray]) -> Degrade:
    def apply(video, rng, ctx):
        h, w = video.shape[1:3]
        matrix = matrix_for(w, h)
        return np.stack([cv2.warpAffine(f, matrix, (w, h), borderMode=cv2.BORDER_REPLICATE) for f in video])

    return apply


def _index(index_for: Callable[[int, np.random.Generator], np.ndarray]) -> Degrade:
    def apply(video, rng, ctx):
        index = np.clip(index_for(len(video), rng), 0, len(video) - 1)
        return video[index]

    return apply


def _noise(sigma: float) -> Degrade:
    return lambda video, rng, ctx: np.clip(video + rng.normal(0, sigma, video.shape), 0, 255).astype(np.uint8)


def _rescale(factor: float) -> Degrade:
    def frame(f):
        h, w = f.shape[:2]
        small = cv2.resize(f, (max(1, int(w * factor)), max(1, int(h * factor))), interpolation=cv2.INTER_AREA)
        return cv2.resize(small, (w, h), interpolation=cv2.INTER_LINEAR)

    return _per_frame(frame)


def _jpeg(quality: int) -> Degrade:
    def frame(f):
        ok, data = cv2.imencode(".jpg", f, [cv2.IMWRITE_JPEG_QUALITY, quality])
        return cv2.imdecode(data, cv2.IMREAD_COLOR)

    return _per_frame(frame)


def _splice(after: int) -> Degrade:
    """The true video up to ``after``, then another case's video (a model that loses the scene)."""
    def apply(video, rng, ctx):
        other = ctx["other"]
        return np.concatenate([video[:after], other[after:len(video)]])

    return apply


def _mix(fraction: float) -> Degrade:
    """A ``fraction`` of frames (never the first) replaced by another case's frame at that time."""
    def apply(video, rng, ctx):
        out = video.copy()
        pick = rng.uniform(size=len(video)) < fraction
        pick[0] = False
        out[pick] = ctx["other"][: len(video)][pick]
        return out

    return apply


def _freeze(after: int) -> Degrade:
    return _index(lambda n, rng: np.minimum(np.arange(n), after))


def catalogue() -> dict[str, Degrade]:
    return {
        "blur sigma 1": _per_frame(lambda f: cv2.GaussianBlur(f, (0, 0), 1.0)),
        "blur sigma 2": _per_frame(lambda f: cv2.GaussianBlur(f, (0, 0), 2.0)),
        "blur sigma 4": _per_frame(lambda f: cv2.GaussianBlur(f, (0, 0), 4.0)),
        "noise sigma 8": _noise(8),
        "noise sigma 16": _noise(16),
        "noise sigma 32": _noise(32),
        "downscale 1/2": _rescale(0.5),
        "downscale 1/4": _rescale(0.25),
        "jpeg q30": _jpeg(30),
        "jpeg q10": _jpeg(10),
        "jpeg q3": _jpeg(3),
        "brightness +40": _per_frame(lambda f: cv2.convertScaleAbs(f, alpha=1.0, beta=40)),
        "contrast x0.5": _per_frame(lambda f: cv2.convertScaleAbs(f, alpha=0.5, beta=64)),
        "grey scale": _per_frame(lambda f: cv2.cvtColor(cv2.cvtColor(f, cv2.COLOR_RGB2GRAY), cv2.COLOR_GRAY2RGB)),
        "shift 1 px": _affine(lambda w, h: np.float32([[1, 0, 1], [0, 1, 0]])),
        "shift 3 px diagonal": _affine(lambda w, h: np.float32([[1, 0, 3], [0, 1, 3]])),
        "zoom 1.05": _affine(lambda w, h: cv2.getRotationMatrix2D((w / 2, h / 2), 0, 1.05)),
        "zoom 1.2": _affine(lambda w, h: cv2.getRotationMatrix2D((w / 2, h / 2), 0, 1.2)),
        "rotate 2 deg": _affine(lambda w, h: cv2.getRotationMatrix2D((w / 2, h / 2), 2, 1.0)),
        "rotate 10 deg": _affine(lambda w, h: cv2.getRotationMatrix2D((w / 2, h / 2), 10, 1.0)),
        "horizontal flip": _per_frame(lambda f: f[:, ::-1].copy()),
        "vertical flip": _per_frame(lambda f: f[::-1].copy()),
        "flip after frame 0": lambda v, rng, ctx: np.concatenate([v[:1], v[1:, :, ::-1]]),
        "reversed after frame 0": lambda v, rng, ctx: np.concatenate([v[:1], v[:0:-1]]),
        "time offset +2": _index(lambda n, rng: np.r_[0, np.arange(1, n) + 2]),
        "time offset +8": _index(lambda n, rng: np.r_[0, np.arange(1, n) + 8]),
        "time lag -4": _index(lambda n, rng: np.maximum(np.arange(n) - 4, 0)),
        "speed x2": _index(lambda n, rng: np.arange(n) * 2),
        "speed x0.5": _index(lambda n, rng: np.arange(n) // 2),
        "speed x0.8": _index(lambda n, rng: np.round(np.arange(n) * 0.8).astype(int)),
        "freeze after 10": _freeze(10),
        "freeze after 40": _freeze(40),
        "freeze after 70": _freeze(70),
        "every 2nd frame held": _index(lambda n, rng: np.arange(n) // 2 * 2),
        "every 4th frame held": _index(lambda n, rng: np.arange(n) // 4 * 4),
        "shuffled frames": _index(lambda n, rng: np.r_[0, 1 + rng.permutation(n - 1)]),
        "black after 40": lambda v, rng, ctx: np.concatenate([v[:40], np.zeros_like(v[40:])]),
        "grey frames 20%": lambda v, rng, ctx: np.where((rng.uniform(size=len(v)) < 0.2)[:, None, None, None] & (np.arange(len(v)) > 0)[:, None, None, None], np.uint8(128), v),
        "other case after 20": _splice(20),
        "other case after 60": _splice(60),
        "other case frames 10%": _mix(0.1),
        "other case frames 30%": _mix(0.3),
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--cases", type=int, default=10)
    parser.add_argument("--seed", type=int, default=0)
    args = parser.parse_args()
    from wildbench import SplitRules, get_metric, make_baseline, make_split
    from wildbench.metrics import CaseData
    from wildbench.providers import decode_submission

    store = wildbench_store()
    metric = get_metric("state_alignment")
    with tempfile.TemporaryDirectory() as tmp:
        tmp = Path(tmp)
        split = make_split(store, tmp / "split", SplitRules(cases=args.cases, horizon=81, seed=0))
        cases = list(split.cases)
        baselines = {}
        for name in ("oracle", "resim", "frozen", "shuffled"):
            make_baseline(name, split, tmp / name)
            baselines[name] = [decode_submission(tmp / name / f"{c.case_id}.mp4", c.horizon, split.resolution) for c in cases]
        videos = baselines["oracle"]
        answers = [split.answer(c.case_id) for c in cases]

    def mean_score(make: Callable[[int], np.ndarray]) -> float:
        scores = [metric.score(CaseData(c.case_id, make(i), answers[i], split.fps))["score"] for i, c in enumerate(cases)]
        return float(np.mean([s for s in scores if s is not None]))

    oracle = mean_score(lambda i: videos[i])
    print(f"State Alignment on {len(cases)} synthetic cases of 81 frames at {split.resolution[0]}x{split.resolution[1]}")
    print(f"  {'oracle (true video, re-encoded)':34s} {oracle:6.3f}  1.00")
    for name in ("resim", "frozen", "shuffled"):
        score = mean_score(lambda i, name=name: baselines[name][i])
        print(f"  {'baseline ' + name:34s} {score:6.3f}  {score / oracle:4.2f}")
    flagged = []
    for name, degrade in catalogue().items():
        def make(i, degrade=degrade):
            rng = np.random.default_rng([args.seed, i])
            return degrade(videos[i], rng, {"other": videos[(i + 1) % len(videos)]})

        score = mean_score(make)
        mark = "" if score < oracle else "  <- not below the oracle"
        if score >= oracle:
            flagged.append(name)
        print(f"  {name:34s} {score:6.3f}  {score / oracle:4.2f}{mark}")
    print(f"{len(flagged)} of {len(catalogue())} degradations score at or above the oracle" + (f": {', '.join(flagged)}" if flagged else ""))


if __name__ == "__main__":
    main()
