"""State Alignment v1: do the characters in the generated video move as the true state does?

Definition (docs/wildbench.md#state-alignment):

1. Query points: ground-truth 3-D joints of the tracked player and of every present monster
   that, on the first frame, project inside the image, in front of the camera and not
   occluded (depth map), projected with the true camera (computed once, in the answer key).
2. The query points are tracked through the submitted video by a point tracker (default:
   pyramidal Lucas-Kanade with a forward-backward check; no weights).
3. On every later frame where the true joint is visible (inside, in front, not occluded,
   valid camera) and the pair is reliable (the same tracker, run on the true video, stays
   within 4 px of the truth there: the answer key's ``track_reliable``), the tracked position
   is compared with the true projection. Coordinates are scaled to 256 x 256 first, as in
   TAP-Vid; the query frame is excluded.
4. Position accuracy = mean over delta in {1, 2, 4, 8, 16} of the fraction of those
   (point, frame) pairs within delta pixels. Reported per case, per horizon bucket of 20
   frames (1-20, 21-40, ...), and over all cases (mean with a 95% bootstrap interval).

A case without any visible pair has no score and is counted as excluded.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

from .base import CaseData, Measure, MetricBase, SplitFacts, frame_buckets, register, summarise
from .trackers import PointTracker, get_tracker

__all__ = ["StateAlignment", "position_accuracy", "THRESHOLDS", "BUCKET", "MIN_BUCKET_PAIRS"]

THRESHOLDS = (1.0, 2.0, 4.0, 8.0, 16.0)
BUCKET = 20
#: A horizon bucket is scored only with at least this many (point, frame) pairs.
MIN_BUCKET_PAIRS = 10


def position_accuracy(pred: np.ndarray, truth: np.ndarray, visible: np.ndarray, size: tuple[int, int]) -> float | None:
    """TAP-Vid <delta^x over (T, P) pairs: ``pred``/``truth`` (T, P, 2) pixels of a ``size`` image."""
    scale = np.array([256.0 / size[0], 256.0 / size[1]])
    mask = visible & np.isfinite(truth).all(-1)
    if not mask.any():
        return None
    distance = np.linalg.norm((pred - np.nan_to_num(truth)) * scale, axis=-1)[mask]
    return float(np.mean([(distance < delta).mean() for delta in THRESHOLDS]))


ACCURACY = Measure(
    key="position_accuracy", label="position accuracy", direction="higher", best=1.0, worst=0.0,
    text="100 x mean TAP-Vid position accuracy (<delta, delta in 1,2,4,8,16 px at 256 px), buckets of 20 frames count equally",
)


@dataclass(frozen=True)
class StateAlignment(MetricBase):
    name: str = "state_alignment"
    version: str = "1.1"
    family: str = "State Alignment"
    description: str = "TAP-Vid position accuracy of tracked ground-truth joints (player and monsters)"
    requires: frozenset[str] = field(default=frozenset({"video", "answer.query_uv", "answer.track_uv", "answer.track_visible", "answer.track_reliable"}))
    tracker: str = "lk"
    measures: tuple[Measure, ...] = (ACCURACY,)

    @property
    def full_version(self) -> str:
        tracker: PointTracker = get_tracker(self.tracker)
        return f"{self.version}+{tracker.name}-{tracker.version}"

    def score(self, case: CaseData) -> dict:
        answer = case.answer
        frames = min(len(case.video), answer.horizon)
        height, width = case.video.shape[1:3]
        tracks, predicted = get_tracker(self.tracker).track(case.video[:frames], answer.query_uv)
        truth = answer.track_uv[:frames]
        visible = (answer.track_visible & answer.track_reliable)[:frames].copy()
        visible[0] = False  # the query frame is excluded
        per_bucket, pairs = [], []
        for start in range(1, frames, BUCKET):
            stop = min(frames, start + BUCKET)
            count = int(visible[start:stop].sum())
            pairs.append(count)
            per_bucket.append(position_accuracy(tracks[start:stop], truth[start:stop], visible[start:stop], (width, height))
                              if count >= MIN_BUCKET_PAIRS else None)
        scored = [value for value in per_bucket if value is not None]
        return {
            "score": float(np.mean(scored)) if scored else None,
            "pooled": position_accuracy(tracks, truth, visible, (width, height)),
            "per_horizon": per_bucket,
            "per_horizon_pairs": pairs,
            "visible_pairs": int(visible.sum()),
            "points": int(answer.points),
            "tracker_kept": float(predicted[1:].mean()) if frames > 1 and answer.points else None,
        }

    def failed_result(self, reason: str) -> dict:
        return {"score": ACCURACY.worst, "per_horizon": [], "failed": True, "failure": reason}

    def aggregate(self, per_case: list[dict], split: SplitFacts) -> dict:
        buckets = frame_buckets(split.horizon, split.fps, frames=BUCKET)
        return summarise(per_case, self.measures, value_key={ACCURACY.key: "score"},
                         curve_key={ACCURACY.key: "per_horizon"}, buckets=buckets)


register(StateAlignment())
