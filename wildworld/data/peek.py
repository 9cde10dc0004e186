"""Load a few batches from a store through a DataLoader: what ``wildworld load`` prints.

A quick end-to-end check that a store feeds the PyTorch loaders (every tensor of a batch with
its shape and dtype) and a rough throughput on this machine (frames/s after the first batch,
so worker start-up is left out). ``benchmarks/loader_throughput.py`` measures properly.
"""

from __future__ import annotations

import os
import time
from dataclasses import dataclass
from typing import Any, Iterator, Sequence

import torch
from torch.utils.data import DataLoader

from ..classify import expect_kind
from ..errors import WildWorldError
from ..store.backends import is_url
from .collate import collate
from .dataset import WildWorldDataset
from .stream import WildWorldStream

__all__ = ["PeekResult", "peek", "tensor_fields"]


@dataclass(frozen=True)
class PeekResult:
    source: str
    loader: str  # "WildWorldDataset" | "WildWorldStream"
    items: int  # windows (dataset) or clips (stream) in the store
    fields: tuple[tuple[str, tuple[int, ...], str], ...]  # (name, shape, dtype) of the first batch
    batches: int
    frames: int
    frames_per_s: float | None  # after the first batch; None with a single batch


def _batches(loader: DataLoader) -> Iterator[Any]:
    """The loader's batches; an error raised in a worker process comes back as one line (its
    last), not as the worker's traceback wrapped in the message."""
    iterator = iter(loader)
    while True:
        try:
            batch = next(iterator)
        except StopIteration:
            return
        except Exception as exc:  # noqa: BLE001 - re-raised below, unchanged unless from a worker
            text = str(exc)
            if "Original Traceback" not in text:
                raise
            last = [line for line in text.strip().splitlines() if line.strip()][-1]
            raise WildWorldError(last.split(": ", 1)[1] if ": " in last else last) from None
        yield batch


def tensor_fields(window: Any) -> list[tuple[str, tuple[int, ...], str]]:
    """``(flat key, shape, dtype)`` of every tensor of a (batched) window, in key order."""
    return [(key, tuple(value.shape), str(value.dtype).replace("torch.", ""))
            for key, value in window.items() if isinstance(value, torch.Tensor)]


def peek(
    store: str | os.PathLike[str],
    *,
    window: int = 16,
    batch_size: int = 8,
    workers: int = 2,
    batches: int = 10,
    streams: Sequence[str] | None = None,
    stream: bool = False,
    seed: int = 0,
) -> PeekResult:
    """Iterate up to ``batches`` shuffled batches of ``window``-frame windows from ``store``."""
    if not is_url(store):
        expect_kind(store, "store", purpose="to load from")  # a release part, a split...: say what it is
    if stream:
        dataset: Any = WildWorldStream(store, window=window, streams=streams, seed=seed)
        items = sum(entry.clips for entry in dataset.manifest.samples)  # clips
    else:
        dataset = WildWorldDataset(store, window=window, streams=streams) if streams else WildWorldDataset(store, window=window)
        items = len(dataset)
    if stream:
        loader = DataLoader(dataset, batch_size=batch_size, num_workers=workers, collate_fn=collate)
    else:
        loader = DataLoader(dataset, batch_size=batch_size, shuffle=True, generator=torch.Generator().manual_seed(seed),
                            num_workers=workers, collate_fn=collate)
    fields: tuple = ()
    count = total = timed = 0
    started = None
    for batch in _batches(loader):
        frames = int(batch.frames.numel())
        if count == 0:
            fields = tuple(tensor_fields(batch))
            started = time.perf_counter()
        else:
            timed += frames
        total += frames
        count += 1
        if count == batches:
            break
    elapsed = time.perf_counter() - started if started is not None else 0.0
    rate = timed / elapsed if count > 1 and elapsed > 0 else None
    return PeekResult(str(store), type(dataset).__name__, items, fields, count, total, rate)
