"""Validate a converted store: manifest, checksums, shapes, and frame-alignment spot checks.

Checks: the manifest parses, follows ``schemas/store_manifest.schema.json`` and is a valid
:class:`~wildworld.store.manifest.StoreManifest` (readable format and record-schema versions,
samples that tile the frame axis); every listed file exists with its size and sha256; no
unlisted files; Zarr arrays have the manifest's shapes and layout; store videos have each
sample's frame count, size and rate; and for a few clips, the shard's arrays equal the Zarr
rows and the shard's video frames equal the store video's frames at the same indices (so
every stream of a clip refers to the same frames).
"""

from __future__ import annotations

import io
import json
import os
from pathlib import Path
from typing import Callable

import numpy as np

from ..errors import FormatError
from ..files import sha256_file
from ..findings import FindingCollector, ValidationReport
from ..schemas import check_version
from ..video.decode import read_frames
from ..video.probe import probe_video
from .layout import (
    ANNOTATIONS,
    CLIP_MEMBERS,
    CLIP_META,
    FRAMES_ARRAY,
    MANIFEST_FILE,
    SKELETON_ARRAY,
    TABLE_FILE,
    VIDEO_FILES,
    WORK_DIR,
    video_path,
)
from .clips import iter_clips
from .manifest import StoreManifest, read_manifest

__all__ = ["validate_store"]


def _check_files(store: Path, manifest: StoreManifest, out: FindingCollector, *, checksums: bool, progress) -> None:
    listed = manifest.files
    for position, (relative, info) in enumerate(sorted(listed.items())):
        path = store / relative
        if progress is not None and position % 50 == 0:
            progress(f"checksums {position}/{len(listed)}")
        if not path.is_file():
            out.add("error", "missing-file", path, "listed in the manifest but absent")
            continue
        if path.stat().st_size != info["bytes"]:
            out.add("error", "size-mismatch", path, f"{path.stat().st_size} bytes, the manifest says {info['bytes']}")
            continue
        if checksums and sha256_file(path) != info["sha256"]:
            out.add("error", "checksum-mismatch", path, "sha256 differs from the manifest: the file is corrupted or was changed")
    for path in sorted(p for p in store.rglob("*") if p.is_file()):
        relative = path.relative_to(store).as_posix()
        if relative == MANIFEST_FILE or relative.startswith(WORK_DIR + "/") or relative in listed:
            continue
        out.add("warning", "unlisted-file", path, "not listed in the manifest (not written by convert)")


def _check_arrays(store: Path, manifest: StoreManifest, out: FindingCollector):
    import zarr

    layout = manifest.layout
    group = zarr.open_group(store / ANNOTATIONS, mode="r")
    frames = group[FRAMES_ARRAY]
    if frames.shape != (manifest.frames, layout.width) or str(frames.dtype) != "float32":
        out.add("error", "bad-shape", store / ANNOTATIONS / FRAMES_ARRAY, f"shape {frames.shape} {frames.dtype}, expected ({manifest.frames}, {layout.width}) float32")
    if frames.attrs.get("layout") != manifest["layout"]:
        out.add("error", "layout-mismatch", store / ANNOTATIONS / FRAMES_ARRAY, "the array's layout attribute differs from the manifest")
    skeleton = None
    if SKELETON_ARRAY in manifest["zarr"].get("arrays", []):
        skeleton = group[SKELETON_ARRAY]
        expected = (manifest.frames, len(layout.skeleton_slots), layout.max_joints, 3)
        if skeleton.shape != expected:
            out.add("error", "bad-shape", store / ANNOTATIONS / SKELETON_ARRAY, f"shape {skeleton.shape}, expected {expected}")
    return frames, skeleton


def _check_videos(store: Path, manifest: StoreManifest, out: FindingCollector) -> None:
    for sample in manifest.samples:
        for stream in VIDEO_FILES:
            if stream not in manifest.streams:
                continue
            path = store / video_path(sample.id, stream)
            probe = out.guard("video-unreadable", path, lambda path=path: probe_video(path, exact=True))
            if probe is None:
                continue
            if probe.frames != sample.frames:
                out.add("error", "frame-count-mismatch", path, f"{probe.frames} frames, the sample has {sample.frames}")
            if (probe.width, probe.height) != tuple(sample.size):
                out.add("error", "size-mismatch", path, f"{probe.width}x{probe.height}, the manifest says {list(sample.size)}")


