"""The typed records the loaders hand out: one :class:`Window` per item, batched by ``collate``.

Records stay decoupled, as in the store schema: the action, camera, state and skeleton of a
window are separate sub-records of separate tensors, and every stream that was not asked for
is ``None``. Shapes below are for one item; a batch adds a leading ``B`` to every tensor and
turns ``sample_id`` into a tuple of strings. Field maps (``StateFields``, skeleton slot names)
are shared metadata, not tensors, and are carried through batching by reference.
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass, field
from typing import Any, Callable

import torch

__all__ = [
    "StateField",
    "StateFields",
    "ActionRecord",
    "CameraRecord",
    "StateRecord",
    "SkeletonRecord",
    "Window",
    "map_tensors",
]

_SHARED = {"shared": True}


def map_tensors(record: Any, function: Callable[[torch.Tensor], torch.Tensor]) -> Any:
    """A copy of a record (or nested records) with ``function`` applied to every tensor."""
    if record is None or isinstance(record, (str, tuple, int, float)):
        return record
    if isinstance(record, torch.Tensor):
        return function(record)
    if dataclasses.is_dataclass(record):
        changes = {
            f.name: map_tensors(getattr(record, f.name), function)
            for f in dataclasses.fields(record)
            if not f.metadata.get("shared")
        }
        return dataclasses.replace(record, **changes)
    raise TypeError(f"cannot map tensors of a {type(record).__name__}")


class _Record:
    """Device helpers shared by every record (DataLoader's ``pin_memory=True`` calls them)."""

    def pin_memory(self):
        return map_tensors(self, lambda t: t.pin_memory())

    def to(self, device: torch.device | str, *, non_blocking: bool = False):
        return map_tensors(self, lambda t: t.to(device, non_blocking=non_blocking))


@dataclass(frozen=True)
class StateField:
    """One state field: its columns in ``StateRecord.values`` (float) or ``.codes`` (id/category)."""

    name: str
    kind: str  # "float" | "id" | "category"
    start: int
    stop: int
    categories: tuple[str, ...] = ()

    @property
    def tensor(self) -> str:
        return "values" if self.kind == "float" else "codes"

    @property
    def width(self) -> int:
        return self.stop - self.start


@dataclass(frozen=True)
class StateFields:
    """The map from state field names to columns, shared by every item of a dataset."""

    fields: tuple[StateField, ...]
    _by_name: dict[str, StateField] = field(default_factory=dict, compare=False, repr=False)

    def __post_init__(self) -> None:
        self._by_name.update({f.name: f for f in self.fields})

    @property
    def names(self) -> tuple[str, ...]:
        return tuple(f.name for f in self.fields)

    @property
    def float_width(self) -> int:
        return sum(f.width for f in self.fields if f.kind == "float")

    @property
    def code_width(self) -> int:
        return sum(f.width for f in self.fields if f.kind != "float")

    def __getitem__(self, name: str) -> StateField:
        try:
            return self._by_name[name]
        except KeyError:
            raise KeyError(f"no state field {name!r} in this loader (it has {len(self.fields)} fields, "
                           f"e.g. {', '.join(self.names[:4])}); check state_fields=") from None

    def __contains__(self, name: object) -> bool:
        return name in self._by_name

    def __len__(self) -> int:
        return len(self.fields)


@dataclass(frozen=True)
class ActionRecord(_Record):
    """What the tracked player did at each frame (all ``[T]``)."""

    index: torch.Tensor  # int64: position in the store vocabulary, -1 unknown
    phase: torch.Tensor  # float32: motion frame within the clip (action.motion_frame)
    motion_bank_id: torch.Tensor  # int64, -1 missing
    motion_id: torch.Tensor  # int64, -1 missing
    tracked_index: torch.Tensor  # int64: npc.list index of the tracked player, -1 missing


@dataclass(frozen=True)
class CameraRecord(_Record):
    """The camera at each frame; rows with ``valid == False`` hold NaN (or the fill value)."""

    K: torch.Tensor  # float32 [T, 4]: fx, fy, cx, cy at the delivered resolution
    position: torch.Tensor  # float32 [T, 3]: world position
    rotation: torch.Tensor  # float32 [T, 4]: camera-to-world quaternion, OpenGL frame
    valid: torch.Tensor  # bool [T]


@dataclass(frozen=True)
class StateRecord(_Record):
    """World state: float fields side by side in ``values``, id/category fields in ``codes``."""

    values: torch.Tensor  # float32 [T, S]: normalised when the dataset normalises
    valid: torch.Tensor  # bool [T, S]: the value is present (not NaN in the store)
    codes: torch.Tensor  # int64 [T, C]: ids and category indices, -1 missing
    fields: StateFields = field(metadata=_SHARED)

    def __getitem__(self, name: str) -> torch.Tensor:
        """One field: ``[..., T]`` for width-1 fields, else ``[..., T, width]``."""
        spec = self.fields[name]
        data = self.values if spec.kind == "float" else self.codes
        return data[..., spec.start] if spec.width == 1 else data[..., spec.start : spec.stop]


@dataclass(frozen=True)
class SkeletonRecord(_Record):
    """World joints of every entity slot (``n0`` player 0, ``w0`` its weapon, ``m0`` monster 0...)."""

    joints: torch.Tensor  # float32 [T, E, J, 3]; joints past an entity's type are NaN
    valid: torch.Tensor  # bool [T, E, J]
    type_id: torch.Tensor  # int64 [E]: skeleton type of each slot in this sample, -1 absent
    slots: tuple[str, ...] = field(metadata=_SHARED)

    def entity(self, slot: str) -> torch.Tensor:
        """Joints of one entity slot: ``[..., T, J, 3]``."""
        try:
            position = self.slots.index(slot)
        except ValueError:
            raise KeyError(f"no skeleton slot {slot!r}; slots are {', '.join(self.slots)}") from None
        return self.joints[..., position, :, :]


def _pack(value: Any, bases: list, keys: dict) -> tuple:
    """A picklable description of a record whose tensors are (storage index, view) pairs."""
    if isinstance(value, torch.Tensor):
        storage = value.untyped_storage()
        key = (str(storage.device), storage.data_ptr(), storage.nbytes())
        if key not in keys:
            keys[key] = len(bases)
            bases.append(torch.empty(0, dtype=torch.uint8, device=value.device).set_(storage))
        return ("t", keys[key], value.dtype, value.storage_offset(), tuple(value.shape), tuple(value.stride()))
    if dataclasses.is_dataclass(value) and not isinstance(value, type):
        fields = tuple(
            (f.name, ("v", getattr(value, f.name)) if f.metadata.get("shared") else _pack(getattr(value, f.name), bases, keys))
            for f in dataclasses.fields(value)
        )
        return ("d", type(value), fields)
    return ("v", value)


def _unpack(node: tuple, bases: list) -> Any:
    kind = node[0]
    if kind == "t":
        _, index, dtype, offset, shape, stride = node
        base = bases[index]
        return torch.empty(0, dtype=dtype, device=base.device).set_(base.untyped_storage(), offset, shape, stride)
    if kind == "d":
        return node[1](**{name: _unpack(child, bases) for name, child in node[2]})
    return node[1]


def _rebuild_window(structure: tuple, bases: list) -> "Window":
    return _unpack(structure, bases)


@dataclass(frozen=True)
class Window(_Record):
    """One window of one sample with the streams that were asked for (others are ``None``).

    ``frames[t]`` is the sample frame read at slot ``t`` and ``pad[t]`` says it was clamped to
    a sample edge (the window reached past it); ``start`` may then be negative.
    """

    sample_id: str | tuple[str, ...]
    start: torch.Tensor  # int64 []: first slot's frame before clamping
    frames: torch.Tensor  # int64 [T]
    pad: torch.Tensor  # bool [T]
    rgb: torch.Tensor | None = None  # uint8 [T, 3, H, W]
    depth: torch.Tensor | None = None  # uint8 [T, 1, H, W] (store depth codes, exact)
    action: ActionRecord | None = None
    camera: CameraRecord | None = None
    state: StateRecord | None = None
    skeleton: SkeletonRecord | None = None

    @property
    def num_frames(self) -> int:
        return int(self.frames.shape[-1])

    def __reduce__(self):
        # Pickle each distinct storage once, as one tensor, and every field as a view of it.
        # A batch from ``collate`` keeps its small tensors in one storage and each video in
        # its own, so a DataLoader worker hands over three file descriptors per batch instead
        # of one per tensor (~20), each of which costs the parent a socket round trip.
        bases: list = []
        return (_rebuild_window, (_pack(self, bases, {}), bases))
