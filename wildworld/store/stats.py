"""Normalisation statistics over a whole store: exact, not merged per sample.

For every numeric field of ``frames`` (action, camera, state; categories excluded) and every
component of it: count of finite values, mean, std (population), min, max, and exact global
quantiles (numpy's default linear interpolation over all finite values of the store). Pass 1
streams the array in blocks, merging mean/variance with Chan's parallel formula in float64 and
writing a column-major copy to a temporary memory-mapped file; pass 2 takes each column's
quantiles from that copy, one column in memory at a time.
"""

from __future__ import annotations

import json
import os
import tempfile
from pathlib import Path

import numpy as np

from ..errors import FormatError, MissingFileError
from ..files import atomic_path
from ..schemas import loads_strict
from .backends import open_reader
from .layout import STATS_FILE

__all__ = ["QUANTILES", "compute_stats", "write_stats", "read_stats"]

QUANTILES = (0.01, 0.05, 0.25, 0.5, 0.75, 0.95, 0.99)


def compute_stats(frames_array, layout, *, block: int = 65536, scratch: str | os.PathLike[str] | None = None) -> dict:
    total, width = frames_array.shape
    fields = [f for f in layout.fields if f.kind != "category"]
    columns = [c for f in fields for c in range(f.start, f.stop)]
    count = np.zeros(width)
    mean = np.zeros(width)
    m2 = np.zeros(width)
    low = np.full(width, np.inf)
    high = np.full(width, -np.inf)
    with tempfile.TemporaryDirectory(dir=scratch) as tmp:
        copy = np.lib.format.open_memmap(Path(tmp) / "columns.npy", mode="w+", dtype=np.float32, shape=(width, max(total, 1)))
        for start in range(0, total, block):
            rows = np.asarray(frames_array[start : start + block], dtype=np.float64)
            copy[:, start : start + len(rows)] = rows.T
            finite = np.isfinite(rows)
            n = finite.sum(axis=0)
            safe = np.where(finite, rows, 0.0)
            block_mean = np.divide(safe.sum(axis=0), n, out=np.zeros(width), where=n > 0)
            block_m2 = np.where(finite, (rows - block_mean) ** 2, 0.0).sum(axis=0)
            merged = count + n
            delta = block_mean - mean
            mean = mean + np.divide(delta * n, merged, out=np.zeros(width), where=merged > 0)
            m2 = m2 + block_m2 + np.divide(delta**2 * count * n, merged, out=np.zeros(width), where=merged > 0)
            count = merged
            low = np.minimum(low, np.where(finite, rows, np.inf).min(axis=0, initial=np.inf))
            high = np.maximum(high, np.where(finite, rows, -np.inf).max(axis=0, initial=-np.inf))
        copy.flush()
        quantiles = np.full((width, len(QUANTILES)), np.nan)
        for column in columns:
            values = np.asarray(copy[column, :total], dtype=np.float64)
            values = values[np.isfinite(values)]
            if values.size:
                quantiles[column] = np.quantile(values, QUANTILES)
        del copy
    std = np.sqrt(np.divide(m2, count, out=np.full(width, np.nan), where=count > 0))
    out: dict = {"frames": int(total), "quantile_levels": list(QUANTILES), "fields": {}}

    def listed(values: np.ndarray, field) -> list:
        return [None if not np.isfinite(v) else float(v) for v in values[field.start : field.stop]]

    for field in fields:
        out["fields"][field.name] = {
            "stream": field.stream,
            "count": [int(c) for c in count[field.start : field.stop]],
            "mean": listed(np.where(count > 0, mean, np.nan), field),
            "std": listed(std, field),
            "min": listed(np.where(count == 0, np.nan, low), field),
            "max": listed(np.where(count == 0, np.nan, high), field),
            "quantiles": {str(q): listed(quantiles[:, i], field) for i, q in enumerate(QUANTILES)},
        }
    return out


def write_stats(store: str | os.PathLike[str], stats: dict) -> Path:
    path = Path(store) / STATS_FILE
    with atomic_path(path) as tmp:
        tmp.write_text(json.dumps(stats, indent=1, sort_keys=True) + "\n")
    return path


def read_stats(store, *, storage_options: dict | None = None) -> dict:
    """``stats.json`` of a store (a directory, a URL or a ``StoreReader``)."""
    reader = open_reader(store, storage_options=storage_options)
    try:
        data = reader.read_bytes(STATS_FILE)
    except MissingFileError:
        raise MissingFileError(f"{reader.url(STATS_FILE)}: no statistics to normalise with; run `wildworld stats "
                               f"{reader.location} --recompute` or pass normalize='none'") from None
    try:
        return loads_strict(data.decode("utf-8"))
    except (ValueError, UnicodeDecodeError) as exc:
        raise FormatError(f"not valid JSON ({exc})", path=reader.url(STATS_FILE)) from None
