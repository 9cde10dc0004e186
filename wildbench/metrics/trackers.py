"""Point trackers for State Alignment. Pluggable: anything with ``name``, ``version`` and
``track(video, queries) -> (tracks, visible)`` can be registered.

The default, ``lk``, is OpenCV's pyramidal Lucas-Kanade, chained frame to frame, with a
forward-backward check: a point whose backward track misses its start by more than
``fb_threshold`` pixels is marked not visible from then on (its position keeps following the
forward flow). It needs no weights and runs on the CPU.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Protocol

import cv2
import numpy as np

__all__ = ["PointTracker", "LucasKanadeTracker", "get_tracker", "register_tracker"]


class PointTracker(Protocol):
    name: str
    version: str

    def track(self, video: np.ndarray, queries: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """``video`` (T, H, W, 3) uint8, ``queries`` (P, 2) pixels on frame 0 ->
        tracks (T, P, 2) and predicted visibility (T, P)."""
        ...


@dataclass(frozen=True)
class LucasKanadeTracker:
    name: str = "lk"
    version: str = "1.0"
    window: int = 15
    levels: int = 3
    fb_threshold: float = 1.5
    iterations: int = 30

    def track(self, video: np.ndarray, queries: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        frames = len(video)
        points = len(queries)
        tracks = np.zeros((frames, points, 2), np.float32)
        visible = np.zeros((frames, points), bool)
        if points == 0:
            return tracks, visible
        gray = [cv2.cvtColor(frame, cv2.COLOR_RGB2GRAY) for frame in video]
        params = dict(winSize=(self.window, self.window), maxLevel=self.levels,
                      criteria=(cv2.TERM_CRITERIA_EPS | cv2.TERM_CRITERIA_COUNT, self.iterations, 0.01))
        current = queries.astype(np.float32).reshape(-1, 1, 2)
        alive = np.ones(points, bool)
        tracks[0] = queries
        visible[0] = True
        for t in range(1, frames):
            forward, status, _ = cv2.calcOpticalFlowPyrLK(gray[t - 1], gray[t], current, None, **params)
            backward, back_status, _ = cv2.calcOpticalFlowPyrLK(gray[t], gray[t - 1], forward, None, **params)
            error = np.linalg.norm((backward - current).reshape(-1, 2), axis=1)
            ok = (status.reshape(-1) == 1) & (back_status.reshape(-1) == 1) & (error < self.fb_threshold)
            alive &= ok
            forward = np.where((status.reshape(-1, 1, 1) == 1), forward, current)
            tracks[t] = forward.reshape(-1, 2)
            visible[t] = alive
            current = forward
        return tracks, visible


_TRACKERS: dict[str, PointTracker] = {"lk": LucasKanadeTracker()}


def register_tracker(tracker: PointTracker) -> None:
    _TRACKERS[tracker.name] = tracker


def get_tracker(name: str) -> PointTracker:
    try:
        return _TRACKERS[name]
    except KeyError:
        from ..errors import WildBenchError

        raise WildBenchError(f"no point tracker {name!r}; available: {', '.join(sorted(_TRACKERS))}") from None
