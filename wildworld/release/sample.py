"""A typed, lazy view of one release sample: ``open_sample(dir)``.

Nothing is read until asked for; each stream is read at most once. Decoupled records:
``camera`` (pinhole per frame), ``actions`` (the tracked player's animation clip per frame),
``state`` (the whole typed state table), ``skeleton`` (joints per entity) and video probes.
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from functools import cached_property
from pathlib import Path
from typing import Sequence

import numpy as np
import pyarrow as pa

from .. import layout
from ..classify import expect_kind, kind_of
from ..errors import FormatError, MissingFileError, OptionError
from ..geometry import DEFAULT_NEAR, Projection, opengl_c2w_to_opencv_w2c, project_points
from ..schemas import load_record_schema, load_state_schema
from ..video.decode import read_frames
from ..video.probe import VideoProbe, probe_video
from .skeleton import SkeletonFile, read_skeleton_edges
from .state_csv import read_state_csv

__all__ = ["Camera", "PlayerActions", "ActionSegment", "Sample", "open_sample", "column_array"]


def column_array(table: pa.Table, name: str, *, width: int | None = None) -> np.ndarray:
    """A state column as numpy: ``(N,)`` or ``(N, k)`` float64/int64; int nulls become -1."""
    if name not in table.column_names:
        raise KeyError(name)
    column = table.column(name).combine_chunks()
    if pa.types.is_fixed_size_list(column.type):
        k = column.type.list_size
        return np.asarray(column.flatten().to_numpy(zero_copy_only=False), dtype=np.float64).reshape(-1, k)
    if pa.types.is_integer(column.type):
        return np.asarray(column.fill_null(-1).to_numpy(zero_copy_only=False), dtype=np.int64)
    if pa.types.is_floating(column.type):
        return np.asarray(column.to_numpy(zero_copy_only=False), dtype=np.float64)
    raise FormatError(f"column {name!r} has type {column.type}, expected numbers")


@dataclass(frozen=True)
class Camera:
    """Per-frame camera: ``K`` (N, 4) fx fy cx cy; ``position`` (N, 3); ``rotation`` (N, 4) xyzw
    camera-to-world in the OpenGL frame; ``valid`` (N,) False on invalid-camera rows."""

    K: np.ndarray
    position: np.ndarray
    rotation: np.ndarray
    valid: np.ndarray

    def __post_init__(self) -> None:
        n = len(self.valid)
        for name, width in (("K", 4), ("position", 3), ("rotation", 4)):
            if getattr(self, name).shape != (n, width):
                raise FormatError(f"camera {name} has shape {getattr(self, name).shape}, expected ({n}, {width})")

    @property
    def num_frames(self) -> int:
        return len(self.valid)

    def extrinsics(self) -> tuple[np.ndarray, np.ndarray]:
        """OpenCV world-to-camera ``R`` (N, 3, 3) and ``t`` (N, 3)."""
        return opengl_c2w_to_opencv_w2c(self.position, self.rotation)

    def project(self, points: np.ndarray, *, frames: Sequence[int] | int | None = None, near: float = DEFAULT_NEAR) -> Projection:
        """Project per-frame world points with each frame's camera: ``points[i]`` (``P`` points)
        with the camera of frame ``i``, or of frame ``frames[i]`` when ``frames`` is given.

        ``points`` is ``(N, P, 3)`` for the N frames of the camera (``(len(frames), P, 3)``
        with ``frames``); anything else is refused, never broadcast (one frame's joints would
        otherwise be projected with every frame's camera). One frame: ``camera.project(
        joints[None], frames=[t])``."""
        K, position, rotation, expected = self.K, self.position, self.rotation, self.num_frames
        if frames is not None:
            chosen = np.asarray(frames, dtype=np.int64).reshape(-1)
            outside = chosen[(chosen < 0) | (chosen >= self.num_frames)]
            if outside.size:
                raise OptionError(f"frames= holds frame {int(outside[0])}, outside the camera's 0..{self.num_frames - 1}")
            K, position, rotation, expected = K[chosen], position[chosen], rotation[chosen], len(chosen)
        shape = np.shape(points)
        if len(shape) != 3 or shape[0] != expected or shape[2] != 3:
            hint = ""
            if len(shape) == 2 and shape[-1] == 3:
                hint = "; for the points of one frame t use camera.project(points[None], frames=[t])"
            elif len(shape) == 3 and shape[2] == 3 and frames is None:
                hint = "; to project some frames pass frames= (their indices, one per row of points)"
            raise OptionError(f"points have shape {shape}, expected ({expected}, P, 3): one row of P world points "
                              f"per camera frame{hint}")
        return project_points(points, K, position, rotation, near=near)

    def __repr__(self) -> str:
        return f"Camera({self.num_frames} frames, {int(np.count_nonzero(self.valid))} valid; K, position, rotation per frame)"


@dataclass(frozen=True)
class ActionSegment:
    """Frames ``[start, end)`` during which the tracked player plays one clip once."""

    start: int
    end: int
    motion_bank_id: int
    motion_id: int

    @property
    def key(self) -> tuple[int, int]:
        return (self.motion_bank_id, self.motion_id)

    @property
    def length(self) -> int:
        return self.end - self.start


@dataclass(frozen=True)
class PlayerActions:
    """The tracked player's action per frame. Missing ids are -1, a missing phase NaN."""

    motion_bank_id: np.ndarray
    motion_id: np.ndarray
    motion_frame: np.ndarray
    tracked_index: np.ndarray

    @property
    def keys(self) -> np.ndarray:
        """``(N, 2)`` int64 (motion_bank_id, motion_id)."""
        return np.stack([self.motion_bank_id, self.motion_id], axis=1)

    def __repr__(self) -> str:
        known = self.motion_id >= 0
        distinct = len({(int(b), int(m)) for b, m in zip(self.motion_bank_id[known], self.motion_id[known])})
        return (f"PlayerActions({len(self.motion_id)} frames, {len(self.segments())} segments, {distinct} distinct "
                f"actions, {int(np.count_nonzero(self.tracked_index < 0))} untracked frames)")

    def segments(self) -> list[ActionSegment]:
        """Split into runs of one clip. A new run starts when the key changes or when the
        phase jumps backwards (the same clip started again)."""
        n = len(self.motion_id)
        if n == 0:
            return []
        key_change = (np.diff(self.motion_bank_id) != 0) | (np.diff(self.motion_id) != 0)
        with np.errstate(invalid="ignore"):
            restart = np.diff(self.motion_frame) < 0
        starts = np.concatenate([[0], np.flatnonzero(key_change | restart) + 1])
        ends = np.concatenate([starts[1:], [n]])
        return [
            ActionSegment(int(s), int(e), int(self.motion_bank_id[s]), int(self.motion_id[s]))
            for s, e in zip(starts, ends)
        ]


