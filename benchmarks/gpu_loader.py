"""Frames/s landed on a CUDA device: WildWorldDataset -> DataLoader (pinned) -> to_device.

    python benchmarks/gpu_loader.py [--workers N] [--window 16] [--batch 8] [--repeats 3]

Without CUDA it says so and exits 0 (``--device cpu`` runs the same code path on the CPU, to
check the script itself). On a CUDA machine it builds (once, cached) the benchmark store and
measures, interleaved so that noise hits every case alike:

* ``host``: full tuples delivered to the host by the DataLoader (the reference: the GPU can
  only get what the loader delivers);
* ``device pinned``: the same with ``pin_memory=True`` and ``to_device(batch, device,
  non_blocking=True)``, then the first step a model would take on the GPU (RGB to float in
  [0, 1]); frames count once the device has finished (synchronised);
* ``device unpinned``: ``pin_memory=False`` and a blocking copy, for comparison;
* the host-to-device copy bandwidth of one pinned batch, to show the copy is not the limit.
"""

from __future__ import annotations

import argparse
import os
import statistics
import sys
import time

import torch
from torch.utils.data import DataLoader

from loader_throughput import bench_store
from wildworld.data import WildWorldDataset, collate, to_device


def run(dataset, order: list[int], *, device: torch.device | None, pin: bool, workers: int, batch: int) -> float:
    """Frames/s after the first batch; on ``device`` when given (synchronised at the end)."""
    loader = DataLoader(dataset, batch_size=batch, sampler=order, num_workers=workers, collate_fn=collate,
                        pin_memory=pin and device is not None and device.type == "cuda",
                        prefetch_factor=4 if workers else None, persistent_workers=False)
    frames = 0
    t0 = None
    checksum = None
    for batch_data in loader:
        if device is not None:
            batch_data = to_device(batch_data, device, non_blocking=pin, pin=pin)
            rgb = batch_data.rgb.float().div_(255)  # the model's first step, on the device
            checksum = rgb.mean() if checksum is None else checksum + rgb.mean()
        if t0 is None:
            if device is not None and device.type == "cuda":
                torch.cuda.synchronize(device)
            t0 = time.perf_counter()
            continue
        frames += batch_data.rgb.shape[0] * batch_data.rgb.shape[1]
    if device is not None and device.type == "cuda":
        torch.cuda.synchronize(device)
    return frames / (time.perf_counter() - t0)


def copy_bandwidth(dataset, device: torch.device, batch: int) -> float:
    """GB/s of copying one pinned batch (RGB + depth) to the device."""
    host = collate([dataset[i] for i in range(batch)])
    if device.type == "cuda":
        host = host.pin_memory()
    nbytes = host.rgb.numel() + host.depth.numel()
    times = []
    for _ in range(10):
        t0 = time.perf_counter()
        moved = to_device(host, device, non_blocking=True)
        if device.type == "cuda":
            torch.cuda.synchronize(device)
        times.append(time.perf_counter() - t0)
        del moved
    return nbytes / statistics.median(times) / 1e9


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--workers", type=int, default=min(8, os.cpu_count() or 2))
    parser.add_argument("--window", type=int, default=16)
    parser.add_argument("--batch", type=int, default=8)
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--passes", type=int, default=4, help="passes over the store's windows per measurement")
    parser.add_argument("--device", default="cuda", help="cuda (default), cuda:N, or cpu for a dry run")
    args = parser.parse_args()
    device = torch.device(args.device)
    if device.type == "cuda" and not torch.cuda.is_available():
        print("CUDA is absent on this machine: nothing to measure (run this script on a CUDA machine; "
              "--device cpu runs the same code path on the CPU). Exiting 0.")
        return 0
    _, store = bench_store()
    dataset = WildWorldDataset(store, window=args.window, stride=args.window)
    order = torch.randperm(len(dataset), generator=torch.Generator().manual_seed(0)).tolist() * args.passes
    name = torch.cuda.get_device_name(device) if device.type == "cuda" else "CPU (dry run)"
    print(f"device: {name}; store {store}; {len(order)} windows of {args.window} frames per measurement, "
          f"batch {args.batch}, {args.workers} workers; median of {args.repeats} interleaved repeats", flush=True)
    common = dict(workers=args.workers, batch=args.batch)
    cases = {
        "host": lambda: run(dataset, order, device=None, pin=False, **common),
        "device pinned": lambda: run(dataset, order, device=device, pin=True, **common),
        "device unpinned": lambda: run(dataset, order, device=device, pin=False, **common),
    }
    results = {name: [] for name in cases}
    for _ in range(args.repeats):
        for label, case in cases.items():
            results[label].append(case())
    rates = {label: statistics.median(values) for label, values in results.items()}
    print(f"\n{'case':<18} {'frames/s':>10} {'vs host':>8}")
    for label, value in rates.items():
        print(f"{label:<18} {value:>10.0f} {value / rates['host']:>8.2f}")
    bandwidth = copy_bandwidth(dataset, device, args.batch)
    frame_bytes = dataset[0].rgb[0].numel() + dataset[0].depth[0].numel()
    print(f"\nhost-to-device copy of a pinned batch: {bandwidth:.1f} GB/s = "
          f"{bandwidth * 1e9 / frame_bytes:,.0f} frames/s of RGB + depth (the copy is not the limit when this "
          f"is far above the host rate)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
