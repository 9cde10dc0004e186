"""Point trackers for State Alignment. Pluggable: anything with ``name``, ``version`` and
``track(video, queries) -> (tracks, visible)`` can be registered.

The default, ``lk``, is OpenCV's pyramidal Lucas-Kanade, chained frame to frame, with a
forward-backward check: a point whose backward track misses its start by more than
``fb_threshold`` pixels is marked not visible from then on (its position keeps following the
forward flow). It needs no weights and runs on the CPU.

``track_segments(tracker, video, segments)`` tracks several query sets, each from its own
start frame to its own stop frame (State Alignment's strided queries), positions only. A
tracker may implement it itself (``track_positions``) to share work between segments: the
LK tracker makes one flow call per frame for every segment alive on it, and skips the
backward pass (which decides predicted visibility, never a position), so its positions are
exactly those of ``track`` on each segment alone.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Protocol, Sequence

import cv2
import numpy as np

__all__ = ["PointTracker", "LucasKanadeTracker", "Segment", "get_tracker", "register_tracker", "track_segments"]

#: One query set to track: (start frame, stop frame (exclusive), queries (P, 2) pixels on the start frame).
Segment = tuple[int, int, np.ndarray]


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

    def _params(self) -> dict:
        return dict(winSize=(self.window, self.window), maxLevel=self.levels,
                    criteria=(cv2.TERM_CRITERIA_EPS | cv2.TERM_CRITERIA_COUNT, self.iterations, 0.01))

    def track(self, video: np.ndarray, queries: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        frames = len(video)
        points = len(queries)
        tracks = np.zeros((frames, points, 2), np.float32)
        visible = np.zeros((frames, points), bool)
        if points == 0:
            return tracks, visible
        gray = [cv2.cvtColor(frame, cv2.COLOR_RGB2GRAY) for frame in video]
        params = self._params()
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

    def track_positions(self, video: np.ndarray, segments: Sequence[Segment]) -> list[np.ndarray]:
        """``track_segments`` for LK: per frame one forward call for every live segment."""
        out = [np.repeat(np.asarray(q, np.float32).reshape(1, -1, 2), max(1, stop - start), axis=0)
               for start, stop, q in segments]
        live = [i for i, (start, stop, q) in enumerate(segments) if stop - start > 1 and len(q)]
        if not live:
            return out
        first = min(segments[i][0] for i in live)
        last = max(segments[i][1] for i in live)
        gray = {t: cv2.cvtColor(video[t], cv2.COLOR_RGB2GRAY) for t in range(first, last)}
        params = self._params()
        for t in range(first + 1, last):
            active = [i for i in live if segments[i][0] < t < segments[i][1]]
            if not active:
                continue
            current = np.concatenate([out[i][t - 1 - segments[i][0]] for i in active]).astype(np.float32).reshape(-1, 1, 2)
            forward, status, _ = cv2.calcOpticalFlowPyrLK(gray[t - 1], gray[t], current, None, **params)
            moved = np.where(status.reshape(-1, 1) == 1, forward.reshape(-1, 2), current.reshape(-1, 2))
            offset = 0
            for i in active:
                count = len(segments[i][2])
                out[i][t - segments[i][0]] = moved[offset : offset + count]
                offset += count
        return out


def track_segments(tracker: PointTracker, video: np.ndarray, segments: Sequence[Segment]) -> list[np.ndarray]:
    """Tracked positions ``(stop - start, P, 2)`` of every segment (row 0: its queries)."""
    for start, stop, queries in segments:
        if not 0 <= start < stop <= len(video):
            raise ValueError(f"segment [{start}, {stop}) outside a video of {len(video)} frames")
    fast = getattr(tracker, "track_positions", None)
    if fast is not None:
        return fast(video, segments)
    return [tracker.track(video[start:stop], np.asarray(q, np.float32))[0] for start, stop, q in segments]


_TRACKERS: dict[str, PointTracker] = {"lk": LucasKanadeTracker()}


def register_tracker(tracker: PointTracker) -> None:
    _TRACKERS[tracker.name] = tracker


def get_tracker(name: str) -> PointTracker:
    try:
        return _TRACKERS[name]
    except KeyError:
        from ..errors import WildBenchError

        raise WildBenchError(f"no point tracker {name!r}; available: {', '.join(sorted(_TRACKERS))}") from None
