"""Window index at the scale of the real part 1: build time and memory, no media needed.

    python benchmarks/loader_scale.py [--samples 3434] [--frames 62000000] [--skip-reference]

Writes a schema-valid store manifest with ``--samples`` samples of random lengths summing to
``--frames`` (the real part 1: 3,434 samples, ~62M frames) and the benchmark store's column
layout, then times and measures (tracemalloc peak) in one run:

* reading the manifest (``Store``: JSON + schema validation, one entry per sample);
* building ``WildWorldDataset`` (annotation streams, so no file but the manifest is opened):
  the window index is per-sample counts and their cumulative sum, O(samples);
* locating windows (scalar ``dataset.locate`` and vectorised ``index.locate_many``);
* for reference, what a per-frame index costs: one int64 array of window start rows (what a
  loader that lists every window materialises), built with numpy.
"""

from __future__ import annotations

import argparse
import json
import tempfile
import time
import tracemalloc
from pathlib import Path

import numpy as np

from loader_throughput import bench_store
from wildworld.data import WildWorldDataset
from wildworld.store.manifest import write_manifest
from wildworld.store.reader import Store


def simulated_manifest(directory: Path, *, samples: int, frames: int, seed: int) -> dict:
    _, store = bench_store()
    real = json.loads((store / "manifest.json").read_text())
    rng = np.random.default_rng(seed)
    lengths = rng.lognormal(mean=0.0, sigma=0.5, size=samples)
    lengths = np.maximum(np.round(lengths / lengths.sum() * frames), 300).astype(np.int64)
    offsets = np.concatenate([[0], np.cumsum(lengths)[:-1]])
    template = real["samples"][0]
    manifest = {
        **real,
        "streams": ["action", "camera", "state", "skeleton"],
        "frames": int(lengths.sum()),
        "samples": [
            {**template, "id": f"{i:06d}", "frames": int(n), "offset": int(o), "clips": int(n // 32)}
            for i, (n, o) in enumerate(zip(lengths, offsets))
        ],
        "shards": [],
        "files": {},
    }
    write_manifest(directory, manifest)
    return manifest


def measured(function):
    tracemalloc.start()
    t0 = time.perf_counter()
    value = function()
    elapsed = time.perf_counter() - t0
    _, peak = tracemalloc.get_traced_memory()
    tracemalloc.stop()
    return value, elapsed, peak / 1e6


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--samples", type=int, default=3434)
    parser.add_argument("--frames", type=int, default=62_000_000)
    parser.add_argument("--window", type=int, default=16)
    parser.add_argument("--frame-step", type=int, default=2)
    parser.add_argument("--skip-reference", action="store_true")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        manifest = simulated_manifest(Path(tmp), samples=args.samples, frames=args.frames, seed=0)
        print(f"simulated manifest: {len(manifest['samples'])} samples, {manifest['frames']:,} frames, "
              f"{(Path(tmp) / 'manifest.json').stat().st_size / 1e6:.1f} MB of JSON")
        store, t_store, m_store = measured(lambda: Store(tmp))
        print(f"{'step':<60} {'time':>9} {'peak MB':>9}")
        print(f"{'read the manifest (Store)':<60} {t_store:>8.3f}s {m_store:>9.1f}")
        for pad in ("none", "both"):
            dataset, t_build, m_build = measured(lambda: WildWorldDataset(
                store, window=args.window, frame_step=args.frame_step, pad=pad, streams=("action", "camera", "state")))
            label = f"build WildWorldDataset (pad={pad!r}, {len(dataset):,} windows)"
            print(f"{label:<60} {t_build:>8.3f}s {m_build:>9.1f}   index arrays {dataset.index.nbytes / 1e3:.0f} kB")
        rng = np.random.default_rng(1)
        picks = rng.integers(0, len(dataset), size=100_000)
        t0 = time.perf_counter()
        for i in picks[:20_000].tolist():
            dataset.locate(i)
        scalar = (time.perf_counter() - t0) / 20_000
        t0 = time.perf_counter()
        dataset.index.locate_many(picks)
        vector = (time.perf_counter() - t0) / len(picks)
        print(f"{'locate one window (scalar / vectorised)':<60} {scalar * 1e6:>7.2f}us {vector * 1e6:>7.3f}us per window")
        if not args.skip_reference:
            lengths = np.array([s["frames"] for s in manifest["samples"]])
            span = (args.window - 1) * args.frame_step + 1

            def per_frame_index():
                counts = np.maximum(lengths - span + 1, 0)
                starts = np.concatenate([np.arange(n, dtype=np.int64) for n in counts])
                return starts + np.repeat(np.array([s["offset"] for s in manifest["samples"]]), counts)

            starts, t_ref, m_ref = measured(per_frame_index)
            label = f"reference: per-window start array ({len(starts):,})"
            print(f"{label:<60} {t_ref:>8.3f}s {m_ref:>9.1f}   {starts.nbytes / 1e6:.0f} MB kept")
            print(f"\nthe window index is {starts.nbytes / dataset.index.nbytes:,.0f}x smaller than a per-window "
                  f"array and built {t_ref / max(t_build, 1e-9):,.0f}x faster")


if __name__ == "__main__":
    main()
