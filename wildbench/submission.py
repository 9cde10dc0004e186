"""Submissions: ``SUB/<case_id>.mp4`` per case plus ``SUB/submission.json``; ``check_submission``.

Two optional files per case: ``<case_id>.cf.mp4``, the video generated for the case's
counterfactual action sequence (``actions_cf.json`` of the inputs; checked like the main
video), and ``<case_id>.state.csv``, the model's explicit state predictions in the release's
``state.csv`` format (readable by ``wildworld.read_state_csv``, at least ``horizon`` rows).

Every problem is reported at once, as findings (the same type ``wildworld validate`` uses):
missing or extra cases, names that are not plain case ids, entries that are not regular files,
unreadable or invalid submission.json, a submission made for another split (``split_checksum``),
reference claims (``reference``) that only ``wildbench baseline`` may make, videos whose first
``horizon`` frames do not all decode in order, too few frames, wrong frame rate, absurd sizes
(under 64 or over 4096 pixels a side, or an aspect ratio more than 2% off the split's), state
files that do not parse (``bad-state``, with the row and column) or hold too few rows
(``too-few-rows``).

``split`` may be a :class:`~wildbench.split.Split` or anything with the same ``cases`` (each
with ``case_id`` and ``horizon``), ``fps``, ``resolution`` and ``checksum``, such as the
inputs a model author has (:func:`wildbench.load_inputs`): the checks need no answer key.
"""

from __future__ import annotations

import os
import re
import stat
from pathlib import Path
from typing import Protocol, Sequence

from wildworld.classify import describe_kind, kind_of
from wildworld.findings import Finding, ValidationReport
from wildworld.schemas import read_document
from wildworld.video import iter_frames, probe_video

from .errors import SubmissionError
from .names import FILE_KINDS, SUBMISSION_FILE

__all__ = ["check_submission", "read_submission_info", "submission_file", "SplitLike", "SUBMISSION_FILE",
           "FILE_KINDS", "MIN_SIDE", "MAX_SIDE"]

MIN_SIDE, MAX_SIDE = 64, 4096
_SUFFIX_KIND = {suffix: kind for kind, suffix in FILE_KINDS.items()}
# Case ids hold no dot, so the suffix is everything from the first dot (used with fullmatch).
_CASE_FILE = re.compile(r"(?P<case>[A-Za-z0-9_-]+)(?P<suffix>" + "|".join(map(re.escape, FILE_KINDS.values())) + ")")


class _CaseLike(Protocol):
    case_id: str
    horizon: int


class SplitLike(Protocol):
    """What the checks need of a split: a :class:`~wildbench.split.Split` or the inputs."""

    @property
    def cases(self) -> Sequence[_CaseLike]: ...
    @property
    def fps(self) -> float: ...
    @property
    def resolution(self) -> tuple[int, int]: ...
    @property
    def checksum(self) -> str: ...


def submission_file(case_id: str, kind: str = "video") -> str:
    """The file name of one case's ``video``, ``counterfactual`` video or ``state`` predictions.

    >>> submission_file("wb0003"), submission_file("wb0003", "counterfactual"), submission_file("wb0003", "state")
    ('wb0003.mp4', 'wb0003.cf.mp4', 'wb0003.state.csv')
    """
    if kind not in FILE_KINDS:
        raise SubmissionError(f"file kind {kind!r}: choose one of {', '.join(FILE_KINDS)}")
    return case_id + FILE_KINDS[kind]


def read_submission_info(directory: str | os.PathLike[str]) -> dict:
    return read_document(Path(directory) / SUBMISSION_FILE, "wildbench_submission", error=SubmissionError,
                         missing="missing (it names the model, its version and the conditioning used)")