def _camera_from_table(table: pa.Table, path: Path) -> Camera:
    arrays = {}
    for spec in load_record_schema("camera").fields:
        if spec.csv is None:
            continue
        if spec.csv not in table.column_names:
            raise FormatError("required camera column is missing", path=path, column=spec.csv)
        arrays[spec.name] = column_array(table, spec.csv)
        if arrays[spec.name].ndim != 2 or arrays[spec.name].shape[1] != spec.width:
            raise FormatError(f"expected tuples of {spec.width} numbers", path=path, column=spec.csv)
    valid = np.isfinite(arrays["K"]).all(1) & np.isfinite(arrays["pos"]).all(1) & np.isfinite(arrays["rot"]).all(1)
    return Camera(K=arrays["K"], position=arrays["pos"], rotation=arrays["rot"], valid=valid)


def _actions_from_table(table: pa.Table, path: Path) -> PlayerActions:
    schema = load_state_schema()
    player = schema.entities["player"]
    n = table.num_rows
    if "npc.tracking" not in table.column_names:
        raise FormatError("required column is missing", path=path, column="npc.tracking")
    tracking = column_array(table, "npc.tracking")
    indices = schema.entity_indices(table.column_names, "player")
    tracked = np.full(n, -1, dtype=np.int64)
    for index in indices:
        member = player.column(index, "member_id")
        if member in table.column_names:
            ids = column_array(table, member)
            tracked = np.where((tracked < 0) & (ids == tracking) & (tracking >= 0), index, tracked)
    bank = np.full(n, -1, dtype=np.int64)
    motion = np.full(n, -1, dtype=np.int64)
    phase = np.full(n, np.nan)
    for index in indices:
        rows = tracked == index
        if not rows.any():
            continue
        for name, target in (("motion_bank_id", bank), ("motion_id", motion), ("motion_frame", phase)):
            column = player.column(index, name)
            if column not in table.column_names:
                raise FormatError("required column is missing", path=path, column=column)
            values = column_array(table, column)[rows]
            if target.dtype.kind == "i" and values.dtype.kind == "f":
                values = np.where(np.isfinite(values), values, -1).astype(np.int64)
            target[rows] = values
    return PlayerActions(motion_bank_id=bank, motion_id=motion, motion_frame=phase, tracked_index=tracked)


