"""Batching and moving records: ``collate`` for the DataLoader, ``to_device`` for the GPU.

``collate`` stacks every tensor of a list of :class:`~wildworld.data.records.Window` items
(inside a DataLoader worker the stacked tensors are written straight into shared memory, as
torch's own ``default_collate`` does), keeps shared field maps by reference and gathers sample
ids into a tuple. It is the fast path: the videos of a batch from
``WildWorldDataset.__getitems__`` are already in batch buffers and are not copied again, and
all the small tensors share one storage (one file descriptor per batch from a worker, not one
per tensor). Torch's ``default_collate`` takes windows too: importing ``wildworld.data``
registers ``collate`` for :class:`Window` in ``default_collate_fn_map`` (torch's documented
extension point), so a DataLoader without ``collate_fn`` batches windows the same way, and a
window inside a user's tuple or dict is batched as a window (``benchmarks/collate_speed.py``
measures both against torch's generic collation of the same items as plain dicts). ``to_device`` copies a batch to a device; from pinned (page-locked) host
memory the copy is asynchronous with ``non_blocking=True``. Pin in the DataLoader
(``pin_memory=True``, done in a background thread) rather than here when you can.
"""

from __future__ import annotations

import dataclasses
import math
from typing import Any, Sequence

import torch
from torch.utils.data import default_collate, get_worker_info
from torch.utils.data._utils.collate import default_collate_fn_map

from .records import Window, describe_tensor, map_tensors

__all__ = ["collate", "to_device", "pin_memory", "empty_batch", "WindowBatch"]


class WindowBatch(list):
    """The items of one batch (a list, for any collate function) whose videos already live in
    batch buffers (``videos``: stream -> ``[B, T, C, H, W]``); :func:`collate` uses those
    buffers as they are instead of copying the items' views into new ones."""

    def __init__(self, items: Sequence[Any], videos: dict[str, torch.Tensor]) -> None:
        super().__init__(items)
        self.videos = videos

    def __repr__(self) -> str:
        ids = [getattr(item, "sample_id", "?") for item in self[:3]]
        shown = ", ".join(map(repr, ids)) + (", ..." if len(self) > 3 else "")
        buffers = "".join(f", {stream} {describe_tensor(buffer)}" for stream, buffer in self.videos.items())
        return f"WindowBatch({len(self)} items: {shown}{buffers})"


def empty_batch(shape: Sequence[int], dtype: torch.dtype) -> torch.Tensor:
    """An uninitialised tensor; in shared memory inside a DataLoader worker (sending it to the
    parent process is then free)."""
    shape = tuple(int(n) for n in shape)
    if get_worker_info() is None:
        return torch.empty(shape, dtype=dtype)
    storage = torch.UntypedStorage._new_shared(math.prod(shape) * torch.empty((), dtype=dtype).element_size())
    return torch.empty((0,), dtype=dtype).set_(storage).view(shape)


_ALIGN = 64


