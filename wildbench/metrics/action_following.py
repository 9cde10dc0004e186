"""Action Following v1: does the generated video play the actions it was asked to play?

Definition (docs/wildbench.md#action-following):

1. **Segments.** The case's input action sequence (the answer key's action block) is cut into
   runs of one clip (``wildbench.segments``); frame 0 is the given frame and is dropped from
   the first run; runs shorter than ``MIN_SEGMENT_FRAMES`` frames, and runs whose key the
   recognizer's vocabulary does not know, are not scored (counted).
2. **Recognizer.** A trained action recognizer (``wildbench recognizer train``; pixels only)
   sees crops of the submitted frames that follow where the tracked player *should* be (the
   true camera and joints of the answer key): per segment it predicts a class (its clips over
   the segment averaged), and per frame (a sliding window: the clip centred on each frame).
3. **Ceiling and floor.** The same recognizer on the case's true video (read from the store) is
   the ceiling; chance (1 / number of classes) the floor. A split's raw accuracies are
   reported together with the **calibrated** score (generated - chance) / (ceiling - chance),
   so a number reads the same whatever the recognizer's own accuracy.
4. **Measures** over all scored segments of the split (pooled, not averaged per case): balanced
   top-1 (mean per-class recall over the classes that occur), top-1, top-5, group (bank)
   accuracy; top-1 in head / middle / tail thirds of the vocabulary by training frequency.
5. **Timing.** Per frame, does the sliding-window prediction agree with that frame's true
   action? The per-frame agreement, calibrated as in 3, is the timing-aware score: a video that
   plays the right actions late loses the frames it is late by. Per segment the *onset delay*
   (frames from the segment's start until the recognizer first agrees; the whole segment when
   it never does), reported in seconds next to the ceiling's own delay.
6. **Counterfactual track** (when the submission has ``<case_id>.cf.mp4``): the inputs' second
   action sequence (``actions_cf.json``) changes the action of every segment. Per segment, each
   of the two videos should look more like its own conditioning than like the other's: the
   recognizer's probability of the video's own action above that of the other video's action
   (ties count half). ``cf_preference`` is the mean over both videos and all segments: 0.5 for a
   model that ignores the actions (the same video twice: both videos are cropped at the same
   place), 1 when both videos follow their own.

Headline: the calibrated segment score and the calibrated timing score. Without a recognizer
the metric is "not computed" (never a number); its version includes the recognizer's.
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from ..errors import WildBenchError
from ..segments import segment_bounds
from .base import CaseData, Measure, MetricBase, MetricEnv, SplitFacts, frame_buckets, register

__all__ = ["ActionFollowing", "MIN_SEGMENT_FRAMES", "CURVE_SECONDS", "calibrated"]

#: Shorter segments are not scored: a segment must fill at least half of the recognizer's clip
#: (8 of its 15 frames) for the clip to see the action rather than its neighbours.
MIN_SEGMENT_FRAMES = 8
#: The per-second curve of the timing score on the leaderboard page.
CURVE_SECONDS = 1.0
#: A ceiling this close to chance cannot calibrate anything: the calibrated scores are None.
MIN_CEILING_MARGIN = 0.05
_BOOTSTRAP = 1000

CALIBRATED = Measure(
    key="calibrated", label="AF calibrated", direction="higher", best=1.0, worst=0.0,
    text="(balanced top-1 on the generated video - chance) / (balanced top-1 on the true video - chance), over the split's segments",
)
TIMING = Measure(
    key="timing", label="AF timing", direction="higher", best=1.0, worst=0.0,
    text="per-frame agreement of the sliding-window recognizer with the frame's true action, calibrated like the segment score",
)
BALANCED = Measure(key="balanced_top1", label="balanced top-1", direction="higher", best=1.0, worst=0.0, headline=False,
                   text="mean per-class recall over segments (raw, generated video)")
TOP1 = Measure(key="top1", label="top-1", direction="higher", best=1.0, worst=0.0, headline=False,
               text="fraction of segments whose top prediction is the asked-for action (raw)")
TOP5 = Measure(key="top5", label="top-5", direction="higher", best=1.0, worst=0.0, headline=False,
               text="fraction of segments with the asked-for action among the 5 most probable (raw)")
GROUP = Measure(key="group_accuracy", label="group accuracy", direction="higher", best=1.0, worst=0.0, headline=False,
                text="fraction of segments whose predicted class is of the asked-for group (motion bank)")
AGREEMENT = Measure(key="frame_agreement", label="per-frame agreement", direction="higher", best=1.0, worst=0.0, headline=False,
                    text="fraction of segment frames where the sliding-window prediction is the frame's action (raw)")
ONSET = Measure(key="onset_delay_s", label="onset delay", direction="lower", best=0.0, worst=1.0, unit="s", headline=False,
                text="mean time from a segment's start until the recognizer first agrees (the whole segment if never); 0 s -> 100, 1 s -> 0")
CF_PREFERENCE = Measure(
    key="cf_preference", label="counterfactual preference", direction="higher", best=1.0, worst=0.5, headline=False,
    text="per segment and video, P(own action) > P(the other video's action); 0.5 = the same video twice (actions ignored)",
)
MEASURES = (CALIBRATED, TIMING, BALANCED, TOP1, TOP5, GROUP, AGREEMENT, ONSET, CF_PREFERENCE)


def calibrated(value: float | None, ceiling: float | None, chance: float) -> float | None:
    """(value - chance) / (ceiling - chance); None when either is missing or the ceiling is
    within ``MIN_CEILING_MARGIN`` of chance (a recognizer that cannot tell the true video)."""
    if value is None or ceiling is None or ceiling - chance < MIN_CEILING_MARGIN:
        return None
    return (value - chance) / (ceiling - chance)


def _frequency_thirds(counts: list[int]) -> list[str]:
    """'head' / 'mid' / 'tail' per class: thirds of the classes ranked by training count."""
    order = sorted(range(len(counts)), key=lambda i: (-counts[i], i))
    out = [""] * len(counts)
    for rank, index in enumerate(order):
        out[index] = ("head", "mid", "tail")[min(2, rank * 3 // max(1, len(counts)))]
    return out


class _Scorer:
    """One worker's recognizer, loaded once (``ActionFollowing.setup``)."""

    def __init__(self, recognizer) -> None:
        self.recognizer = recognizer
        self.min_frames = max(MIN_SEGMENT_FRAMES, recognizer.min_frames)
        vocabulary = recognizer.vocabulary
        self.thirds = _frequency_thirds([c.count for c in vocabulary.classes])

    def _class_of(self, row: np.ndarray) -> int | None:
        if not np.isfinite(row[1:3]).all():
            return None
        return self.recognizer.class_of((int(row[1]), int(row[2])))

    def _crops(self, frames: np.ndarray, camera: np.ndarray, joints: np.ndarray) -> np.ndarray:
        from wildbench.recognizer import crop_frames

        config = self.recognizer.config
        track = self.recognizer.crop_track(camera, joints, (frames.shape[2], frames.shape[1]))
        return crop_frames(frames, track, out_size=config.crop_size, context=config.context)

    def score(self, case: CaseData) -> dict:
        rec = self.recognizer
        answer = case.answer
        if case.video is None or case.true_video is None or answer is None:
            raise WildBenchError(f"case {case.case_id}: action_following needs the video, the true video and the answer key")
        answer.require("entity_joints", "entity_slot", "tracked_slot")
        frames = min(len(case.video), len(case.true_video), answer.horizon)
        camera = np.asarray(answer.camera[:frames], np.float64)
        joints = np.asarray(answer.player_joints[:frames], np.float64)
        valid = np.asarray(answer.camera_valid[:frames], bool)
        actions = np.asarray(answer.actions[:frames], np.float64)
        crops = {"gen": self._crops(case.video[:frames], camera, joints),
                 "true": self._crops(case.true_video[:frames], camera, joints)}
        per_frame = {name: rec.per_frame_crops(c) for name, c in crops.items()}
        frame_class = np.array([-1 if (c := self._class_of(row)) is None else c for row in actions])

        segments, skipped = [], Counter()
        gen_probabilities: dict[tuple[int, int], np.ndarray] = {}  # per segment, reused by the counterfactual track
        scored = {name: [None] * frames for name in crops}  # per frame: 1 agrees, 0 not, None not scored
        for start, stop in segment_bounds(actions):
            start = max(start, 1)  # frame 0 is the given frame
            if stop - start < self.min_frames:
                if stop > start:
                    skipped[f"shorter than {self.min_frames} frames"] += 1
                continue
            cls = int(frame_class[start])
            if cls < 0:
                skipped["not in the recognizer's vocabulary"] += 1
                continue
            if not valid[start:stop].all():
                skipped["invalid camera frames"] += 1
                continue
            entry: dict[str, Any] = {"start": start, "stop": stop, "class": cls, "group": rec.group_of(cls),
                                     "frequency": self.thirds[cls]}
            for name in ("gen", "true"):
                p = rec.predict_crops(crops[name][start:stop])
                if name == "gen":
                    gen_probabilities[(start, stop)] = p
                top = np.argsort(-p, kind="stable")[:5]
                agree = per_frame[name][start:stop].argmax(axis=1) == cls
                scored[name][start:stop] = [int(a) for a in agree]
                entry[name] = {"top5": [int(i) for i in top], "group": rec.group_of(int(top[0])),
                               "agree": int(agree.sum()),
                               "onset": int(np.argmax(agree)) if agree.any() else stop - start}
            segments.append(entry)
        result: dict[str, Any] = {
            "recognizer": rec.version, "classes": rec.classes, "fps": case.fps, "segments": segments,
            "skipped_segments": dict(skipped), "frames": frames, "frame_agreement": scored,
        }
        if case.cf_video is not None:
            result["counterfactual"] = self._counterfactual(case, crops["gen"], frames, gen_probabilities)
        return result

    def _counterfactual(self, case: CaseData, crops_gen: np.ndarray, frames: int,
                        known: dict[tuple[int, int], np.ndarray]) -> list[dict]:
        """Per segment: does each video prefer its own action to the other video's?

        Both videos are cropped at the same place (where the factual player should be), so
        that the same video twice gives the same crops and exactly 0.5: the two players start
        at the same spot, and a camera that follows its player keeps it near the same place
        in the picture."""
        rec = self.recognizer
        answer = case.answer
        answer.require("cf_actions")
        frames = min(frames, len(case.cf_video))
        cf_actions = np.asarray(answer.cf_actions[:frames], np.float64)
        crops_cf = self._crops(case.cf_video[:frames], np.asarray(answer.camera[:frames], np.float64),
                               np.asarray(answer.player_joints[:frames], np.float64))
        out = []
        for start, stop in segment_bounds(np.asarray(answer.actions[:frames], np.float64)):
            start = max(start, 1)
            if stop - start < self.min_frames:
                continue
            own = self._class_of(np.asarray(answer.actions[start], np.float64))
            keys = Counter((int(r[1]), int(r[2])) for r in cf_actions[start:stop] if np.isfinite(r[1:3]).all())
            other = rec.class_of(keys.most_common(1)[0][0]) if keys else None
            if own is None or other is None or own == other:
                continue
            p_own = known[(start, stop)] if (start, stop) in known else rec.predict_crops(crops_gen[start:stop])
            p_cf = rec.predict_crops(crops_cf[start:stop])
            factual = 1.0 if p_own[own] > p_own[other] else 0.5 if p_own[own] == p_own[other] else 0.0
            counter = 1.0 if p_cf[other] > p_cf[own] else 0.5 if p_cf[other] == p_cf[own] else 0.0
            out.append({"start": start, "stop": stop, "class": own, "cf_class": other,
                        "factual": factual, "counterfactual": counter})
        return out


