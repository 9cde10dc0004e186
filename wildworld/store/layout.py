"""On-disk names inside a converted store, and its store-wide column layout.

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
```

All samples are concatenated along the frame axis F; ``manifest.samples[i].offset`` says
where each starts. ``frames`` packs the action, camera and state records side by side; the
layout below names every field's column range, so records stay decoupled while a window
costs one array read (zarr costs ~0.75 ms per read here, see docs/store.md).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Iterable

__all__ = [
    "MANIFEST_FILE",
    "ANNOTATIONS",
    "FRAMES_ARRAY",
    "SKELETON_ARRAY",
    "STATS_FILE",
    "TABLE_FILE",
    "WORK_DIR",
    "video_path",
    "shard_path",
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

#: Streams a store can hold.
VIDEO_STREAMS = ("rgb", "depth")
ANNOTATION_STREAMS = ("action", "camera", "state", "skeleton")
_VIDEO_FILES = {"rgb": "rgb.mp4", "depth": "depth.mkv"}


def video_path(sample_id: str, stream: str) -> str:
    """Relative path of a sample's re-encoded video."""
    return f"videos/{sample_id}/{_VIDEO_FILES[stream]}"


def shard_path(index: int) -> str:
    return f"{SHARD_DIR}/clips-{index:06d}.tar"


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