def _refuse_another_kind(path: Path) -> None:
    """A store, a split... given where a release sample belongs says what it is (a directory
    that is nothing recognisable is left to the caller, which names the missing files)."""
    if kind_of(path) is not None:
        expect_kind(path, "sample", purpose="(a directory with rgb.mp4, depth.mkv, state.csv, skeleton.npz)")


class Sample:
    """One sample directory of the release (see :func:`open_sample`)."""

    def __init__(self, path: str | os.PathLike[str]) -> None:
        self.path = Path(path)
        if not self.path.is_dir():
            raise MissingFileError(f"{self.path}: not a sample directory")
        if not layout.is_sample_dir(self.path):
            samples = layout.list_sample_dirs(self.path)
            if samples:
                raise MissingFileError(
                    f"{self.path}: a part directory, not a sample directory; give one of its samples, "
                    f"e.g. {samples[0]}"
                )
            _refuse_another_kind(self.path)
            names = ", ".join(layout.STREAM_FILES.values())
            raise MissingFileError(f"{self.path}: not a sample directory (none of {names} is there)")
        self.id = self.path.name

    def file(self, stream: str) -> Path:
        """Path of ``rgb``, ``depth``, ``state`` or ``skeleton``."""
        return layout.sample_file(self.path, stream)

    @cached_property
    def edges_path(self) -> Path | None:
        return layout.find_edges_file(self.path)

    @cached_property
    def state(self) -> pa.Table:
        """The typed state table (see :func:`wildworld.read_state_csv`)."""
        return read_state_csv(self.file("state"))

    @property
    def num_frames(self) -> int:
        """Frames of the sample = rows of state.csv."""
        return self.state.num_rows

    @cached_property
    def rgb_probe(self) -> VideoProbe:
        return probe_video(self.file("rgb"))

    @cached_property
    def depth_probe(self) -> VideoProbe:
        return probe_video(self.file("depth"))

    @property
    def fps(self) -> float:
        return self.rgb_probe.fps

    @property
    def size(self) -> tuple[int, int]:
        """(width, height) of the RGB video."""
        return self.rgb_probe.size

    def rgb(self, indices: Sequence[int]) -> np.ndarray:
        """Raw RGB frames of ``rgb.mp4`` at ``indices`` (any order, repeats allowed): uint8
        ``(T, H, W, 3)``. Each call opens and decodes the video once: ask for every frame you
        need in one call."""
        return self._frames("rgb", indices, color="rgb")

    def depth(self, indices: Sequence[int]) -> np.ndarray:
        """Raw depth codes of ``depth.mkv`` at ``indices``: uint8 ``(T, H, W)``, exact (decoded
        by PyAV as the lossless gray plane it is)."""
        return self._frames("depth", indices, color="gray")

    def _frames(self, stream: str, indices: Sequence[int], *, color: str) -> np.ndarray:
        return read_frames(self.file(stream), np.asarray(indices, dtype=np.int64).reshape(-1), backend="pyav", color=color)

    @cached_property
    def camera(self) -> Camera:
        return _camera_from_table(self.state, self.file("state"))

    @cached_property
    def actions(self) -> PlayerActions:
        return _actions_from_table(self.state, self.file("state"))

    @property
    def action_segments(self) -> list[ActionSegment]:
        return self.actions.segments()

    @cached_property
    def skeleton(self) -> SkeletonFile:
        """Lazy mapping ``key -> SkeletonEntity`` (arrays load on first access)."""
        return SkeletonFile(self.file("skeleton"))

    @cached_property
    def edges(self) -> dict[str, np.ndarray]:
        if self.edges_path is None:
            raise MissingFileError(f"{self.path}: no {layout.EDGES_FILE} in the part directory")
        return read_skeleton_edges(self.edges_path)

    def entity_indices(self, kind: str) -> list[int]:
        """npc.list (``player``) or monster.list (``monster``) indices present in the header."""
        return load_state_schema().entity_indices(self.state.column_names, kind)

    def column(self, name: str) -> np.ndarray:
        """One state column as numpy (see :func:`column_array`)."""
        return column_array(self.state, name)

    def __repr__(self) -> str:
        return f"Sample({str(self.path)!r})"


def open_sample(path: str | os.PathLike[str]) -> Sample:
    """Open one release sample directory lazily."""
    return Sample(path)
