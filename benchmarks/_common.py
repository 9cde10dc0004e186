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


def wildbench_store() -> Path:
    """The synthetic store of the WildBench benchmarks (4 x 12 s at 320x180, seed 5; built once,
    the same data as the tests' ``bench`` fixture)."""
    from wildworld.store.convert import convert
    from wildworld.store.extract import ConvertOptions
    from wildworld.synth import GENERATOR_VERSION, SynthOptions, generate

    root = cache_dir(f"wildbench_speed_synth-{GENERATOR_VERSION}")  # another generator: other data
    if not (root / "store" / "manifest.json").exists():
        generate(root / "part", SynthOptions(samples=4, seconds=12, width=320, height=180, seed=5))
        convert([root / "part"], root / "store", ConvertOptions(), workers=2)
    return root / "store"


def wildbench_long_store() -> Path:
    """The synthetic store of the long-track benchmark (3 x 40 s at 320x180, seed 5; built
    once, the same data as the tests' ``long_bench`` fixture)."""
    from wildworld.store.convert import convert
    from wildworld.store.extract import ConvertOptions
    from wildworld.synth import GENERATOR_VERSION, SynthOptions, generate

    root = cache_dir(f"wildbench_long_synth-{GENERATOR_VERSION}")  # another generator: other data
    if not (root / "store" / "manifest.json").exists():
        generate(root / "part", SynthOptions(samples=3, seconds=40, width=320, height=180, seed=5))
        convert([root / "part"], root / "store", ConvertOptions(), workers=2)
    return root / "store"


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


def cuda_absent(device: str) -> bool:
    """True (after saying so) when ``device`` asks for CUDA and this machine has none: a CUDA
    benchmark then has nothing to measure and exits 0."""
    import torch

    if str(device).startswith("cuda") and not torch.cuda.is_available():
        print("CUDA is absent on this machine: nothing to measure (run this script on a CUDA machine; "
              "--device cpu runs the same code path on the CPU). Exiting 0.")
        return True
    return False