def _pooled(per_case: list[dict]) -> dict[str, float | None]:
    """The split's raw and calibrated numbers over the pooled segments of ``per_case``."""
    segments = [s for case in per_case for s in case.get("segments", [])]
    classes = {case["classes"] for case in per_case if "classes" in case}
    chance = 1.0 / classes.pop() if len(classes) == 1 else None
    out: dict[str, float | None] = {m.key: None for m in MEASURES}
    if segments and chance is not None:
        for name, prefix in (("gen", ""), ("true", "ceiling_")):
            top1 = np.array([s[name]["top5"][0] == s["class"] for s in segments])
            truth = np.array([s["class"] for s in segments])
            recalls = [top1[truth == c].mean() for c in np.unique(truth)]
            frames = sum(s["stop"] - s["start"] for s in segments)
            out[prefix + BALANCED.key] = float(np.mean(recalls))
            out[prefix + TOP1.key] = float(top1.mean())
            out[prefix + TOP5.key] = float(np.mean([s["class"] in s[name]["top5"] for s in segments]))
            out[prefix + GROUP.key] = float(np.mean([s[name]["group"] == s["group"] for s in segments]))
            out[prefix + AGREEMENT.key] = sum(s[name]["agree"] for s in segments) / frames
            fps = {case["fps"] for case in per_case if case.get("segments")}
            rate = fps.pop() if len(fps) == 1 else None
            out[prefix + ONSET.key] = None if rate is None else float(np.mean([s[name]["onset"] for s in segments])) / rate
        out[CALIBRATED.key] = calibrated(out[BALANCED.key], out["ceiling_" + BALANCED.key], chance)
        out[TIMING.key] = calibrated(out[AGREEMENT.key], out["ceiling_" + AGREEMENT.key], chance)
    pairs = [s for case in per_case for s in case.get("counterfactual") or []]
    if pairs:
        out[CF_PREFERENCE.key] = float(np.mean([(s["factual"] + s["counterfactual"]) / 2 for s in pairs]))
    out["chance"] = chance
    return out


