"""Validate a converted store: manifest, checksums, shapes, and frame-alignment spot checks.

Checks: the manifest parses and follows ``schemas/store_manifest.schema.json`` with a
readable format and record-schema versions; every listed file exists with its size and
sha256; no unlisted files; Zarr arrays have the manifest's shapes and layout; sample offsets
tile the frame axis; store videos have each sample's frame count, size and rate; and for a few
clips, the shard's arrays equal the Zarr rows and the shard's video frames equal the store
video's frames at the same indices (so every stream of a clip refers to the same frames).
"""

from __future__ import annotations

import io
import os
import tarfile
from pathlib import Path
from typing import Callable

import numpy as np

from ..errors import FormatError, WildWorldError
from ..files import sha256_file
from ..findings import FindingCollector, ValidationReport
from ..schemas import check_version
from .layout import ANNOTATIONS, FRAMES_ARRAY, MANIFEST_FILE, SKELETON_ARRAY, TABLE_FILE, WORK_DIR, Layout
from .manifest import read_manifest

__all__ = ["validate_store"]


def _check_files(store: Path, manifest: dict, out: FindingCollector, *, checksums: bool, progress) -> None:
    listed = manifest["files"]
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


def _check_arrays(store: Path, manifest: dict, layout: Layout, out: FindingCollector):
    import zarr

    group = zarr.open_group(store / ANNOTATIONS, mode="r")
    frames = group[FRAMES_ARRAY]
    if frames.shape != (manifest["frames"], layout.width) or str(frames.dtype) != "float32":
        out.add("error", "bad-shape", store / ANNOTATIONS / FRAMES_ARRAY, f"shape {frames.shape} {frames.dtype}, expected ({manifest['frames']}, {layout.width}) float32")
    if frames.attrs.get("layout") != manifest["layout"]:
        out.add("error", "layout-mismatch", store / ANNOTATIONS / FRAMES_ARRAY, "the array's layout attribute differs from the manifest")
    skeleton = None
    if SKELETON_ARRAY in manifest["zarr"].get("arrays", []):
        skeleton = group[SKELETON_ARRAY]
        expected = (manifest["frames"], len(layout.skeleton_slots), layout.max_joints, 3)
        if skeleton.shape != expected:
            out.add("error", "bad-shape", store / ANNOTATIONS / SKELETON_ARRAY, f"shape {skeleton.shape}, expected {expected}")
    return frames, skeleton


def _check_samples(store: Path, manifest: dict, out: FindingCollector) -> None:
    from ..video.probe import probe_video
    from .layout import video_path

    offset = 0
    for sample in manifest["samples"]:
        if sample["offset"] != offset:
            out.add("error", "bad-offset", store / MANIFEST_FILE, f"sample {sample['id']} starts at row {sample['offset']}, expected {offset}", key=sample["id"])
        offset += sample["frames"]
        for stream in ("rgb", "depth"):
            if stream not in manifest["streams"]:
                continue
            path = store / video_path(sample["id"], stream)
            probe = out.guard("video-unreadable", path, lambda path=path: probe_video(path, exact=True))
            if probe is None:
                continue
            if probe.frames != sample["frames"]:
                out.add("error", "frame-count-mismatch", path, f"{probe.frames} frames, the sample has {sample['frames']}")
            if [probe.width, probe.height] != list(sample["size"]):
                out.add("error", "size-mismatch", path, f"{probe.width}x{probe.height}, the manifest says {sample['size']}")
    if offset != manifest["frames"]:
        out.add("error", "bad-offset", store / MANIFEST_FILE, f"samples hold {offset} frames, the manifest says {manifest['frames']}")


def _read_tar_members(path: Path, limit: int) -> dict[str, dict[str, bytes]]:
    clips: dict[str, dict[str, bytes]] = {}
    with tarfile.open(path) as tar:
        for member in tar:
            key, _, suffix = member.name.partition(".")
            if key not in clips and len(clips) >= limit:
                break
            clips.setdefault(key, {})[suffix] = tar.extractfile(member).read()
    return clips


