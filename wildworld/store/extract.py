"""Phase A of conversion: one release sample -> its videos and annotation intermediates.

``convert_sample`` is a pure function of its task (the same inputs give the same bytes), so
the local process pool and Ray run exactly the same code. It validates the sample first and
reports problems instead of writing anything for a bad sample. Every file is written under a
temporary name and renamed; the sample's ``result.json`` is written last and marks it done.
"""

from __future__ import annotations

import json
import os
import shutil
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

import cv2
import numpy as np
import pyarrow as pa
import pyarrow.parquet as pq

from .. import layout as release_layout
from .._checks import check_positive
from ..errors import OptionError
from ..files import atomic_path, sha256_file, temp_name
from ..release.sample import column_array, open_sample
from ..release.skeleton import read_skeleton_edges
from ..schemas import load_record_schema
from ..video.decode import iter_frames
from ..video.encode import VideoWriter
from .layout import ANNOTATION_STREAMS, VIDEO_STREAMS, WORK_DIR, video_path

__all__ = ["ConvertOptions", "SampleTask", "SampleResult", "convert_sample", "scale_intrinsics"]

ALL_STREAMS = VIDEO_STREAMS + ANNOTATION_STREAMS


@dataclass(frozen=True)
class ConvertOptions:
    """Conversion settings. They are recorded in the manifest; a store is only resumed with
    the same settings."""

    width: int | None = None  # None: keep the source resolution
    height: int | None = None
    clip_len: int = 32
    gop: int = 8
    crf: int = 20
    streams: tuple[str, ...] = ALL_STREAMS
    shard_bytes: int = 256 * 1024 * 1024
    chunk_frames: int = 256
    shard_frames: int = 16384
    seed: int = 0  # order of clips in the WebDataset shards

    def __post_init__(self) -> None:
        check_positive("clip_len", self.clip_len)
        check_positive("gop", self.gop)
        check_positive("chunk_frames", self.chunk_frames)
        check_positive("shard_frames", self.shard_frames)
        if self.clip_len % self.gop:
            raise OptionError(f"clip_len={self.clip_len} must be a multiple of gop={self.gop}: clips start on keyframes")
        if self.shard_frames % self.chunk_frames:
            raise OptionError(f"shard_frames={self.shard_frames} must be a multiple of chunk_frames={self.chunk_frames}")
        unknown = set(self.streams) - set(ALL_STREAMS)
        if unknown or not self.streams:
            raise OptionError(f"streams {sorted(unknown) or '(none)'} not allowed; choose from {', '.join(ALL_STREAMS)}")
        if (self.width is None) != (self.height is None):
            raise OptionError("give both width and height, or neither")
        if self.width is not None and (self.width % 2 or self.height % 2 or self.width < 16 or self.height < 16):
            raise OptionError(f"resolution {self.width}x{self.height} must be even and at least 16x16")
        if not 0 <= self.crf <= 51:
            raise OptionError(f"crf={self.crf} must be in 0..51")

    def to_json(self) -> dict[str, Any]:
        data = asdict(self)
        data["streams"] = list(self.streams)
        return data

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> "ConvertOptions":
        return cls(**{**data, "streams": tuple(data["streams"])})


@dataclass(frozen=True)
class SampleTask:
    sample_dir: str
    sample_id: str
    store: str
    options: ConvertOptions
    edges_path: str | None = None


@dataclass(frozen=True)
class SampleResult:
    sample_id: str
    ok: bool
    frames: int = 0
    findings: tuple[dict, ...] = ()
    profile: dict = field(default_factory=dict)
    files: dict = field(default_factory=dict)  # relative path -> {"sha256", "bytes"}

    def to_json(self) -> dict[str, Any]:
        return {**asdict(self), "findings": list(self.findings)}

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> "SampleResult":
        return cls(**{**data, "findings": tuple(data.get("findings", ()))})


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


def _work_dir(task: SampleTask) -> Path:
    return Path(task.store) / WORK_DIR / "samples" / task.sample_id


def result_path(store: str | os.PathLike[str], sample_id: str) -> Path:
    return Path(store) / WORK_DIR / "samples" / sample_id / "result.json"


def _record(files: dict, store: Path, path: Path) -> None:
    files[path.relative_to(store).as_posix()] = {"sha256": sha256_file(path), "bytes": path.stat().st_size}


def _encode_video(task: SampleTask, stream: str, frames: int, fps: float, size: tuple[int, int], target: tuple[int, int]) -> Path:
    store = Path(task.store)
    destination = store / video_path(task.sample_id, stream)
    color = "rgb" if stream == "rgb" else "gray"
    interpolation = cv2.INTER_AREA if stream == "rgb" else cv2.INTER_NEAREST  # depth codes stay exact
    source = release_layout.sample_file(task.sample_dir, stream)
    written = 0
    # threads=1: parallelism is across samples, and single-threaded encoders give the same bytes
    # on every run (a resumed conversion must produce an identical store).
    with VideoWriter(destination, fps=fps, width=target[0], height=target[1],
                     profile="rgb" if stream == "rgb" else "depth", crf=task.options.crf, gop=task.options.gop,
                     preset="medium", threads=1) as writer:
        for frame in iter_frames(source, color=color):
            if target != size:
                frame = cv2.resize(frame, target, interpolation=interpolation)
            writer.write(frame)
            written += 1
    if written != frames:
        destination.unlink(missing_ok=True)
        raise OptionError(f"{source}: decoded {written} frames, expected {frames}")
    return destination


