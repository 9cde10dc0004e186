"""Clips as index maths over the per-sample arrays: which clips train, which segments evaluate.

A clip is the frames ``centre + offsets`` (``ModelConfig.offsets``: centred, e.g. -7..7 every
2nd frame) of one sample, labelled with the action of its centre frame. A training clip lies
wholly inside its sample, its centre frame has a tracked player with a known action who is
shown (at least ``MIN_VISIBLE`` of the joints visible, see :mod:`.data`), and it overlaps no
excluded case window. Its segment's bounds are kept so that training can also show it the way
``Recognizer.predict`` sees a segment: frames outside the segment replaced by its edge frames.
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass

import numpy as np

from .data import MIN_VISIBLE, SampleFrames
from .exclusion import overlapping
from .vocabulary import Vocabulary

__all__ = ["ClipTable", "candidate_clips", "excluded_clips", "shown", "segment_counts", "label_clips", "EvalSegment", "evaluation_segments"]


@dataclass(frozen=True)
class ClipTable:
    """N clips: arrays of equal length (see the module docstring)."""

    sample: np.ndarray  # (N,) position in sample_ids
    centre: np.ndarray  # (N,) centre frame
    key: np.ndarray  # (N, 2) action key of the centre frame
    segment: np.ndarray  # (N,) segment number within its sample
    segment_start: np.ndarray  # (N,)
    segment_stop: np.ndarray  # (N,)
    sample_ids: tuple[str, ...]

    def __len__(self) -> int:
        return len(self.centre)

    def subset(self, mask: np.ndarray) -> "ClipTable":
        return ClipTable(self.sample[mask], self.centre[mask], self.key[mask], self.segment[mask],
                         self.segment_start[mask], self.segment_stop[mask], self.sample_ids)


def shown(visible: np.ndarray) -> np.ndarray:
    """(n,) the frame shows the player (``visible``: the share of its joints visible)."""
    return np.asarray(visible) >= MIN_VISIBLE


def candidate_clips(samples: list[SampleFrames], visible: dict[str, np.ndarray], *, span: int) -> tuple[ClipTable, int]:
    """Every clip of ``span`` frames that may train (one per centre frame), and how many
    centres were left out for want of a shown tracked player with a known action."""
    half = span // 2
    parts, unusable = [], 0
    for position, sample in enumerate(samples):
        centres = np.arange(half, sample.frames - (span - 1 - half), dtype=np.int64)
        starts, stops = sample.segments()
        segment = np.searchsorted(starts, centres, side="right") - 1
        usable = sample.known()[centres] & shown(visible[sample.sample_id])[centres]
        unusable += int((~usable).sum())
        centres, segment = centres[usable], segment[usable]
        parts.append((np.full(len(centres), position), centres, sample.keys[centres], segment, starts[segment], stops[segment]))
    fields = [np.concatenate([p[i] for p in parts]) if parts else np.zeros(0, np.int64) for i in range(6)]
    fields[2] = fields[2].reshape(-1, 2)
    return ClipTable(*[f.astype(np.int64) for f in fields], tuple(s.sample_id for s in samples)), unusable


def excluded_clips(table: ClipTable, span: int, intervals: dict[str, np.ndarray]) -> np.ndarray:
    """(N,) bool: the clip overlaps one of its sample's merged excluded intervals."""
    out = np.zeros(len(table), dtype=bool)
    for position, sample_id in enumerate(table.sample_ids):
        if sample_id in intervals:
            rows = table.sample == position
            out[rows] = overlapping(table.centre[rows] - span // 2, span, intervals[sample_id])
    return out


def segment_counts(table: ClipTable) -> dict[tuple[int, int], int]:
    """Action key -> number of distinct segments among the clips' centres."""
    unique = np.unique(np.stack([table.sample, table.segment, table.key[:, 0], table.key[:, 1]], axis=1), axis=0)
    return dict(Counter(map(tuple, unique[:, 2:].tolist())))


def label_clips(table: ClipTable, vocabulary: Vocabulary) -> tuple[ClipTable, np.ndarray]:
    """The clips whose key has a class, and their class indices."""
    classes = np.array([-1 if (c := vocabulary.class_of(k)) is None else c for k in map(tuple, table.key.tolist())],
                       dtype=np.int64)
    keep = classes >= 0
    return table.subset(keep), classes[keep]


@dataclass(frozen=True)
class EvalSegment:
    sample_id: str
    start: int
    stop: int
    key: tuple[int, int]
    label: int
    shown: float  # share of the segment's frames that show the player


def evaluation_segments(samples: list[SampleFrames], visible: dict[str, np.ndarray], vocabulary: Vocabulary,
                        *, min_frames: int) -> list[EvalSegment]:
    """Held-out action segments of at least ``min_frames`` frames whose key has a class."""
    out = []
    for sample in samples:
        frames_shown = shown(visible[sample.sample_id])
        known = sample.known()
        for start, stop in zip(*sample.segments()):
            if stop - start < min_frames or not known[start]:
                continue
            key = tuple(int(v) for v in sample.keys[start])
            label = vocabulary.class_of(key)
            if label is not None:
                out.append(EvalSegment(sample.sample_id, int(start), int(stop), key, label,
                                       float(frames_shown[start:stop].mean())))
    return out
