"""For model authors: read the inputs of a split, write a submission (docs/quickstart-model-authors.md).

    inputs = wildbench.load_inputs("INPUTS")              # typed cases; files load on first use
    videos = {case.case_id: my_model.generate(case.first_frame, case.actions.keys)
              for case in inputs}                         # arrays or generators of RGB frames
    report = wildbench.write_submission("SUB", videos, inputs=inputs, model="my-model",
                                        version="1.0", conditioning=["first_frame", "actions"])

Every file is checked against ``schemas/wildbench_inputs.schema.json`` when it is first read,
and a file that does not follow it raises :class:`InputsError` naming the file and the key.
Arrays handed out are read-only (they are cached): copy one before changing it.
"""

from __future__ import annotations

import json
import os
from dataclasses import dataclass, field
from functools import cached_property, lru_cache
from pathlib import Path
from types import MappingProxyType
from typing import TYPE_CHECKING, Any, Callable, Iterator, Literal, Mapping, Sequence

import numpy as np

from wildworld.errors import WildWorldError
from wildworld.release.sample import Camera
from wildworld.schemas import load_format_schema, loads_strict, validate_document
from wildworld.validate import ValidationReport

from ._authoring_io import Frames, encode_case, publish, retarget, same_directory, write_state
from .errors import SubmissionError, WildBenchError
from .submission import SUBMISSION_FILE, check_submission, read_submission_info, submission_file

if TYPE_CHECKING:
    import pyarrow as pa

    from .split import Split

__all__ = [
    "CONDITIONING",
    "CaseActions",
    "CaseCaption",
    "CaseSegment",
    "CaseSkeleton",
    "InputCase",
    "Inputs",
    "InputsError",
    "InvalidSubmissionError",
    "load_inputs",
    "write_submission",
]

INPUTS_SCHEMA = "wildbench_inputs"
Track = Literal["short", "long"]


class InputsError(WildBenchError):
    """An inputs directory (``wildbench inputs``) is missing a file or holds one that does not follow its schema."""


@lru_cache(maxsize=1)
def _schema() -> dict:
    return load_format_schema(INPUTS_SCHEMA)


def _conditioning() -> Mapping[str, str]:
    return MappingProxyType({name: spec["meaning"] for name, spec in _schema()["x-conditioning"].items()})


#: What each ``conditioning`` name of submission.json means (from the inputs schema).
CONDITIONING: Mapping[str, str] = _conditioning()


