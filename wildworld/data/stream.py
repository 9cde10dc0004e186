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
import tarfile
import warnings
from itertools import islice
from typing import Iterable, Iterator, Literal, Sequence

import numpy as np
import torch
from torch.utils.data import IterableDataset, get_worker_info

from .._checks import check_choice, check_positive
from ..errors import FormatError, MissingFileError, OptionError, WildWorldError
from ..store.layout import MANIFEST_FILE, STATS_FILE, Layout
from ..store.reader import Store
from .dataset import STREAMS, Decoder, Normalize, _DECODERS, _NORMALIZE
from .decode import Annotations, resize_frames, skeleton_type_ids, video_tensor
from .index import WindowSpec
from .records import Window
from ..video.decode import frame_to_gray, frame_to_rgb

__all__ = ["WildWorldStream", "read_clips", "shuffled"]

Split = Literal["shard", "clip"]
_SPLITS = ("shard", "clip")
_ANNOTATION_FILES = {"action": "action.npy", "camera": "camera.npy", "state": "state.npy"}


def _open(url: str, storage_options: dict | None):
    if "://" in url and not url.startswith("file://"):
        import fsspec

        return fsspec.open(url, "rb", **(storage_options or {})).open()
    return open(url.removeprefix("file://"), "rb")


def _join(location: str, name: str) -> str:
    return location.rstrip("/") + "/" + name


def _read_json(url: str, storage_options: dict | None) -> dict:
    try:
        with _open(url, storage_options) as handle:
            return json.loads(handle.read())
    except FileNotFoundError:
        raise MissingFileError(f"{url}: not found") from None
    except json.JSONDecodeError as exc:
        raise FormatError(f"not valid JSON ({exc})", path=url) from None


def _read_manifest(location: str, storage_options: dict | None) -> dict:
    if "://" not in location or location.startswith("file://"):
        return Store(location.removeprefix("file://")).manifest
    from ..schemas import check_version, validate_document
    from ..store.manifest import FORMAT

    doc = _read_json(_join(location, MANIFEST_FILE), storage_options)
    if doc.get("format") != FORMAT:
        raise FormatError(f"not a {FORMAT} manifest", path=_join(location, MANIFEST_FILE))
    check_version(doc.get("format_version", "?"), what=f"store {location}")
    validate_document(doc, "store_manifest", path=_join(location, MANIFEST_FILE))
    return doc