def _spot_check(store: Path, manifest: dict, layout: Layout, frames, skeleton, out: FindingCollector, clips_per_shard: int) -> None:
    from ..video.decode import read_frames
    from .layout import video_path

    offsets = {s["id"]: s["offset"] for s in manifest["samples"]}
    length = manifest["options"]["clip_len"]
    for shard in manifest["shards"]:
        path = store / shard["path"]
        members = out.guard("shard-unreadable", path, lambda path=path: _read_tar_members(path, clips_per_shard))
        if members is None:
            continue
        for key, parts in members.items():
            try:
                meta = __import__("json").loads(parts["json"])
                row = offsets[meta["sample_id"]] + meta["start"]
                block = frames[row : row + length]
                for stream in ("action", "camera", "state"):
                    if f"{stream}.npy" in parts:
                        lo, hi = layout.stream_range(stream)
                        got = np.load(io.BytesIO(parts[f"{stream}.npy"]), allow_pickle=False)
                        if not np.array_equal(got, block[:, lo:hi], equal_nan=True):
                            out.add("error", "clip-mismatch", path, f"{stream} of clip {key} differs from the Zarr rows {row}..{row + length}", key=key)
                if skeleton is not None and "skeleton.npy" in parts:
                    got = np.load(io.BytesIO(parts["skeleton.npy"]), allow_pickle=False)
                    if not np.array_equal(got, skeleton[row : row + length], equal_nan=True):
                        out.add("error", "clip-mismatch", path, f"skeleton of clip {key} differs from the Zarr rows", key=key)
                for stream, suffix, color in (("rgb", "rgb.mp4", "rgb"), ("depth", "depth.mkv", "gray")):
                    if suffix not in parts:
                        continue
                    clip_file = store / WORK_DIR / f"check-{key}-{suffix}"
                    clip_file.parent.mkdir(parents=True, exist_ok=True)
                    clip_file.write_bytes(parts[suffix])
                    try:
                        picks = [0, length // 2, length - 1]
                        got = read_frames(clip_file, picks, backend="pyav", color=color)
                        want = read_frames(store / video_path(meta["sample_id"], stream), [meta["start"] + p for p in picks], backend="pyav", color=color)
                    finally:
                        clip_file.unlink(missing_ok=True)
                    if not np.array_equal(got, want):
                        out.add("error", "clip-mismatch", path, f"{stream} frames of clip {key} differ from the store video", key=key)
            except (KeyError, ValueError, FormatError, OSError) as exc:
                out.add("error", "clip-unreadable", path, f"clip {key}: {type(exc).__name__}: {exc}", key=key)
    try:
        (store / WORK_DIR).rmdir()
    except OSError:
        pass


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
        return ValidationReport(target=str(store), kind="store", findings=out.findings)
    for name, version in manifest["schemas"].items():
        out.guard("schema-version", store / MANIFEST_FILE, lambda version=version, name=name: check_version(version, what=f"{name} schema"))
    layout = Layout.from_json(manifest["layout"])
    _check_files(store, manifest, out, checksums=checksums, progress=progress)
    arrays = out.guard("zarr-unreadable", store / ANNOTATIONS, lambda: _check_arrays(store, manifest, layout, out))
    _check_samples(store, manifest, out)
    if arrays is not None and not any(f.code in ("missing-file", "size-mismatch") for f in out.findings):
        frames, skeleton = arrays
        out.guard("spot-check", store, lambda: _spot_check(store, manifest, layout, frames, skeleton, out, clips_per_shard))
    table = store / TABLE_FILE
    if table.exists():
        import pyarrow.parquet as pq

        rows = out.guard("table-unreadable", table, lambda: pq.ParquetFile(table).metadata.num_rows)
        if rows is not None and rows != manifest["frames"]:
            out.add("error", "table-mismatch", table, f"{rows} rows, the store has {manifest['frames']} frames")
    return ValidationReport(target=str(store), kind="store", findings=out.findings, samples=len(manifest["samples"]))
