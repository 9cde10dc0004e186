"""Window index maths: which windows a sample has, and which frames each window reads.

A window of ``window`` frames taken every ``frame_step`` frames, starting at frame ``start`` of
a sample with ``n`` frames, reads the sample frames ``start + k * frame_step`` for
``k = 0 .. window - 1``; it spans ``span = (window - 1) * frame_step + 1`` frames. ``start`` may
be negative and the last frame may lie past the end when padding is allowed:

======== =======================================================================
pad      windows of a sample (every ``stride``-th one, in order of ``start``)
======== =======================================================================
"none"   every frame of the window is a real frame (``0 <= start <= n - span``);
         a sample shorter than ``span`` has no window
"end"    the first frame is real: every frame starts a window (``0 <= start < n``)
"start"  the last frame is real: every frame ends a window (history windows)
"both"   at least one frame is real (the union of "start" and "end" and the windows
         between, which only exist for samples shorter than ``span``)
======== =======================================================================

A frame outside ``[0, n)`` is *clamped* to the nearest edge frame (0 or ``n - 1``), as
LeRobot does, and flagged in the pad mask; the data at a padded slot is therefore the edge
frame's, never another sample's.

The index stores one count per sample and their cumulative sum (O(samples) memory, never one
entry per frame or window); a global window number is located with a binary search and turned
into ``(sample, start)`` in closed form.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal, Sequence

import numpy as np

from .._checks import check_choice, check_positive
from ..errors import OptionError

__all__ = ["PadMode", "PAD_MODES", "WindowSpec", "WindowIndex"]

PadMode = Literal["none", "start", "end", "both"]
PAD_MODES = ("none", "start", "end", "both")


@dataclass(frozen=True)
class WindowSpec:
    """The shape of a window and which windows a sample has (see the module docstring)."""

    window: int
    frame_step: int = 1
    stride: int = 1
    pad: PadMode = "none"

    def __post_init__(self) -> None:
        check_positive("window", self.window)
        check_positive("frame_step", self.frame_step)
        check_positive("stride", self.stride)
        check_choice("pad", self.pad, PAD_MODES)

    @property
    def span(self) -> int:
        """Frames from the first to the last frame of a window, both included."""
        return (self.window - 1) * self.frame_step + 1

    @property
    def offsets(self) -> np.ndarray:
        """Frame offsets of the window's slots from its start, int64 ``(window,)``."""
        return np.arange(self.window, dtype=np.int64) * self.frame_step

    # -- per sample, vectorised over samples --------------------------------------------
    def _candidates(self, frames: np.ndarray) -> np.ndarray:
        """Number of valid starts of each sample before the stride is applied."""
        n = np.asarray(frames, dtype=np.int64)
        span, step = self.span, self.frame_step
        if self.pad == "none":
            return np.maximum(n - span + 1, 0)
        if self.pad in ("start", "end"):
            return np.where(n > 0, n, 0)
        # "both": starts -(span-1) .. n-1 that hit a real frame; when n < frame_step only
        # n of every frame_step starts before 0 do.
        return np.where(n > 0, (self.window - 1) * np.minimum(n, step) + n, 0)

    def count(self, frames: int | np.ndarray) -> int | np.ndarray:
        """Windows of a sample with ``frames`` frames (or of each sample of an array)."""
        candidates = self._candidates(np.asarray(frames))
        counts = (candidates + self.stride - 1) // self.stride
        return int(counts) if np.ndim(counts) == 0 else counts

    def start(self, frames: int | np.ndarray, local: int | np.ndarray) -> int | np.ndarray:
        """Start frame of the ``local``-th window of a sample (vectorised; no bounds check)."""
        n = np.asarray(frames, dtype=np.int64)
        i = np.asarray(local, dtype=np.int64) * self.stride
        if self.pad in ("none", "end"):
            out = i
        elif self.pad == "start":
            out = i - (self.span - 1)
        else:
            q = np.minimum(n, self.frame_step)
            before = (self.window - 1) * q  # starts before frame 0
            q_safe = np.maximum(q, 1)
            negative = -(self.window - 1 - i // q_safe) * self.frame_step + i % q_safe
            out = np.where(i < before, negative, i - before)
        return int(out) if np.ndim(out) == 0 else out

    def frames(self, frames: int, start: int) -> tuple[np.ndarray, np.ndarray]:
        """``(clamped frame indices, pad mask)`` of the window at ``start``, both ``(window,)``."""
        positions = start + self.offsets
        clamped = np.clip(positions, 0, frames - 1)
        return clamped, clamped != positions


class WindowIndex:
    """Every window of a list of samples, numbered ``0 .. len - 1`` sample by sample."""

    def __init__(self, frames: Sequence[int] | np.ndarray, spec: WindowSpec) -> None:
        self.spec = spec
        self.sample_frames = np.asarray(frames, dtype=np.int64).reshape(-1)
        if self.sample_frames.size and self.sample_frames.min() < 0:
            raise OptionError("sample frame counts must be >= 0")
        self.counts = np.asarray(spec.count(self.sample_frames), dtype=np.int64).reshape(-1)
        self.cumulative = np.zeros(len(self.counts) + 1, dtype=np.int64)
        np.cumsum(self.counts, out=self.cumulative[1:])

    def __len__(self) -> int:
        return int(self.cumulative[-1])

    @property
    def nbytes(self) -> int:
        return self.sample_frames.nbytes + self.counts.nbytes + self.cumulative.nbytes

    def locate(self, index: int) -> tuple[int, int]:
        """``(sample position, start frame)`` of window ``index`` (negative counts from the end)."""
        total = len(self)
        if index < 0:
            index += total
        if not 0 <= index < total:
            raise IndexError(f"window {index} is outside 0..{total - 1}")
        sample = int(np.searchsorted(self.cumulative, index, side="right")) - 1
        local = index - int(self.cumulative[sample])
        return sample, self.spec.start(int(self.sample_frames[sample]), local)

    def locate_many(self, indices: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """Vectorised :meth:`locate` for in-range indices: ``(samples, starts)``."""
        indices = np.asarray(indices, dtype=np.int64)
        samples = np.searchsorted(self.cumulative, indices, side="right") - 1
        local = indices - self.cumulative[samples]
        return samples, np.asarray(self.spec.start(self.sample_frames[samples], local), dtype=np.int64)

    def sample_range(self, sample: int) -> range:
        """Window numbers of one sample."""
        return range(int(self.cumulative[sample]), int(self.cumulative[sample + 1]))