def read_clips(urls: Iterable[str], *, storage_options: dict | None = None) -> Iterator[dict]:
    """Clips of WebDataset tar shards: dicts of ``{"__key__", "__url__", suffix: bytes}``.

    Members are grouped by the name up to the first dot, as WebDataset does; shards are read
    as streams (local files or any fsspec URL), one at a time.
    """
    for url in urls:
        current: dict | None = None
        try:
            with _open(url, storage_options) as handle, tarfile.open(fileobj=handle, mode="r|") as tar:
                for member in tar:
                    if not member.isfile():
                        continue
                    name = member.name.rsplit("/", 1)[-1]
                    key, _, suffix = name.partition(".")
                    if current is None or current["__key__"] != key:
                        if current is not None:
                            yield current
                        current = {"__key__": key, "__url__": url}
                    current[suffix] = tar.extractfile(member).read()
        except FileNotFoundError:
            raise MissingFileError(f"{url}: shard not found") from None
        except tarfile.TarError as exc:
            raise FormatError(f"not a readable tar shard ({exc})", path=url) from None
        if current is not None:
            yield current


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
        check_choice("decoder", decoder, _DECODERS)
        check_choice("normalize", normalize, _NORMALIZE)
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
        self.layout = Layout.from_json(self.manifest["layout"])
        available = tuple(s for s in STREAMS if s in self.manifest["streams"])
        chosen = available if streams is None else ((streams,) if isinstance(streams, str) else tuple(streams))
        missing = [s for s in chosen if s not in available]
        if missing or not chosen:
            raise OptionError(f"streams {missing or '(none)'} not available; the store has {', '.join(available)}")
        self.streams = frozenset(chosen)
        self.clip_len = int(self.manifest["options"]["clip_len"])
        self.spec = WindowSpec(self.clip_len if window is None else window, frame_step=frame_step)
        if self.spec.span > self.clip_len:
            raise OptionError(f"window={window} with frame_step={frame_step} spans {self.spec.span} frames, "
                              f"more than a clip ({self.clip_len}); use WildWorldDataset for longer windows")
        self.windows_per_clip = self.clip_len // self.spec.span
        store_resolution = tuple(self.manifest["resolution"]) if self.manifest.get("resolution") else None
        self.resolution = tuple(resolution) if resolution is not None else store_resolution
        stats = None
        if normalize != "none":
            if self.location is None:
                raise OptionError("normalize needs the store's stats.json; pass manifest=STORE_LOCATION")
            stats = _read_json(_join(self.location, STATS_FILE), storage_options)
        self.annotations = Annotations.build(
            self.layout, streams=self.streams, state_patterns=state_fields, stats=stats, normalize=normalize,
            fill_missing=fill_missing, store_resolution=store_resolution, resolution=self.resolution,
        )
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
        self._samples = {s["id"]: s for s in self.manifest["samples"]}
        self._type_ids: dict[str, np.ndarray] = {}

    def _resolve(self, source, manifest) -> tuple[str | None, dict, list[str]]:
        location, doc = None, None
        if isinstance(manifest, dict):
            doc, location = manifest, None
        elif manifest is not None:
            location = str(manifest)
            doc = _read_manifest(location, self.storage_options)
        if isinstance(source, Store):
            source = str(source.path)
        if isinstance(source, (str, os.PathLike)) and not str(source).endswith(".tar"):
            location = str(source)
            doc = _read_manifest(location, self.storage_options)
            urls = [_join(location, shard["path"]) for shard in doc["shards"]]
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
            meta = json.loads(clip["json"])
        except KeyError:
            raise FormatError("clip without its .json member", path=clip["__url__"], key=clip["__key__"]) from None
        sample_id, clip_start, length = meta["sample_id"], int(meta["start"]), int(meta["length"])
        block = joints = type_ids = None
        if self.streams & {"action", "camera", "state"}:
            block = np.full((length, self.layout.width), np.nan, np.float32)
            for stream, suffix in _ANNOTATION_FILES.items():
                if stream in self.streams:
                    lo, hi = self.layout.stream_range(stream)
                    block[:, lo:hi] = _npy(clip, suffix)
        if "skeleton" in self.streams:
            joints = _npy(clip, "skeleton.npy")
            type_ids = self._type_ids.get(sample_id)
            if type_ids is None:
                entry = self._samples.get(sample_id, {"skeleton": {}})
                type_ids = self._type_ids[sample_id] = skeleton_type_ids(self.layout, entry["skeleton"])
        starts = [k * self.spec.span for k in range(length // self.spec.span)]
        needed = sorted({int(s + o) for s in starts for o in self.spec.offsets})
        videos = {}
        for stream, suffix, color in (("rgb", "rgb.mp4", "rgb"), ("depth", "depth.mkv", "gray")):
            if stream in self.streams:
                if suffix not in clip:
                    raise FormatError(f"clip without its .{suffix} member", path=clip["__url__"], key=clip["__key__"])
                videos[stream] = _decode_clip(clip[suffix], needed, color=color, decoder=self.decoder)
        for start in starts:
            local = start + self.spec.offsets
            pixels = {s: _video(v[local], self.resolution, depth=s == "depth") for s, v in videos.items()}
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

    def __repr__(self) -> str:
        return (f"WildWorldStream({self.location or self.urls[0]!r}, shards={len(self.urls)}, "
                f"streams={sorted(self.streams)}, window={self.spec.window}, shuffle={self.shuffle}, "
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


def _decode_clip(data: bytes, needed: list[int], *, color: str, decoder: str) -> np.ndarray:
    """Frames ``0 .. max(needed)`` of an in-memory clip (short: decoded in order), as an array
    indexable by clip frame number."""
    import av

    last = max(needed)
    if color == "rgb" and decoder == "decord":
        try:
            import decord
        except ImportError:
            raise OptionError("decoder='decord' but decord is not installed; use decoder='pyav'") from None
        reader = decord.VideoReader(io.BytesIO(data), ctx=decord.cpu(0), num_threads=1)
        return reader.get_batch(list(range(last + 1))).asnumpy()
    frames = []
    with av.open(io.BytesIO(data)) as container:
        stream = container.streams.video[0]
        stream.codec_context.thread_count = 1  # workers are the parallelism (see video.py)
        for frame in container.decode(stream):
            frames.append(frame_to_gray(frame) if color == "gray" else frame_to_rgb(frame))
            if len(frames) > last:
                break
    if len(frames) <= last:
        raise FormatError(f"clip has {len(frames)} frames, expected at least {last + 1}")
    return np.stack(frames)
