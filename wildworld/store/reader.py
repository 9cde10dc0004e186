"""Read a converted store: its manifest, layout, sample table and Zarr arrays."""

from __future__ import annotations

import os
from dataclasses import dataclass
from functools import cached_property
from pathlib import Path

import numpy as np

from ..errors import WildWorldError
from .layout import ANNOTATIONS, FRAMES_ARRAY, SKELETON_ARRAY, Layout, video_path
from .manifest import read_manifest

__all__ = ["Store", "StoreSample", "open_store"]


@dataclass(frozen=True)
class StoreSample:
    id: str
    frames: int
    offset: int
    fps: float
    size: tuple[int, int]
    clips: int
    skeleton: dict


class Store:
    """A read-only view of a converted store. Arrays open lazily (fork-safe until first use)."""

    def __init__(self, path: str | os.PathLike[str]) -> None:
        self.path = Path(path)
        self.manifest = read_manifest(self.path)
        self.layout = Layout.from_json(self.manifest["layout"])
        self.samples = [
            StoreSample(s["id"], s["frames"], s["offset"], s["fps"], tuple(s["size"]), s["clips"], s["skeleton"])
            for s in self.manifest["samples"]
        ]
        self._index = {s.id: i for i, s in enumerate(self.samples)}
        self.vocabulary = [tuple(k) for k in self.manifest["vocabulary"]]
        self.streams = tuple(self.manifest["streams"])

    @property
    def frames(self) -> int:
        return int(self.manifest["frames"])

    @property
    def fps(self) -> float | None:
        return self.manifest.get("fps")

    @property
    def resolution(self) -> tuple[int, int] | None:
        res = self.manifest.get("resolution")
        return tuple(res) if res else None

    def sample(self, sample_id: str) -> StoreSample:
        try:
            return self.samples[self._index[sample_id]]
        except KeyError:
            raise WildWorldError(f"{self.path}: no sample {sample_id!r} in the store") from None

    def video(self, sample_id: str, stream: str) -> Path:
        if stream not in self.streams:
            raise WildWorldError(f"{self.path}: the store has no {stream} stream (it has {', '.join(self.streams)})")
        return self.path / video_path(sample_id, stream)

    @cached_property
    def _group(self):
        import zarr

        return zarr.open_group(self.path / ANNOTATIONS, mode="r")

    @property
    def frames_array(self):
        return self._group[FRAMES_ARRAY]

    @property
    def skeleton_array(self):
        if SKELETON_ARRAY not in self._group:
            raise WildWorldError(f"{self.path}: the store has no skeleton stream")
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


def open_store(path: str | os.PathLike[str]) -> Store:
    return Store(path)
