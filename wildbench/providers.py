"""Providers: what the runner reads for a case, exactly what its metrics' ``requires`` ask for.

    submitted files   -> video (decoded once), cf_video, state table     (SUB/<case_id>...)
    the split's store -> true_video, true_depth, true_state of the window (never in the answer key)
    the answer key    -> answer                                          (SPLIT/answers/<case_id>.npz)
    a temp directory  -> scratch                                         (removed after the case)

A metric never opens a file; the runner asks ``CaseFiles.load`` for a ``CaseData`` holding
the requested inputs and nothing else.
"""

from __future__ import annotations

import contextlib
import shutil
import tempfile
from dataclasses import dataclass
from pathlib import Path
from typing import Iterator

import numpy as np

from .errors import SubmissionError
from .metrics.base import REQUIREMENTS, CaseData
from .names import FILE_KINDS

__all__ = ["CaseFiles", "decode_submission", "file_digest", "needs", "CF_SUFFIX", "STATE_SUFFIX"]

#: A submission's optional files per case, beside ``<case_id>.mp4``.
CF_SUFFIX = FILE_KINDS["counterfactual"]
STATE_SUFFIX = FILE_KINDS["state"]


def needs(requires: frozenset[str] | set[str]) -> frozenset[str]:
    """The provider names behind a metric's ``requires`` (``answer.<array>`` needs ``answer``)."""
    out = {("answer" if r.startswith("answer.") else r) for r in requires}
    unknown = out - set(REQUIREMENTS)
    if unknown:
        raise SubmissionError(f"no provider for {sorted(unknown)}; known: {sorted(REQUIREMENTS)}")
    return frozenset(out)


def file_digest(path: Path | None) -> str | None:
    """sha256 of a submitted file, None when there is none."""
    from wildworld.files import sha256_file

    if path is None or not path.exists():
        return None
    return sha256_file(path)


def decode_submission(path, frames: int, size: tuple[int, int]) -> np.ndarray:
    """The first ``frames`` frames of a video as (T, H, W, 3) uint8 RGB at ``size`` (resized if needed)."""
    import cv2

    from wildworld.video import iter_frames

    out = np.empty((frames, size[1], size[0], 3), np.uint8)
    count = 0
    for frame in iter_frames(path):
        if count == frames:
            break
        if frame.shape[1] != size[0] or frame.shape[0] != size[1]:
            frame = cv2.resize(frame, size, interpolation=cv2.INTER_AREA)
        out[count] = frame
        count += 1
    if count < frames:
        raise SubmissionError(f"{path}: only {count} frames decode, {frames} are needed")
    return out


@dataclass(frozen=True)
class CaseFiles:
    """Where one case's inputs are; picklable, so it travels to a worker process."""

    case_id: str
    video: str  # SUB/<case_id>.mp4
    cf_video: str | None  # SUB/<case_id>.cf.mp4 if present
    state: str | None  # SUB/<case_id>.state.csv if present
    answer: str  # SPLIT/answers/<case_id>.npz
    store: str  # the split's store
    sample_id: str
    start: int
    horizon: int
    fps: float
    size: tuple[int, int]
    track: str
    meta: dict

    @contextlib.contextmanager
    def load(self, provide: frozenset[str], *, store=None, scratch_root: Path | None = None) -> Iterator[CaseData]:
        """A ``CaseData`` with the inputs named in ``provide``; a scratch directory, if asked
        for, exists for the duration of the ``with`` block."""
        from .answers import CaseAnswer

        arrays: dict = {}
        if "video" in provide:
            arrays["video"] = decode_submission(self.video, self.horizon, self.size)
        if "cf_video" in provide and self.cf_video is not None:
            arrays["cf_video"] = decode_submission(self.cf_video, self.horizon, self.size)
        if "state" in provide and self.state is not None:
            from wildworld import read_state_csv

            arrays["state"] = read_state_csv(self.state)
        if provide & {"true_video", "true_depth", "true_state"}:
            if store is None:
                from wildworld.store import open_store

                store = open_store(self.store)
            arrays.update(_true_window(store, self, provide))
        answer = None
        if "answer" in provide:
            with np.load(self.answer, allow_pickle=False) as data:
                answer = CaseAnswer.from_npz(data)
        scratch = None
        try:
            if "scratch" in provide:
                scratch = Path(tempfile.mkdtemp(prefix=f"wildbench-{self.case_id}-", dir=scratch_root))
            yield CaseData(self.case_id, arrays.get("video"), answer, self.fps, true_video=arrays.get("true_video"),
                           true_depth=arrays.get("true_depth"), true_state=arrays.get("true_state"), cf_video=arrays.get("cf_video"), state=arrays.get("state"),
                           scratch=scratch, horizon=self.horizon, size=self.size, track=self.track, meta=self.meta)
        finally:
            if scratch is not None:
                shutil.rmtree(scratch, ignore_errors=True)


def _true_window(store, files: CaseFiles, provide: frozenset[str]) -> dict:
    from wildworld.video import open_video

    out = {}
    frames = range(files.start, files.start + files.horizon)
    if "true_video" in provide:
        with open_video(store.video(files.sample_id, "rgb")) as reader:
            out["true_video"] = reader.get(frames)
    if "true_depth" in provide:
        with open_video(store.video(files.sample_id, "depth"), backend="pyav", color="gray") as reader:
            out["true_depth"] = reader.get(frames)
    if "true_state" in provide:
        rows = store.rows(files.sample_id, files.start, files.start + files.horizon)
        out["true_state"] = {f.name: (rows[:, f.start] if f.width == 1 else rows[:, f.start : f.stop]) for f in store.layout.fields}
    return out