def _bootstrap(per_case: list[dict], keys: list[str], seed: int) -> dict[str, list[float] | None]:
    """95% percentile intervals of the pooled numbers, resampling cases."""
    rng = np.random.default_rng(seed)
    draws: dict[str, list[float]] = {k: [] for k in keys}
    n = len(per_case)
    for _ in range(_BOOTSTRAP if n > 1 else 0):
        sample = [per_case[i] for i in rng.integers(0, n, size=n)]
        values = _pooled(sample)
        for k in keys:
            if values.get(k) is not None:
                draws[k].append(values[k])
    return {k: [float(np.quantile(v, 0.025)), float(np.quantile(v, 0.975))] if len(v) > 1 else None for k, v in draws.items()}


def _timing_curve(per_case: list[dict], buckets: list[dict], chance: float | None) -> list[float | None]:
    """The calibrated per-frame agreement of each horizon bucket, pooled over cases."""
    out = []
    for bucket in buckets:
        sums = {"gen": 0, "true": 0}
        frames = 0
        for case in per_case:
            agreement = case.get("frame_agreement")
            if not agreement:
                continue
            for t in range(bucket["start"], min(bucket["stop"], len(agreement["gen"]))):
                if agreement["gen"][t] is not None:
                    frames += 1
                    sums["gen"] += agreement["gen"][t]
                    sums["true"] += agreement["true"][t]
        out.append(calibrated(sums["gen"] / frames, sums["true"] / frames, chance) if frames and chance is not None else None)
    return out


