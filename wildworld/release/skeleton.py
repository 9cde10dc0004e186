"""Read ``skeleton.npz`` (world-space joints per entity) and ``skeleton_edges.json`` (bones).

Keys follow ``<kind><index>_<type_id>`` (``schemas/skeleton.v1.json``): kind ``n`` player
character, ``m`` monster, ``w`` the player's weapon. ``m1_21`` is monster index 1, species 21.
"""

from __future__ import annotations

import json
import math
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
    match = pattern.fullmatch(key)
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

    def __repr__(self) -> str:
        return f"SkeletonEntity({str(self.key)!r}, joints {self.joints.dtype}{tuple(self.joints.shape)})"


class SkeletonFile(Mapping[str, SkeletonEntity]):
    """A lazy, read-only mapping ``key -> SkeletonEntity`` over one ``skeleton.npz``.

    Keys are parsed when the file is opened (a bad key raises at once); arrays are read on
    first access and kept. Never unpickles: object arrays are refused.
    """

    def __init__(self, path: str | os.PathLike[str]) -> None:
        self.path = Path(path)
        try:
            with open(self.path, "rb") as handle:
                magic = handle.read(len(np.lib.format.MAGIC_PREFIX))
        except FileNotFoundError:
            raise MissingFileError(f"{self.path}: skeleton.npz not found") from None
        except IsADirectoryError:
            raise FormatError("is a directory, expected a skeleton.npz file", path=self.path) from None
        except OSError as exc:
            raise FormatError(f"cannot be read ({exc.strerror or exc})", path=self.path) from None
        if magic == np.lib.format.MAGIC_PREFIX:
            raise FormatError("expected an .npz archive of arrays, found a single array", path=self.path)
        if not magic.startswith((b"PK\x03\x04", b"PK\x05\x06")):
            # Checked here: NumPy would try the file as a pickle and talk about allow_pickle.
            reason = "the file is empty" if not magic else "no zip signature"
            raise FormatError(f"not a NumPy .npz archive ({reason})", path=self.path)
        try:
            self._npz = np.load(self.path, allow_pickle=False)
        except (zipfile.BadZipFile, OSError, ValueError, EOFError) as exc:
            raise FormatError(f"not a readable .npz archive ({exc})", path=self.path) from None
        if not isinstance(self._npz, np.lib.npyio.NpzFile):
            raise FormatError("expected an .npz archive of arrays, found a single array", path=self.path)
        self._keys = {name: parse_skeleton_key(name, path=self.path) for name in self._npz.files}
        self._cache: dict[str, SkeletonEntity] = {}

    def _header(self, name: str) -> tuple[tuple[int, ...], np.dtype]:
        """Shape and dtype from one member's .npy header, checked against the member's size.

        Run before loading so that a bad member is a ``FormatError`` naming the key: NumPy
        returns raw bytes for a member without the NPY magic, and allocates whatever shape a
        header declares before reading the data.
        """
        archive = self._npz.zip
        member = name if name in archive.namelist() else f"{name}.npy"
        try:
            size = archive.getinfo(member).file_size
            with archive.open(member) as handle:
                if handle.read(len(np.lib.format.MAGIC_PREFIX)) != np.lib.format.MAGIC_PREFIX:
                    raise FormatError("member is not a .npy array (no NPY magic)", path=self.path, key=name)
                handle.seek(0)
                major, _minor = np.lib.format.read_magic(handle)
                reader = np.lib.format.read_array_header_1_0 if major == 1 else np.lib.format.read_array_header_2_0
                shape, _fortran, dtype = reader(handle)
                offset = handle.tell()
        except FormatError:
            raise
        except (ValueError, KeyError, zipfile.BadZipFile, OSError, EOFError) as exc:
            raise FormatError(f"array header cannot be read ({exc})", path=self.path, key=name) from None
        declared = math.prod(shape) * dtype.itemsize
        if declared > size - offset:
            raise FormatError(
                f"array header declares shape {tuple(shape)} of {dtype} ({declared} bytes) "
                f"but the member holds {max(size - offset, 0)} bytes of data",
                path=self.path, key=name,
            )
        return tuple(shape), dtype

    def __getitem__(self, name: str) -> SkeletonEntity:
        if name not in self._cache:
            if name not in self._keys:
                raise KeyError(name)
            shape, dtype = self._header(name)
            if dtype.kind not in "fiu":
                raise FormatError(f"array has dtype {dtype}; expected float32", path=self.path, key=name)
            if len(shape) != 3 or shape[2] != 3:
                raise FormatError(f"array has shape {shape}; expected (N, J, 3)", path=self.path, key=name)
            try:
                array = self._npz[name]
            except (ValueError, zipfile.BadZipFile, OSError, EOFError) as exc:
                raise FormatError(f"array cannot be read ({exc})", path=self.path, key=name) from None
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
        if name not in self._keys:
            raise KeyError(name)
        return self._header(name)[0]

    def close(self) -> None:
        self._npz.close()

    def __repr__(self) -> str:
        names = list(self)
        shown = ", ".join(names[:6]) + (", ..." if len(names) > 6 else "")
        return f"SkeletonFile({str(self.path)!r}, {len(names)} entities: {shown})"

    def __enter__(self) -> "SkeletonFile":
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()


