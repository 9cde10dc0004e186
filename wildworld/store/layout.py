"""Every on-disk name inside a converted store, and its store-wide column layout.

```
STORE/
  manifest.json              written last: its presence means the store is complete
  annotations.zarr/          Zarr v3: frames (F, C) float32, skeleton (F, S, J, 3) float32
  videos/<id>/rgb.mp4        re-encoded at the store resolution, short GOP, no B-frames
  videos/<id>/depth.mkv      lossless 8-bit HEVC, nearest-neighbour resized
  shards/clips-000000.tar    WebDataset: one sample = one clip of L frames with all streams
  tables/frames.parquet      per-frame action, camera and state (DuckDB / Polars / Spark)
  stats.json                 per-field mean/std/min/max and exact global quantiles
  _work/                     intermediates of an unfinished conversion (removed at the end)
    options.json             the options and sources the conversion was started with
    samples/<id>/            annotations.npz, frames.parquet, result.json (written last)
    shards/<index>.json      record of a finished shard
```

Paths are ``/``-separated and relative to the store; code builds them only through the names
and functions here (readers join them under the store's location). A clip of a shard holds
``<key>.<member>`` for the members of :data:`CLIP_MEMBERS` (see ``shards.py``).

All samples are concatenated along the frame axis F; ``manifest.samples[i].offset`` says
where each starts. ``frames`` packs the action, camera and state records side by side; the
layout below names every field's column range, so records stay decoupled while a window
costs one array read (zarr costs ~0.75 ms per read here, see docs/store.md). The action and
camera fields come from their record schemas (``schemas/action.v1.json``, ``camera.v1.json``).
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from functools import lru_cache
from typing import Any, Iterable, Literal

from .. import layout as release_layout
from ..errors import FormatError
from ..schemas import load_record_schema

__all__ = [
    "MANIFEST_FILE",
    "ANNOTATIONS",
    "FRAMES_ARRAY",
    "SKELETON_ARRAY",
    "STATS_FILE",
    "TABLE_FILE",
    "WORK_DIR",
    "SHARD_DIR",
    "VIDEO_DIR",
    "STORE_ENTRIES",
    "VideoFile",
    "VIDEO_FILES",
    "CLIP_MEMBERS",
    "CLIP_META",
    "video_path",
    "shard_path",
    "shard_index",
    "clip_key",
    "work_options_path",
    "work_sample_dir",
    "work_sample_file",
    "work_shard_record",
    "action_fields",
    "camera_fields",
    "record_field",
    "FieldLayout",
    "SkeletonSlot",
    "Layout",
    "ANNOTATION_STREAMS",
    "VIDEO_STREAMS",
]

MANIFEST_FILE = "manifest.json"
ANNOTATIONS = "annotations.zarr"
FRAMES_ARRAY = "frames"
SKELETON_ARRAY = "skeleton"
STATS_FILE = "stats.json"
TABLE_FILE = "tables/frames.parquet"
WORK_DIR = "_work"
SHARD_DIR = "shards"
VIDEO_DIR = "videos"
#: What a store holds at its top level (to name in messages, e.g. to move a store out of a part).
STORE_ENTRIES = (MANIFEST_FILE, ANNOTATIONS, VIDEO_DIR, SHARD_DIR, TABLE_FILE.split("/")[0], STATS_FILE, WORK_DIR)

#: Streams a store can hold.
VIDEO_STREAMS = ("rgb", "depth")
ANNOTATION_STREAMS = ("action", "camera", "state", "skeleton")


@dataclass(frozen=True)
class VideoFile:
    """A video stream of the store: its file name (the release's) and how it decodes."""

    stream: str
    name: str  # "rgb.mp4": the file under videos/<id>/ and the clip member in a shard
    color: Literal["rgb", "gray"]  # depth is one exact gray plane

    @property
    def is_depth(self) -> bool:
        return self.color == "gray"


#: The one table of video files: ``videos/<id>/<name>`` and ``<key>.<name>`` in the shards.
VIDEO_FILES = {stream: VideoFile(stream, release_layout.STREAM_FILES[stream], "rgb" if stream == "rgb" else "gray")
               for stream in VIDEO_STREAMS}
#: Clip member of every stream in a shard (``<key>.<member>``); ``CLIP_META`` is the clip's JSON.
CLIP_MEMBERS = {**{s: f"{s}.npy" for s in ANNOTATION_STREAMS}, **{s: v.name for s, v in VIDEO_FILES.items()}}
CLIP_META = "json"

_SHARD_NAME = re.compile(rf"^{SHARD_DIR}/clips-(?P<index>[0-9]{{6}})\.tar$")


def video_path(sample_id: str, stream: str) -> str:
    """Relative path of a sample's re-encoded video."""
    return f"{VIDEO_DIR}/{sample_id}/{VIDEO_FILES[stream].name}"


def shard_path(index: int) -> str:
    return f"{SHARD_DIR}/clips-{index:06d}.tar"


def shard_index(path: str) -> int:
    """The index of a shard from its relative path (the inverse of :func:`shard_path`)."""
    match = _SHARD_NAME.match(path)
    if match is None:
        raise FormatError(f"{path!r} is not a shard path like {shard_path(0)!r}")
    return int(match["index"])


def clip_key(sample_id: str, start: int) -> str:
    """WebDataset key of a clip: dots replaced, since WebDataset splits names at the first dot."""
    return f"{sample_id}_{start:07d}".replace(".", "_")


def work_options_path() -> str:
    return f"{WORK_DIR}/options.json"


def work_sample_dir(sample_id: str) -> str:
    return f"{WORK_DIR}/samples/{sample_id}"


#: Intermediates of one converted sample, under :func:`work_sample_dir`.
WorkSampleFile = Literal["annotations.npz", "frames.parquet", "result.json"]


def work_sample_file(sample_id: str, name: WorkSampleFile) -> str:
    return f"{work_sample_dir(sample_id)}/{name}"


def work_shard_record(index: int) -> str:
    return f"{WORK_DIR}/shards/{index:06d}.json"


# Store field names of the record schemas: "<record>.<schema field>", but the vocabulary
# index (the store's own derived field) is "action.index" and comes first.
_STORE_NAMES = {("action", "action_index"): "action.index"}


def _store_name(record: str, name: str) -> str:
    return _STORE_NAMES.get((record, name), f"{record}.{name}")


def _kind(spec) -> str:
    """How a schema field is stored in ``frames``: ids and flags exactly, the rest as floats."""
    return "id" if spec.is_id or spec.dtype == "bool" else "float"


@lru_cache(maxsize=None)
def action_fields() -> tuple[tuple[str, int, str], ...]:
    """``(store field, width, kind)`` of the action stream, from ``schemas/action.v1.json``."""
    schema = load_record_schema("action")
    first = schema.field("action_index")
    ordered = [first] + [spec for spec in schema.fields if spec is not first]
    return tuple((_store_name("action", spec.name), spec.width or 1, _kind(spec)) for spec in ordered)


@lru_cache(maxsize=None)
def camera_fields() -> tuple[tuple[str, int, str], ...]:
    """``(store field, width, kind)`` of the camera stream, from ``schemas/camera.v1.json``."""
    return tuple((_store_name("camera", spec.name), spec.width or 1, _kind(spec)) for spec in load_record_schema("camera").fields)


def record_field(record: str, name: str) -> str:
    """The store field of a record schema's field: ``record_field("action", "motion_frame")``."""
    return _store_name(record, name)


@dataclass(frozen=True)
class FieldLayout:
    """One field of the ``frames`` array: columns ``[start, start + width)``.

    ``kind`` is ``float`` (NaN = missing), ``id`` (an integer stored exactly in float32,
    -1 or NaN = missing) or ``category`` (index into ``categories``, -1 = missing).
    """

    name: str
    stream: str
    start: int
    width: int
    kind: str = "float"
    categories: tuple[str, ...] = ()

    @property
    def stop(self) -> int:
        return self.start + self.width

    def to_json(self) -> dict[str, Any]:
        data = {"name": self.name, "stream": self.stream, "start": self.start, "width": self.width, "kind": self.kind}
        if self.categories:
            data["categories"] = list(self.categories)
        return data

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> "FieldLayout":
        return cls(data["name"], data["stream"], data["start"], data["width"], data.get("kind", "float"), tuple(data.get("categories", ())))


@dataclass(frozen=True)
class SkeletonSlot:
    """One entity slot of the ``skeleton`` array: ``n0`` (npc.list.0), ``w0`` (its weapon), ``m1``..."""

    name: str
    kind: str
    index: int

    def to_json(self) -> dict[str, Any]:
        return {"name": self.name, "kind": self.kind, "index": self.index}


_KIND_ORDER = {"n": 0, "w": 1, "m": 2}


@dataclass(frozen=True)
class Layout:
    """Store-wide layout: the ``frames`` fields and the ``skeleton`` slots."""

    fields: tuple[FieldLayout, ...]
    skeleton_slots: tuple[SkeletonSlot, ...] = ()
    max_joints: int = 0
    _by_name: dict[str, FieldLayout] = field(default_factory=dict, compare=False, repr=False)

    def __post_init__(self) -> None:
        self._by_name.update({f.name: f for f in self.fields})

    @property
    def width(self) -> int:
        return max((f.stop for f in self.fields), default=0)

    def field(self, name: str) -> FieldLayout:
        try:
            return self._by_name[name]
        except KeyError:
            raise KeyError(f"the store has no field {name!r}") from None

    def stream_fields(self, stream: str) -> list[FieldLayout]:
        return [f for f in self.fields if f.stream == stream]

    def stream_range(self, stream: str) -> tuple[int, int]:
        """Columns of a stream; streams are contiguous blocks."""
        fields = self.stream_fields(stream)
        if not fields:
            return (0, 0)
        return (fields[0].start, fields[-1].stop)

    def slot_index(self, name: str) -> int:
        for i, slot in enumerate(self.skeleton_slots):
            if slot.name == name:
                return i
        raise KeyError(f"the store has no skeleton slot {name!r}")

    def to_json(self) -> dict[str, Any]:
        return {
            "fields": [f.to_json() for f in self.fields],
            "skeleton_slots": [s.to_json() for s in self.skeleton_slots],
            "max_joints": self.max_joints,
        }

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> "Layout":
        return cls(
            fields=tuple(FieldLayout.from_json(f) for f in data["fields"]),
            skeleton_slots=tuple(SkeletonSlot(**s) for s in data.get("skeleton_slots", ())),
            max_joints=int(data.get("max_joints", 0)),
        )

    @staticmethod
    def sort_slots(names: Iterable[str]) -> list[SkeletonSlot]:
        slots = {SkeletonSlot(n, n[0], int(n[1:])) for n in names}
        return sorted(slots, key=lambda s: (_KIND_ORDER.get(s.kind, 9), s.index))
