"""Helpers for benchmark scripts: interleaved timing, medians, a cache directory."""

from __future__ import annotations

import os
import statistics
import tempfile
import time
from pathlib import Path
from typing import Callable


def cache_dir(name: str) -> Path:
    """A per-user scratch directory for generated benchmark inputs (reused between runs)."""
    root = Path(os.environ.get("WILDWORLD_BENCH_CACHE", Path(tempfile.gettempdir()) / "wildworld-bench"))
    path = root / name
    path.mkdir(parents=True, exist_ok=True)
    return path


def interleaved(functions: dict[str, Callable[[], object]], repeats: int) -> dict[str, list[float]]:
    """Time each function ``repeats`` times, interleaving them so machine noise hits all alike."""
    for function in functions.values():  # warm-up
        function()
    times: dict[str, list[float]] = {name: [] for name in functions}
    for _ in range(repeats):
        for name, function in functions.items():
            start = time.perf_counter()
            function()
            times[name].append(time.perf_counter() - start)
    return times


def median(values: list[float]) -> float:
    return statistics.median(values)
