"""WildBench metrics, registered by name. Importing this package registers them all."""

from . import state_alignment  # noqa: F401  (registers "state_alignment")
from . import camera_control  # noqa: F401  (registers "camera_control")
from . import video_quality  # noqa: F401  (registers "video_quality")
from . import learned_quality  # noqa: F401  (registers the weight-gated plug-ins: aesthetic_quality, imaging_quality, lpips, fvd)
from .base import CaseData, Metric, available_metrics, get_metric, register
from .trackers import LucasKanadeTracker, PointTracker, get_tracker, register_tracker

__all__ = ["CaseData", "LucasKanadeTracker", "Metric", "PointTracker", "available_metrics", "get_metric", "get_tracker", "register", "register_tracker"]