def _state_intermediates(sample) -> tuple[dict[str, np.ndarray], dict[str, Any], dict[str, list]]:
    """Numeric state columns (float64), text columns as category codes; the column kinds."""
    from ..release.state_csv import state_column_spec

    table = sample.state
    camera_columns = {spec.csv for spec in load_record_schema("camera").fields if spec.csv}
    arrays: dict[str, np.ndarray] = {}
    kinds: dict[str, Any] = {}
    categories: dict[str, list] = {}
    for name in table.column_names:
        if name in camera_columns:
            continue
        column = table.column(name).combine_chunks()
        spec = state_column_spec(name)
        if pa.types.is_string(column.type) or (pa.types.is_null(column.type) and spec is not None and spec.is_text):
            encoded = column.cast(pa.string()).dictionary_encode()
            arrays[name] = encoded.indices.fill_null(-1).to_numpy(zero_copy_only=False).astype(np.int32)
            kinds[name] = {"width": 1, "kind": "category"}
            categories[name] = encoded.dictionary.to_pylist()
        elif pa.types.is_fixed_size_list(column.type) or pa.types.is_integer(column.type) or pa.types.is_floating(column.type):
            values = column_array(table, name)  # integer nulls become -1
            arrays[name] = values.astype(np.float64)
            kind = "id" if (spec is not None and spec.is_id) or pa.types.is_integer(column.type) else "float"
            kinds[name] = {"width": 1 if values.ndim == 1 else int(values.shape[1]), "kind": kind}
        # other types (booleans, odd text) are not part of the array store; Parquet keeps them
    return arrays, kinds, categories


def convert_sample(task: SampleTask) -> SampleResult:
    """Convert one sample (see the module docstring). Never raises for bad data: a sample that
    fails validation or conversion comes back with ``ok=False`` and its findings."""
    from ..validate import validate_sample

    store = Path(task.store)
    work = _work_dir(task)
    try:
        edges = read_skeleton_edges(task.edges_path) if task.edges_path else None
        report = validate_sample(task.sample_dir, edges=edges) if edges is not None else validate_sample(task.sample_dir)
        if not report.ok:
            return SampleResult(task.sample_id, ok=False, findings=tuple(f.to_dict() for f in report.errors))
        sample = open_sample(task.sample_dir)
        frames = sample.num_frames
        size = sample.size
        target = (task.options.width, task.options.height) if task.options.width else size
        if work.exists():
            shutil.rmtree(work)
        tmp_work = temp_name(work)
        tmp_work.mkdir(parents=True)
        files: dict[str, dict] = {}
        video_bytes = {}
        for stream in VIDEO_STREAMS:
            if stream in task.options.streams:
                path = _encode_video(task, stream, frames, sample.fps, size, target)
                _record(files, store, path)
                video_bytes[stream] = path.stat().st_size
        camera = sample.camera
        K = scale_intrinsics(camera.K, size, target) if target != size else camera.K
        actions = sample.actions
        state_arrays, kinds, categories = _state_intermediates(sample)
        arrays = {
            "action": np.stack([actions.motion_bank_id, actions.motion_id, actions.motion_frame, actions.tracked_index], axis=1).astype(np.float64),
            "camera": np.concatenate([K, camera.position, camera.rotation], axis=1),
        }
        arrays.update({f"state/{name}": values for name, values in state_arrays.items()})
        skeleton_info = {}
        for name in sample.skeleton:
            entity = sample.skeleton[name]
            arrays[f"skeleton/{name}"] = entity.joints
            key = entity.key
            skeleton_info[f"{key.kind}{key.index}"] = {"key": name, "type_id": key.type_id, "joints": entity.num_joints}
        with open(tmp_work / "annotations.npz", "wb") as handle:
            np.savez(handle, **arrays)
        table = sample.state
        if "camera.K" in table.column_names and target != size:
            table = table.set_column(table.column_names.index("camera.K"), "camera.K",
                                     pa.FixedSizeListArray.from_arrays(pa.array(K.reshape(-1)), 4))
        table = table.append_column("camera.valid", pa.array(camera.valid))
        for name, values in (("action.motion_bank_id", actions.motion_bank_id), ("action.motion_id", actions.motion_id),
                             ("action.motion_frame", actions.motion_frame), ("action.tracked_index", actions.tracked_index)):
            table = table.append_column(name, pa.array(values))
        table = table.add_column(0, "frame", pa.array(np.arange(frames, dtype=np.int32)))
        table = table.add_column(0, "sample_id", pa.array([task.sample_id] * frames, pa.string()))
        pq.write_table(table, tmp_work / "frames.parquet")
        keys = np.unique(np.stack([actions.motion_bank_id, actions.motion_id], axis=1), axis=0)
        profile = {
            "id": task.sample_id,
            "source": str(task.sample_dir),
            "frames": frames,
            "fps": sample.fps,
            "source_size": list(size),
            "size": list(target),
            "state_columns": kinds,
            "categories": categories,
            "skeleton": skeleton_info,
            "action_keys": [[int(a), int(b)] for a, b in keys if a >= 0 and b >= 0],
            "video_bytes": video_bytes,
        }
        if work.exists():
            shutil.rmtree(work)
        os.replace(tmp_work, work)
        result = SampleResult(task.sample_id, ok=True, frames=frames, profile=profile, files=files,
                              findings=tuple(f.to_dict() for f in report.warnings))
        with atomic_path(result_path(store, task.sample_id)) as tmp:
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
    except (FileNotFoundError, json.JSONDecodeError, TypeError, KeyError):
        return None