class _Arena:
    """Slices of one buffer (shared memory in a worker), so that all the small tensors of a
    batch share one storage: the parent then receives one file descriptor for them, not one
    per tensor (each costs a socket round trip with the worker; see ``Window.__reduce__``)."""

    def __init__(self, nbytes: int) -> None:
        self.buffer = empty_batch((max(nbytes, 1),), torch.uint8)
        self.offset = 0

    def take(self, shape: Sequence[int], dtype: torch.dtype) -> torch.Tensor:
        nbytes = math.prod(shape) * _itemsize(dtype)
        start = -(-self.offset // _ALIGN) * _ALIGN
        self.offset = start + nbytes
        return self.buffer[start : start + nbytes].view(dtype).view(tuple(shape))


def _itemsize(dtype: torch.dtype) -> int:
    return torch.empty((), dtype=dtype).element_size()


def collate(items: Sequence[Any]) -> Any:
    """Stack a list of records (or tensors) into one batched record."""
    if not items:
        raise ValueError("collate needs at least one item")
    if isinstance(items, WindowBatch) and items.videos:
        stacked = collate([dataclasses.replace(item, **{s: None for s in items.videos}) for item in items])
        return dataclasses.replace(stacked, **items.videos)
    jobs: list[Sequence[torch.Tensor]] = []
    template = _template(list(items), jobs)  # the batch's structure; tensors to stack in `jobs`
    arena = _Arena(sum(len(job) * job[0].numel() * _itemsize(job[0].dtype) + _ALIGN for job in jobs))
    return _fill(template, [_stack(job, arena) for job in jobs])


class _Job(int):
    """Placeholder in a template: the index of a stacked tensor."""


def _template(items: list, jobs: list) -> Any:
    first = items[0]
    missing = sum(item is None for item in items)
    if missing:
        if missing != len(items):
            raise ValueError("cannot batch items where a stream is present in some and None in others")
        return None
    if isinstance(first, torch.Tensor):
        jobs.append(items)
        return _Job(len(jobs) - 1)
    if isinstance(first, str):
        return tuple(items)
    if dataclasses.is_dataclass(first):
        values = {}
        for spec in dataclasses.fields(first):
            if spec.metadata.get("shared"):
                values[spec.name] = getattr(first, spec.name)
            else:
                values[spec.name] = _template([getattr(item, spec.name) for item in items], jobs)
        return (type(first), values)
    return default_collate(items)


def _fill(template: Any, stacked: list[torch.Tensor]) -> Any:
    if isinstance(template, _Job):
        return stacked[template]
    if isinstance(template, tuple) and len(template) == 2 and isinstance(template[0], type) and dataclasses.is_dataclass(template[0]):
        cls, values = template
        return cls(**{name: _fill(value, stacked) if not _is_shared(cls, name) else value for name, value in values.items()})
    return template


def _is_shared(cls: type, name: str) -> bool:
    return bool(cls.__dataclass_fields__[name].metadata.get("shared"))


def _stack(tensors: Sequence[torch.Tensor], arena: _Arena | None = None) -> torch.Tensor:
    """``torch.stack`` keeping the items' memory order (a channels-last RGB view stays one, so
    the copy is a plain one, not a transposition), into the arena (or shared memory)."""
    first = tensors[0]
    order = sorted(range(first.dim()), key=lambda d: (-first.stride(d), d))  # outermost first
    if not first.permute(order).is_contiguous():
        order = list(range(first.dim()))
    shape = (len(tensors), *(first.shape[d] for d in order))
    base = arena.take(shape, first.dtype) if arena is not None else empty_batch(shape, first.dtype)
    torch.stack([t.permute(order) for t in tensors], 0, out=base)
    inverse = [0] + [order.index(d) + 1 for d in range(first.dim())]
    return base.permute(inverse)


def _collate_windows(batch: Sequence[Window], *, collate_fn_map: dict | None = None) -> Window:
    """``default_collate``'s handler for windows (see the module docstring)."""
    return collate(batch)


# Torch's documented way to extend default_collate: a handler per element type.
default_collate_fn_map[Window] = _collate_windows


def pin_memory(batch: Any) -> Any:
    """A copy of ``batch`` whose tensors live in page-locked host memory (needs CUDA)."""
    return map_tensors(batch, lambda t: t if t.is_pinned() else t.pin_memory())


def to_device(batch: Any, device: torch.device | str, *, non_blocking: bool = True, pin: bool = True) -> Any:
    """Copy every tensor of ``batch`` to ``device``.

    For a CUDA device, tensors not yet pinned are pinned first when ``pin`` (so the copy can
    overlap compute with ``non_blocking=True``); tensors already on ``device`` are kept.
    """
    device = torch.device(device)
    pin = pin and device.type == "cuda" and torch.cuda.is_available()

    def move(tensor: torch.Tensor) -> torch.Tensor:
        if tensor.device == device:
            return tensor
        if pin and tensor.device.type == "cpu" and not tensor.is_pinned():
            tensor = tensor.pin_memory()
        return tensor.to(device, non_blocking=non_blocking)

    return map_tensors(batch, move)
