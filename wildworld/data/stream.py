"""``WildWorldStream``: an IterableDataset over a store's WebDataset clip shards.

The whole pipeline of one worker, one line per stage (see ``__iter__``)::

    epoch  = self._begin_epoch()                       # set_epoch() or count of iterations
    shards = self._shards(epoch, slot)                 # seeded order, split by node then worker
                                                       # (or resampled with replacement)
    clips  = read_clips(shards)                        # tar members grouped by key, undecoded
    clips  = shuffled(clips, buffer, rng)              # seeded shuffle buffer of raw clips
    items  = windows(decode(clip) for clip in clips)   # only the asked streams are decoded
    items  = islice(items, quota)                      # fixed-length epoch, if asked

Every random choice draws from a generator seeded by ``(seed, epoch, ...)``, so the same
seed and epoch give the same items in the same order. The shard order of an epoch is the same
on every rank and worker, and each (rank, worker) slot takes every ``slots``-th shard of it,
so without resampling the slots partition the clips: each clip is read exactly once per epoch.
"""

from __future__ import annotations

import io
import json
import os
import warnings
from itertools import islice
from typing import Iterable, Iterator, Literal, Sequence

import numpy as np
import torch
from torch.utils.data import IterableDataset, get_worker_info

from .._checks import check_choice, check_positive
from ..errors import FormatError, OptionError, WildWorldError
from ..store.backends import StoreReader, open_reader, open_url
from ..store.clips import iter_clips
from ..store.layout import CLIP_MEMBERS, CLIP_META, VIDEO_FILES
from ..store.manifest import StoreManifest, read_manifest
from ..store.reader import Store
from ..store.stats import read_stats
from ..video.decode import decoder_for, open_video
from .decode import Annotations, resize_frames, skeleton_type_ids, video_tensor
from .options import Decoder, LoaderOptions, Normalize
from .records import Window

__all__ = ["WildWorldStream", "read_clips", "shuffled"]

Split = Literal["shard", "clip"]
_SPLITS = ("shard", "clip")


def read_clips(urls: Iterable[str], *, storage_options: dict | None = None) -> Iterator[dict]:
    """Clips of WebDataset tar shards: dicts of ``{"__key__", "__url__", suffix: bytes}``.

    Members are grouped by the name up to the first dot, as WebDataset does; shards are read
    as streams (local files or any fsspec URL), one at a time."""
    for url in urls:
        with open_url(url, storage_options=storage_options) as handle:
            yield from iter_clips(handle, url=url)


def shuffled(items: Iterable, buffer: int, rng: np.random.Generator) -> Iterator:
    """Shuffle a stream through a buffer of ``buffer`` items (0 or 1: unchanged order)."""
    if buffer <= 1:
        yield from items
        return
    pool: list = []
    for item in items:
        if len(pool) < buffer:
            pool.append(item)
            continue
        j = int(rng.integers(len(pool)))
        pool[j], item = item, pool[j]
        yield item
    order = rng.permutation(len(pool))
    for j in order:
        yield pool[j]


