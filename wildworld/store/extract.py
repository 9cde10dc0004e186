"""Phase A of conversion: one release sample -> its videos and annotation intermediates.

``convert_sample`` is a pure function of its task (the same inputs give the same bytes), so
the local process pool and Ray run exactly the same code. It validates the sample first and
reports problems instead of writing anything for a bad sample. Every file is written under a
temporary name and renamed; the sample's ``result.json`` is written last and marks it done.
Its :class:`SampleProfile` is what the later phases need to know about the sample.
"""

from __future__ import annotations

import json
import os
import shutil
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Literal

import cv2
import numpy as np
import pyarrow as pa
import pyarrow.parquet as pq

from .. import layout as release_layout
from ..errors import ConversionError
from ..files import atomic_path, sha256_file, temp_name
from ..release.sample import Sample, column_array, open_sample
from ..release.skeleton import read_skeleton_edges
from ..release.state_csv import state_column_spec
from ..schemas import load_record_schema
from ..validate import validate_sample
from ..video.decode import iter_frames
from ..video.encode import VideoWriter
from .layout import VIDEO_FILES, action_fields, video_path, work_sample_dir, work_sample_file
from .options import ConvertOptions

__all__ = [
    "ConvertOptions",
    "SampleTask",
    "StateColumn",
    "SampleSkeleton",
    "SampleProfile",
    "SampleResult",
    "convert_sample",
    "load_result",
    "scale_intrinsics",
]


@dataclass(frozen=True)
class SampleTask:
    sample_dir: str
    sample_id: str
    store: str
    options: ConvertOptions
    edges_path: str | None = None


@dataclass(frozen=True)
class StateColumn:
    """How one state column is stored: its width and kind (float, id or category)."""

    width: int
    kind: Literal["float", "id", "category"]

    def to_json(self) -> dict[str, Any]:
        return {"width": self.width, "kind": self.kind}


@dataclass(frozen=True)
class SampleSkeleton:
    """One skeleton of a sample: its archive key, type and joint count (by store slot)."""

    key: str
    type_id: int
    joints: int

    def to_json(self) -> dict[str, Any]:
        return {"key": self.key, "type_id": self.type_id, "joints": self.joints}


@dataclass(frozen=True)
class SampleProfile:
    """What phases B-D need to know of a converted sample (it rides in ``result.json``)."""

    id: str
    source: str
    frames: int
    fps: float
    source_size: tuple[int, int]
    size: tuple[int, int]
    state_columns: Mapping[str, StateColumn]  # in the sample's column order
    categories: Mapping[str, tuple[str, ...]]  # category column -> its values, in code order
    skeleton: Mapping[str, SampleSkeleton]  # store slot (n0, w0, m1...) -> skeleton
    action_keys: tuple[tuple[int, int], ...]  # distinct (motion_bank_id, motion_id) played
    video_bytes: Mapping[str, int]  # stream -> bytes of its store video

    def to_json(self) -> dict[str, Any]:
        return {
            "id": self.id, "source": self.source, "frames": self.frames, "fps": self.fps,
            "source_size": list(self.source_size), "size": list(self.size),
            "state_columns": {name: column.to_json() for name, column in self.state_columns.items()},
            "categories": {name: list(values) for name, values in self.categories.items()},
            "skeleton": {slot: entry.to_json() for slot, entry in self.skeleton.items()},
            "action_keys": [list(key) for key in self.action_keys],
            "video_bytes": dict(self.video_bytes),
        }

    @classmethod
    def from_json(cls, data: Mapping[str, Any]) -> "SampleProfile":
        return cls(
            id=data["id"], source=data["source"], frames=int(data["frames"]), fps=data["fps"],
            source_size=tuple(data["source_size"]), size=tuple(data["size"]),
            state_columns={name: StateColumn(**column) for name, column in data["state_columns"].items()},
            categories={name: tuple(values) for name, values in data["categories"].items()},
            skeleton={slot: SampleSkeleton(**entry) for slot, entry in data["skeleton"].items()},
            action_keys=tuple((int(a), int(b)) for a, b in data["action_keys"]),
            video_bytes=dict(data["video_bytes"]),
        )


@dataclass(frozen=True)
class SampleResult:
    sample_id: str
    ok: bool
    frames: int = 0
    findings: tuple[dict, ...] = ()
    profile: SampleProfile | None = None
    files: Mapping[str, dict] = field(default_factory=dict)  # relative path -> {"sha256", "bytes"}

    def to_json(self) -> dict[str, Any]:
        return {"sample_id": self.sample_id, "ok": self.ok, "frames": self.frames, "findings": list(self.findings),
                "profile": None if self.profile is None else self.profile.to_json(), "files": dict(self.files)}

    @classmethod
    def from_json(cls, data: Mapping[str, Any]) -> "SampleResult":
        profile = data.get("profile")
        return cls(data["sample_id"], bool(data["ok"]), int(data.get("frames", 0)), tuple(data.get("findings", ())),
                   SampleProfile.from_json(profile) if profile else None, dict(data.get("files", {})))


