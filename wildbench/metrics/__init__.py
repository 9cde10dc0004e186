"""WildBench metrics, registered by name. Importing this package registers them all.

See ``base`` for the interface (requirements, measures, per-worker setup, aggregation).
"""

from . import state_alignment  # noqa: F401  (registers "state_alignment")
from .base import (
    REQUIREMENTS,
    CaseData,
    EstimationFailed,
    Measure,
    Metric,
    MetricBase,
    MetricEnv,
    SplitFacts,
    available_metrics,
    families,
    get_metric,
    register,
    select_metrics,
)
from .trackers import LucasKanadeTracker, PointTracker, get_tracker, register_tracker

__all__ = [
    "REQUIREMENTS",
    "CaseData",
    "EstimationFailed",
    "LucasKanadeTracker",
    "Measure",
    "Metric",
    "MetricBase",
    "MetricEnv",
    "PointTracker",
    "SplitFacts",
    "available_metrics",
    "families",
    "get_metric",
    "get_tracker",
    "register",
    "register_tracker",
    "select_metrics",
]