def check_submission(directory: str | os.PathLike[str], split: SplitLike, *, decode: bool = True) -> ValidationReport:
    """All problems of a submission directory against a split (or the inputs of one).

    ``decode`` also decodes the first ``horizon`` frames of every video, as the evaluation
    will. The report's ``ok`` is False when any finding is an error.

    >>> from wildbench import load_inputs
    >>> inputs = load_inputs("out/demo/bench/inputs")
    >>> report = check_submission("out/demo/bench/subs/frozen", inputs)
    >>> report.ok, report.samples == len(inputs)
    (True, True)
    """
    directory = Path(directory)
    if not directory.is_dir():
        raise SubmissionError(f"{directory}: not a directory (a submission is a directory of <case_id>.mp4 files)")
    kind = kind_of(directory)
    if kind not in (None, "submission"):  # a store, a split, the inputs...: say so, not "no video for each case"
        raise SubmissionError(f"{directory}: this is {describe_kind(kind)}, not a WildBench submission (a directory of "
                              "<case_id>.mp4 files; write a reference one with `wildbench baseline NAME --split SPLIT --out SUB`)")
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
    found: dict[str, dict[str, Path]] = {kind: {} for kind in FILE_KINDS}
    named: set[tuple[str, str]] = set()  # (case, kind) with a finding about its entry
    for entry in sorted(directory.iterdir()):
        if entry.name == SUBMISSION_FILE:
            continue
        if entry.name.startswith("."):  # .DS_Store and the like: not part of the submission
            findings.append(Finding("warning", "ignored-hidden", str(entry), "hidden entry, ignored"))
            continue
        match = _CASE_FILE.fullmatch(entry.name)
        if match is None:
            add("bad-name", entry, "not a plain <case_id>.mp4 file name (or <case_id>.cf.mp4, <case_id>.state.csv)")
            continue
        case_id, kind = match["case"], _SUFFIX_KIND[match["suffix"]]
        if case_id not in expected:
            add("extra-case", entry, f"no case {case_id!r} in the split", key=case_id)
        elif (problem := _not_a_regular_file(entry)) is not None:
            add("bad-file", entry, problem, key=case_id)
            named.add((case_id, kind))
        else:
            found[kind][case_id] = entry
    for case_id in expected:
        if case_id not in found["video"] and (case_id, "video") not in named:
            add("missing-case", directory / submission_file(case_id), "no video for this case", key=case_id)
    for kind in ("video", "counterfactual"):
        for case_id, path in found[kind].items():
            for code, message in _video_problems(path, expected[case_id].horizon, split, decode=decode):
                add(code, path, message, key=case_id)
    for case_id, path in found["state"].items():
        findings.extend(_state_problems(path, expected[case_id].horizon, case_id))
    return ValidationReport(target=str(directory), kind="submission", findings=findings, samples=len(found["video"]))


def _video_problems(path: Path, horizon: int, split: SplitLike, *, decode: bool) -> list[tuple[str, str]]:
    """(code, message) for every way one video fails the split's requirements."""
    width, height = split.resolution
    try:
        probe = probe_video(path, exact=True)
    except Exception as exc:  # noqa: BLE001
        return [("undecodable", f"cannot open the video ({getattr(exc, 'reason', exc)})")]
    problems = []
    if probe.frames < horizon:
        problems.append(("too-few-frames", f"{probe.frames} frames, the case needs {horizon}"))
    if split.fps and abs(probe.fps - split.fps) > 0.01:
        problems.append(("wrong-fps", f"{probe.fps:g} fps, the split runs at {split.fps:g}"))
    if not (MIN_SIDE <= probe.width <= MAX_SIDE and MIN_SIDE <= probe.height <= MAX_SIDE):
        problems.append(("bad-size", f"{probe.width}x{probe.height} is outside {MIN_SIDE}..{MAX_SIDE} pixels a side"))
    elif abs(probe.width / probe.height - width / height) > 0.02 * width / height:
        problems.append(("bad-size", f"aspect ratio {probe.width}x{probe.height} differs from the split's {width}x{height}"))
    elif decode and probe.frames >= horizon:
        problem = _decode_problem(path, horizon)
        if problem is not None:
            problems.append(("undecodable", problem))
    return problems


def _state_problems(path: Path, horizon: int, case_id: str) -> list[Finding]:
    """A state file must parse as the release's state.csv and cover the horizon."""
    from wildworld.errors import WildWorldError
    from wildworld.release.state_csv import read_state_csv

    try:
        table = read_state_csv(path)
    except WildWorldError as exc:
        return [Finding("error", "bad-state", str(path), getattr(exc, "reason", str(exc)),
                        row=getattr(exc, "row", None), column=getattr(exc, "column", None), key=case_id)]
    except (OSError, UnicodeDecodeError) as exc:
        return [Finding("error", "bad-state", str(path), f"cannot be read ({getattr(exc, 'strerror', None) or exc})", key=case_id)]
    if table.num_rows < horizon:
        return [Finding("error", "too-few-rows", str(path), f"{table.num_rows} rows, the case needs one per frame: {horizon}",
                        key=case_id)]
    return []


def _info_problems(info: dict, split: SplitLike) -> list[tuple[str, str]]:
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
