"""The metric interface: every metric is a small object registered by name.

A metric declares what it needs and how its numbers read; the runner does the rest::

    metric.requires          # inputs the runner must provide (REQUIREMENTS below)
    metric.measures          # what aggregate() reports, each with its direction and 0-100 map
    metric.unavailable(env)  # None, or why it cannot run here ("not computed: ...")
    metric.version_for(env)  # its version plus what its numbers depend on (tools, weights)
    scorer = metric.setup(env)                    # once per worker: device, weights, models
    per_case = [scorer.score(case) for case in cases]   # or scorer.score_batch(cases)
    summary = metric.aggregate(per_case, split)   # once, in split order: 1 == N workers

Metrics never open files: ``CaseData`` holds the arrays the runner decoded or read for them.
A per-case result is a JSON-able dict of the metric's own making; ``aggregate`` reduces the
per-case results of a whole split to the standard summary (``summarise`` below builds it):

    {"cases": n, "failed_cases": k, "failure_rate": k / n,
     "measures": {key: {"mean": raw value or None, "ci95": [lo, hi] or None,
                        "per_horizon": [raw value or None per bucket] (optional)}},
     "buckets": [{"start": frame, "stop": frame, "seconds": [t0, t1]}] (optional),
     ...anything else the metric wants to report}

Set-level metrics (FVD-like) put per-case artefacts (features) in their per-case dicts and
reduce them in ``aggregate``; the runner treats them like any other. A results file is checked
by running ``aggregate`` again on its per-case results (``check_aggregate``), so a metric's
own summary rules are also its consistency rules.

A failed estimate is a score, not a gap: a metric whose estimation fails on a case returns
``failed_case(reason)`` merged with its worst values (or raises ``EstimationFailed``, which
the runner turns into ``metric.failed_result(reason)``), and ``summarise`` counts failures.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Literal, Protocol, Sequence, runtime_checkable

import numpy as np

from ..answers import CaseAnswer
from ..errors import WildBenchError
from ..stats import bootstrap_ci

__all__ = [
    "REQUIREMENTS",
    "Device",
    "MetricEnv",
    "Measure",
    "CaseData",
    "Scorer",
    "Metric",
    "EstimationFailed",
    "SplitFacts",
    "failed_case",
    "register",
    "unregister",
    "get_metric",
    "available_metrics",
    "select_metrics",
    "summarise",
    "check_aggregate",
    "mean_aggregate",
    "MetricBase",
    "families",
    "frame_buckets",
]

#: What a metric may ask for (``requires``); the runner provides exactly these.
REQUIREMENTS: dict[str, str] = {
    "video": "the submitted video, (T, H, W, 3) uint8 RGB at the evaluation resolution, T = horizon",
    "true_video": "the true video of the case's window, read from the store (never copied into the answer key)",
    "true_depth": "the true depth codes of the window, (T, H, W) uint8, read from the store",
    "true_state": "the true per-frame records of the window, read from the store: {field name: (T,) or (T, width) array} "
                  "for every action, camera and state field of the store's layout (categories as codes, -1 missing)",
    "cf_video": "the submitted counterfactual video (<case_id>.cf.mp4), or None when the submission has none",
    "state": "the submitted explicit-state table (<case_id>.state.csv, a pyarrow.Table), or None when absent",
    "answer": "the case's answer-key arrays (CaseAnswer)",
    "scratch": "an empty per-case directory for tools that write files (removed after the case)",
}

Device = Literal["cpu", "cuda"]


@dataclass(frozen=True)
class MetricEnv:
    """What every worker's ``setup`` may use. Picklable: it travels to worker processes.

    ``weights`` is a directory of local weight files for learned plug-ins (never downloaded),
    ``recognizer`` an action-recognizer model directory (``wildbench recognizer train``).
    """

    device: Device = "cpu"
    weights: Path | None = None
    recognizer: Path | None = None

    def __post_init__(self) -> None:
        if self.device not in ("cpu", "cuda"):
            raise WildBenchError(f"device={self.device!r}: choose cpu or cuda")


@dataclass(frozen=True)
class Measure:
    """One number a metric reports over a split, with how it reads.

    The raw mean maps linearly to 0-100: ``best`` to 100, ``worst`` to 0, clipped. ``headline``
    measures make the family score; the others are shown on demand.
    """

    key: str
    label: str
    direction: Literal["higher", "lower"]
    best: float
    worst: float
    unit: str = ""
    headline: bool = True
    text: str = ""

    def __post_init__(self) -> None:
        if self.direction not in ("higher", "lower"):
            raise WildBenchError(f"measure {self.key}: direction {self.direction!r} must be higher or lower")
        if not (math.isfinite(self.best) and math.isfinite(self.worst)) or self.best == self.worst:
            raise WildBenchError(f"measure {self.key}: best ({self.best}) and worst ({self.worst}) must differ and be finite")
        if (self.best > self.worst) != (self.direction == "higher"):
            raise WildBenchError(f"measure {self.key}: best/worst ({self.best}, {self.worst}) disagree with direction {self.direction}")

    def to_score(self, raw: float | None) -> float | None:
        """The 0-100 score of a raw value (None stays None)."""
        if raw is None:
            return None
        return 100.0 * min(1.0, max(0.0, (raw - self.worst) / (self.best - self.worst)))

    def to_json(self) -> dict[str, Any]:
        return {"key": self.key, "label": self.label, "direction": self.direction, "best": self.best,
                "worst": self.worst, "unit": self.unit, "headline": self.headline, "text": self.text}

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> "Measure":
        return cls(**{k: data[k] for k in ("key", "label", "direction", "best", "worst", "unit", "headline", "text")})


@dataclass(frozen=True)
class CaseData:
    """What a metric may look at for one case: exactly what its ``requires`` asked for.

    The first four fields keep their historical positions (``CaseData(case_id, video, answer,
    fps)``); the others default to None (not requested, or absent from the submission).
    """

    case_id: str
    video: np.ndarray | None
    answer: CaseAnswer | None
    fps: float
    true_video: np.ndarray | None = None
    true_depth: np.ndarray | None = None
    true_state: dict | None = None
    cf_video: np.ndarray | None = None
    state: Any = None  # pyarrow.Table
    scratch: Path | None = None
    horizon: int | None = None
    size: tuple[int, int] | None = None  # (width, height) of the evaluation resolution
    track: str = "short"
    meta: dict = field(default_factory=dict)  # the split's case record (sample id, start, stratum, ...)

    def __post_init__(self) -> None:
        for name in ("video", "true_video", "cf_video"):
            value = getattr(self, name)
            if value is not None and (value.ndim != 4 or value.shape[-1] != 3 or value.dtype != np.uint8):
                raise WildBenchError(f"case {self.case_id}: {name} must be (T, H, W, 3) uint8, got {value.shape} {value.dtype}")
        if self.size is None:
            for value in (self.video, self.true_video):
                if value is not None:
                    object.__setattr__(self, "size", (int(value.shape[2]), int(value.shape[1])))
                    break
        if self.horizon is None and self.answer is not None:
            object.__setattr__(self, "horizon", self.answer.horizon)


@dataclass(frozen=True)
class SplitFacts:
    """What ``aggregate`` may know of the split: its frame rate, horizon and track."""

    fps: float
    horizon: int
    track: str = "short"


class EstimationFailed(WildBenchError):
    """A metric's estimate failed on one case (SfM did not converge, ...): scored as the worst."""


