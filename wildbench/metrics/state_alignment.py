"""State Alignment v2: do the characters in the generated video move as the true state does?

Definition (docs/long-horizon.md#state-alignment-v2; every constant below is part of it):

1. **Horizon buckets** of ``bucket_seconds`` (1 s): frames 1-30, 31-60, ... at 30 fps. The
   frame before a bucket is its *query frame* (0, 30, 60, ...); if the camera is invalid there,
   the first valid-camera frame of the bucket is (counted in ``query_frames_moved``).
2. **Strided queries** (TAP-Vid's strided mode, one query frame per bucket): every joint of the
   tracked player and of every monster that is visible on the query frame (inside the image,
   in front of the camera, not occluded by the depth map, valid camera: the answer key's
   ``entity_visible``) becomes a query, placed at its true projection in the *submitted*
   frame, and is tracked through the bucket by the point tracker (default: pyramidal
   Lucas-Kanade, no weights).
3. **Reference runs**, the same queries on the same frames: the *oracle run* (the same
   tracker on the true video) and the *frozen run* (every query held still: what a video
   that does nothing gets; computed from the answer key alone).
4. **Scored pairs**: (point, frame) pairs of the bucket where the true joint is visible and the
   oracle run is within ``RELIABLE_PX`` (4 px at 256 x 256) of the true projection: the pairs
   on which the tracker can judge motion at all. A bucket needs ``MIN_BUCKET_PAIRS`` of them.
   Invalid-camera frames are never scored (``masked_frames`` counts them).
5. **Moving-point accuracy** (TAP-Vid's <delta accuracy, on what moves): coordinates scaled
   to 256 x 256; for each delta in {1, 2, 4, 8, 16} px, a scored pair *moves at delta* when
   the true joint is at least delta from its query position, or the run's point is; the
   run's value at delta is the fraction of the pairs that move at delta on which it is
   within delta of the truth (a Jaccard-style count: pairs where neither the truth nor the
   run moved are true negatives, left out, because they would pay any video for holding
   still). The bucket's accuracy is the mean over the deltas at which at least
   ``MIN_BUCKET_PAIRS`` true joints move (none: nothing moved, the bucket is not scored);
   for the submission, the frozen run and the oracle run alike, on the same pairs and
   deltas. The frozen run scores 0 by construction (every pair that moves is a true joint it
   left behind). A case's accuracy is the mean over its scored buckets (each second counts
   equally).
6. **Skill** (the headline): ``(submission - frozen) / (oracle - frozen)``, so that holding
   still reads 0 and the truth 1 (a video that moves wrongly scores near 0: its points land
   within delta of the truth only by chance). Over a split it is a
   *ratio of means*: the mean submission, frozen and oracle accuracies over the cases (per
   bucket for the curve, over the case scores for the number). A per-case skill is reported
   only where the case's oracle-frozen gap is at least ``MIN_CASE_GAP``, a per-case bucket
   skill only where that bucket's gap is at least ``MIN_BUCKET_GAP``, and a split bucket only
   where the mean gap is at least ``MIN_SPLIT_GAP``: where nothing moves, oracle ~ frozen and
   the ratio is noise, so it is not reported (null), never divided out.
7. **Usable horizon H\\***: per case, the start (seconds since frame 0) of the first bucket
   whose skill is below ``USABLE_SKILL`` (0.5) and whose next defined bucket is below it too
   (or which is the last defined bucket); the horizon's length when that never happens;
   buckets without a defined skill are skipped. Over a split: the median of the cases'.
8. **First-frame queries** (v1's definition, secondary): the answer key's frame-0 query
   points tracked through the whole horizon, scored on v1's pairs (``track_visible`` and
   ``track_reliable``) in buckets of ``FIRST_FRAME_BUCKET`` frames (v1's number exactly), and
   **survival** (PointOdyssey): per track, the fraction of its scored frames before its
   first error above 16 px (at 256 x 256); the case value is the mean over tracks.

A case without any scored bucket has no value (excluded, and counted).
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field

import numpy as np

from ..answers import RELIABLE_PX
from ._horizon import median_entry, usable_horizon
from .base import CaseData, Measure, MetricBase, SplitFacts, frame_buckets, register, summarise
from .trackers import PointTracker, get_tracker, track_segments

__all__ = ["StateAlignment", "position_accuracy", "skill_ratio", "THRESHOLDS", "BUCKET",
           "FIRST_FRAME_BUCKET", "MIN_BUCKET_PAIRS", "MIN_CASE_GAP", "MIN_BUCKET_GAP", "MIN_SPLIT_GAP",
           "USABLE_SKILL", "SURVIVAL_PX"]

THRESHOLDS = (1.0, 2.0, 4.0, 8.0, 16.0)
#: v1's horizon bucket (frames) of the first-frame measure; the split's rule 5 uses it too.
FIRST_FRAME_BUCKET = 20
BUCKET = FIRST_FRAME_BUCKET  # the name split rules and older code import
#: A horizon bucket is scored only with at least this many (point, frame) pairs.
MIN_BUCKET_PAIRS = 10
#: Oracle-frozen accuracy gaps below which a skill ratio is noise (not reported).
MIN_CASE_GAP = 0.05
MIN_BUCKET_GAP = 0.10
MIN_SPLIT_GAP = 0.03
#: H*: the skill below which a bucket is no longer usable.
USABLE_SKILL = 0.5
#: Survival: a track has failed once its error exceeds this (pixels at 256 x 256).
SURVIVAL_PX = 16.0


def _distance(pred: np.ndarray, truth: np.ndarray, size: tuple[int, int]) -> np.ndarray:
    scale = np.array([256.0 / size[0], 256.0 / size[1]])
    with np.errstate(invalid="ignore"):
        return np.linalg.norm((pred - truth) * scale, axis=-1)


def _accuracy(distance: np.ndarray, mask: np.ndarray) -> float | None:
    if not mask.any():
        return None
    d = distance[mask]
    return float(np.mean([(d < delta).mean() for delta in THRESHOLDS]))


def _moving_accuracy(run: np.ndarray, held: np.ndarray, truth: np.ndarray, moved: np.ndarray, mask: np.ndarray,
                     deltas: list[float], size: tuple[int, int]) -> float:
    """Moving-point accuracy of one run (rule 5): the mean over ``deltas`` of the fraction of the
    pairs that move at delta (the true joint, or the run's point, at least delta from the query)
    on which the run is within delta of the truth."""
    error = _distance(run, truth, size)
    travelled = np.nan_to_num(_distance(run, held, size), nan=np.inf)  # a lost point (NaN) did not hold still
    values = []
    for delta in deltas:
        moving = mask & ((moved >= delta) | (travelled >= delta))
        values.append(float((moving & (error < delta)).sum() / moving.sum()))
    return float(np.mean(values))


def position_accuracy(pred: np.ndarray, truth: np.ndarray, visible: np.ndarray, size: tuple[int, int]) -> float | None:
    """TAP-Vid <delta^x over (T, P) pairs: ``pred``/``truth`` (T, P, 2) pixels of a ``size`` image."""
    mask = visible & np.isfinite(truth).all(-1)
    return _accuracy(_distance(pred, np.nan_to_num(truth), size), mask)


def skill_ratio(submission: float | None, frozen: float | None, oracle: float | None, min_gap: float) -> float | None:
    """``(submission - frozen) / (oracle - frozen)``; None when a value is missing or the gap
    is below ``min_gap`` (nothing moved: the ratio would be noise)."""
    if submission is None or frozen is None or oracle is None or oracle - frozen < min_gap:
        return None
    return (submission - frozen) / (oracle - frozen)


def _survival(distance: np.ndarray, mask: np.ndarray) -> float | None:
    """Mean over tracks (columns) of the fraction of scored frames before the first failure."""
    values = []
    for column in range(distance.shape[1]):
        scored = distance[mask[:, column], column]
        if scored.size:
            failed = np.flatnonzero(scored > SURVIVAL_PX)
            values.append((failed[0] if failed.size else scored.size) / scored.size)
    return float(np.mean(values)) if values else None


SKILL = Measure(
    key="skill", label="skill", direction="higher", best=1.0, worst=0.0,
    text="(submission - frozen) / (oracle - frozen) of strided-query moving-point accuracy, a ratio of means over the split: "
         "0 = holding still, 100 = the truth",
)
ACCURACY = Measure(
    key="position_accuracy", label="moving-point accuracy (strided)", direction="higher", best=1.0, worst=0.0, headline=False,
    text="100 x mean TAP-Vid <delta accuracy (delta in 1,2,4,8,16 px at 256 px) of 1 s strided queries, over the pairs that move "
         "at delta (the true joint or the video's point at least delta from its query); buckets count equally",
)
USABLE = Measure(
    key="usable_horizon", label="usable horizon H*", direction="higher", best=1.0, worst=0.0, headline=False,
    text="median over cases of H* (first time skill < 0.5 and stays below) as a fraction of the horizon; seconds in usable_horizon_s",
)
FIRST_FRAME = Measure(
    key="first_frame_accuracy", label="position accuracy (first-frame queries)", direction="higher", best=1.0, worst=0.0,
    headline=False, text="State Alignment v1's number: frame-0 queries tracked through the horizon, 20-frame buckets",
)
SURVIVAL = Measure(
    key="survival", label="survival (first-frame queries)", direction="higher", best=1.0, worst=0.0, headline=False,
    text="PointOdyssey: fraction of a track's scored frames before its error first exceeds 16 px at 256 px",
)


@dataclass(frozen=True)
class StateAlignment(MetricBase):
    name: str = "state_alignment"
    version: str = "2.1"
    family: str = "State Alignment"
    description: str = "strided-query point tracking of the true joints (player and monsters): skill between holding still and the truth"
    requires: frozenset[str] = field(default=frozenset({
        "video", "true_video", "answer.entity_uv", "answer.entity_visible", "answer.camera_valid",
        "answer.query_uv", "answer.track_uv", "answer.track_visible", "answer.track_reliable"}))
    tracker: str = "lk"
    bucket_seconds: float = 1.0
    measures: tuple[Measure, ...] = (SKILL, ACCURACY, USABLE, FIRST_FRAME, SURVIVAL)

    @property
    def full_version(self) -> str:
        tracker: PointTracker = get_tracker(self.tracker)
        bucket = "" if self.bucket_seconds == 1.0 else f"+bucket{self.bucket_seconds:g}s"
        return f"{self.version}+{tracker.name}-{tracker.version}{bucket}"

    def _buckets(self, horizon: int, fps: float) -> list[dict]:
        return frame_buckets(horizon, fps, seconds=self.bucket_seconds, first=1)

    def score(self, case: CaseData) -> dict:
        answer = case.answer
        answer.require("entity_uv", "entity_visible")
        if case.true_video is None:
            raise ValueError(f"case {case.case_id}: State Alignment v2 needs the true video (the oracle run)")
        frames = min(len(case.video), len(case.true_video), answer.horizon)
        size = (case.video.shape[2], case.video.shape[1])
        tracker = get_tracker(self.tracker)
        valid = np.asarray(answer.camera_valid[:frames], bool)
        uv, visible = answer.entity_uv[:frames].astype(np.float64), answer.entity_visible[:frames] & valid[:, None]

        # Strided queries: one segment per bucket, from its query frame to its last frame.
        buckets = self._buckets(frames, case.fps)
        segments, chosen, moved = [], [], 0
        for bucket in buckets:
            query = bucket["start"] - 1
            while query < bucket["stop"] - 1 and not valid[query]:
                query += 1
            moved += query != bucket["start"] - 1
            points = np.flatnonzero(visible[query] & np.isfinite(uv[query]).all(-1))
            chosen.append((query, points))
            segments.append((query, bucket["stop"], uv[query, points].astype(np.float32)))
        first = (0, frames, answer.query_uv.astype(np.float32))
        submitted = track_segments(tracker, case.video, segments + [first])
        oracle_run = track_segments(tracker, case.true_video, segments)

        sub_acc, frozen_acc, oracle_acc, pairs = [], [], [], []
        for (query, points), stop, tracks, reference in zip(chosen, [b["stop"] for b in buckets], submitted, oracle_run):
            truth = uv[query + 1 : stop, points]
            seen = visible[query + 1 : stop][:, points]
            truth0 = np.nan_to_num(truth)
            reliable = _distance(reference[1:], truth0, size) <= RELIABLE_PX
            mask = seen & reliable & np.isfinite(truth).all(-1)
            count = int(mask.sum())
            pairs.append(count)
            held = np.broadcast_to(uv[query, points], truth.shape)
            distance_moved = _distance(held, truth0, size)  # how far each true joint is from its query
            # Too few scored pairs, or nothing moved at any threshold: no motion to judge.
            deltas = [d for d in THRESHOLDS if int((mask & (distance_moved >= d)).sum()) >= MIN_BUCKET_PAIRS]
            if count < MIN_BUCKET_PAIRS or not deltas:
                sub_acc.append(None), frozen_acc.append(None), oracle_acc.append(None)
                continue
            for run, out in ((tracks[1:], sub_acc), (held, frozen_acc), (reference[1:], oracle_acc)):
                out.append(_moving_accuracy(run, held, truth0, distance_moved, mask, deltas, size))
        scored = [i for i, value in enumerate(sub_acc) if value is not None]
        mean = (lambda values: float(np.mean([values[i] for i in scored])) if scored else None)
        score, frozen, oracle = mean(sub_acc), mean(frozen_acc), mean(oracle_acc)
        bucket_skill = [skill_ratio(s, f, o, MIN_BUCKET_GAP) for s, f, o in zip(sub_acc, frozen_acc, oracle_acc)]
        horizon_s = buckets[-1]["stop"] / case.fps if buckets else 0.0
        failing = [None if value is None else value < USABLE_SKILL for value in bucket_skill]
        usable_s = usable_horizon(failing, [(b["start"] - 1) / case.fps for b in buckets], horizon_s)

        # First-frame queries (v1): the whole horizon, v1's scored pairs and 20-frame buckets.
        tracks = submitted[-1]
        truth = answer.track_uv[:frames].astype(np.float64)
        first_mask = (answer.track_visible & answer.track_reliable)[:frames].copy() & valid[:, None]
        first_mask[0] = False  # the query frame is excluded
        first_mask &= np.isfinite(truth).all(-1)
        distance = _distance(tracks, np.nan_to_num(truth), size)
        first_buckets = []
        for start in range(1, frames, FIRST_FRAME_BUCKET):
            stop = min(frames, start + FIRST_FRAME_BUCKET)
            part = first_mask[start:stop]
            first_buckets.append(_accuracy(distance[start:stop], part) if part.sum() >= MIN_BUCKET_PAIRS else None)
        first_scored = [v for v in first_buckets if v is not None]
        return {
            "score": score,
            "frozen": frozen,
            "oracle": oracle,
            "skill": skill_ratio(score, frozen, oracle, MIN_CASE_GAP),
            "per_horizon": sub_acc,
            "per_horizon_frozen": frozen_acc,
            "per_horizon_oracle": oracle_acc,
            "per_horizon_skill": bucket_skill,
            "per_horizon_pairs": pairs,
            "usable_horizon_s": usable_s,
            "usable_horizon": None if usable_s is None or not horizon_s else usable_s / horizon_s,
            "first_frame_accuracy": float(np.mean(first_scored)) if first_scored else None,
            "first_frame_per_horizon": first_buckets,
            "survival": _survival(distance, first_mask),
            "visible_pairs": int(sum(pairs)),
            "points": int(answer.points),
            "masked_frames": int((~valid[1:]).sum()),
            "query_frames_moved": int(moved),
        }

    def failed_result(self, reason: str) -> dict:
        return {"score": ACCURACY.worst, "frozen": None, "oracle": None, "skill": SKILL.worst, "per_horizon": [],
                "usable_horizon": USABLE.worst, "first_frame_accuracy": FIRST_FRAME.worst, "survival": SURVIVAL.worst,
                "failed": True, "failure": reason}

    def aggregate(self, per_case: list[dict], split: SplitFacts) -> dict:
        buckets = self._buckets(split.horizon, split.fps)
        out = summarise(per_case, (ACCURACY, FIRST_FRAME, SURVIVAL), value_key={ACCURACY.key: "score"},
                        curve_key={ACCURACY.key: "per_horizon"}, buckets=buckets)
        measures = out["measures"]
        measures[SKILL.key] = _split_skill(per_case, len(buckets))
        measures[USABLE.key] = median_entry([c.get("usable_horizon") for c in per_case])
        out["measures"] = {m.key: measures[m.key] for m in self.measures}  # declared order
        seconds = [c["usable_horizon_s"] for c in per_case if c.get("usable_horizon_s") is not None]
        out["usable_horizon_s"] = float(np.median(seconds)) if seconds else None
        out["references"] = {name: _curve_means(per_case, key, curve, len(buckets))
                             for name, key, curve in (("frozen", "frozen", "per_horizon_frozen"), ("oracle", "oracle", "per_horizon_oracle"))}
        out["excluded_cases"] = sum(1 for c in per_case if c.get("score") is None)
        out["masked_frames"] = int(sum(c.get("masked_frames", 0) for c in per_case))
        out["masked_fraction"] = out["masked_frames"] / max(1, len(per_case) * max(0, split.horizon - 1))
        return out


def _column_mean(values: list) -> float | None:
    values = [v for v in values if v is not None]
    return float(np.mean(values)) if values else None


def _curve_means(per_case: list[dict], key: str, curve: str, width: int) -> dict:
    cases = [c for c in per_case if c.get("score") is not None and not c.get("failed")]
    return {"mean": _column_mean([c.get(key) for c in cases]),
            "per_horizon": [_column_mean([c[curve][b] for c in cases if b < len(c.get(curve) or [])]) for b in range(width)]}


def _ratio_of_means(cases: list[dict], sub: str, frozen: str, oracle: str, min_gap: float) -> float | None:
    """Skill of a set of cases: (mean submission - mean frozen) / (mean oracle - mean frozen)
    over the cases where all three exist."""
    rows = [(c[sub], c[frozen], c[oracle]) for c in cases if c.get(sub) is not None and c.get(frozen) is not None
            and c.get(oracle) is not None]
    if not rows:
        return None
    s, f, o = np.asarray(rows, np.float64).mean(axis=0)
    return skill_ratio(float(s), float(f), float(o), min_gap)


def _split_skill(per_case: list[dict], width: int, *, resamples: int = 2000, seed: int = 0) -> dict:
    """The skill entry of the summary: ratio of means, its bootstrap interval over cases, and
    per bucket the ratio of the per-bucket means.

    A failed case is never dropped: it counts as skill 0 (its submission at the frozen level)
    with the mean frozen and oracle levels of the scored cases, so a failure never helps."""
    scored = [c for c in per_case if not c.get("failed") and c.get("score") is not None]
    levels = {key: _column_mean([c.get(key) for c in scored]) for key in ("frozen", "oracle")}
    cases = list(scored)
    if levels["frozen"] is not None and levels["oracle"] is not None:
        cases += [{"score": levels["frozen"], "frozen": levels["frozen"], "oracle": levels["oracle"]}
                  for c in per_case if c.get("failed")]
    value = _ratio_of_means(cases, "score", "frozen", "oracle", MIN_SPLIT_GAP)
    ci = None
    if value is not None:
        rng = np.random.default_rng(seed)
        draws = [_ratio_of_means([cases[i] for i in rng.integers(0, len(cases), len(cases))], "score", "frozen", "oracle", 1e-9)
                 for _ in range(resamples)] if len(cases) > 1 else [value]
        draws = [d for d in draws if d is not None]
        ci = [float(np.quantile(draws, 0.025)), float(np.quantile(draws, 0.975))]
    per_bucket = []
    for b in range(width):
        column = [{"s": c["per_horizon"][b], "f": c["per_horizon_frozen"][b], "o": c["per_horizon_oracle"][b]}
                  for c in scored if b < len(c.get("per_horizon") or []) and c["per_horizon"][b] is not None]
        per_bucket.append(_ratio_of_means(column, "s", "f", "o", MIN_SPLIT_GAP))
    return {"mean": value, "ci95": ci, "cases": len(cases), "per_horizon": per_bucket, "statistic": "ratio of means"}


register(StateAlignment())
