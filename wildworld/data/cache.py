"""Small bounded per-process caches: decoded Zarr chunks and open video decoders.

A Zarr read costs about a millisecond however few rows it returns, so the loader reads whole
chunk-aligned blocks and keeps the last few in memory: consecutive windows of a sample then
cost no read at all. Open decoders are kept the same way (opening one costs a few ms and, for
PyAV, a demux pass over the file). Both caches are bounded by a count, so memory stays flat
however long a run is; evicted decoders are closed.

Nothing here is shared between processes: every DataLoader worker builds its own caches on
first use (see :class:`ProcessLocal`).
"""

from __future__ import annotations

import os
import weakref
from collections import OrderedDict
from typing import Callable, Generic, Hashable, TypeVar

import numpy as np

from .._checks import check_positive

__all__ = ["LRUCache", "ChunkedRows", "ProcessLocal", "never_finalise_in_child"]

# Decoders hold native threads and locks that do not survive fork: finalising a decord or
# PyAV reader inherited from the parent can deadlock a DataLoader worker (seen with decord:
# its destructor waits forever when the garbage collector runs in the child). Objects
# registered here are therefore adopted by every forked child and kept alive, never closed,
# there; the child opens its own. They are the parent's pages, shared copy-on-write.
_FORK_UNSAFE: "weakref.WeakSet" = weakref.WeakSet()
_INHERITED: list = []


def never_finalise_in_child(obj):
    """Register ``obj`` so that a forked child process never finalises it (returns ``obj``)."""
    _FORK_UNSAFE.add(obj)
    return obj


def _adopt_after_fork() -> None:
    _INHERITED.extend(list(_FORK_UNSAFE))


if hasattr(os, "register_at_fork"):
    os.register_at_fork(after_in_child=_adopt_after_fork)

K = TypeVar("K", bound=Hashable)
V = TypeVar("V")


class LRUCache(Generic[K, V]):
    """A least-recently-used map holding at most ``capacity`` items.

    ``on_evict(key, value)`` runs for every item pushed out (and for all of them on
    :meth:`clear`), e.g. to close a decoder.
    """

    def __init__(self, capacity: int, *, on_evict: Callable[[K, V], None] | None = None) -> None:
        check_positive("capacity", capacity)
        self.capacity = capacity
        self._items: OrderedDict[K, V] = OrderedDict()
        self._on_evict = on_evict
        self.hits = 0
        self.misses = 0

    def __len__(self) -> int:
        return len(self._items)

    def __contains__(self, key: object) -> bool:
        return key in self._items

    def get(self, key: K) -> V | None:
        value = self._items.get(key)
        if value is None:
            self.misses += 1
            return None
        self._items.move_to_end(key)
        self.hits += 1
        return value

    def get_or_create(self, key: K, create: Callable[[], V]) -> V:
        value = self.get(key)
        if value is None:
            value = create()
            self.put(key, value)
        return value

    def put(self, key: K, value: V) -> None:
        self._items[key] = value
        self._items.move_to_end(key)
        while len(self._items) > self.capacity:
            old_key, old_value = self._items.popitem(last=False)
            if self._on_evict is not None:
                self._on_evict(old_key, old_value)

    def clear(self) -> None:
        while self._items:
            key, value = self._items.popitem(last=False)
            if self._on_evict is not None:
                self._on_evict(key, value)


class ChunkedRows:
    """Row access to a Zarr array (or any sliceable array) through cached chunk-aligned blocks.

    ``rows(indices)`` returns ``array[indices]`` for any row numbers (repeats allowed). Missing
    chunks are fetched with one slice per run of consecutive chunks, so a window that straddles
    a chunk boundary costs one read, and the next window of the same sample usually none.
    """

    def __init__(self, array, *, chunk: int, capacity: int) -> None:
        check_positive("chunk", chunk)
        self.array = array
        self.chunk = chunk
        self.length = int(array.shape[0])
        self.blocks: LRUCache[int, np.ndarray] = LRUCache(capacity)
        self.reads = 0

    def rows(self, indices: np.ndarray) -> np.ndarray:
        indices = np.asarray(indices, dtype=np.int64)
        if indices.size and (indices.min() < 0 or indices.max() >= self.length):
            raise IndexError(f"row outside 0..{self.length - 1}")
        chunk_of = indices // self.chunk
        first, last = (int(chunk_of.min()), int(chunk_of.max())) if indices.size else (0, -1)
        if first == last:  # the common case: the whole window lies in one chunk
            return self._block(first)[indices - first * self.chunk]
        needed = np.unique(chunk_of)
        self._fetch([int(c) for c in needed if int(c) not in self.blocks])
        out = np.empty((len(indices),) + tuple(self.array.shape[1:]), dtype=self.array.dtype)
        for c in needed.tolist():
            mask = chunk_of == c
            out[mask] = self._block(c)[indices[mask] - c * self.chunk]
        return out

    def _block(self, c: int) -> np.ndarray:
        block = self.blocks.get(c)
        if block is None:
            self._fetch([c])
            block = self.blocks.get(c)
        return block

    def _fetch(self, chunks: list[int]) -> None:
        """Read the given chunks, one array slice per run of consecutive chunk numbers."""
        run_start = 0
        for i in range(1, len(chunks) + 1):
            if i == len(chunks) or chunks[i] != chunks[i - 1] + 1:
                lo, hi = chunks[run_start], chunks[i - 1]
                data = np.asarray(self.array[lo * self.chunk : min((hi + 1) * self.chunk, self.length)])
                self.reads += 1
                for c in range(lo, hi + 1):
                    block = data[(c - lo) * self.chunk : (c - lo + 1) * self.chunk]
                    # a view would pin the whole multi-chunk read in memory after its
                    # neighbours are evicted
                    self.blocks.put(c, block.copy() if hi > lo else block)
                run_start = i


class ProcessLocal(Generic[V]):
    """A value built lazily in each process that uses it (fork-safe, pickles as empty).

    A dataset holds one; the main process never opens files until it reads an item itself,
    and a forked DataLoader worker that inherits an opened value discards it and builds its own,
    so no Zarr handle, event loop or decoder is ever shared across a fork.
    """

    def __init__(self, factory: Callable[[], V], *, close: Callable[[V], None] | None = None) -> None:
        self._factory = factory
        self._close = close
        self._value: V | None = None
        self._pid: int | None = None

    def get(self) -> V:
        pid = os.getpid()
        if self._value is None or self._pid != pid:
            if self._value is not None:  # built by the parent before a fork: keep, never close
                _INHERITED.append(self._value)
            self._value = self._factory()
            self._pid = pid
        return self._value

    def reset(self) -> None:
        if self._value is not None and self._pid == os.getpid() and self._close is not None:
            self._close(self._value)
        self._value = None
        self._pid = None

    def __getstate__(self) -> dict:
        return {"_factory": self._factory, "_close": self._close, "_value": None, "_pid": None}

    def __setstate__(self, state: dict) -> None:
        self.__dict__.update(state)