def failed_case(reason: str) -> dict:
    """The flag part of a failed case's result; merge the metric's worst values into it."""
    return {"failed": True, "failure": str(reason)}


@runtime_checkable
class Scorer(Protocol):
    """What ``Metric.setup`` returns: scores cases (optionally ``score_batch(cases)``)."""

    def score(self, case: CaseData) -> dict: ...


@runtime_checkable
class Metric(Protocol):
    name: str
    version: str
    family: str
    description: str
    requires: frozenset[str]
    measures: tuple[Measure, ...]

    def version_for(self, env: MetricEnv) -> str: ...

    def unavailable(self, env: MetricEnv) -> str | None: ...

    def setup(self, env: MetricEnv) -> Scorer: ...

    def failed_result(self, reason: str) -> dict: ...

    def aggregate(self, per_case: list[dict], split: SplitFacts) -> dict: ...


class MetricBase:
    """Defaults for the optional parts of the interface: no dependencies, always available,
    no per-worker state (the metric scores cases itself). Subclasses are frozen dataclasses."""

    version: str
    measures: tuple[Measure, ...] = ()

    def version_for(self, env: MetricEnv) -> str:
        return getattr(self, "full_version", self.version)

    def unavailable(self, env: MetricEnv) -> str | None:
        return None

    def setup(self, env: MetricEnv) -> Scorer:
        return self  # type: ignore[return-value]

    def failed_result(self, reason: str) -> dict:
        worst = {m.key: m.worst for m in self.measures}
        return {**worst, **failed_case(reason)}

    def measure(self, key: str) -> Measure:
        for m in self.measures:
            if m.key == key:
                return m
        raise WildBenchError(f"metric {getattr(self, 'name', '?')}: no measure {key!r}")


