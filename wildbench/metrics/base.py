"""The metric interface: every metric is a small object registered by name.

The runner decodes each submitted video once and hands arrays to every metric (metrics never
open files). ``score`` sees one case; ``aggregate`` reduces the per-case results once, in
split order, so 1 worker and N workers give the same numbers. ``version`` changes whenever a
metric's numbers would.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Protocol, runtime_checkable

import numpy as np

from ..answers import CaseAnswer
from ..stats import bootstrap_ci

__all__ = ["CaseData", "Metric", "register", "get_metric", "available_metrics", "mean_aggregate"]


@dataclass(frozen=True)
class CaseData:
    """What a metric may look at for one case."""

    case_id: str
    video: np.ndarray  # (T, H, W, 3) uint8 at the evaluation resolution, T = horizon
    answer: CaseAnswer
    fps: float

    def __post_init__(self) -> None:
        if self.video.ndim != 4 or self.video.shape[-1] != 3 or self.video.dtype != np.uint8:
            raise ValueError(f"case {self.case_id}: video must be (T, H, W, 3) uint8, got {self.video.shape} {self.video.dtype}")


@runtime_checkable
class Metric(Protocol):
    name: str
    version: str
    family: str
    description: str
    requires: frozenset[str]

    def score(self, case: CaseData) -> dict: ...

    def aggregate(self, per_case: list[dict]) -> dict: ...


_REGISTRY: dict[str, Metric] = {}


def register(metric: Metric) -> Metric:
    if metric.name in _REGISTRY:
        raise ValueError(f"metric {metric.name!r} is registered twice")
    _REGISTRY[metric.name] = metric
    return metric


def get_metric(name: str) -> Metric:
    try:
        return _REGISTRY[name]
    except KeyError:
        from ..errors import WildBenchError

        raise WildBenchError(f"no metric {name!r}; available: {', '.join(sorted(_REGISTRY))}") from None


def available_metrics() -> list[str]:
    return sorted(_REGISTRY)


def mean_aggregate(per_case: list[dict], *, seed: int = 0) -> dict:
    """Mean of per-case ``score`` (None excluded), 95% bootstrap CI, per-horizon means."""
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
