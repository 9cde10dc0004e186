"""``WildWorldDataset``: map-style random access to every window of every sample of a store.

The pipeline of one item, one line per stage::

    sample, start = index.locate(i)                    # O(log samples) maths, no per-frame table
    frames, pad   = spec.frames(n, start)              # clamp to the sample edges, pad mask
    rows          = access.frames.rows(offset + frames)    # cached chunk-aligned Zarr blocks
    rgb, depth    = access.video(id, stream).get(frames)   # cached decoders (decord / PyAV)
    item          = Window(action=..., camera=..., state=..., skeleton=..., rgb=..., depth=...)

Streams that are not asked for are never opened or read. Nothing is opened in ``__init__``:
Zarr arrays and decoders are opened on first use in each process (see ``cache.ProcessLocal``),
so the dataset is safe to hand to DataLoader workers started by fork or spawn.
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from functools import partial
from typing import Sequence

import numpy as np
import torch
from torch.utils.data import Dataset

from .._checks import check_positive
from ..errors import OptionError, WildWorldError
from ..store.layout import ANNOTATIONS, FRAMES_ARRAY, SKELETON_ARRAY, VIDEO_STREAMS
from ..store.reader import Store, StoreSample
from .cache import ChunkedRows, LRUCache, ProcessLocal, never_finalise_in_child
from .collate import WindowBatch, empty_batch
from .decode import Annotations, resize_frames, skeleton_type_ids, video_tensor
from .index import PadMode, WindowIndex
from .options import STREAMS, Decoder, LoaderOptions, Normalize
from .records import Window

__all__ = ["WildWorldDataset", "Decoder", "Normalize", "STREAMS"]


def _close_reader(key, reader) -> None:
    reader.close()


@dataclass(frozen=True)
class _AccessOptions:
    """What a worker needs to open its handles (no reference back to the dataset: no cycle,
    so a dropped dataset frees its decoders at once, in the process that opened them)."""

    store: Store
    streams: frozenset
    decoder: str
    decoder_threads: int
    cache_chunks: int
    max_open_videos: int


class _Access:
    """Per-process handles: Zarr arrays behind chunk caches, and an LRU of open decoders."""

    def __init__(self, options: _AccessOptions) -> None:
        self.options = options
        self.frames: ChunkedRows | None = None
        self.skeleton: ChunkedRows | None = None
        needs = options.streams
        if needs & {"action", "camera", "state", "skeleton"}:
            import zarr

            group = zarr.open_group(store=options.store.reader.zarr_store(ANNOTATIONS), mode="r")
            if needs & {"action", "camera", "state"}:
                array = group[FRAMES_ARRAY]
                self.frames = ChunkedRows(array, chunk=int(array.chunks[0]), capacity=options.cache_chunks)
            if "skeleton" in needs:
                array = group[SKELETON_ARRAY]
                self.skeleton = ChunkedRows(array, chunk=int(array.chunks[0]), capacity=options.cache_chunks)
        self.videos = LRUCache(options.max_open_videos, on_evict=_close_reader)

    def video(self, sample_id: str, stream: str):
        return self.videos.get_or_create((sample_id, stream), lambda: self._open(sample_id, stream))

    def _open(self, sample_id: str, stream: str):
        reader = self.options.store.open_video(sample_id, stream, decoder=self.options.decoder, threads=self.options.decoder_threads)
        return never_finalise_in_child(reader)

    def close(self) -> None:
        self.videos.clear()


class WildWorldDataset(Dataset):
    """Every window of every sample of a converted store, as typed :class:`Window` records.

    Args (all keyword-only but ``store``):
        store: a store directory or URL (or an open :class:`~wildworld.store.reader.Store`).
        window: frames per window (``T``).
        frame_step: take every ``frame_step``-th frame (``T`` frames span ``(T-1)*step+1``).
        stride: keep every ``stride``-th window of a sample (``stride=span`` for disjoint windows).
        pad: which windows reach past a sample edge: ``"none"``, ``"start"``, ``"end"``,
            ``"both"`` (see :mod:`wildworld.data.index`); padded slots repeat the edge frame
            and are flagged in ``item.pad``.
        streams: subset of ``rgb, depth, action, camera, state, skeleton`` (default: all the
            store has); the others cost nothing.
        state_fields: glob patterns of state fields to keep (default: all), e.g.
            ``("npc.list.0.*", "monster.list.*.hp")``.
        samples: sample ids to use (default: all), e.g. a training split.
        resolution: ``(width, height)`` to resize frames to (default: the store's); the camera
            intrinsics are rescaled to match.
        decoder: RGB decoder: ``"pyav"`` (PyAV + OpenCV colour conversion, one thread per
            worker: the fastest through a DataLoader) or ``"decord"`` (its own threads; quick
            in a single process). Depth always uses PyAV, the only exact path for lossless
            gray video.
        normalize: state float fields with the store's ``stats.json``: ``"none"``,
            ``"mean_std"`` (``(x - mean) / std``) or ``"min_max"`` (to ``[-1, 1]``).
        fill_missing: replace NaN (missing values, invalid cameras, absent joints) by this
            number in float tensors; the ``valid`` masks keep the truth. Default: keep NaN.
        cache_chunks: Zarr chunks (256 frames each) kept per array per worker.
        max_open_videos: decoders kept open per worker (two per sample with rgb and depth).
        decoder_threads: threads per decoder (0: the decoder's default).
    """

    def __init__(
        self,
        store: str | os.PathLike[str] | Store,
        *,
        window: int,
        frame_step: int = 1,
        stride: int = 1,
        pad: PadMode = "none",
        streams: Sequence[str] | None = None,
        state_fields: Sequence[str] | None = None,
        samples: Sequence[str] | None = None,
        resolution: tuple[int, int] | None = None,
        decoder: Decoder = "pyav",
        normalize: Normalize = "none",
        fill_missing: float | None = None,
        cache_chunks: int = 16,
        max_open_videos: int = 8,
        decoder_threads: int = 1,
    ) -> None:
        self.store = store if isinstance(store, Store) else Store(store)
        self.options = LoaderOptions(streams=streams, window=window, frame_step=frame_step, pad=pad, normalize=normalize,
                                     decoder=decoder, state_fields=state_fields, resolution=resolution, fill_missing=fill_missing)
        self.spec = self.options.window_spec(stride=stride)
        check_positive("cache_chunks", cache_chunks)
        check_positive("max_open_videos", max_open_videos)
        check_positive("decoder_threads", decoder_threads, allow_zero=True)
        self.streams = self.options.choose_streams(self.store.streams, location=self.store.location,
                                                   skeleton_slots=len(self.store.layout.skeleton_slots))
        self.decoder = decoder
        self.decoder_threads = decoder_threads
        self.cache_chunks = cache_chunks
        self.max_open_videos = max_open_videos
        self.fill_missing = fill_missing
        self.normalize = normalize
        self.resolution = self._check_resolution()
        self.samples: list[StoreSample] = self._select_samples(samples)
        self.index = WindowIndex([s.frames for s in self.samples], self.spec)
        self._check_windows()
        self.stats = self.store.stats() if normalize != "none" else None
        self.annotations = Annotations.build(self.store.layout, self.options, streams=self.streams, stats=self.stats,
                                             store_resolution=self.store.resolution, resolution=self.resolution)
        self._type_ids = {}  # sample id -> skeleton type id per slot (filled on use)
        options = _AccessOptions(self.store, self.streams, decoder, decoder_threads, cache_chunks, max_open_videos)
        self._access: ProcessLocal[_Access] = ProcessLocal(partial(_Access, options), close=_Access.close)

    # -- checks ---------------------------------------------------------------------------
    def _check_resolution(self) -> tuple[int, int] | None:
        store_resolution = self.store.resolution
        if self.options.resolution is None:
            return store_resolution
        if store_resolution is None and self.streams & set(VIDEO_STREAMS):
            raise OptionError(f"{self.store.location}: samples have different resolutions; resizing needs one store resolution")
        return self.options.resolution

    def _select_samples(self, samples: Sequence[str] | None) -> list[StoreSample]:
        if samples is None:
            return list(self.store.samples)
        if isinstance(samples, str):
            raise OptionError("samples= takes a sequence of sample ids, not one string")
        return [self.store.sample(sample_id) for sample_id in samples]

    def _check_windows(self) -> None:
        """A dataset without a single window is a mistake in its options: say so now, not as
        an empty DataLoader (``wildworld load`` prints this same message)."""
        if len(self.index):
            return
        if not self.samples:
            raise OptionError(f"{self.store.location}: samples= selects no sample")
        spec = self.spec
        spanning = f" (spanning {spec.span} with frame_step={spec.frame_step})" if spec.frame_step > 1 else ""
        longest = max(s.frames for s in self.samples)
        raise OptionError(f"{self.store.location}: no window of {spec.window} frames{spanning} fits in any sample "
                          f"(the longest has {longest} frames); choose a shorter window or pad=\"both\"")

    # -- the dataset ------------------------------------------------------------------------
    def __len__(self) -> int:
        return len(self.index)

    def locate(self, index: int) -> tuple[str, int]:
        """``(sample id, start frame)`` of window ``index``."""
        sample, start = self.index.locate(index)
        return self.samples[sample].id, start

    def __getitem__(self, index: int) -> Window:
        return self._fetch(int(index), {})

    def __getitems__(self, indices: Sequence[int]) -> WindowBatch:
        """A batch's items (the DataLoader calls this with the indices of one batch).

        Videos are decoded straight into one buffer per stream for the whole batch (in shared
        memory inside a worker); each item's ``rgb``/``depth`` is a view of it, and
        :func:`~wildworld.data.collate` hands the buffers on without copying them.
        """
        indices = [int(i) for i in indices]
        buffers = {}
        if self.resolution is None:  # samples of different sizes: no common batch buffer
            return WindowBatch([self._fetch(i, {}) for i in indices], {})
        width, height = self.resolution
        for stream in ("rgb", "depth"):
            if stream in self.streams:
                shape = (len(indices), self.spec.window, height, width) + ((3,) if stream == "rgb" else ())
                buffers[stream] = empty_batch(shape, torch.uint8)
        items = [self._fetch(i, {s: b[k] for s, b in buffers.items()}) for k, i in enumerate(indices)]
        return WindowBatch(items, {s: video_tensor(b, depth=s == "depth") for s, b in buffers.items()})

    def _fetch(self, index: int, out: dict[str, torch.Tensor]) -> Window:
        position, start = self.index.locate(index)
        entry = self.samples[position]
        frames, pad = self.spec.frames(entry.frames, start)
        access = self._access.get()
        rows = entry.offset + frames
        block = access.frames.rows(rows) if access.frames is not None else None  # cached chunks
        joints = access.skeleton.rows(rows) if access.skeleton is not None else None
        type_ids = None
        if joints is not None:
            type_ids = self._type_ids.get(entry.id)
            if type_ids is None:
                type_ids = self._type_ids[entry.id] = skeleton_type_ids(self.store.layout, entry.skeleton)
        records = self.annotations.records(block, joints, type_ids)
        videos = {}
        for stream in ("rgb", "depth"):
            if stream in self.streams:
                target = out[stream].numpy() if stream in out else None
                pixels = _decode(access.video(entry.id, stream), frames, self.resolution, target, depth=stream == "depth")
                videos[stream] = out[stream] if stream in out else torch.from_numpy(pixels)
                videos[stream] = video_tensor(videos[stream], depth=stream == "depth")
        return Window(
            sample_id=entry.id,
            start=torch.tensor(start, dtype=torch.int64),
            frames=torch.from_numpy(frames),
            pad=torch.from_numpy(pad),
            **videos,
            **records,
        )

    # -- conveniences -----------------------------------------------------------------------
    @property
    def vocabulary(self) -> list[tuple[int, int]]:
        """``(motion_bank_id, motion_id)`` of each ``action.index``."""
        return self.store.vocabulary

    @property
    def state_fields(self):
        return self.annotations.state_fields

    @property
    def fps(self) -> float | None:
        """Frames per second of the windows' slots: the samples' rate divided by ``frame_step``
        (``None`` when the samples were recorded at different rates)."""
        rates = {s.fps for s in self.samples}
        return rates.pop() / self.spec.frame_step if len(rates) == 1 else None

    def windows_of(self, sample_id: str) -> range:
        """Window numbers of one sample (e.g. to evaluate it in order)."""
        for position, entry in enumerate(self.samples):
            if entry.id == sample_id:
                return self.index.sample_range(position)
        raise WildWorldError(f"no sample {sample_id!r} in this dataset")

    def close(self) -> None:
        """Close this process's decoders (they reopen on the next item)."""
        self._access.reset()

    def __repr__(self) -> str:
        return (f"WildWorldDataset({self.store.location!r}, windows={len(self)}, samples={len(self.samples)}, "
                f"window={self.spec.window}, frame_step={self.spec.frame_step}, fps={self.fps}, stride={self.spec.stride}, "
                f"pad={self.spec.pad!r}, streams={sorted(self.streams)})")


def _decode(reader, frames: np.ndarray, resolution, out: np.ndarray | None, *, depth: bool) -> np.ndarray:
    """The window's frames, decoded (each distinct frame once) and resized, into ``out``."""
    size = (reader.width, reader.height)
    resize = resolution is not None and tuple(resolution) != size
    pixels = reader.get(frames, out=None if resize else out)
    if resize:
        return resize_frames(pixels, resolution, depth=depth, out=out)
    if out is not None and pixels is not out:
        out[...] = pixels
        return out
    return pixels
