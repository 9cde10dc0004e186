"""Metric validity: State Alignment ranks the truth above every wrong answer, and falls
monotonically as the true video is degraded more."""

from __future__ import annotations

import cv2
import numpy as np
import pytest

from wildbench import get_metric
from wildbench.runner import decode_submission
from wildbench.metrics import CaseData, LucasKanadeTracker
from wildbench.metrics.state_alignment import position_accuracy


@pytest.fixture(scope="module")
def oracle_videos(bench):
    split = bench["split"]
    return {c.case_id: decode_submission(bench["subs"]["oracle"] / f"{c.case_id}.mp4", c.horizon, split.resolution) for c in split.cases}


def _mean(bench, videos_for) -> float:
    split = bench["split"]
    metric = get_metric("state_alignment")
    scores = [metric.score(CaseData(c.case_id, videos_for(c, i), split.answer(c.case_id), split.fps))["score"]
              for i, c in enumerate(split.cases)]
    return float(np.mean([s for s in scores if s is not None]))


def test_reference_submissions_are_ranked_correctly(bench):
    split = bench["split"]
    assert len(split.cases) >= 6
    means = {name: _mean(bench, lambda c, i, sub=sub: decode_submission(sub / f"{c.case_id}.mp4", c.horizon, split.resolution))
             for name, sub in bench["subs"].items()}
    assert means["oracle"] > means["resim"] > means["frozen"], means
    assert means["oracle"] > means["shuffled"], means
    assert means["oracle"] > 0.6, means  # the ceiling is high: only re-encoding separates it from the truth


def _shift(video: np.ndarray, pixels: float) -> np.ndarray:
    matrix = np.float32([[1, 0, pixels], [0, 1, 0]])
    return np.stack([cv2.warpAffine(f, matrix, (f.shape[1], f.shape[0]), borderMode=cv2.BORDER_REPLICATE) for f in video])


def _drop(video: np.ndarray, fraction: float, seed: int) -> np.ndarray:
    """A model that drops frames: a dropped frame repeats the previous one, the video lags."""
    rng = np.random.default_rng(seed)
    index = [0]
    for _ in range(1, len(video)):
        index.append(index[-1] if rng.uniform() < fraction else index[-1] + 1)
    return video[np.array(index)]


def _jitter(video: np.ndarray, amount: int, seed: int) -> np.ndarray:
    rng = np.random.default_rng(seed)
    index = np.clip(np.arange(len(video)) + rng.integers(-amount, amount + 1, len(video)), 0, len(video) - 1)
    index[0] = 0
    return video[index]


@pytest.mark.parametrize(
    "degrade, levels",
    [
        (lambda v, level, seed: _shift(v, level), [0, 2, 4, 8, 16]),
        (lambda v, level, seed: _drop(v, level, seed), [0.0, 0.1, 0.25, 0.5]),
        (lambda v, level, seed: _jitter(v, level, seed), [0, 1, 2, 4]),
    ],
    ids=["spatial-shift", "dropped-frames", "temporal-jitter"],
)
def test_score_falls_monotonically_with_degradation(bench, oracle_videos, degrade, levels):
    scores = [_mean(bench, lambda c, i, level=level: degrade(oracle_videos[c.case_id], level, i)) for level in levels]
    assert all(a > b for a, b in zip(scores, scores[1:])), scores


def test_position_accuracy_definition():
    truth = np.zeros((3, 2, 2))
    pred = truth.copy()
    pred[:, 0, 0] = 3.0 * 320 / 256  # 3 px at the 256 scale: within 4, 8, 16 but not 1, 2
    visible = np.ones((3, 2), bool)
    assert position_accuracy(pred, truth, visible, (320, 256)) == pytest.approx((0.5 + 0.5 + 1 + 1 + 1) / 5)
    assert position_accuracy(pred, truth, np.zeros((3, 2), bool), (320, 256)) is None


def test_tracker_follows_a_translating_texture():
    rng = np.random.default_rng(0)
    base = cv2.GaussianBlur(rng.integers(0, 255, (120, 160, 3)).astype(np.uint8), (0, 0), 1.5)
    video = np.stack([np.roll(base, shift=t, axis=1) for t in range(10)])
    queries = np.array([[60.0, 60.0], [80.0, 40.0]], np.float32)
    tracks, visible = LucasKanadeTracker().track(video, queries)
    np.testing.assert_allclose(tracks[-1], queries + [9.0, 0.0], atol=0.3)
    assert visible.all()


def test_metric_is_versioned_and_registered():
    metric = get_metric("state_alignment")
    assert metric.version == "1.0" and metric.full_version.startswith("1.0+lk-")
    assert "answer.track_reliable" in metric.requires