def read_skeleton(path: str | os.PathLike[str]) -> dict[str, SkeletonEntity]:
    """Read every entity of a ``skeleton.npz`` into memory: ``{key: SkeletonEntity}``."""
    with SkeletonFile(path) as handle:
        return {name: handle[name] for name in handle}


def _no_duplicate_keys(pairs: list[tuple[str, object]]) -> dict[str, object]:
    doc: dict[str, object] = {}
    for key, value in pairs:
        if key in doc:
            raise FormatError("key appears twice in the JSON object", key=key)
        doc[key] = value
    return doc


def _is_joint_index(value: object) -> bool:
    # bool is a subclass of int: [true, false] is not a pair of indices.
    return type(value) is int and 0 <= value <= _MAX_JOINT_INDEX


_MAX_JOINT_INDEX = int(np.iinfo(np.int64).max)


def read_skeleton_edges(path: str | os.PathLike[str]) -> dict[str, np.ndarray]:
    """Read ``skeleton_edges.json`` into ``{edges_key: int64 array (E, 2)}``."""
    path = Path(path)
    try:
        doc = json.loads(path.read_text(encoding="utf-8"), object_pairs_hook=_no_duplicate_keys)
    except FileNotFoundError:
        raise MissingFileError(f"{path}: skeleton_edges.json not found") from None
    except IsADirectoryError:
        raise FormatError("is a directory, expected the skeleton_edges.json file", path=path) from None
    except OSError as exc:
        raise FormatError(f"cannot be read ({exc.strerror or exc})", path=path) from None
    except FormatError as exc:
        raise FormatError(exc.reason, path=path, key=exc.key) from None
    except RecursionError:
        raise FormatError("not valid JSON (nested too deeply)", path=path) from None
    except (UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise FormatError(f"not valid JSON ({exc})", path=path) from None
    if not isinstance(doc, dict):
        raise FormatError("expected a JSON object {skeleton type: [[a, b], ...]}", path=path)
    edges: dict[str, np.ndarray] = {}
    for key, pairs in doc.items():
        if not isinstance(pairs, list):
            raise FormatError("expected a list of [a, b] pairs of non-negative joint indices", path=path, key=key)
        for position, pair in enumerate(pairs):
            if not (isinstance(pair, list) and len(pair) == 2 and all(_is_joint_index(v) for v in pair)):
                shown = json.dumps(pair)
                shown = shown if len(shown) <= 60 else shown[:57] + "..."
                raise FormatError(
                    f"expected a list of [a, b] pairs of non-negative joint indices; pair {position} is {shown}",
                    path=path, key=key,
                )
        edges[key] = np.asarray(pairs, dtype=np.int64).reshape(-1, 2)
    return edges