def scale_intrinsics(K: np.ndarray, source: tuple[int, int], target: tuple[int, int]) -> np.ndarray:
    """Rescale (fx, fy, cx, cy) from a ``source`` (w, h) image to ``target`` (w, h), keeping pixel
    centres aligned as ``cv2.resize`` does: ``c' = (c + 0.5) s - 0.5``."""
    sx, sy = target[0] / source[0], target[1] / source[1]
    out = np.array(K, dtype=np.float64, copy=True)
    out[..., 0] *= sx
    out[..., 1] *= sy
    out[..., 2] = (out[..., 2] + 0.5) * sx - 0.5
    out[..., 3] = (out[..., 3] + 0.5) * sy - 0.5
    return out


def result_path(store: str | os.PathLike[str], sample_id: str) -> Path:
    return Path(store) / work_sample_file(sample_id, "result.json")


def _file_entry(store: Path, path: Path) -> tuple[str, dict]:
    return path.relative_to(store).as_posix(), {"sha256": sha256_file(path), "bytes": path.stat().st_size}


def _encode_video(task: SampleTask, stream: str, sample: Sample, target: tuple[int, int]) -> Path:
    video = VIDEO_FILES[stream]
    destination = Path(task.store) / video_path(task.sample_id, stream)
    interpolation = cv2.INTER_NEAREST if video.is_depth else cv2.INTER_AREA  # depth codes stay exact
    source = release_layout.sample_file(task.sample_dir, stream)
    written = 0
    # threads=1: parallelism is across samples, and single-threaded encoders give the same bytes
    # on every run (a resumed conversion must produce an identical store).
    with VideoWriter(destination, fps=sample.fps, width=target[0], height=target[1],
                     profile="depth" if video.is_depth else "rgb", crf=task.options.crf, gop=task.options.gop,
                     preset="medium", threads=1) as writer:
        for frame in iter_frames(source, color=video.color):
            if target != sample.size:
                frame = cv2.resize(frame, target, interpolation=interpolation)
            writer.write(frame)
            written += 1
    if written != sample.num_frames:
        destination.unlink(missing_ok=True)
        raise ConversionError(f"{source}: decoded {written} frames, expected {sample.num_frames}")
    return destination


def _encode_videos(task: SampleTask, sample: Sample, target: tuple[int, int]) -> tuple[dict[str, dict], dict[str, int]]:
    """The store videos of the asked streams: their manifest entries and sizes."""
    store = Path(task.store)
    files, video_bytes = {}, {}
    for stream in VIDEO_FILES:
        if stream in task.options.streams:
            path = _encode_video(task, stream, sample, target)
            relative, entry = _file_entry(store, path)
            files[relative] = entry
            video_bytes[stream] = entry["bytes"]
    return files, video_bytes


def _state_arrays(sample: Sample) -> tuple[dict[str, np.ndarray], dict[str, StateColumn], dict[str, tuple[str, ...]]]:
    """Numeric state columns (float64), text columns as category codes; the column kinds."""
    table = sample.state
    camera_columns = {spec.csv for spec in load_record_schema("camera").fields if spec.csv}
    arrays: dict[str, np.ndarray] = {}
    kinds: dict[str, StateColumn] = {}
    categories: dict[str, tuple[str, ...]] = {}
    for name in table.column_names:
        if name in camera_columns:
            continue
        column = table.column(name).combine_chunks()
        spec = state_column_spec(name)
        if pa.types.is_string(column.type) or (pa.types.is_null(column.type) and spec is not None and spec.is_text):
            encoded = column.cast(pa.string()).dictionary_encode()
            arrays[name] = encoded.indices.fill_null(-1).to_numpy(zero_copy_only=False).astype(np.int32)
            kinds[name] = StateColumn(1, "category")
            categories[name] = tuple(encoded.dictionary.to_pylist())
        elif pa.types.is_fixed_size_list(column.type) or pa.types.is_integer(column.type) or pa.types.is_floating(column.type):
            values = column_array(table, name)  # integer nulls become -1
            arrays[name] = values.astype(np.float64)
            kind = "id" if (spec is not None and spec.is_id) or pa.types.is_integer(column.type) else "float"
            kinds[name] = StateColumn(1 if values.ndim == 1 else int(values.shape[1]), kind)
        # other types (booleans, odd text) are not part of the array store; Parquet keeps them
    return arrays, kinds, categories


def _action_columns(sample: Sample) -> dict[str, np.ndarray]:
    """The action record's per-frame columns by store field, as the release holds them (every
    field of the action schema but the store's vocabulary index, which phase B adds)."""
    actions = sample.actions
    return {name: np.asarray(getattr(actions, name.removeprefix("action.")))
            for name, _, _ in action_fields() if name != "action.index"}


