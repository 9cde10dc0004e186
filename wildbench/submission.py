"""Submissions: ``SUB/<case_id>.mp4`` per case plus ``SUB/submission.json``; ``check_submission``.

Every problem is reported at once, as findings (the same type ``wildworld validate`` uses):
missing or extra cases, names that are not plain case ids, entries that are not regular files,
unreadable or invalid submission.json, a submission made for another split (``split_checksum``),
reference claims (``reference``) that only ``wildbench baseline`` may make, videos whose first
``horizon`` frames do not all decode in order, too few frames, wrong frame rate, absurd sizes
(under 64 or over 4096 pixels a side, or an aspect ratio more than 2% off the split's).
"""

from __future__ import annotations

import os
import re
import stat
from pathlib import Path

from wildworld.findings import Finding, ValidationReport
from wildworld.schemas import read_document
from wildworld.video import iter_frames, probe_video

from .errors import SubmissionError
from .split import Split

__all__ = ["check_submission", "read_submission_info", "SUBMISSION_FILE", "MIN_SIDE", "MAX_SIDE"]

SUBMISSION_FILE = "submission.json"
MIN_SIDE, MAX_SIDE = 64, 4096
_CASE_FILE = re.compile(r"(?P<case>[A-Za-z0-9_-]+)\.mp4")  # used with fullmatch


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
    except Exception as exc:  # noqa: BLE001 - every problem becomes a finding
        add("bad-submission-json", directory / SUBMISSION_FILE, str(getattr(exc, "reason", exc)))
    else:
        for code, message in _info_problems(info, split):
            findings.append(Finding("warning" if code == "no-split-checksum" else "error", code,
                                    str(directory / SUBMISSION_FILE), message))
    expected = {case.case_id: case for case in split.cases}
    found: dict[str, Path] = {}
    for entry in sorted(directory.iterdir()):
        if entry.name == SUBMISSION_FILE:
            continue
        if entry.name.startswith("."):  # .DS_Store and the like: not part of the submission
            findings.append(Finding("warning", "ignored-hidden", str(entry), "hidden entry, ignored"))
            continue
        match = _CASE_FILE.fullmatch(entry.name)
        if match is None:
            add("bad-name", entry, "not a plain <case_id>.mp4 file name")
        elif match["case"] not in expected:
            add("extra-case", entry, f"no case {match['case']!r} in the split", key=match["case"])
        elif (problem := _not_a_regular_file(entry)) is not None:
            add("bad-file", entry, problem, key=match["case"])
        else:
            found[match["case"]] = entry
    for case_id in expected:
        if case_id not in found and not any(f.key == case_id for f in findings):
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
            problem = _decode_problem(path, case.horizon)
            if problem is not None:
                add("undecodable", path, problem, key=case_id)
    return ValidationReport(target=str(directory), kind="submission", findings=findings, samples=len(found))


def _info_problems(info: dict, split: Split) -> list[tuple[str, str]]:
    """What submission.json claims that the split or the benchmark does not allow."""
    from .baselines import BASELINES

    problems = []
    reference = info.get("reference")
    if reference is not None and BASELINES.get(info["model"], (None,))[0] != reference:
        problems.append(("bad-submission-json", f"'reference': {reference!r} is reserved for the reference submissions "
                                                "that `wildbench baseline` writes; remove it"))
    if "future_frames" in info["conditioning"] and reference != "ceiling":
        problems.append(("bad-submission-json", "conditioning 'future_frames' is reserved for the oracle reference"))
    checksum = info.get("split_checksum")
    if checksum is None:
        problems.append(("no-split-checksum", "no 'split_checksum': cannot confirm the videos were made for this split "
                                              f"(add \"split_checksum\": \"{split.checksum}\")"))
    elif checksum != split.checksum:
        problems.append(("wrong-split", f"made for split {checksum[:12]}, not for this split ({split.checksum[:12]}): "
                                        "case ids repeat across splits, so its videos would answer other cases"))
    return problems


def _not_a_regular_file(path: Path) -> str | None:
    try:
        mode = path.stat().st_mode  # follows a link: its target must be a regular file
    except FileNotFoundError:
        return "a link to nothing"
    except OSError as exc:
        return f"cannot be read ({exc.strerror or exc})"
    if stat.S_ISDIR(mode):
        return "is a directory, not a video file"
    if not stat.S_ISREG(mode):
        return "not a regular file (a pipe, socket or device)"
    return None


def _decode_problem(path: Path, frames: int) -> str | None:
    """Decode the first ``frames`` frames in order, as the evaluation will; say where it fails."""
    decoded = 0
    try:
        for _ in iter_frames(path):
            decoded += 1
            if decoded == frames:
                return None
    except Exception as exc:  # noqa: BLE001 - any decoder failure is the submission's problem
        return f"decoding fails after {decoded} of the {frames} frames the case needs ({getattr(exc, 'reason', exc)})"
    return f"only {decoded} of the {frames} frames the case needs decode"