@dataclass(frozen=True)
class ActionFollowing(MetricBase):
    name: str = "action_following"
    version: str = "1.0"
    family: str = "Action Following"
    description: str = "a trained action recognizer on the generated video, calibrated by its accuracy on the true video"
    requires: frozenset[str] = field(default=frozenset({"video", "true_video", "answer", "cf_video"}))
    measures: tuple[Measure, ...] = MEASURES

    def unavailable(self, env: MetricEnv) -> str | None:
        if env.recognizer is None:
            return "not computed: no recognizer given (--recognizer MODEL_DIR, trained by `wildbench recognizer train`)"
        try:
            import torch  # noqa: F401
        except ImportError:
            return "not computed: torch is not installed"
        return None

    def _load(self, env: MetricEnv):
        from wildbench.recognizer import Recognizer

        return Recognizer.load(Path(env.recognizer), device=env.device)

    def version_for(self, env: MetricEnv) -> str:
        if env.recognizer is None:
            return self.version
        return f"{self.version}+{self._load(MetricEnv(recognizer=env.recognizer)).version}"

    def setup(self, env: MetricEnv) -> _Scorer:
        if env.recognizer is None:
            raise WildBenchError("action_following: no recognizer given (--recognizer MODEL_DIR)")
        return _Scorer(self._load(env))

    def score(self, case: CaseData) -> dict:
        raise WildBenchError("action_following scores through setup(env): it needs a recognizer")

    def failed_result(self, reason: str) -> dict:
        return {"segments": [], "failed": True, "failure": str(reason)}

    def aggregate(self, per_case: list[dict], split: SplitFacts) -> dict:
        versions = {case["recognizer"] for case in per_case if "recognizer" in case}
        if len(versions) > 1:
            raise WildBenchError(f"action_following: per-case results from {len(versions)} recognizers ({', '.join(sorted(versions))})")
        pooled = _pooled(per_case)
        intervals = _bootstrap(per_case, [m.key for m in MEASURES], seed=0)  # resampling cases
        buckets = frame_buckets(split.horizon, split.fps, seconds=CURVE_SECONDS)
        measures = {}
        for m in MEASURES:
            entry: dict[str, Any] = {"mean": pooled[m.key], "ci95": intervals.get(m.key),
                                     "cases": sum(1 for case in per_case if case.get("counterfactual" if m is CF_PREFERENCE else "segments"))}
            if m is TIMING:
                entry["per_horizon"] = _timing_curve(per_case, buckets, pooled["chance"])
            measures[m.key] = entry
        by_frequency = {}
        for third in ("head", "mid", "tail"):
            chosen = [s for case in per_case for s in case.get("segments", []) if s["frequency"] == third]
            by_frequency[third] = {
                "segments": len(chosen),
                "top1": float(np.mean([s["gen"]["top5"][0] == s["class"] for s in chosen])) if chosen else None,
                "ceiling_top1": float(np.mean([s["true"]["top5"][0] == s["class"] for s in chosen])) if chosen else None,
            }
        skipped = Counter()
        for case in per_case:
            skipped.update(case.get("skipped_segments", {}))
        return {
            "cases": len(per_case),
            "failed_cases": sum(1 for case in per_case if case.get("failed")),
            "failure_rate": sum(1 for case in per_case if case.get("failed")) / len(per_case) if per_case else 0.0,
            "measures": measures,
            "buckets": buckets,
            "segments": sum(len(case.get("segments", [])) for case in per_case),
            "skipped_segments": dict(sorted(skipped.items())),
            "ceiling": {k[len("ceiling_"):]: v for k, v in pooled.items() if k.startswith("ceiling_")},
            "chance": pooled["chance"],
            "by_frequency": by_frequency,
            "recognizer": versions.pop() if versions else None,
        }


register(ActionFollowing())
