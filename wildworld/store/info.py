"""Summary of a converted store: what ``wildworld info STORE`` prints."""

from __future__ import annotations

import os
from collections import defaultdict
from pathlib import Path

from .layout import ANNOTATIONS, SHARD_DIR, SKELETON_ARRAY, TABLE_FILE, VIDEO_FILES
from .manifest import FORMAT, read_manifest

__all__ = ["store_info"]


def _part_of(relative: str) -> str | None:
    """Which part of the store a listed file belongs to (for bytes per frame)."""
    for stream, video in VIDEO_FILES.items():
        if relative.startswith("videos/") and relative.endswith("/" + video.name):
            return stream
    if relative.startswith(f"{ANNOTATIONS}/{SKELETON_ARRAY}"):
        return "skeleton (zarr)"
    if relative.startswith(ANNOTATIONS):
        return "action+camera+state (zarr)"
    if relative.startswith(SHARD_DIR + "/"):
        return "webdataset shards"
    if relative == TABLE_FILE:
        return "parquet table"
    return None


def store_info(store: str | os.PathLike[str]) -> dict:
    manifest = read_manifest(store)
    frames = manifest.frames
    by_stream: dict[str, int] = defaultdict(int)
    for relative, info in manifest.files.items():
        part = _part_of(relative)
        if part is not None:
            by_stream[part] += info["bytes"]
    fields = defaultdict(int)
    for field in manifest.layout.fields:
        fields[field.stream] += 1
    fps = manifest.fps
    return {
        "title": f"store {Path(store)}",
        "format": f"{FORMAT} {manifest.format_version} ({manifest.created_by})",
        "samples": len(manifest.samples),
        "skipped samples": len(manifest["skipped"]),
        "frames": frames,
        "duration_s": round(frames / fps, 2) if fps else None,
        "fps": fps,
        "resolution": None if manifest.resolution is None else list(manifest.resolution),
        "streams": ", ".join(manifest.streams),
        "fields per stream": dict(fields),
        "skeleton slots": ", ".join(s.name for s in manifest.layout.skeleton_slots),
        "action vocabulary": len(manifest.vocabulary),
        "clip length": manifest.options.clip_len,
        "gop": manifest.options.gop,
        "shards": len(manifest.shards),
        "clips": sum(s.clips for s in manifest.shards),
        "bytes per frame": {k: round(v / max(frames, 1), 1) for k, v in sorted(by_stream.items())},
    }