class WildWorldStream(IterableDataset):
    """Windows streamed from a store's clip shards (local or fsspec URLs), DDP- and worker-aware.

    Args (keyword-only but ``source``):
        source: a store location (directory or URL such as ``s3://bucket/store``), or a list
            of shard paths/URLs (then ``manifest=`` names the store, for the layout).
        streams: subset of ``rgb, depth, action, camera, state, skeleton`` (default: all the
            store has); the others are never decoded.
        window, frame_step: cut each clip into disjoint windows of ``window`` frames taken
            every ``frame_step`` frames (default: one window = the whole clip).
        state_fields, resolution, decoder, normalize, fill_missing: as for ``WildWorldDataset``.
        shuffle: shuffle the shard order per epoch and clips through a buffer.
        shuffle_buffer: raw (undecoded) clips held per worker for shuffling.
        seed: the seed of every random choice; the same seed and epoch give the same order.
        resample: draw shards with replacement (an endless stream; bound it by ``epoch_length``).
        epoch_length: items per epoch over all ranks (each rank yields ``epoch_length //
            world_size``, split over its workers); without resampling, shards are re-read in a
            new order when a worker runs out before its quota.
        split: ``"shard"`` (each rank/worker reads its own shards) or ``"clip"`` (every worker
            reads every shard and keeps every ``slots``-th clip: balanced, but reads N times).
        rank, world_size: the node split (default: from ``torch.distributed`` when initialised).
        storage_options: passed to ``fsspec.open`` for URLs.
    """

    def __init__(
        self,
        source: str | os.PathLike[str] | Store | Sequence[str],
        *,
        streams: Sequence[str] | None = None,
        window: int | None = None,
        frame_step: int = 1,
        state_fields: Sequence[str] | None = None,
        resolution: tuple[int, int] | None = None,
        decoder: Decoder = "pyav",
        normalize: Normalize = "none",
        fill_missing: float | None = None,
        shuffle: bool = True,
        shuffle_buffer: int = 256,
        seed: int = 0,
        resample: bool = False,
        epoch_length: int | None = None,
        split: Split = "shard",
        rank: int | None = None,
        world_size: int | None = None,
        manifest: str | os.PathLike[str] | dict | None = None,
        storage_options: dict | None = None,
    ) -> None:
        self.options = LoaderOptions(streams=streams, window=window, frame_step=frame_step, normalize=normalize,
                                     decoder=decoder, state_fields=state_fields, resolution=resolution, fill_missing=fill_missing)
        check_choice("split", split, _SPLITS)
        check_positive("shuffle_buffer", shuffle_buffer, allow_zero=True)
        if epoch_length is not None:
            check_positive("epoch_length", epoch_length)
        if (rank is None) != (world_size is None):
            raise OptionError("give both rank and world_size, or neither (then torch.distributed decides)")
        if world_size is not None and not 0 <= rank < world_size:
            raise OptionError(f"rank={rank} must be in 0..world_size-1={world_size - 1}")
        self.storage_options = storage_options
        self.location, self.manifest, self.urls = self._resolve(source, manifest)
        self.layout = self.manifest.layout
        self.streams = self.options.choose_streams(self.manifest.streams, location=self.location or self.urls[0],
                                                   skeleton_slots=len(self.layout.skeleton_slots))
        self.clip_len = self.manifest.clip_len
        self.spec = self.options.window_spec(default_window=self.clip_len)
        if self.spec.span > self.clip_len:
            raise OptionError(f"window={window} with frame_step={frame_step} spans {self.spec.span} frames, "
                              f"more than a clip ({self.clip_len}); use WildWorldDataset for longer windows")
        self.windows_per_clip = self.clip_len // self.spec.span
        store_resolution = self.manifest.resolution
        self.resolution = self.options.resolution or store_resolution
        stats = None
        if normalize != "none":
            if self.location is None:
                raise OptionError("normalize needs the store's stats.json; pass manifest=STORE_LOCATION")
            stats = read_stats(self.location, storage_options=storage_options)
        self.annotations = Annotations.build(self.layout, self.options, streams=self.streams, stats=stats,
                                             store_resolution=store_resolution, resolution=self.resolution)
        self.decoder = decoder
        self.shuffle = shuffle
        self.shuffle_buffer = shuffle_buffer if shuffle else 0
        self.seed = int(seed)
        self.resample = resample
        self.epoch_length = epoch_length
        self.split = split
        self._node = None if rank is None else (int(rank), int(world_size))
        self._epoch = 0
        self._iterations = 0
        self._samples = {s.id: s for s in self.manifest.samples}
        self._type_ids: dict[str, np.ndarray] = {}

    def _resolve(self, source, manifest) -> tuple[str | None, StoreManifest, list[str]]:
        """``(store location or None, its manifest, shard URLs)`` of what the stream was given."""
        location, doc = None, None
        if isinstance(manifest, dict):
            doc = StoreManifest.from_json(manifest, where="manifest=")
        elif manifest is not None:
            location = str(manifest)
            doc = read_manifest(location, storage_options=self.storage_options)
        if isinstance(source, Store):
            source = source.reader
        a_shard = isinstance(source, (str, os.PathLike)) and str(source).endswith(".tar")
        if not a_shard and (isinstance(source, (str, os.PathLike, StoreReader))):
            reader = open_reader(source, storage_options=self.storage_options)
            location, doc = reader.location, read_manifest(reader)
            urls = [reader.url(shard.path) for shard in doc.shards]
        else:
            urls = [str(source)] if isinstance(source, (str, os.PathLike)) else [str(u) for u in source]
            if manifest is None:
                raise OptionError("a list of shards needs manifest= (the store location) for the column layout")
        if not urls:
            raise WildWorldError(f"{location}: the store has no clip shards (converted with too short samples?)")
        return location, doc, urls

    # -- epochs and splitting ---------------------------------------------------------------
    def set_epoch(self, epoch: int) -> None:
        """Use ``epoch`` for the next iteration (and count on from it). Call it every epoch with
        non-persistent DataLoader workers, like ``DistributedSampler.set_epoch``."""
        self._epoch = int(epoch)
        self._iterations = 0

    def _slot(self) -> tuple[int, int, int, int]:
        rank, world = self._node or _distributed()
        info = get_worker_info()
        worker, workers = (info.id, info.num_workers) if info is not None else (0, 1)
        return rank, world, worker, workers

    def _quota(self, rank: int, world: int, worker: int, workers: int) -> int | None:
        if self.epoch_length is None:
            return None
        per_rank = self.epoch_length // world
        return per_rank // workers + (1 if worker < per_rank % workers else 0)

    def __len__(self) -> int:
        if self.epoch_length is None:
            raise TypeError("a WildWorldStream has a length only with epoch_length= (items per epoch)")
        rank, world = self._node or _distributed()
        return self.epoch_length // world

    def _shards(self, epoch: int, slot: int, slots: int, rng: np.random.Generator) -> Iterator[str]:
        if self.resample:
            while True:
                yield self.urls[int(rng.integers(len(self.urls)))]
        everyone = self.split == "clip"
        for repeat in range(1 << 62):
            order = np.arange(len(self.urls))
            if self.shuffle:
                order = np.random.default_rng([self.seed, epoch, repeat]).permutation(len(self.urls))
            mine = order if everyone else order[slot::slots]
            if len(mine) == 0:
                if repeat == 0:
                    warnings.warn(f"{len(self.urls)} shards for {slots} rank x worker slots: slot {slot} gets none "
                                  "(use fewer workers, smaller shards, or split='clip')", stacklevel=2)
                return
            yield from (self.urls[i] for i in mine)
            if self.epoch_length is None:
                return

    # -- iteration ------------------------------------------------------------------------------
    def __iter__(self) -> Iterator[Window]:
        rank, world, worker, workers = self._slot()
        slot, slots = rank * workers + worker, world * workers
        epoch = self._epoch + self._iterations  # the epoch this pass plays
        self._iterations += 1
        rng = np.random.default_rng([self.seed, epoch, rank, worker])
        shards = self._shards(epoch, slot, slots, rng)  # seeded order, split by node then worker
        clips = read_clips(shards, storage_options=self.storage_options)  # raw tar members by key
        if self.split == "clip" and not self.resample:
            clips = (clip for i, clip in enumerate(clips) if i % slots == slot)  # every slots-th clip
        clips = shuffled(clips, self.shuffle_buffer, rng)  # seeded shuffle buffer (undecoded)
        items = (item for clip in clips for item in self._decode(clip))  # decode asked streams only
        quota = self._quota(rank, world, worker, workers)
        return islice(items, quota) if quota is not None else items  # fixed-length epoch

    def _decode(self, clip: dict) -> Iterator[Window]:
        try:
            meta = json.loads(clip[CLIP_META])
        except KeyError:
            raise FormatError(f"clip without its .{CLIP_META} member", path=clip["__url__"], key=clip["__key__"]) from None
        sample_id, clip_start, length = meta["sample_id"], int(meta["start"]), int(meta["length"])
        block = joints = type_ids = None
        if self.streams & {"action", "camera", "state"}:
            block = np.full((length, self.layout.width), np.nan, np.float32)
            for stream in ("action", "camera", "state"):
                if stream in self.streams:
                    lo, hi = self.layout.stream_range(stream)
                    block[:, lo:hi] = _npy(clip, CLIP_MEMBERS[stream])
        if "skeleton" in self.streams:
            joints = _npy(clip, CLIP_MEMBERS["skeleton"])
            type_ids = self._type_ids.get(sample_id)
            if type_ids is None:
                entry = self._samples.get(sample_id)
                type_ids = self._type_ids[sample_id] = skeleton_type_ids(self.layout, entry.skeleton if entry else {})
        starts = [k * self.spec.span for k in range(length // self.spec.span)]
        needed = sorted({int(s + o) for s in starts for o in self.spec.offsets})
        videos = {}
        for stream, video in VIDEO_FILES.items():
            if stream in self.streams:
                if video.name not in clip:
                    raise FormatError(f"clip without its .{video.name} member", path=clip["__url__"], key=clip["__key__"])
                videos[stream] = _decode_clip(clip, video.name, needed, color=video.color, decoder=self.decoder)
        for start in starts:
            local = start + self.spec.offsets
            pixels = {s: _video(v[local], self.resolution, depth=VIDEO_FILES[s].is_depth) for s, v in videos.items()}
            records = self.annotations.records(
                block[local] if block is not None else None, joints[local] if joints is not None else None, type_ids
            )
            yield Window(
                sample_id=sample_id,
                start=torch.tensor(clip_start + start, dtype=torch.int64),
                frames=torch.from_numpy(clip_start + local),
                pad=torch.zeros(len(local), dtype=torch.bool),
                **pixels,
                **records,
            )

    @property
    def fps(self) -> float | None:
        """Frames per second of the windows' slots: the store's rate divided by ``frame_step``
        (``None`` when its samples were recorded at different rates)."""
        fps = self.manifest.fps
        return None if fps is None else fps / self.spec.frame_step

    def __repr__(self) -> str:
        return (f"WildWorldStream({self.location or self.urls[0]!r}, shards={len(self.urls)}, "
                f"streams={sorted(self.streams)}, window={self.spec.window}, fps={self.fps}, shuffle={self.shuffle}, "
                f"resample={self.resample}, epoch_length={self.epoch_length}, split={self.split!r})")


def _video(pixels: np.ndarray, resolution: tuple[int, int] | None, *, depth: bool) -> torch.Tensor:
    if resolution is not None and (pixels.shape[2], pixels.shape[1]) != tuple(resolution):
        pixels = resize_frames(pixels, resolution, depth=depth)
    return video_tensor(pixels, depth=depth)


def _distributed() -> tuple[int, int]:
    if torch.distributed.is_available() and torch.distributed.is_initialized():
        return torch.distributed.get_rank(), torch.distributed.get_world_size()
    return 0, 1


def _npy(clip: dict, suffix: str) -> np.ndarray:
    try:
        data = clip[suffix]
    except KeyError:
        raise FormatError(f"clip without its .{suffix} member", path=clip["__url__"], key=clip["__key__"]) from None
    return np.load(io.BytesIO(data), allow_pickle=False)


def _decode_clip(clip: dict, member: str, needed: list[int], *, color: str, decoder: str) -> np.ndarray:
    """Frames ``0 .. max(needed)`` of a clip's in-memory video (short: decoded in order), as an
    array indexable by clip frame number."""
    last = max(needed)
    name = f"{clip['__url__']}: {clip['__key__']}.{member}"
    # threads=1: DataLoader workers are the parallelism
    with open_video(clip[member], backend=decoder_for(decoder, color), color=color, threads=1, name=name) as reader:
        if reader.num_frames <= last:
            raise FormatError(f"clip has {reader.num_frames} frames, expected at least {last + 1}", path=name)
        return reader.get(range(last + 1))
