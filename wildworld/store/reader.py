"""Read a converted store: its manifest, layout, sample table, Zarr arrays, stats and videos.

    store = open_store("out/store")                  # or a URL, or any StoreReader
    store.samples[0], store.layout.field("camera.K"), store.rows("000000", 0, 16)
    with store.open_video("000000", "rgb") as video: video.get([0, 1, 2])

Everything is read through the store's :class:`~wildworld.store.backends.StoreReader`, so the
same code reads a local directory and an fsspec URL.
"""

from __future__ import annotations

import os
from functools import cached_property
from pathlib import Path

import numpy as np

from ..errors import OptionError, WildWorldError
from ..video.decode import decoder_for, open_video
from .backends import LocalStoreReader, StoreReader, open_reader
from .layout import ANNOTATIONS, FRAMES_ARRAY, SKELETON_ARRAY, VIDEO_FILES, Layout, video_path
from .manifest import StoreManifest, StoreSample, read_manifest
from .stats import read_stats

__all__ = ["Store", "StoreSample", "open_store"]


class Store:
    """A read-only view of a converted store. Arrays open lazily (fork-safe until first use).

    ``manifest`` is the typed :class:`~wildworld.store.manifest.StoreManifest` (it also reads
    as the JSON document); ``path`` is the store's directory when it lies on this machine."""

    def __init__(self, location: str | os.PathLike[str] | StoreReader, *, storage_options: dict | None = None) -> None:
        self.reader = open_reader(location, storage_options=storage_options)
        self.manifest: StoreManifest = read_manifest(self.reader)
        self.layout: Layout = self.manifest.layout
        self.samples: list[StoreSample] = list(self.manifest.samples)
        self._index = {s.id: i for i, s in enumerate(self.samples)}
        self.vocabulary = list(self.manifest.vocabulary)
        self.streams = self.manifest.streams

    @property
    def location(self) -> str:
        return self.reader.location

    @property
    def path(self) -> Path:
        """The store's directory (a store read from a URL has none)."""
        if not isinstance(self.reader, LocalStoreReader):
            raise OptionError(f"{self.location}: the store is not on this machine; this needs a local store")
        return self.reader.root

    @property
    def frames(self) -> int:
        return self.manifest.frames

    @property
    def fps(self) -> float | None:
        return self.manifest.fps

    @property
    def resolution(self) -> tuple[int, int] | None:
        return self.manifest.resolution

    def sample(self, sample_id: str) -> StoreSample:
        try:
            return self.samples[self._index[sample_id]]
        except KeyError:
            raise WildWorldError(f"{self.location}: no sample {sample_id!r} in the store") from None

    def _video_member(self, sample_id: str, stream: str) -> str:
        if stream not in VIDEO_FILES or stream not in self.streams:
            raise WildWorldError(f"{self.location}: the store has no {stream} stream (it has {', '.join(self.streams)})")
        return video_path(self.sample(sample_id).id, stream)

    def video(self, sample_id: str, stream: str) -> Path:
        """Path of a sample's store video (a local store; :meth:`open_video` reads any)."""
        member = self._video_member(sample_id, stream)
        path = self.reader.local_path(member)
        if path is None:
            raise OptionError(f"{self.reader.url(member)}: not on this machine; use Store.open_video")
        return path

    def open_video(self, sample_id: str, stream: str, *, decoder: str = "pyav", threads: int = 0):
        """A :class:`~wildworld.video.VideoReader` of a sample's store video, decoded by
        ``decoder`` where it can (depth always decodes as its exact gray plane)."""
        member = self._video_member(sample_id, stream)
        color = VIDEO_FILES[stream].color
        local = self.reader.local_path(member)
        source = local if local is not None else self.reader.open(member)
        return open_video(source, backend=decoder_for(decoder, color), color=color, threads=threads, name=self.reader.url(member))

    def stats(self) -> dict:
        """``stats.json``: per-field statistics (see ``store/stats.py``)."""
        return read_stats(self.reader)

    @cached_property
    def _group(self):
        import zarr

        return zarr.open_group(store=self.reader.zarr_store(ANNOTATIONS), mode="r")

    @property
    def frames_array(self):
        return self._group[FRAMES_ARRAY]

    @property
    def skeleton_array(self):
        if SKELETON_ARRAY not in self._group:
            raise WildWorldError(f"{self.location}: the store has no skeleton stream")
        return self._group[SKELETON_ARRAY]

    def rows(self, sample_id: str, start: int = 0, stop: int | None = None) -> np.ndarray:
        """``frames`` rows of one sample (float32 ``(n, C)``)."""
        entry = self.sample(sample_id)
        stop = entry.frames if stop is None else stop
        return self.frames_array[entry.offset + start : entry.offset + stop]

    def field(self, rows: np.ndarray, name: str) -> np.ndarray:
        """One field's columns out of ``frames`` rows (``(n,)`` or ``(n, width)``)."""
        spec = self.layout.field(name)
        block = rows[:, spec.start : spec.stop]
        return block[:, 0] if spec.width == 1 else block

    def __repr__(self) -> str:
        size = "mixed" if self.resolution is None else "x".join(map(str, self.resolution))
        return (f"Store({self.location!r}, samples={len(self.samples)}, frames={self.frames}, fps={self.fps}, "
                f"resolution={size}, streams={list(self.streams)})")


def open_store(location: str | os.PathLike[str] | StoreReader, *, storage_options: dict | None = None) -> Store:
    return Store(location, storage_options=storage_options)
