"""Batching windows: our ``collate`` (the fast path) against torch's ``default_collate``, side by side.

    python benchmarks/collate_speed.py [--batch 8] [--window 16] [--workers 2] [--repeats 5]

Uses the loader benchmarks' 320x180 store (``loader_throughput.bench_store``, built once) and
measures in one run, interleaved so that machine noise hits every case alike:

* in one process, on the items of one batch as ``WildWorldDataset.__getitems__`` hands them
  over (videos already decoded into batch buffers):
  - ``collate``: our collate on those items (the buffers are used as they are);
  - ``default_collate``: torch's, which calls our collate for ``Window`` items (registered in
    ``default_collate_fn_map``): the same path, so the ratio is ~1;
  - ``collate, plain list``: our collate on a plain list of the same items (it copies the
    videos into new batch tensors, as any collate function must);
  - ``generic dicts``: torch's ``default_collate`` on the same items as plain dicts of tensors
    (what a dataset of dicts costs: one stack per key, each into its own tensor);
* through a DataLoader with ``--workers`` workers, batches per second of annotation-only
  windows (action, camera, state, skeleton: no decoding, so batching and the hand-over from
  the workers are what is measured): ``collate_fn=collate``, no ``collate_fn`` (torch's
  default, hence ours), and a dataset of plain dicts with torch's default.

Ratios are against ``collate`` measured in the same run (above 1: slower than ``collate``),
from the medians and from the fastest runs (on a busy machine the fastest run is the
steadier number for calls of a few milliseconds). The in-process cases run on one torch
thread, as collate does inside a DataLoader worker.
"""

from __future__ import annotations

import argparse
import statistics
import time

import torch
from torch.utils.data import DataLoader, Dataset, default_collate

from _common import interleaved, median
from loader_throughput import bench_store
from wildworld.data import WildWorldDataset, collate


def plain_dict(window) -> dict:
    """A window as a dict of tensors (and its sample id), as a dict-based dataset hands out."""
    return {key: value for key, value in window.items() if torch.is_tensor(value) or key == "sample_id"}


class DictWindows(Dataset):
    """The same windows as plain dicts (torch's default_collate stacks them key by key)."""

    def __init__(self, windows: WildWorldDataset) -> None:
        self.windows = windows

    def __len__(self) -> int:
        return len(self.windows)

    def __getitem__(self, index: int) -> dict:
        return plain_dict(self.windows[index])


def batches_per_s(dataset, *, batch: int, workers: int, batches: int, collate_fn=None) -> float:
    """Batches/s after the first batch (worker start-up excluded)."""
    loader = DataLoader(dataset, batch_size=batch, shuffle=True, generator=torch.Generator().manual_seed(0),
                        num_workers=workers, collate_fn=collate_fn, prefetch_factor=4 if workers else None)
    count, started = 0, None
    for _ in loader:
        if started is None:
            started = time.perf_counter()
            continue
        count += 1
        if count == batches:
            break
    return count / (time.perf_counter() - started)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--batch", type=int, default=8)
    parser.add_argument("--window", type=int, default=16)
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--repeats", type=int, default=5)
    parser.add_argument("--batches", type=int, default=60, help="DataLoader batches timed per repeat")
    args = parser.parse_args()

    _, store = bench_store()
    threads = torch.get_num_threads()
    dataset = WildWorldDataset(store, window=args.window)
    indices = list(range(0, len(dataset), max(1, len(dataset) // args.batch)))[: args.batch]
    items = dataset.__getitems__(indices)  # videos decoded into batch buffers, as in a DataLoader
    listed, dicts = list(items), [plain_dict(item) for item in items]
    same = default_collate(items)
    assert torch.equal(same.rgb, collate(items).rgb) and torch.equal(default_collate(dicts)["rgb"], same.rgb)

    torch.set_num_threads(1)  # as in a DataLoader worker, where collate runs
    repeats = max(args.repeats, 1) * 20  # each call takes milliseconds: many calls per timing
    calls = {
        "collate": lambda: collate(items),
        "default_collate": lambda: default_collate(items),
        "collate, plain list": lambda: collate(listed),
        "generic dicts": lambda: default_collate(dicts),
    }
    times = interleaved(calls, repeats)
    print(f"one batch of {args.batch} windows x {args.window} frames (all streams, 320x180), in one process:")
    reference, fastest = median(times["collate"]), min(times["collate"])
    for name, values in times.items():
        print(f"  {name:<22} median {median(values) * 1e3:8.3f} ms (ratio {median(values) / reference:6.2f})   "
              f"fastest {min(values) * 1e3:8.3f} ms (ratio {min(values) / fastest:6.2f})")
    torch.set_num_threads(threads)

    annotations = WildWorldDataset(store, window=args.window, streams=("action", "camera", "state", "skeleton"))
    loaders = {
        "collate_fn=collate": lambda: batches_per_s(annotations, batch=args.batch, workers=args.workers,
                                                    batches=args.batches, collate_fn=collate),
        "default (no collate_fn)": lambda: batches_per_s(annotations, batch=args.batch, workers=args.workers,
                                                         batches=args.batches),
        "generic dicts": lambda: batches_per_s(DictWindows(annotations), batch=args.batch, workers=args.workers,
                                               batches=args.batches),
    }
    rates: dict[str, list[float]] = {name: [] for name in loaders}
    for _ in range(max(args.repeats, 1)):
        for name, run in loaders.items():
            rates[name].append(run())
    print(f"DataLoader, {args.workers} workers, annotation-only windows (no decoding), batches/s:")
    reference, best = statistics.median(rates["collate_fn=collate"]), max(rates["collate_fn=collate"])
    for name, values in rates.items():
        rate = statistics.median(values)
        print(f"  {name:<24} median {rate:8.1f} batches/s (time ratio {reference / rate:5.2f})   "
              f"best {max(values):8.1f} (time ratio {best / max(values):5.2f})")


if __name__ == "__main__":
    main()
