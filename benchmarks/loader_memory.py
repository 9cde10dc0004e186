"""Loader memory over a long run: resident memory of the main process and of each worker.

    python benchmarks/loader_memory.py [--items 10000] [--workers 2] [--window 16] [--skip-stream]

Reads ``--items`` random full-tuple windows (RGB, depth, action, camera, state, skeleton) of
the benchmark store through a DataLoader with ``--workers`` workers, with a decoder cache
smaller than the store's videos (``max_open_videos=4`` for 3 samples x 2 streams, so decoders
are opened and closed all the time), and prints the RSS of every process every ``--every``
items; then the same for ``WildWorldStream`` (resampled shards, a fixed-length epoch). Caches
are bounded, so after a warm-up the memory must stay flat: the last line compares the RSS at
the end with the RSS after the first fifth of the run.
"""

from __future__ import annotations

import argparse
import os
import time

import numpy as np
from torch.utils.data import DataLoader

from loader_throughput import bench_store
from wildworld.data import WildWorldDataset, WildWorldStream, collate


def rss_mb(pid: int) -> float:
    with open(f"/proc/{pid}/status") as handle:
        for line in handle:
            if line.startswith("VmRSS:"):
                return int(line.split()[1]) / 1024
    return float("nan")


def watch(label: str, loader: DataLoader, items: int, every: int) -> None:
    iterator = iter(loader)
    workers = [w.pid for w in getattr(iterator, "_workers", [])]
    pids = [os.getpid()] + workers
    print(f"\n{label}")
    print(f"{'items':>7} {'s':>6} " + " ".join(f"{name:>10}" for name in ["main MB"] + [f"worker{i} MB" for i in range(len(workers))]) + f" {'total MB':>10}")
    samples: list[tuple[int, float]] = []
    seen = 0
    next_report = every
    t0 = time.perf_counter()
    for batch in iterator:
        seen += len(batch.sample_id)
        del batch
        if seen >= next_report or seen >= items:
            values = [rss_mb(pid) for pid in pids]
            samples.append((seen, sum(values)))
            print(f"{seen:>7} {time.perf_counter() - t0:>6.1f} " + " ".join(f"{v:>10.1f}" for v in values) + f" {sum(values):>10.1f}", flush=True)
            next_report += every
        if seen >= items:
            break
    del iterator
    warm = next(total for count, total in samples if count >= items // 5)
    end = samples[-1][1]
    growth = end - warm
    print(f"{label}: total RSS {warm:.0f} MB after {items // 5} items -> {end:.0f} MB after {samples[-1][0]} items "
          f"({growth:+.0f} MB, {100 * growth / warm:+.1f}%): {'flat' if abs(growth) <= 0.05 * warm + 20 else 'GROWING'}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--items", type=int, default=10_000)
    parser.add_argument("--every", type=int, default=1_000)
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--window", type=int, default=16)
    parser.add_argument("--batch", type=int, default=8)
    parser.add_argument("--skip-stream", action="store_true")
    args = parser.parse_args()
    _, store = bench_store()
    dataset = WildWorldDataset(store, window=args.window, max_open_videos=4)
    order = np.random.default_rng(0).integers(0, len(dataset), size=args.items + args.batch * 8).tolist()
    loader = DataLoader(dataset, batch_size=args.batch, sampler=order, num_workers=args.workers, collate_fn=collate)
    print(f"store {store}: {len(dataset)} windows of {args.window} frames; {args.workers} workers, batch {args.batch}, "
          f"max_open_videos=4 (6 videos: decoders open and close all the time)")
    watch("WildWorldDataset, random full-tuple windows", loader, args.items, args.every)
    if not args.skip_stream:
        stream = WildWorldStream(store, window=args.window, resample=True, epoch_length=args.items + args.batch * 8, seed=0)
        loader = DataLoader(stream, batch_size=args.batch, num_workers=args.workers, collate_fn=collate)
        watch("WildWorldStream, resampled shards, full-tuple windows", loader, args.items, args.every)


if __name__ == "__main__":
    main()
