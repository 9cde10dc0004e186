"""The typed records the loaders hand out: one :class:`Window` per item, batched by ``collate``.

Records stay decoupled, as in the store schema: the action, camera, state and skeleton of a
window are separate sub-records of separate tensors, and every stream that was not asked for
is ``None``. Shapes below are for one item; a batch adds a leading ``B`` to every tensor and
turns ``sample_id`` into a tuple of strings. Field maps (``StateFields``, skeleton slot names)
are shared metadata, not tensors, and are carried through batching by reference.

A :class:`Window` (item or batch) is also a read-only mapping with the flat keys that
``wildworld load`` prints, so code written for dicts of tensors (LeRobot, WebDataset, HF
datasets) takes it as it is::

    window.rgb is window["rgb"]; window.action.index is window["action.index"]
    list(window)  # ['sample_id', 'start', 'frames', 'pad', 'rgb', ..., 'skeleton.slots']
    {key: value.to(device) for key, value in window.items() if torch.is_tensor(value)}
    Window(dict(window))  # the typed window again

Besides the tensors, the keys are ``sample_id`` and the field maps ``state.fields`` and
``skeleton.slots``. Streams that were not asked for have no keys. ``repr`` of every record is
a summary (shapes, dtypes, sample ids), never the tensors' values.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Iterator, Mapping
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
    "describe_tensor",
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


def describe_tensor(tensor: torch.Tensor) -> str:
    """``"uint8[16, 3, 72, 128]"`` (and ``"@cuda:0"`` off the CPU): a tensor in a summary."""
    text = f"{str(tensor.dtype).replace('torch.', '')}[{', '.join(map(str, tensor.shape))}]"
    return text if tensor.device.type == "cpu" else f"{text}@{tensor.device}"


def _tensor_fields(record: Any) -> tuple[str, ...]:
    """The fields of a record that hold tensors (not the shared metadata)."""
    return tuple(f.name for f in dataclasses.fields(record) if not f.metadata.get("shared"))


class _Record:
    """Device helpers shared by every record (DataLoader's ``pin_memory=True`` calls them) and
    a summary ``repr`` (each tensor's dtype and shape, never its values)."""

    def pin_memory(self):
        return map_tensors(self, lambda t: t.pin_memory())

    def to(self, device: torch.device | str, *, non_blocking: bool = False):
        return map_tensors(self, lambda t: t.to(device, non_blocking=non_blocking))

    def _summary(self) -> str:
        return ", ".join(f"{name} {describe_tensor(getattr(self, name))}" for name in _tensor_fields(self))

    def __repr__(self) -> str:
        return f"{type(self).__name__}({self._summary()})"


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

    def __repr__(self) -> str:
        names = ", ".join(self.names[:3]) + (", ..." if len(self.fields) > 3 else "")
        return f"StateFields({len(self.fields)} fields: {names})"


@dataclass(frozen=True, repr=False)
class ActionRecord(_Record):
    """What the tracked player did at each frame (all ``[T]``)."""

    index: torch.Tensor  # int64: position in the store vocabulary, -1 unknown
    phase: torch.Tensor  # float32: motion frame within the clip (action.motion_frame)
    motion_bank_id: torch.Tensor  # int64, -1 missing
    motion_id: torch.Tensor  # int64, -1 missing
    tracked_index: torch.Tensor  # int64: npc.list index of the tracked player, -1 missing


@dataclass(frozen=True, repr=False)
class CameraRecord(_Record):
    """The camera at each frame; rows with ``valid == False`` hold NaN (or the fill value)."""

    K: torch.Tensor  # float32 [T, 4]: fx, fy, cx, cy at the delivered resolution
    position: torch.Tensor  # float32 [T, 3]: world position
    rotation: torch.Tensor  # float32 [T, 4]: camera-to-world quaternion, OpenGL frame
    valid: torch.Tensor  # bool [T]


@dataclass(frozen=True, repr=False)
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

    def _summary(self) -> str:
        return f"{super()._summary()} ({len(self.fields)} fields)"


@dataclass(frozen=True, repr=False)
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

    def _summary(self) -> str:
        return f"{super()._summary()} (slots {', '.join(self.slots)})"


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


#: The top-level keys of a window, in order (then ``<record>.<field>`` for each record present).
_WINDOW_KEYS = ("sample_id", "start", "frames", "pad", "rgb", "depth")
_RECORDS = {"action": ActionRecord, "camera": CameraRecord, "state": StateRecord, "skeleton": SkeletonRecord}


def _from_flat(mapping: Mapping) -> dict[str, Any]:
    """The fields of a :class:`Window` from its flat mapping (``Window(dict(window))``)."""
    missing = [key for key in ("sample_id", "start", "frames", "pad") if key not in mapping]
    if missing:
        raise TypeError(f"Window(mapping) needs the keys sample_id, start, frames and pad; {', '.join(missing)} missing")
    sample_id = mapping["sample_id"]
    fields: dict[str, Any] = {name: mapping.get(name) for name in _WINDOW_KEYS}
    fields["sample_id"] = sample_id if isinstance(sample_id, str) else tuple(sample_id)  # a list after torch's converters
    for record, cls in _RECORDS.items():
        names = [f.name for f in dataclasses.fields(cls)]
        if f"{record}.{names[0]}" in mapping:
            values = {name: mapping[f"{record}.{name}"] for name in names}
            fields[record] = cls(**{k: tuple(v) if k == "slots" else v for k, v in values.items()})
    return fields


@dataclass(frozen=True, repr=False)
class Window(_Record, Mapping):
    """One window of one sample with the streams that were asked for (others are ``None``).

    ``frames[t]`` is the sample frame read at slot ``t`` and ``pad[t]`` says it was clamped to
    a sample edge (the window reached past it); ``start`` may then be negative.

    Also a read-only mapping (see the module docstring): every tensor under the flat key
    ``wildworld load`` prints (``window["rgb"]``, ``window["action.index"]``...), plus
    ``sample_id`` and the two field maps that name tensor columns (``state.fields``,
    ``skeleton.slots``). ``Window(mapping)`` builds the typed window back from such a mapping,
    so tools that rebuild a mapping as ``type(m)({...})`` (torch's ``default_convert``,
    ``pin_memory``; HF's ``Trainer``) keep a ``Window``.
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

    def __init__(self, sample_id: str | tuple[str, ...] | Mapping, start: torch.Tensor | None = None,
                 frames: torch.Tensor | None = None, pad: torch.Tensor | None = None, rgb: torch.Tensor | None = None,
                 depth: torch.Tensor | None = None, action: ActionRecord | None = None, camera: CameraRecord | None = None,
                 state: StateRecord | None = None, skeleton: SkeletonRecord | None = None) -> None:
        values = dict(sample_id=sample_id, start=start, frames=frames, pad=pad, rgb=rgb, depth=depth, action=action,
                      camera=camera, state=state, skeleton=skeleton)
        if isinstance(sample_id, Mapping) and start is None:
            values = _from_flat(sample_id)
        for name in ("start", "frames", "pad"):
            if values[name] is None:
                raise TypeError(f"Window() needs {name}")
        for name, value in values.items():
            object.__setattr__(self, name, value)

    @property
    def num_frames(self) -> int:
        return int(self.frames.shape[-1])

    @property
    def is_batch(self) -> bool:
        """True for a batch (``collate``'s result): every tensor has a leading ``B``."""
        return isinstance(self.sample_id, tuple)

    # -- the mapping of flat keys ----------------------------------------------------------
    def __getitem__(self, key: str) -> Any:
        record, _, name = key.partition(".") if isinstance(key, str) else ("", "", "")
        if name and record in _RECORDS:
            value = getattr(self, record)
            if value is not None and name in _RECORDS[record].__dataclass_fields__:
                return getattr(value, name)
        elif not name and record in _WINDOW_KEYS and getattr(self, record) is not None:
            return getattr(self, record)
        raise KeyError(f"no key {key!r} in this window (its keys are {', '.join(self)}; "
                       "a stream that was not asked for has none)")

    def __iter__(self) -> Iterator[str]:
        for name in _WINDOW_KEYS:
            if getattr(self, name) is not None:
                yield name
        for record, cls in _RECORDS.items():
            if getattr(self, record) is not None:
                yield from (f"{record}.{f.name}" for f in dataclasses.fields(cls))

    def __len__(self) -> int:
        return sum(1 for _ in self)

    # -- summary ---------------------------------------------------------------------------
    def __repr__(self) -> str:
        if self.is_batch:
            distinct = list(dict.fromkeys(self.sample_id))
            shown = ", ".join(repr(i) for i in distinct[:3]) + (", ..." if len(distinct) > 3 else "")
            head = (f"Window(batch of {len(self.sample_id)} x {self.num_frames} frames from "
                    f"{len(distinct)} sample{'s' if len(distinct) > 1 else ''} ({shown})")
        else:
            head = f"Window(sample_id={self.sample_id!r}, start={int(self.start)}, {self.num_frames} frames"
        padded = int(self.pad.sum())
        lines = [head + (f", {padded} padded slots" if padded else "")]
        for name in ("rgb", "depth"):
            value = getattr(self, name)
            if value is not None:
                lines.append(f"  {name:<8} {describe_tensor(value)}")
        for name in _RECORDS:
            value = getattr(self, name)
            if value is not None:
                lines.append(f"  {name:<8} {value._summary()}")
        return "\n".join(lines) + ")"

    def __reduce__(self):
        # Pickle each distinct storage once, as one tensor, and every field as a view of it.
        # A batch from ``collate`` keeps its small tensors in one storage and each video in
        # its own, so a DataLoader worker hands over three file descriptors per batch instead
        # of one per tensor (~20), each of which costs the parent a socket round trip.
        bases: list = []
        return (_rebuild_window, (_pack(self, bases, {}), bases))
