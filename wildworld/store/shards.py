"""Phase C of conversion: WebDataset clip shards.

One WebDataset sample is one clip of ``clip_len`` frames with all its streams (member names
from ``layout.CLIP_MEMBERS``):

```
<key>.rgb.mp4   <key>.depth.mkv            the clip's frames, remuxed from the store videos
<key>.action.npy <key>.camera.npy <key>.state.npy   float32 (L, width) column blocks of `frames`
<key>.skeleton.npy                         float32 (L, slots, max_joints, 3)
<key>.json                                 {"sample_id", "start", "length", "fps"}
```

Keys are ``<sample_id>_<start>`` with every dot replaced (WebDataset splits names at the
first dot). Clips of all samples are interleaved in a seeded order and packed into shards of
about ``shard_bytes``; each shard is a pure function of its clip list, written to a temporary
name and renamed, so shards are built in parallel and a killed run resumes shard by shard.
Tar members carry mtime 0, so the same inputs give the same bytes. ``clips.iter_clips`` reads
them back.
"""

from __future__ import annotations

import io
import json
import os
from dataclasses import dataclass
from pathlib import Path
from typing import Sequence

import numpy as np

from ..files import atomic_path, sha256_file
from ..video.remux import remux_clip
from .extract import SampleProfile
from .layout import (
    ANNOTATIONS,
    CLIP_MEMBERS,
    CLIP_META,
    FRAMES_ARRAY,
    SKELETON_ARRAY,
    VIDEO_FILES,
    Layout,
    clip_key,
    shard_path,
    video_path,
    work_shard_record,
)
from .manifest import ShardRecord

__all__ = ["ClipRef", "ShardTask", "plan_shards", "write_shard", "load_shard_record"]


@dataclass(frozen=True)
class ClipRef:
    sample_id: str
    offset: int  # the sample's first row in the store arrays
    start: int  # first frame of the clip within the sample
    fps: float


@dataclass(frozen=True)
class ShardTask:
    store: str
    index: int
    clips: tuple[ClipRef, ...]
    clip_len: int
    streams: tuple[str, ...]
    layout: Layout


def plan_shards(profiles: Sequence[SampleProfile], offsets: Sequence[int], *, clip_len: int, shard_bytes: int, seed: int,
                annotation_bytes_per_frame: int) -> list[list[ClipRef]]:
    """Assign every full clip to a shard, interleaving samples in a seeded order (``offsets``:
    each sample's first row in the store arrays)."""
    clips: list[ClipRef] = []
    sizes: list[float] = []
    for profile, offset in zip(profiles, offsets):
        per_frame = sum(profile.video_bytes.values()) / max(profile.frames, 1) + annotation_bytes_per_frame
        for start in range(0, profile.frames - clip_len + 1, clip_len):
            clips.append(ClipRef(profile.id, offset, start, profile.fps))
            sizes.append(per_frame * clip_len)
    order = np.random.default_rng(seed).permutation(len(clips))
    shards: list[list[ClipRef]] = [[]]
    filled = 0.0
    for i in order:
        if shards[-1] and filled + sizes[i] > shard_bytes:
            shards.append([])
            filled = 0.0
        shards[-1].append(clips[i])
        filled += sizes[i]
    return [shard for shard in shards if shard]


def _npy(array: np.ndarray) -> bytes:
    buffer = io.BytesIO()
    np.save(buffer, np.ascontiguousarray(array), allow_pickle=False)
    return buffer.getvalue()


def write_shard(task: ShardTask) -> ShardRecord:
    """Write one shard; returns (and records for resuming) its path, checksum, size, clips."""
    import webdataset as wds
    import zarr

    store = Path(task.store)
    layout = task.layout
    group = zarr.open_group(store / ANNOTATIONS, mode="r")
    frames = group[FRAMES_ARRAY]
    skeleton = group[SKELETON_ARRAY] if SKELETON_ARRAY in group and "skeleton" in task.streams else None
    ranges = {stream: layout.stream_range(stream) for stream in ("action", "camera", "state") if stream in task.streams}
    relative = shard_path(task.index)
    final = store / relative
    with atomic_path(final) as tmp:
        with open(tmp, "wb") as handle:
            writer = wds.TarWriter(handle, encoder=False, mtime=0.0)
            try:
                _write_clips(writer, task, store, frames, skeleton, ranges)
            finally:
                writer.close()
    record = ShardRecord(relative, sha256_file(final), final.stat().st_size, len(task.clips))
    with atomic_path(store / work_shard_record(task.index)) as tmp:
        tmp.write_text(json.dumps(record.to_json(), sort_keys=True))
    return record


def _write_clips(writer, task: ShardTask, store: Path, frames, skeleton, ranges) -> None:
    for clip in task.clips:
        row = clip.offset + clip.start
        sample = {"__key__": clip_key(clip.sample_id, clip.start)}
        block = frames[row : row + task.clip_len]
        for stream, (lo, hi) in ranges.items():
            sample[CLIP_MEMBERS[stream]] = _npy(block[:, lo:hi])
        if skeleton is not None:
            sample[CLIP_MEMBERS["skeleton"]] = _npy(skeleton[row : row + task.clip_len])
        for stream in VIDEO_FILES:
            if stream in task.streams:
                sample[CLIP_MEMBERS[stream]] = remux_clip(store / video_path(clip.sample_id, stream), clip.start, task.clip_len, fps=clip.fps)
        meta = {"sample_id": clip.sample_id, "start": clip.start, "length": task.clip_len, "fps": clip.fps}
        sample[CLIP_META] = json.dumps(meta, sort_keys=True).encode()
        writer.write(sample)


def load_shard_record(store: str | os.PathLike[str], index: int) -> ShardRecord | None:
    """A finished shard's record (a resumed conversion keeps the shard), or None."""
    try:
        record = ShardRecord.from_json(json.loads((Path(store) / work_shard_record(index)).read_text()))
    except (FileNotFoundError, json.JSONDecodeError, KeyError, TypeError, ValueError):
        return None
    return record if (Path(store) / record.path).exists() else None