def _write_intermediates(directory: Path, task: SampleTask, sample: Sample, target: tuple[int, int]
                         ) -> tuple[dict[str, StateColumn], dict[str, tuple[str, ...]], dict[str, SampleSkeleton]]:
    """``annotations.npz`` (action, camera, state, skeleton arrays) and ``frames.parquet`` (the
    sample's per-frame table) in ``directory``; returns the state column kinds and skeletons."""
    size = sample.size
    camera = sample.camera
    K = scale_intrinsics(camera.K, size, target) if target != size else camera.K
    actions = _action_columns(sample)
    state, kinds, categories = _state_arrays(sample)
    arrays = {
        "action": np.stack(list(actions.values()), axis=1).astype(np.float64),
        "camera": np.concatenate([K, camera.position, camera.rotation], axis=1),
    }
    arrays.update({f"state/{name}": values for name, values in state.items()})
    skeleton: dict[str, SampleSkeleton] = {}
    for name in sample.skeleton:
        entity = sample.skeleton[name]
        arrays[f"skeleton/{name}"] = entity.joints
        key = entity.key
        skeleton[f"{key.kind}{key.index}"] = SampleSkeleton(name, key.type_id, entity.num_joints)
    with open(directory / "annotations.npz", "wb") as handle:
        np.savez(handle, **arrays)
    table = sample.state
    if "camera.K" in table.column_names and target != size:
        table = table.set_column(table.column_names.index("camera.K"), "camera.K",
                                 pa.FixedSizeListArray.from_arrays(pa.array(K.reshape(-1)), 4))
    table = table.append_column("camera.valid", pa.array(camera.valid))
    for name, values in actions.items():
        table = table.append_column(name, pa.array(values))
    table = table.add_column(0, "frame", pa.array(np.arange(sample.num_frames, dtype=np.int32)))
    table = table.add_column(0, "sample_id", pa.array([task.sample_id] * sample.num_frames, pa.string()))
    pq.write_table(table, directory / "frames.parquet")
    return kinds, categories, skeleton


def _played_keys(sample: Sample) -> tuple[tuple[int, int], ...]:
    actions = sample.actions
    keys = np.unique(np.stack([actions.motion_bank_id, actions.motion_id], axis=1), axis=0)
    return tuple((int(a), int(b)) for a, b in keys if a >= 0 and b >= 0)


def convert_sample(task: SampleTask) -> SampleResult:
    """Convert one sample (see the module docstring). Never raises for bad data: a sample that
    fails validation or conversion comes back with ``ok=False`` and its findings."""
    store = Path(task.store)
    work = store / work_sample_dir(task.sample_id)
    try:
        edges = read_skeleton_edges(task.edges_path) if task.edges_path else None
        report = validate_sample(task.sample_dir, edges=edges) if edges is not None else validate_sample(task.sample_dir)
        if not report.ok:  # validate first: nothing is written for a bad sample
            return SampleResult(task.sample_id, ok=False, findings=tuple(f.to_dict() for f in report.errors))
        sample = open_sample(task.sample_dir)
        target = (task.options.width, task.options.height) if task.options.width else sample.size
        if work.exists():
            shutil.rmtree(work)
        staging = temp_name(work)
        staging.mkdir(parents=True)
        files, video_bytes = _encode_videos(task, sample, target)  # videos/<id>/rgb.mp4, depth.mkv
        kinds, categories, skeleton = _write_intermediates(staging, task, sample, target)  # npz + parquet
        profile = SampleProfile(id=task.sample_id, source=str(task.sample_dir), frames=sample.num_frames, fps=sample.fps,
                                source_size=tuple(sample.size), size=tuple(target), state_columns=kinds,
                                categories=categories, skeleton=skeleton, action_keys=_played_keys(sample),
                                video_bytes=video_bytes)
        if work.exists():
            shutil.rmtree(work)
        os.replace(staging, work)
        result = SampleResult(task.sample_id, ok=True, frames=sample.num_frames, profile=profile, files=files,
                              findings=tuple(f.to_dict() for f in report.warnings))
        with atomic_path(result_path(store, task.sample_id)) as tmp:  # last: marks the sample done
            tmp.write_text(json.dumps(result.to_json(), indent=1, sort_keys=True))
        return result
    except Exception as exc:  # noqa: BLE001 - one bad sample must not stop a conversion
        return SampleResult(task.sample_id, ok=False, findings=({"severity": "error", "code": "conversion-failed",
                                                                 "path": str(task.sample_dir), "message": f"{type(exc).__name__}: {exc}"},))


def load_result(store: str | os.PathLike[str], sample_id: str) -> SampleResult | None:
    """A finished sample's result, or None if the sample has not completed."""
    path = result_path(store, sample_id)
    try:
        return SampleResult.from_json(json.loads(path.read_text()))
    except (FileNotFoundError, json.JSONDecodeError, TypeError, KeyError, ValueError):
        return None
