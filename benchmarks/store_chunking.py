"""Chunking of the store's Zarr arrays: cost of reading one window, by chunk length.

    python benchmarks/store_chunking.py [--frames 54000] [--width 160] [--window 16]

Writes a `frames`-like float32 array (frames x width, blosc-lz4, one shard per 16384 rows)
with several chunk lengths and times reading random windows (one array read each) and
sequential windows read chunk-aligned with a one-chunk cache (what the loader does). The
reference in the same run is a memory-mapped .npy of the same data (the floor). The store
uses the chunk length that keeps random reads near the minimum while chunks stay large
enough for efficient compression and sequential reading.
"""

from __future__ import annotations

import argparse
import os
import shutil
import tempfile
import time
from pathlib import Path

import numpy as np
import zarr
from zarr.codecs import BloscCodec


def dir_size(path: Path) -> int:
    return sum(p.stat().st_size for p in path.rglob("*") if p.is_file())


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--frames", type=int, default=54_000)
    parser.add_argument("--width", type=int, default=160)
    parser.add_argument("--window", type=int, default=16)
    parser.add_argument("--reads", type=int, default=300)
    args = parser.parse_args()
    rng = np.random.default_rng(0)
    # Smooth per-frame signals, like poses and vitals.
    data = np.cumsum(rng.normal(0, 0.05, size=(args.frames, args.width)), axis=0).astype(np.float32)
    starts = rng.integers(0, args.frames - args.window, args.reads)
    with tempfile.TemporaryDirectory() as tmp:
        ref = Path(tmp) / "ref.npy"
        np.save(ref, data)
        mm = np.load(ref, mmap_mode="r")
        t0 = time.perf_counter()
        for s in starts:
            np.array(mm[s : s + args.window])
        floor = (time.perf_counter() - t0) / args.reads
        print(f"memory-mapped .npy reference: {floor * 1e3:.3f} ms per random window")
        print(f"{'chunk':>6} {'random ms':>10} {'x floor':>8} {'seq ms/window':>14} {'MB on disk':>11}")
        for chunk in (32, 64, 128, 256, 512, 1024, 4096):
            shard = 16384 if 16384 % chunk == 0 else chunk * (16384 // chunk)
            path = Path(tmp) / f"c{chunk}.zarr"
            array = zarr.create_array(path, shape=data.shape, dtype="float32", chunks=(chunk, args.width), shards=(shard, args.width),
                                      compressors=[BloscCodec(cname="lz4", clevel=5, shuffle="shuffle", typesize=4)])
            array[:] = data
            array = zarr.open_array(path, mode="r")
            array[0 : args.window]
            t0 = time.perf_counter()
            for s in starts:
                array[s : s + args.window]
            random_ms = (time.perf_counter() - t0) / args.reads * 1e3
            cache_key, cache = None, None
            t0 = time.perf_counter()
            windows = min(args.frames // args.window, 2000)
            for w in range(windows):
                s = w * args.window
                c = s // chunk
                if c != cache_key:
                    cache_key, cache = c, array[c * chunk : (c + 1) * chunk]
                np.array(cache[s - c * chunk : s - c * chunk + args.window])
            seq_ms = (time.perf_counter() - t0) / windows * 1e3
            print(f"{chunk:>6} {random_ms:>10.3f} {random_ms / (floor * 1e3):>8.0f} {seq_ms:>14.4f} {dir_size(path) / 1e6:>11.2f}")
            shutil.rmtree(path)


if __name__ == "__main__":
    main()
