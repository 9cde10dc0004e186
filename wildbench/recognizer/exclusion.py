"""Keeping benchmark cases out of the recognizer's training data.

``--exclude-split SPLIT`` drops every training clip whose frames overlap a case window
``[start, start + horizon)`` of that split, sample by sample. A split made from another store
is refused with one error (its cases are not windows of this store, so it could exclude
nothing, and a silent no-op would let a user believe the cases were kept out).

The overlap test is interval maths, tested against a brute-force enumeration: a clip of
frames ``[first, first + span)`` overlaps a case ``[a, b)`` iff ``first < b`` and
``a < first + span``.
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path
from typing import Sequence

import numpy as np

from wildworld.files import sha256_file
from wildworld.store import Store

from ..errors import SplitError
from ..split import load_split, store_identity
from .errors import RecognizerError

__all__ = ["ExcludedSplit", "load_exclusions", "merge_intervals", "overlapping", "excluded_intervals"]


@dataclass(frozen=True)
class ExcludedSplit:
    """A split whose case windows are kept out of training."""

    path: str
    checksum: str
    horizon: int
    windows: tuple[tuple[str, int, int], ...]  # (sample id, start, stop) of every case

    def report(self, training_samples: Sequence[str], *, training_clips_dropped: int) -> dict:
        """What the model card records: the split, and how much of the training data it covered."""
        train = set(training_samples)
        mine = [w for w in self.windows if w[0] in train]
        frames = sum(int(np.diff(merge_intervals([w[1:] for w in mine if w[0] == s]), axis=1).sum()) for s in train)
        return {"checksum": self.checksum, "horizon": self.horizon, "cases": len(self.windows),
                "cases_in_training_samples": len(mine), "training_frames_in_cases": frames,
                "training_clips_dropped": int(training_clips_dropped)}


def _same_store(doc: dict, store: Store) -> bool:
    if "store_identity" in doc:
        return doc["store_identity"] == store_identity(store.manifest)
    # a split made before store_identity names its store by the manifest's bytes
    return doc.get("store_manifest_sha256") == sha256_file(store.path / "manifest.json")


def load_exclusions(paths: Sequence[str | os.PathLike[str]], store: Store) -> list[ExcludedSplit]:
    """Read each split (its checksum is verified) and check it was made from ``store``."""
    out = []
    for path in paths:
        try:
            split = load_split(path, verify_answers=False)
        except SplitError as exc:
            raise RecognizerError(f"--exclude-split {path}: {exc}") from None
        if not _same_store(split.doc, store):
            raise RecognizerError(
                f"--exclude-split {path}: the split was made from another store than {store.path} (its store identity "
                "differs), so none of its cases are windows of this store; pass the split made from this store, or "
                "leave the option out")
        known = {entry.id for entry in store.samples}
        for case in split.cases:
            if case.sample_id not in known:  # cannot happen for the same store identity, but never guess
                raise RecognizerError(f"--exclude-split {path}: case {case.case_id} names sample {case.sample_id!r}, "
                                      f"which {store.path} does not hold")
        windows = tuple((c.sample_id, int(c.start), int(c.start) + int(c.horizon)) for c in split.cases)
        out.append(ExcludedSplit(str(Path(path)), split.checksum, split.horizon, windows))
    return out


def excluded_intervals(exclusions: Sequence[ExcludedSplit]) -> dict[str, np.ndarray]:
    """Sample id -> merged (K, 2) ``[start, stop)`` intervals of every excluded case."""
    by_sample: dict[str, list[tuple[int, int]]] = {}
    for exclusion in exclusions:
        for sample_id, start, stop in exclusion.windows:
            by_sample.setdefault(sample_id, []).append((start, stop))
    return {sample_id: merge_intervals(spans) for sample_id, spans in by_sample.items()}


def merge_intervals(intervals: Sequence[tuple[int, int]] | np.ndarray) -> np.ndarray:
    """Sorted, disjoint (K, 2) ``[start, stop)`` intervals covering the same frames (empty ones dropped)."""
    spans = sorted((int(a), int(b)) for a, b in np.asarray(intervals, dtype=np.int64).reshape(-1, 2) if b > a)
    merged: list[list[int]] = []
    for a, b in spans:
        if merged and a <= merged[-1][1]:
            merged[-1][1] = max(merged[-1][1], b)
        else:
            merged.append([a, b])
    return np.asarray(merged, dtype=np.int64).reshape(-1, 2)


def overlapping(first: np.ndarray, span: int, intervals: np.ndarray) -> np.ndarray:
    """(N,) bool: the clip of frames ``[first[i], first[i] + span)`` overlaps an interval.

    ``intervals`` must be merged (:func:`merge_intervals`): sorted and disjoint, so their
    stops are sorted too and one binary search per clip finds the only candidate, the first
    interval ending after the clip's first frame.
    """
    first = np.asarray(first, dtype=np.int64)
    if len(intervals) == 0:
        return np.zeros(first.shape, dtype=bool)
    candidate = np.searchsorted(intervals[:, 1], first, side="right")
    inside = candidate < len(intervals)
    starts = intervals[np.minimum(candidate, len(intervals) - 1), 0]
    return inside & (starts < first + span)