_REGISTRY: dict[str, Metric] = {}


def register(metric: Metric) -> Metric:
    if metric.name in _REGISTRY:
        raise WildBenchError(f"metric {metric.name!r} is registered twice")
    unknown = set(metric.requires) - set(REQUIREMENTS) - {r for r in metric.requires if r.startswith("answer.")}
    if unknown:
        raise WildBenchError(f"metric {metric.name!r} requires unknown inputs {sorted(unknown)}; known: {sorted(REQUIREMENTS)}")
    if not metric.measures:
        raise WildBenchError(f"metric {metric.name!r} declares no measures")
    _REGISTRY[metric.name] = metric
    return metric


def unregister(name: str) -> Metric:
    """Remove a metric from the registry (plug-ins and tests); returns it."""
    try:
        return _REGISTRY.pop(name)
    except KeyError:
        raise WildBenchError(f"no metric {name!r} to unregister") from None


def get_metric(name: str) -> Metric:
    try:
        return _REGISTRY[name]
    except KeyError:
        raise WildBenchError(f"no metric {name!r}; available: {', '.join(sorted(_REGISTRY))}") from None


def available_metrics() -> list[str]:
    return sorted(_REGISTRY)


def families() -> dict[str, list[str]]:
    """Family name -> its metric names (registration order within a family)."""
    out: dict[str, list[str]] = {}
    for name, metric in _REGISTRY.items():
        out.setdefault(metric.family, []).append(name)
    return out



def _family_key(text: str) -> str:
    return text.lower().replace(" ", "_").replace("-", "_")


def select_metrics(selection: Sequence[str] | None) -> list[str]:
    """Metric names for a selection of metric or family names (``None``: every metric).

    Family names match case-insensitively with spaces or underscores (``camera_control`` or
    ``"Camera Control"``); the result keeps registration order and has no repeats."""
    if not selection:
        return list(_REGISTRY)
    by_family = {_family_key(f): names for f, names in families().items()}
    chosen: list[str] = []
    for item in selection:
        item = item.strip()
        if item in _REGISTRY:
            names = [item]
        elif _family_key(item) in by_family:
            names = by_family[_family_key(item)]
        else:
            raise WildBenchError(f"--metrics {item!r}: no such metric or family; metrics: {', '.join(_REGISTRY)}; "
                                 f"families: {', '.join(_family_key(f) for f in families())}")
        chosen += [n for n in names if n not in chosen]
    return [n for n in _REGISTRY if n in chosen]


def _mean_ci(values: list[float], seed: int) -> tuple[float | None, list[float] | None]:
    array = np.asarray(values, dtype=np.float64)
    if array.size == 0:
        return None, None
    return float(array.mean()), bootstrap_ci(array, seed=seed)