def _read_clips(path: Path, limit: int) -> list[dict]:
    with open(path, "rb") as handle:
        return list(iter_clips(handle, url=str(path), limit=limit))


def _check_clip(store: Path, manifest: StoreManifest, frames, skeleton, path: Path, clip: dict, out: FindingCollector) -> None:
    """One clip of a shard holds the Zarr rows and the store videos' frames it claims to."""
    layout, length, key = manifest.layout, manifest.clip_len, clip["__key__"]
    meta = json.loads(clip[CLIP_META])
    row = manifest.sample(meta["sample_id"]).offset + meta["start"]
    block = frames[row : row + length]
    for stream in ("action", "camera", "state"):
        if CLIP_MEMBERS[stream] in clip:
            lo, hi = layout.stream_range(stream)
            got = np.load(io.BytesIO(clip[CLIP_MEMBERS[stream]]), allow_pickle=False)
            if not np.array_equal(got, block[:, lo:hi], equal_nan=True):
                out.add("error", "clip-mismatch", path, f"{stream} of clip {key} differs from the Zarr rows {row}..{row + length}", key=key)
    if skeleton is not None and CLIP_MEMBERS["skeleton"] in clip:
        got = np.load(io.BytesIO(clip[CLIP_MEMBERS["skeleton"]]), allow_pickle=False)
        if not np.array_equal(got, skeleton[row : row + length], equal_nan=True):
            out.add("error", "clip-mismatch", path, f"skeleton of clip {key} differs from the Zarr rows", key=key)
    picks = [0, length // 2, length - 1]
    for stream, video in VIDEO_FILES.items():
        if video.name not in clip:
            continue
        got = read_frames(clip[video.name], picks, backend="pyav", color=video.color)
        want = read_frames(store / video_path(meta["sample_id"], stream), [meta["start"] + p for p in picks], backend="pyav", color=video.color)
        if not np.array_equal(got, want):
            out.add("error", "clip-mismatch", path, f"{stream} frames of clip {key} differ from the store video", key=key)


def _spot_check(store: Path, manifest: StoreManifest, frames, skeleton, out: FindingCollector, clips_per_shard: int) -> None:
    for shard in manifest.shards:
        path = store / shard.path
        clips = out.guard("shard-unreadable", path, lambda path=path: _read_clips(path, clips_per_shard))
        for clip in clips or ():
            try:
                _check_clip(store, manifest, frames, skeleton, path, clip, out)
            except (KeyError, ValueError, FormatError, OSError) as exc:
                key = clip["__key__"]
                out.add("error", "clip-unreadable", path, f"clip {key}: {type(exc).__name__}: {exc}", key=key)


def validate_store(
    store: str | os.PathLike[str],
    *,
    checksums: bool = True,
    clips_per_shard: int = 2,
    progress: Callable[[str], None] | None = None,
) -> ValidationReport:
    """Validate a converted store (see the module docstring)."""
    store = Path(store)
    out = FindingCollector()
    manifest = out.guard("bad-manifest", store / MANIFEST_FILE, lambda: read_manifest(store, full_check=True))
    if manifest is None:
        return out.report(target=str(store), kind="store")
    for name, version in manifest["schemas"].items():
        out.guard("schema-version", store / MANIFEST_FILE, lambda version=version, name=name: check_version(version, what=f"{name} schema"))
    _check_files(store, manifest, out, checksums=checksums, progress=progress)
    arrays = out.guard("zarr-unreadable", store / ANNOTATIONS, lambda: _check_arrays(store, manifest, out))
    _check_videos(store, manifest, out)
    if arrays is not None and not out.has("missing-file", "size-mismatch"):
        frames, skeleton = arrays
        out.guard("spot-check", store, lambda: _spot_check(store, manifest, frames, skeleton, out, clips_per_shard))
    table = store / TABLE_FILE
    if table.exists():
        import pyarrow.parquet as pq

        rows = out.guard("table-unreadable", table, lambda: pq.ParquetFile(table).metadata.num_rows)
        if rows is not None and rows != manifest.frames:
            out.add("error", "table-mismatch", table, f"{rows} rows, the store has {manifest.frames} frames")
    return out.report(target=str(store), kind="store", samples=len(manifest.samples))
