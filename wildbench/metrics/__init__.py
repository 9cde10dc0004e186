"""WildBench metrics, registered by name. Importing this package registers them all."""

from . import state_alignment  # noqa: F401  (registers "state_alignment")
from .base import CaseData, Metric, available_metrics, get_metric, register
from .trackers import LucasKanadeTracker, PointTracker, get_tracker, register_tracker

__all__ = ["CaseData", "LucasKanadeTracker", "Metric", "PointTracker", "available_metrics", "get_metric", "get_tracker", "register", "register_tracker"]
