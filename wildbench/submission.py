"""Submissions: ``SUB/<case_id>.mp4`` per case plus ``SUB/submission.json``; ``check_submission``.

Every problem is reported at once, as findings (the same type ``wildworld validate`` uses):
missing or extra cases, names that are not plain case ids, unreadable or invalid
submission.json, undecodable videos, too few frames, wrong frame rate, absurd sizes (under 64
or over 4096 pixels a side, or an aspect ratio more than 2% off the split's).
"""

from __future__ import annotations

import os
import re
from pathlib import Path

from wildworld.schemas import read_document
from wildworld.validate import Finding, ValidationReport
from wildworld.video import probe_video, read_frames

from .errors import SubmissionError
from .split import Split

__all__ = ["check_submission", "read_submission_info", "SUBMISSION_FILE", "MIN_SIDE", "MAX_SIDE"]

SUBMISSION_FILE = "submission.json"
MIN_SIDE, MAX_SIDE = 64, 4096
_CASE_FILE = re.compile(r"^(?P<case>[A-Za-z0-9_-]+)\.mp4$")


def read_submission_info(directory: str | os.PathLike[str]) -> dict:
    return read_document(Path(directory) / SUBMISSION_FILE, "wildbench_submission", error=SubmissionError,
                         missing="missing (it names the model, its version and the conditioning used)")


def check_submission(directory: str | os.PathLike[str], split: Split, *, decode: bool = True) -> ValidationReport:
    """All problems of a submission directory against a split."""
    directory = Path(directory)
    if not directory.is_dir():
        raise SubmissionError(f"{directory}: not a directory (a submission is a directory of <case_id>.mp4 files)")
    findings: list[Finding] = []

    def add(code: str, path, message: str, key: str | None = None) -> None:
        findings.append(Finding("error", code, str(path), message, key=key))

    try:
        info = read_submission_info(directory)
        if "future_frames" in info["conditioning"] and info.get("reference") != "ceiling":
            add("bad-submission-json", directory / SUBMISSION_FILE, "conditioning 'future_frames' is reserved for the oracle reference")
    except Exception as exc:  # noqa: BLE001 - every problem becomes a finding
        add("bad-submission-json", directory / SUBMISSION_FILE, str(getattr(exc, "reason", exc)))
    expected = {case.case_id: case for case in split.cases}
    found: dict[str, Path] = {}
    for entry in sorted(directory.iterdir()):
        if entry.name == SUBMISSION_FILE:
            continue
        match = _CASE_FILE.match(entry.name)
        if entry.is_dir() or match is None:
            add("bad-name", entry, "not a plain <case_id>.mp4 file name")
        elif match["case"] not in expected:
            add("extra-case", entry, f"no case {match['case']!r} in the split", key=match["case"])
        else:
            found[match["case"]] = entry
    for case_id in expected:
        if case_id not in found:
            add("missing-case", directory / f"{case_id}.mp4", "no video for this case", key=case_id)
    width, height = split.resolution
    for case_id, path in found.items():
        case = expected[case_id]
        try:
            probe = probe_video(path, exact=True)
        except Exception as exc:  # noqa: BLE001
            add("undecodable", path, f"cannot open the video ({getattr(exc, 'reason', exc)})", key=case_id)
            continue
        if probe.frames < case.horizon:
            add("too-few-frames", path, f"{probe.frames} frames, the case needs {case.horizon}", key=case_id)
        if split.fps and abs(probe.fps - split.fps) > 0.01:
            add("wrong-fps", path, f"{probe.fps:g} fps, the split runs at {split.fps:g}", key=case_id)
        if not (MIN_SIDE <= probe.width <= MAX_SIDE and MIN_SIDE <= probe.height <= MAX_SIDE):
            add("bad-size", path, f"{probe.width}x{probe.height} is outside {MIN_SIDE}..{MAX_SIDE} pixels a side", key=case_id)
        elif abs(probe.width / probe.height - width / height) > 0.02 * width / height:
            add("bad-size", path, f"aspect ratio {probe.width}x{probe.height} differs from the split's {width}x{height}", key=case_id)
        elif decode and probe.frames >= case.horizon:
            try:
                read_frames(path, [0, case.horizon - 1], backend="pyav")
            except Exception as exc:  # noqa: BLE001
                add("undecodable", path, f"frames 0 and {case.horizon - 1} do not decode ({getattr(exc, 'reason', exc)})", key=case_id)
    return ValidationReport(target=str(directory), kind="submission", findings=findings, samples=len(found))
