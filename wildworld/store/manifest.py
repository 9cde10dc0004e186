"""The store manifest: one typed, self-checking record, one reader, one writer.

    manifest = read_manifest(reader)          # any StoreReader: local directory or fsspec URL
    manifest.frames, manifest.layout.width, manifest.samples[0].offset, manifest.shards[0].path
    manifest["options"]                       # it also reads as the JSON document, key by key

``StoreManifest.from_json`` checks what every reader relies on (cheap at any scale): the format
and its version, the keys, the types of the typed parts, that sample ids and member paths stay
inside the store, and that the samples tile the frame axis. ``wildworld validate`` checks the
rest (the JSON Schema, checksums, arrays, videos). ``write_manifest`` writes it atomically, last.
"""

from __future__ import annotations

import json
import os
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Iterator

from ..errors import FormatError, MissingFileError
from ..files import atomic_path, is_plain_relative
from ..schemas import check_version, loads_strict, validate_document
from .backends import open_reader
from .layout import MANIFEST_FILE, Layout, shard_index
from .options import ALL_STREAMS, ConvertOptions

__all__ = ["FORMAT", "FORMAT_VERSION", "SlotEntity", "StoreSample", "ShardRecord", "StoreManifest", "read_manifest", "write_manifest"]

FORMAT = "wildworld-store"
#: Version of the store layout this code writes and reads (major must match).
FORMAT_VERSION = "1.0"

_REQUIRED = ("format", "format_version", "schemas", "options", "streams", "frames", "layout", "vocabulary", "samples", "shards", "files")


@dataclass(frozen=True)
class SlotEntity(Mapping):
    """The entity a sample has in one skeleton slot: its skeleton type and joint count (it
    also reads as its JSON, ``entity["joints"]``)."""

    type_id: int
    joints: int

    def to_json(self) -> dict[str, int]:
        return {"type_id": self.type_id, "joints": self.joints}

    def __getitem__(self, key: str) -> int:
        return self.to_json()[key]

    def __iter__(self) -> Iterator[str]:
        return iter(("type_id", "joints"))

    def __len__(self) -> int:
        return 2


@dataclass(frozen=True)
class StoreSample:
    """One sample of the store: rows ``offset .. offset + frames`` of the frame axis."""

    id: str
    frames: int
    offset: int
    fps: float
    size: tuple[int, int]
    clips: int
    skeleton: Mapping[str, SlotEntity] = field(default_factory=dict)  # slot name -> entity
    source: str | None = None

    @property
    def stop(self) -> int:
        return self.offset + self.frames

    def to_json(self) -> dict[str, Any]:
        data = {"id": self.id, "frames": self.frames, "offset": self.offset, "fps": self.fps, "size": list(self.size),
                "clips": self.clips, "skeleton": {slot: entity.to_json() for slot, entity in self.skeleton.items()}}
        if self.source is not None:
            data["source"] = self.source
        return data

    @classmethod
    def from_json(cls, data: Mapping[str, Any]) -> "StoreSample":
        skeleton = {slot: SlotEntity(int(e["type_id"]), int(e["joints"])) for slot, e in data["skeleton"].items()}
        return cls(str(data["id"]), int(data["frames"]), int(data["offset"]), float(data["fps"]),
                   (int(data["size"][0]), int(data["size"][1])), int(data["clips"]), skeleton, data.get("source"))


@dataclass(frozen=True)
class ShardRecord:
    """One finished WebDataset shard: its relative path, size, checksum and clip count."""

    path: str
    sha256: str
    bytes: int
    clips: int

    @property
    def index(self) -> int:
        return shard_index(self.path)

    def to_json(self) -> dict[str, Any]:
        return {"path": self.path, "sha256": self.sha256, "bytes": self.bytes, "clips": self.clips}

    @classmethod
    def from_json(cls, data: Mapping[str, Any]) -> "ShardRecord":
        return cls(str(data["path"]), str(data["sha256"]), int(data["bytes"]), int(data["clips"]))