def _read_json(path: Path, definition: str) -> Any:
    """Read one inputs file and check it against its entry of the inputs schema."""
    import jsonschema

    try:
        document = loads_strict(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise InputsError(f"{path}: missing (write the inputs with `wildbench inputs SPLIT --out DIR`)") from None
    except OSError as exc:
        raise InputsError(f"{path}: cannot be read ({exc.strerror or exc})") from None
    except (ValueError, UnicodeDecodeError, RecursionError) as exc:
        raise InputsError(f"{path}: not valid JSON ({exc})") from None
    schema = _schema()
    validator = jsonschema.Draft202012Validator({"$defs": schema["$defs"], "$ref": f"#/$defs/{definition}"})
    error = min(validator.iter_errors(document), key=lambda e: list(map(str, e.absolute_path)), default=None)
    if error is not None:
        key = "/".join(str(p) for p in error.absolute_path) or "<root>"
        raise InputsError(f"{path}: key {key!r}: {error.message} (schemas/{INPUTS_SCHEMA}.schema.json, {definition})")
    return document


def _frozen(array: np.ndarray) -> np.ndarray:
    array.flags.writeable = False
    return array


@dataclass(frozen=True)
class CaseSegment:
    """Frames ``[start, end)`` during which the tracked player plays one clip once.

    >>> segment = load_inputs("out/demo/bench/inputs")[0].segments[0]
    >>> segment.start, segment.key == (segment.motion_bank_id, segment.motion_id)
    (0, True)
    """

    start: int
    end: int
    motion_bank_id: int
    motion_id: int
    action_id: int
    first_phase: float | None

    def __post_init__(self) -> None:
        if not 0 <= self.start < self.end:
            raise InputsError(f"segment [{self.start}, {self.end}) is empty or negative")

    @property
    def key(self) -> tuple[int, int]:
        """The action key ``(motion_bank_id, motion_id)``."""
        return (self.motion_bank_id, self.motion_id)


@dataclass(frozen=True)
class CaseActions:
    """The tracked player's action on every frame of a case (``actions.json``).

    Arrays are ``(horizon,)``: ``motion_bank_id``, ``motion_id``, ``action_id`` int64 (-1 where
    unknown) and ``motion_frame`` float64 (NaN where unknown).

    >>> case = load_inputs("out/demo/bench/inputs")[0]
    >>> actions = case.actions
    >>> actions.keys.shape == (case.horizon, 2), actions.segments[0].start
    (True, 0)
    """

    motion_bank_id: np.ndarray
    motion_id: np.ndarray
    action_id: np.ndarray
    motion_frame: np.ndarray
    segments: tuple[CaseSegment, ...]

    def __post_init__(self) -> None:
        n = len(self.motion_id)
        for name in ("motion_bank_id", "action_id", "motion_frame"):
            if getattr(self, name).shape != (n,):
                raise InputsError(f"actions: {name} has shape {getattr(self, name).shape}, expected ({n},)")
        if self.segments and (self.segments[0].start != 0 or self.segments[-1].end != n or any(
                a.end != b.start for a, b in zip(self.segments, self.segments[1:]))):
            raise InputsError(f"actions: segments do not tile frames 0..{n - 1}")

    @property
    def keys(self) -> np.ndarray:
        """``(horizon, 2)`` int64 action keys ``(motion_bank_id, motion_id)`` per frame."""
        return np.stack([self.motion_bank_id, self.motion_id], axis=1)

    @classmethod
    def from_json(cls, document: Mapping[str, Any], *, path: object = "actions.json") -> "CaseActions":
        """Build from the content of ``actions.json`` (already checked against the schema)."""
        frames = document["frames"]
        if [f["t"] for f in frames] != list(range(len(frames))):
            raise InputsError(f"{path}: key 'frames': frame indices t are not 0..{len(frames) - 1} in order")
        if len(frames) != document["horizon"]:
            raise InputsError(f"{path}: {len(frames)} frames but horizon {document['horizon']}")
        column = lambda name, dtype: _frozen(np.array([f[name] for f in frames], dtype=dtype))  # noqa: E731
        phase = _frozen(np.array([np.nan if f["motion_frame"] is None else f["motion_frame"] for f in frames], np.float64))
        segments = tuple(CaseSegment(s["start"], s["end"], s["motion_bank_id"], s["motion_id"], s["action_id"],
                                     s["first_phase"]) for s in document["segments"])
        try:
            return cls(column("motion_bank_id", np.int64), column("motion_id", np.int64), column("action_id", np.int64),
                       phase, segments)
        except InputsError as exc:
            raise InputsError(f"{path}: {exc}") from None


@dataclass(frozen=True)
class CaseCaption:
    """The templated caption of frames ``[start, end)`` (``captions.json``).

    >>> caption = load_inputs("out/demo/bench/inputs")[0].captions[0]
    >>> caption.start, caption.text.startswith(f"frames 0-{caption.end - 1} ")
    (0, True)
    """

    start: int
    end: int
    text: str


@dataclass(frozen=True)
class CaseSkeleton:
    """One entity's frame 0 skeleton (``skeleton_first.json``) and its bones (``cases.json`` edges).

    ``slot`` is ``n<i>`` (player character), ``w<i>`` (its weapon) or ``m<i>`` (monster);
    ``joints`` is ``(J, 3)`` world positions; ``edges`` is ``(E, 2)`` joint index pairs (empty
    when the inputs hold no bones for its type).

    >>> skeletons = load_inputs("out/demo/bench/inputs")[0].skeletons
    >>> player = skeletons["n0"]
    >>> player.joints.shape[1], player.edges_key, len(player.edges) > 0
    (3, 'npc', True)
    """

    slot: str
    type_id: int
    joints: np.ndarray
    edges: np.ndarray

    def __post_init__(self) -> None:
        if self.joints.ndim != 2 or self.joints.shape[1] != 3:
            raise InputsError(f"skeleton {self.slot}: joints have shape {self.joints.shape}, expected (J, 3)")

    @property
    def edges_key(self) -> str:
        """The skeleton type's key in ``cases.json`` ``edges`` (``npc``, ``wp_<id>``, ``em_<id>``)."""
        from wildworld import SkeletonKey

        return SkeletonKey(self.slot[0], int(self.slot[1:]), self.type_id).edges_key


@dataclass(frozen=True)
class InputCase:
    """One case of the inputs: its facts at once, its files on first use (then cached).

    >>> case = load_inputs("out/demo/bench/inputs")[0]
    >>> frame = case.first_frame                         # RGB, not BGR
    >>> frame.shape == (case.size[1], case.size[0], 3), frame.dtype.name
    (True, 'uint8')
    >>> len(case.camera.K) == case.horizon, case.counterfactual_actions is None or case.counterfactual_actions.keys.shape[0] == case.horizon
    (True, True)
    """

    case_id: str
    directory: Path
    horizon: int
    fps: float
    size: tuple[int, int]
    split_checksum: str
    track: Track | None = None
    edges_by_type: Mapping[str, np.ndarray] = field(default_factory=dict, repr=False)

    def __post_init__(self) -> None:
        if self.horizon < 2:
            raise InputsError(f"case {self.case_id}: horizon {self.horizon} < 2")
        if self.track is not None and self.track not in ("short", "long"):
            raise InputsError(f"case {self.case_id}: track {self.track!r}; expected 'short' or 'long'")

    def _file(self, name: str) -> Path:
        return self.directory / name

    @cached_property
    def first_frame(self) -> np.ndarray:
        """Frame 0, ``(H, W, 3)`` uint8 RGB at :attr:`size` (read-only)."""
        import cv2

        path = self._file("first_frame.png")
        try:
            data = np.frombuffer(path.read_bytes(), np.uint8)
        except FileNotFoundError:
            raise InputsError(f"{path}: missing (write the inputs with `wildbench inputs SPLIT --out DIR`)") from None
        image = cv2.imdecode(data, cv2.IMREAD_COLOR) if data.size else None  # BGR: converted below
        if image is None:
            raise InputsError(f"{path}: not a readable PNG image")
        if (image.shape[1], image.shape[0]) != self.size:
            raise InputsError(f"{path}: {image.shape[1]}x{image.shape[0]}, the inputs say {self.size[0]}x{self.size[1]}")
        return _frozen(cv2.cvtColor(image, cv2.COLOR_BGR2RGB))

    def _actions(self, name: str) -> CaseActions:
        path = self._file(name)
        actions = CaseActions.from_json(_read_json(path, "actions"), path=path)
        if len(actions.motion_id) != self.horizon:
            raise InputsError(f"{path}: {len(actions.motion_id)} frames, the case has {self.horizon}")
        return actions

    @cached_property
    def actions(self) -> CaseActions:
        """The per-frame action sequence (``actions.json``)."""
        return self._actions("actions.json")

    @cached_property
    def counterfactual_actions(self) -> CaseActions | None:
        """The counterfactual action sequence (``actions_cf.json``), or None where the case has none."""
        return self._actions("actions_cf.json") if self._file("actions_cf.json").exists() else None

    @property
    def segments(self) -> tuple[CaseSegment, ...]:
        """The action segments (runs of one clip), from ``actions.json``."""
        return self.actions.segments

    @cached_property
    def captions(self) -> tuple[CaseCaption, ...]:
        """One caption per action segment (``captions.json``)."""
        return tuple(CaseCaption(c["start"], c["end"], c["text"]) for c in _read_json(self._file("captions.json"), "captions"))

    @cached_property
    def camera(self) -> Camera:
        """The true per-frame camera (``camera.json``) as a :class:`wildworld.Camera`:
        ``K`` (H, 4) fx fy cx cy, ``position`` (H, 3), ``rotation`` (H, 4) xyzw camera-to-world,
        OpenGL camera frame; ``camera.extrinsics()`` gives OpenCV world-to-camera R, t."""
        path = self._file("camera.json")
        frames = _read_json(path, "camera")["frames"]
        if len(frames) != self.horizon or [f["t"] for f in frames] != list(range(len(frames))):
            raise InputsError(f"{path}: key 'frames': expected frames t = 0..{self.horizon - 1} in order")
        arrays = {name: _frozen(np.array([f[name] for f in frames], np.float64)) for name in ("K", "position", "rotation")}
        valid = np.isfinite(arrays["K"]).all(1) & np.isfinite(arrays["position"]).all(1) & np.isfinite(arrays["rotation"]).all(1)
        return Camera(K=arrays["K"], position=arrays["position"], rotation=arrays["rotation"], valid=_frozen(valid))

    @cached_property
    def skeletons(self) -> Mapping[str, CaseSkeleton]:
        """Slot -> frame 0 skeleton of every entity present (``skeleton_first.json``)."""
        document = _read_json(self._file("skeleton_first.json"), "skeleton_first")
        empty = np.zeros((0, 2), np.int64)
        out = {}
        for slot, entry in document.items():
            skeleton = CaseSkeleton(slot, entry["type_id"], _frozen(np.array(entry["joints"], np.float64).reshape(-1, 3)), empty)
            edges = self.edges_by_type.get(skeleton.edges_key, empty)
            out[slot] = CaseSkeleton(slot, skeleton.type_id, skeleton.joints, edges)
        return MappingProxyType(out)

    @cached_property
    def state(self) -> Mapping[str, Any]:
        """Frame 0 state by state.csv column name (``state_first.json``): a float, a tuple for
        a vector field, a string for a category, None where missing."""
        document = _read_json(self._file("state_first.json"), "state_first")
        return MappingProxyType({k: tuple(v) if isinstance(v, list) else v for k, v in document.items()})


@dataclass(frozen=True)
class Inputs:
    """The inputs of a split (``wildbench inputs``): the shared facts and the cases, in order.

    Index by position or case id, iterate over the cases. An ``Inputs`` stands for its split
    in :func:`wildbench.check_submission` (the checks need no answer key).

    >>> inputs = load_inputs("out/demo/bench/inputs")
    >>> len(inputs) > 0, inputs[0] is inputs[inputs.case_ids[0]], inputs.size
    (True, True, (320, 180))
    """

    directory: Path
    cases: tuple[InputCase, ...]
    horizon: int
    fps: float
    size: tuple[int, int]
    split_checksum: str
    vocabulary: tuple[tuple[int, int], ...]
    edges: Mapping[str, np.ndarray] = field(repr=False)
    _by_id: Mapping[str, InputCase] = field(default_factory=dict, repr=False, compare=False)

    def __post_init__(self) -> None:
        by_id = {case.case_id: case for case in self.cases}
        if len(by_id) != len(self.cases):
            raise InputsError(f"{self.directory}: case ids repeat in cases.json")
        object.__setattr__(self, "_by_id", MappingProxyType(by_id))

    @property
    def case_ids(self) -> tuple[str, ...]:
        return tuple(case.case_id for case in self.cases)

    @property
    def checksum(self) -> str:
        """The split's checksum (the same as :attr:`split_checksum`)."""
        return self.split_checksum

    @property
    def resolution(self) -> tuple[int, int]:
        """(width, height) of the evaluation (the same as :attr:`size`)."""
        return self.size

    def __len__(self) -> int:
        return len(self.cases)

    def __iter__(self) -> Iterator[InputCase]:
        return iter(self.cases)

    def __getitem__(self, key: int | str) -> InputCase:
        if isinstance(key, str):
            try:
                return self._by_id[key]
            except KeyError:
                raise InputsError(f"{self.directory}: no case {key!r} (cases: {', '.join(self.case_ids[:5])}...)") from None
        return self.cases[key]


def load_inputs(directory: str | os.PathLike[str]) -> Inputs:
    """Read an inputs directory written by ``wildbench inputs``: ``cases.json`` now, each case's
    files when first asked for.

    >>> inputs = load_inputs("out/demo/bench/inputs")
    >>> case = inputs[0]
    >>> case.case_id == inputs.case_ids[0], case.fps == inputs.fps, len(case.split_checksum)
    (True, True, 64)
    """
    directory = Path(directory)
    if not directory.is_dir():
        raise InputsError(f"{directory}: not a directory (write the inputs with `wildbench inputs SPLIT --out DIR`)")
    document = _read_json(directory / "cases.json", "cases")
    width, height = document["resolution"]
    edges = MappingProxyType({key: _frozen(np.array(pairs, np.int64).reshape(-1, 2)) for key, pairs in document["edges"].items()})
    cases = []
    for entry in document["cases"]:
        entry = {"case_id": entry} if isinstance(entry, str) else entry
        cases.append(InputCase(
            case_id=entry["case_id"], directory=directory / entry["case_id"],
            horizon=entry.get("horizon", document["horizon"]), fps=float(document["fps"]), size=(width, height),
            split_checksum=document["split_checksum"], track=entry.get("track", document.get("track")), edges_by_type=edges,
        ))
    return Inputs(directory=directory, cases=tuple(cases), horizon=document["horizon"], fps=float(document["fps"]),
                  size=(width, height), split_checksum=document["split_checksum"],
                  vocabulary=tuple(tuple(k) for k in document["vocabulary"]), edges=edges)


# --------------------------------------------------------------------------- writing


class InvalidSubmissionError(SubmissionError):
    """What :func:`write_submission` wrote does not pass ``wildbench check``; ``report`` has every finding."""

    def __init__(self, message: str, report: ValidationReport) -> None:
        super().__init__(message)
        self.report = report


def _split_like(inputs: "Inputs | Split | str | os.PathLike[str]") -> "Inputs | Split":
    if not isinstance(inputs, (str, os.PathLike)):
        return inputs
    path = Path(inputs)
    if (path / "split.json").exists():
        from .split import load_split

        return load_split(path)
    return load_inputs(path)


def write_submission(
    directory: str | os.PathLike[str],
    videos: Mapping[str, Frames],
    *,
    inputs: "Inputs | Split | str | os.PathLike[str]",
    model: str,
    version: str,
    conditioning: Sequence[str],
    counterfactual: Mapping[str, Frames] | None = None,
    states: "Mapping[str, pa.Table | str | os.PathLike[str]] | None" = None,
    description: str | None = None,
    authors: str | None = None,
    url: str | None = None,
    crf: int = 18,
    overwrite: bool = False,
    progress: Callable[[int, int], None] | None = None,
) -> ValidationReport:
    """Encode one video per case (PyAV), write ``submission.json`` and check it as ``wildbench check`` does.

    ``videos`` maps every case id to its frames: a ``(T, H, W, 3)`` uint8 RGB array or any
    iterable of ``(H, W, 3)`` frames (a generator is consumed once, frame by frame). Frame 0 is
    the given first frame; the first ``horizon`` frames are written. ``counterfactual`` maps
    case ids to the video for their ``actions_cf.json`` (``<case_id>.cf.mp4``), ``states`` to
    the model's predicted state (``<case_id>.state.csv``: a ``pyarrow.Table`` in the form of
    ``wildworld.read_state_csv``, or the path of a state.csv). ``inputs`` is what the videos
    answer: the :class:`Inputs`, a split, or the path of either; its checksum goes into
    ``submission.json``.

    The submission is built in a temporary directory beside ``directory``, checked, and only
    then renamed into place: nothing half-written is ever left under the final name. An
    existing, different submission is refused unless ``overwrite=True``; an identical one is
    left as it is. Raises :class:`InvalidSubmissionError` (with the report) when the check
    fails. Returns the check's report.

    >>> inputs = load_inputs("out/demo/bench/inputs")
    >>> frozen = {case.case_id: [case.first_frame] * case.horizon for case in inputs}
    >>> report = write_submission("out/demo/bench/sub_doc", frozen, inputs=inputs, model="still",
    ...                           version="1.0", conditioning=["first_frame"])
    >>> report.ok, sorted(os.listdir("out/demo/bench/sub_doc"))[:2]
    (True, ['submission.json', 'wb0000.mp4'])
    """
    import shutil

    from wildworld.files import temp_name

    split = _split_like(inputs)
    directory = Path(directory)
    info = {"model": model, "version": version, "conditioning": list(conditioning), "split_checksum": split.checksum}
    info.update({k: v for k, v in (("description", description), ("authors", authors), ("url", url)) if v is not None})
    try:
        validate_document(info, "wildbench_submission")
    except WildWorldError as exc:
        raise SubmissionError(f"submission.json: {getattr(exc, 'reason', exc)}") from None
    cases = {case.case_id: case for case in split.cases}
    for what, given in (("videos", videos), ("counterfactual", counterfactual or {}), ("states", states or {})):
        unknown = sorted(set(given) - set(cases))
        if unknown:
            raise SubmissionError(f"{what}: no case {unknown[0]!r} in the split ({len(unknown)} unknown ids)")
    missing = [case_id for case_id in cases if case_id not in videos]
    if missing:
        raise SubmissionError(f"videos: {len(missing)} of {len(cases)} cases have none (first: {missing[0]}); "
                              "a submission answers every case")
    if directory.exists() and not directory.is_dir():
        raise SubmissionError(f"{directory}: not a directory")
    occupied = directory.is_dir() and any(not e.name.startswith(".") for e in directory.iterdir())
    if occupied and not overwrite:
        try:
            previous = read_submission_info(directory)
        except SubmissionError:
            previous = None
        if previous != info:
            raise SubmissionError(f"{directory}: holds another submission (or other files); pass overwrite=True to "
                                  "replace it, or write to a new directory")
    staging = temp_name(directory)
    try:
        staging.mkdir(parents=True)
        jobs = [(case_id, "video", frames) for case_id, frames in videos.items()]
        jobs += [(case_id, "counterfactual", frames) for case_id, frames in (counterfactual or {}).items()]
        for number, (case_id, kind, frames) in enumerate(jobs):
            encode_case(staging / submission_file(case_id, kind), frames, case_id=case_id,
                        horizon=cases[case_id].horizon, fps=split.fps, crf=crf)
            if progress is not None:
                progress(number + 1, len(jobs))
        for case_id, state in (states or {}).items():
            write_state(staging / submission_file(case_id, "state"), state)
        (staging / SUBMISSION_FILE).write_text(json.dumps(info, indent=1) + "\n", encoding="utf-8")
        report = check_submission(staging, split)
        if not report.ok:
            first = report.errors[0]
            raise InvalidSubmissionError(
                f"{directory}: the written submission fails the checks ({len(report.errors)} problems, first: {first.code}: "
                f"{Path(first.path).name}: {first.message}); nothing was written", retarget(report, staging, directory))
        if occupied and not overwrite and not same_directory(staging, directory):
            raise SubmissionError(f"{directory}: holds a submission of the same model and version with other files; "
                                  "pass overwrite=True to replace it, or write to a new directory")
        if overwrite or not occupied:
            publish(staging, directory)
    finally:
        if staging.exists():
            shutil.rmtree(staging, ignore_errors=True)
    return retarget(report, staging, directory)