def summarise(per_case: list[dict], measures: Sequence[Measure], *, value_key: dict[str, str] | None = None,
              curve_key: dict[str, str] | None = None, buckets: list[dict] | None = None, seed: int = 0) -> dict:
    """The standard summary: per measure the mean of its per-case values (None excluded, a
    failed case counts with the worst value its metric gave it) with a 95% bootstrap interval,
    and the per-bucket means of per-case curves; the case and failure counts.

    ``value_key[m]`` / ``curve_key[m]`` name the per-case keys of measure ``m``'s value and
    curve (default: the measure key, and ``per_horizon`` for none)."""
    value_key = value_key or {}
    curve_key = curve_key or {}
    out: dict[str, Any] = {"cases": len(per_case)}
    failed = sum(1 for case in per_case if case.get("failed"))
    out["failed_cases"] = failed
    out["failure_rate"] = failed / len(per_case) if per_case else 0.0
    summary: dict[str, dict] = {}
    for m in measures:
        key = value_key.get(m.key, m.key)
        values = [float(case[key]) for case in per_case if case.get(key) is not None]
        mean, ci = _mean_ci(values, seed)
        entry: dict[str, Any] = {"mean": mean, "ci95": ci, "cases": len(values)}
        if m.key in curve_key:
            curves = [case[curve_key[m.key]] for case in per_case if case.get(curve_key[m.key])]
            width = max((len(c) for c in curves), default=0)
            per_bucket = []
            for b in range(width):
                column = [c[b] for c in curves if b < len(c) and c[b] is not None]
                per_bucket.append(float(np.mean(column)) if column else None)
            entry["per_horizon"] = per_bucket
        summary[m.key] = entry
    out["measures"] = summary
    if buckets is not None:
        out["buckets"] = buckets
    return out


def mean_aggregate(per_case: list[dict], *, seed: int = 0) -> dict:
    """Mean of per-case ``score`` (None excluded), 95% bootstrap CI, per-horizon means
    (the summary of a single-measure metric whose per-case value is ``score``)."""
    scores = np.array([c["score"] for c in per_case if c.get("score") is not None], dtype=np.float64)
    out: dict = {"cases": int(scores.size), "excluded_cases": len(per_case) - int(scores.size)}
    out["mean"] = float(scores.mean()) if scores.size else None
    out["ci95"] = bootstrap_ci(scores, seed=seed) if scores.size else None
    curves = [c["per_horizon"] for c in per_case if c.get("per_horizon")]
    if curves:
        width = max(len(c) for c in curves)
        per_bucket = []
        for b in range(width):
            values = [c[b] for c in curves if b < len(c) and c[b] is not None]
            per_bucket.append(float(np.mean(values)) if values else None)
        out["per_horizon"] = per_bucket
    return out


def frame_buckets(horizon: int, fps: float, *, seconds: float | None = None, frames: int | None = None,
                  first: int = 1) -> list[dict]:
    """Horizon buckets of ``frames`` frames (or ``seconds`` seconds) from frame ``first``:
    ``[{"start": s, "stop": e, "seconds": [s / fps, e / fps]}]`` (stop exclusive)."""
    if (seconds is None) == (frames is None):
        raise WildBenchError("frame_buckets: give seconds or frames")
    width = frames if frames is not None else max(1, int(round(seconds * fps)))
    out = []
    for start in range(first, horizon, width):
        stop = min(horizon, start + width)
        out.append({"start": start, "stop": stop, "seconds": [round(start / fps, 6), round(stop / fps, 6)]})
    return out



def _close(a: Any, b: Any, tolerance: float) -> bool:
    if isinstance(a, dict) and isinstance(b, dict):
        return a.keys() == b.keys() and all(_close(a[k], b[k], tolerance) for k in a)
    if isinstance(a, (list, tuple)) and isinstance(b, (list, tuple)):
        return len(a) == len(b) and all(_close(x, y, tolerance) for x, y in zip(a, b))
    if isinstance(a, bool) or isinstance(b, bool):
        return a == b
    if isinstance(a, (int, float)) and isinstance(b, (int, float)):
        return abs(float(a) - float(b)) <= tolerance * max(1.0, abs(float(a)), abs(float(b)))
    return a == b


def check_aggregate(metric: Metric, per_case: list[dict], split: SplitFacts, stored: dict, *,
                    tolerance: float = 1e-9) -> str | None:
    """None when ``stored`` is what ``metric.aggregate(per_case, split)`` gives, else the keys
    that differ."""
    fresh = metric.aggregate(per_case, split)
    differ = [key for key, value in fresh.items() if key not in stored or not _close(value, stored[key], tolerance)]
    return ", ".join(differ) if differ else None