@dataclass(frozen=True)
class StoreManifest(Mapping):
    """``manifest.json`` as a typed record (see the module docstring). ``document`` is the JSON
    as read or to be written; the record also reads as that mapping (``manifest["files"]``)."""

    document: Mapping[str, Any] = field(repr=False)
    format_version: str
    created_by: str
    options: ConvertOptions
    streams: tuple[str, ...]
    frames: int
    fps: float | None
    resolution: tuple[int, int] | None
    layout: Layout
    vocabulary: tuple[tuple[int, int], ...]
    samples: tuple[StoreSample, ...]
    shards: tuple[ShardRecord, ...]
    source: tuple[str, ...] = ()

    def __post_init__(self) -> None:
        unknown = [s for s in self.streams if s not in ALL_STREAMS]
        if unknown:
            raise FormatError(f"unknown streams {unknown}; a store holds {', '.join(ALL_STREAMS)}", key="streams")
        ids = [s.id for s in self.samples]
        if len(set(ids)) != len(ids):
            raise FormatError("two samples share an id", key="samples")
        offset = 0
        for sample in self.samples:
            if not is_plain_relative(sample.id) or "/" in sample.id:
                raise FormatError(f"sample id {sample.id!r} is not a plain name (it names a directory of the store)", key="samples")
            if sample.offset != offset:
                raise FormatError(f"sample {sample.id} starts at row {sample.offset}, expected {offset}: "
                                  "the samples do not tile the frame axis", key="samples")
            offset = sample.stop
        if offset != self.frames:
            raise FormatError(f"the samples hold {offset} frames, the manifest says {self.frames}", key="frames")
        for shard in self.shards:
            shard_index(shard.path)  # a shard path is shards/clips-NNNNNN.tar, nothing else

    # -- the JSON document, read key by key
    def __getitem__(self, key: str) -> Any:
        return self.document[key]

    def __iter__(self) -> Iterator[str]:
        return iter(self.document)

    def __len__(self) -> int:
        return len(self.document)

    # -- derived
    @property
    def clip_len(self) -> int:
        return self.options.clip_len

    @property
    def files(self) -> Mapping[str, Mapping[str, Any]]:
        """Relative path -> ``{"sha256", "bytes"}`` of every file the conversion wrote."""
        return self.document["files"]

    def sample(self, sample_id: str) -> StoreSample:
        for entry in self.samples:
            if entry.id == sample_id:
                return entry
        raise KeyError(sample_id)

    @classmethod
    def from_json(cls, doc: Any, *, where: str = MANIFEST_FILE) -> "StoreManifest":
        """Check and type a parsed manifest; ``FormatError`` names ``where`` and the key."""
        if not isinstance(doc, dict) or doc.get("format") != FORMAT:
            raise FormatError(f"not a {FORMAT} manifest", path=where)
        check_version(doc.get("format_version", "?"), what=f"store manifest {where}")
        missing = [key for key in _REQUIRED if key not in doc]
        if missing:
            raise FormatError(f"the manifest lacks {', '.join(missing)}; run `wildworld validate` on the store", path=where)
        key = "<root>"
        try:
            key = "options"
            options = ConvertOptions.from_json(doc["options"])
            key = "layout"
            layout = Layout.from_json(doc["layout"])
            key = "samples"
            samples = tuple(StoreSample.from_json(entry) for entry in doc["samples"])
            key = "shards"
            shards = tuple(ShardRecord.from_json(entry) for entry in doc["shards"])
            key = "vocabulary"
            vocabulary = tuple((int(bank), int(motion)) for bank, motion in doc["vocabulary"])
            resolution = doc.get("resolution")
            return cls(
                document=doc,
                format_version=str(doc["format_version"]),
                created_by=str(doc.get("created_by", "")),
                options=options,
                streams=tuple(doc["streams"]),
                frames=int(doc["frames"]),
                fps=None if doc.get("fps") is None else float(doc["fps"]),
                resolution=None if not resolution else (int(resolution[0]), int(resolution[1])),
                layout=layout,
                vocabulary=vocabulary,
                samples=samples,
                shards=shards,
                source=tuple(doc.get("source", ())),
            )
        except FormatError as exc:
            raise FormatError(exc.reason, path=where, key=exc.key or key) from None
        except (KeyError, TypeError, ValueError, IndexError, AttributeError) as exc:
            raise FormatError(f"malformed entry ({type(exc).__name__}: {exc})", path=where, key=key) from None


def read_manifest(store, *, full_check: bool = False, storage_options: dict | None = None) -> StoreManifest:
    """Read and check ``manifest.json`` of a store (a directory, a URL or a ``StoreReader``);
    raise a clear error for a missing or foreign manifest.

    ``full_check`` also validates the whole document against its JSON Schema (``wildworld
    validate`` does; it costs about a second for a manifest of the size of part 1)."""
    reader = open_reader(store, storage_options=storage_options)
    where = reader.url(MANIFEST_FILE)
    try:
        data = reader.read_bytes(MANIFEST_FILE)
    except MissingFileError:
        raise MissingFileError(
            f"{where}: no manifest - not a converted store, or a conversion that has not finished "
            "(run `wildworld convert` again to complete it)"
        ) from None
    try:
        doc = loads_strict(data.decode("utf-8"))
    except (ValueError, UnicodeDecodeError, RecursionError) as exc:
        raise FormatError(f"not valid JSON ({exc})", path=where) from None
    if full_check:
        StoreManifest.from_json(doc, where=where)  # format and version first: their messages are clearer
        validate_document(doc, "store_manifest", path=where)
    return StoreManifest.from_json(doc, where=where)


def write_manifest(store: str | os.PathLike[str], manifest: Mapping[str, Any]) -> Path:
    """Check ``manifest`` (a document or a ``StoreManifest``) and write it atomically."""
    doc = dict(manifest.document if isinstance(manifest, StoreManifest) else manifest)
    path = Path(store) / MANIFEST_FILE
    validate_document(doc, "store_manifest", path=path)
    StoreManifest.from_json(doc, where=str(path))
    with atomic_path(path, durable=True) as tmp:
        tmp.write_text(json.dumps(doc, indent=1, sort_keys=True) + "\n", encoding="utf-8")
    return path
