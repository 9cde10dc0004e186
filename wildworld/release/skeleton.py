"""Read ``skeleton.npz`` (world-space joints per entity) and ``skeleton_edges.json`` (bones).

Keys follow ``<kind><index>_<type_id>`` (``schemas/skeleton.v1.json``): kind ``n`` player
character, ``m`` monster, ``w`` the player's weapon. ``m1_21`` is monster index 1, species 21.
"""

from __future__ import annotations

import json
import os
import re
import zipfile
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path
from typing import Iterator, Mapping

import numpy as np

from ..errors import FormatError, MissingFileError
from ..schemas import load_record_schema

__all__ = [
    "SkeletonKey",
    "SkeletonEntity",
    "SkeletonFile",
    "read_skeleton",
    "read_skeleton_edges",
    "parse_skeleton_key",
]


@lru_cache(maxsize=1)
def _key_rules() -> tuple[re.Pattern[str], Mapping[str, Mapping[str, str]]]:
    schema = load_record_schema("skeleton")
    return re.compile(schema.extra["key_pattern"]), schema.extra["kinds"]


@dataclass(frozen=True, order=True)
class SkeletonKey:
    """A parsed ``<kind><index>_<type_id>`` key."""

    kind: str
    index: int
    type_id: int

    def __post_init__(self) -> None:
        _, kinds = _key_rules()
        if self.kind not in kinds:
            raise FormatError(f"skeleton kind {self.kind!r} is not one of {sorted(kinds)}")

    @property
    def entity(self) -> str:
        """``player``, ``monster`` or ``weapon``."""
        return _key_rules()[1][self.kind]["entity"]

    @property
    def edges_key(self) -> str:
        """Key of this skeleton type in ``skeleton_edges.json`` (``npc``, ``em_21``, ``wp_3``)."""
        return _key_rules()[1][self.kind]["edges_key"].format(type_id=self.type_id)

    def __str__(self) -> str:
        return f"{self.kind}{self.index}_{self.type_id}"


def parse_skeleton_key(key: str, *, path: object = None) -> SkeletonKey:
    """Parse ``m1_21`` into ``SkeletonKey('m', 1, 21)``; raise ``FormatError`` otherwise."""
    pattern, _ = _key_rules()
    match = pattern.match(key)
    if not match:
        raise FormatError(
            "skeleton key does not follow <kind><index>_<type_id> with kind m, n or w", path=path, key=key
        )
    return SkeletonKey(match["kind"], int(match["index"]), int(match["type_id"]))


@dataclass(frozen=True)
class SkeletonEntity:
    """One entity's joints: float32 ``(N, J, 3)`` world coordinates (NaN where absent)."""

    key: SkeletonKey
    joints: np.ndarray

    def __post_init__(self) -> None:
        if self.joints.ndim != 3 or self.joints.shape[2] != 3:
            raise FormatError(f"joints have shape {self.joints.shape}; expected (N, J, 3)", key=str(self.key))

    @property
    def num_frames(self) -> int:
        return int(self.joints.shape[0])

    @property
    def num_joints(self) -> int:
        return int(self.joints.shape[1])


class SkeletonFile(Mapping[str, SkeletonEntity]):
    """A lazy, read-only mapping ``key -> SkeletonEntity`` over one ``skeleton.npz``.

    Keys are parsed when the file is opened (a bad key raises at once); arrays are read on
    first access and kept. Never unpickles: object arrays are refused.
    """

    def __init__(self, path: str | os.PathLike[str]) -> None:
        self.path = Path(path)
        try:
            self._npz = np.load(self.path, allow_pickle=False)
        except FileNotFoundError:
            raise MissingFileError(f"{self.path}: skeleton.npz not found") from None
        except (zipfile.BadZipFile, OSError, ValueError, EOFError) as exc:
            raise FormatError(f"not a readable .npz archive ({exc})", path=self.path) from None
        if not isinstance(self._npz, np.lib.npyio.NpzFile):
            raise FormatError("expected an .npz archive of arrays, found a single array", path=self.path)
        self._keys = {name: parse_skeleton_key(name, path=self.path) for name in self._npz.files}
        self._cache: dict[str, SkeletonEntity] = {}

    def __getitem__(self, name: str) -> SkeletonEntity:
        if name not in self._cache:
            if name not in self._keys:
                raise KeyError(name)
            try:
                array = self._npz[name]
            except (ValueError, zipfile.BadZipFile, OSError, EOFError) as exc:
                raise FormatError(f"array cannot be read ({exc})", path=self.path, key=name) from None
            if array.dtype.kind not in "fiu":
                raise FormatError(f"array has dtype {array.dtype}; expected float32", path=self.path, key=name)
            if array.ndim != 3 or array.shape[2] != 3:
                raise FormatError(f"array has shape {array.shape}; expected (N, J, 3)", path=self.path, key=name)
            self._cache[name] = SkeletonEntity(self._keys[name], array.astype(np.float32, copy=False))
        return self._cache[name]

    def __iter__(self) -> Iterator[str]:
        return iter(sorted(self._keys, key=lambda k: self._keys[k]))

    def __len__(self) -> int:
        return len(self._keys)

    @property
    def keys_parsed(self) -> dict[str, SkeletonKey]:
        return dict(self._keys)

    def shape_of(self, name: str) -> tuple[int, ...]:
        """Shape of one array read from its .npy header, without loading the data."""
        with zipfile.ZipFile(self.path) as archive:
            with archive.open(f"{name}.npy") as handle:
                major, _minor = np.lib.format.read_magic(handle)
                reader = np.lib.format.read_array_header_1_0 if major == 1 else np.lib.format.read_array_header_2_0
                shape, _, _ = reader(handle)
        return tuple(shape)

    def close(self) -> None:
        self._npz.close()

    def __enter__(self) -> "SkeletonFile":
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()


def read_skeleton(path: str | os.PathLike[str]) -> dict[str, SkeletonEntity]:
    """Read every entity of a ``skeleton.npz`` into memory: ``{key: SkeletonEntity}``."""
    with SkeletonFile(path) as handle:
        return {name: handle[name] for name in handle}


def read_skeleton_edges(path: str | os.PathLike[str]) -> dict[str, np.ndarray]:
    """Read ``skeleton_edges.json`` into ``{edges_key: int64 array (E, 2)}``."""
    path = Path(path)
    try:
        doc = json.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise MissingFileError(f"{path}: skeleton_edges.json not found") from None
    except (UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise FormatError(f"not valid JSON ({exc})", path=path) from None
    if not isinstance(doc, dict):
        raise FormatError("expected a JSON object {skeleton type: [[a, b], ...]}", path=path)
    edges: dict[str, np.ndarray] = {}
    for key, pairs in doc.items():
        if not isinstance(pairs, list) or not all(
            isinstance(pair, list) and len(pair) == 2 and all(isinstance(v, int) and v >= 0 for v in pair)
            for pair in pairs
        ):
            raise FormatError("expected a list of [a, b] pairs of non-negative joint indices", path=path, key=key)
        edges[key] = np.asarray(pairs, dtype=np.int64).reshape(-1, 2)
    return edges
