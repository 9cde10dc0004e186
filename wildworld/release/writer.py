"""Write files in the WildWorld release's own text and array conventions.

Used by the synthetic world and by tests that need release-format files. The conventions
follow what the release's Python tooling produces: tuple cells as ``(x, y, z)`` (quoted by
the CSV writer because of the commas), floats as Python's ``repr``, missing values as ``nan``,
skeleton arrays as float32 ``(N, J, 3)`` under ``<kind><index>_<type_id>`` keys.
"""

from __future__ import annotations

import csv
import io
import json
import math
import os
from pathlib import Path
from typing import Any, Mapping, Sequence

import numpy as np

from ..errors import FormatError
from ..files import atomic_path

__all__ = ["write_state_csv", "write_skeleton", "write_skeleton_edges", "format_cell"]


def _format_float(value: float, decimals: int | None) -> str:
    if math.isnan(value):
        return "nan"
    if decimals is not None:
        value = round(value, decimals)
    if value == 0.0:
        value = 0.0 if math.copysign(1.0, value) > 0 else -0.0
    return repr(float(value))


def format_cell(value: Any, *, decimals: int | None = 6) -> str:
    """Format one cell the way the release does (``nan``, ``12``, ``1.5``, ``(1.0, 2.0)``)."""
    if value is None:
        return "nan"
    if isinstance(value, (str, np.str_)):
        return str(value)
    if isinstance(value, (bool, np.bool_)):
        return str(int(value))
    if isinstance(value, (int, np.integer)):
        return str(int(value))
    if isinstance(value, (float, np.floating)):
        return _format_float(float(value), decimals)
    array = np.asarray(value)
    if array.ndim == 1:
        return "(" + ", ".join(_format_float(float(v), decimals) for v in array) + ")"
    raise FormatError(f"cannot format a value of shape {array.shape} as a state.csv cell")


def write_state_csv(
    path: str | os.PathLike[str],
    columns: Mapping[str, Sequence[Any] | np.ndarray],
    *,
    decimals: int | None = 6,
) -> Path:
    """Write ``state.csv`` from ``{column name: per-row values}``, atomically.

    A column is a sequence of N values; a value is a number, a string, ``None``/NaN (written
    ``nan``), or a 1-D vector written as a tuple cell. Integer columns that hold missing values
    should be passed as object sequences with ``None`` (written ``nan``).
    """
    names = list(columns)
    lengths = {name: len(columns[name]) for name in names}
    if len(set(lengths.values())) > 1:
        raise FormatError(f"columns have different lengths: {lengths}")
    n_rows = next(iter(lengths.values()), 0)
    text = io.StringIO()
    writer = csv.writer(text, lineterminator="\n")
    writer.writerow(names)
    cols = [columns[name] for name in names]
    for row in range(n_rows):
        writer.writerow([format_cell(col[row], decimals=decimals) for col in cols])
    path = Path(path)
    with atomic_path(path) as tmp:
        tmp.write_text(text.getvalue(), encoding="utf-8")
    return path


def write_skeleton(path: str | os.PathLike[str], entities: Mapping[str, np.ndarray]) -> Path:
    """Write ``skeleton.npz``: one float32 ``(N, J, 3)`` array per ``<kind><index>_<type_id>`` key."""
    arrays = {}
    for key, joints in entities.items():
        array = np.asarray(joints, dtype=np.float32)
        if array.ndim != 3 or array.shape[2] != 3:
            raise FormatError(f"skeleton {key!r} has shape {array.shape}; expected (N, J, 3)")
        arrays[key] = array
    path = Path(path)
    with atomic_path(path) as tmp:
        with open(tmp, "wb") as handle:
            np.savez_compressed(handle, **arrays)
    return path


def write_skeleton_edges(path: str | os.PathLike[str], edges: Mapping[str, Sequence[Sequence[int]]]) -> Path:
    """Write ``skeleton_edges.json``: ``{"npc": [[a, b], ...], "em_<id>": ..., "wp_<id>": ...}``."""
    doc = {key: [[int(a), int(b)] for a, b in pairs] for key, pairs in edges.items()}
    path = Path(path)
    with atomic_path(path) as tmp:
        tmp.write_text(json.dumps(doc, indent=1) + "\n", encoding="utf-8")
    return path
