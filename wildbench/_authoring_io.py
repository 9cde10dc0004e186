"""Internals of :func:`wildbench.write_submission`: encode one case, write a state file, compare and re-target."""

from __future__ import annotations

import os
from pathlib import Path
from typing import TYPE_CHECKING, Iterable, Union

import numpy as np

from wildworld.validate import ValidationReport
from wildworld.video.encode import VideoWriter

from .errors import SubmissionError

if TYPE_CHECKING:
    import pyarrow as pa

__all__ = ["Frames", "encode_case", "write_state", "same_directory", "publish", "retarget"]

Frames = Union[np.ndarray, Iterable[np.ndarray]]


def encode_case(path: Path, frames: Frames, *, case_id: str, horizon: int, fps: float, crf: int) -> None:
    """Encode the first ``horizon`` frames (the evaluation reads no more) with PyAV."""
    writer = None
    count = 0
    try:
        for frame in frames:
            array = np.asarray(frame)
            if array.dtype != np.uint8 or array.ndim != 3 or array.shape[2] != 3:
                raise SubmissionError(f"case {case_id}: frame {count} is {array.dtype} {array.shape}; expected (H, W, 3) "
                                      "uint8 RGB (scale floats to 0..255, move channels last)")
            if writer is None:
                height, width = array.shape[:2]
                if width % 2 or height % 2:
                    raise SubmissionError(f"case {case_id}: frames are {width}x{height}; H.264 needs even sides")
                writer = VideoWriter(path, fps=fps, width=width, height=height, crf=crf)
            elif array.shape[:2] != (writer.height, writer.width):
                raise SubmissionError(f"case {case_id}: frame {count} is {array.shape[1]}x{array.shape[0]}, "
                                      f"frame 0 was {writer.width}x{writer.height}")
            writer.write(array)
            count += 1
            if count == horizon:
                break
        if count < horizon:
            raise SubmissionError(f"case {case_id}: {count} frames, the case needs {horizon} (frame 0 included)")
    except BaseException:
        if writer is not None:
            writer.abort()
        raise
    writer.close()


def write_state(path: Path, state: "pa.Table | str | os.PathLike[str]") -> None:
    import shutil

    import pyarrow as pa

    from wildworld.files import atomic_path
    from wildworld.release.writer import write_state_csv

    if isinstance(state, (str, os.PathLike)):
        with atomic_path(path) as tmp:
            shutil.copyfile(state, tmp)
        return
    if not isinstance(state, pa.Table):
        raise SubmissionError(f"{path.name}: a state is a pyarrow.Table or the path of a state.csv, not {type(state).__name__}")
    columns = {}
    for name in state.column_names:
        column = state.column(name).combine_chunks()
        if pa.types.is_fixed_size_list(column.type):
            columns[name] = [None if v is None else np.array(v, np.float64) for v in column.to_pylist()]
        else:
            columns[name] = column.to_pylist()  # None (a null) is written nan
    write_state_csv(path, columns, decimals=None)  # predictions keep every digit


def same_directory(a: Path, b: Path) -> bool:
    import filecmp

    names = lambda d: sorted(e.name for e in d.iterdir() if not e.name.startswith("."))  # noqa: E731
    return names(a) == names(b) and all(filecmp.cmp(a / n, b / n, shallow=False) for n in names(a))


def publish(staging: Path, directory: Path) -> None:
    """Rename the finished ``staging`` directory to ``directory``, replacing what is there; if
    the second rename fails, the previous content is put back."""
    import shutil

    from wildworld.files import temp_name

    if not directory.exists():
        os.replace(staging, directory)
        return
    old = temp_name(directory)
    os.replace(directory, old)
    try:
        os.replace(staging, directory)
    except BaseException:
        os.replace(old, directory)
        raise
    shutil.rmtree(old, ignore_errors=True)


def retarget(report: ValidationReport, staging: Path, directory: Path) -> ValidationReport:
    """The report as if the check had run on ``directory`` (it ran on the staging copy)."""
    from dataclasses import replace

    findings = [replace(f, path=f.path.replace(str(staging), str(directory))) for f in report.findings]
    return ValidationReport(target=str(directory), kind=report.kind, findings=findings, samples=report.samples)
