"""Train the action recognizer on the synthetic world; print held-out accuracy and time.

    python benchmarks/recognizer_train.py [--samples 12] [--seconds 60] [--epochs 8]
                                          [--steps-per-epoch 60] [--device cpu] [--workers 2]

Builds (once, cached in the benchmark cache directory) a synthetic store with the command-line
tools, ``wildworld synth part --samples 12 --seconds 60 --resolution 320x180 --seed 3`` and
``wildworld convert part store``, then trains a recognizer from scratch into a temporary model
directory with the default settings and prints the held-out accuracy (true clips of the
held-out samples: action segments, and sliding windows on frames) against the targets
(>= 90% top-1, >= 97% group on segments) and the time of each stage, wall and CPU.

Timings depend on what else runs: the script prints the load average before and after, and
the CPU seconds of the training loop next to its wall time (on a shared machine, wall time is
pessimistic). Without CUDA, ``--device cuda`` says so and exits 0.
"""

from __future__ import annotations

import argparse
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from _common import cache_dir

TARGET_TOP1, TARGET_GROUP, TARGET_SECONDS = 0.90, 0.97, 600.0


def synthetic_store(samples: int, seconds: float) -> Path:
    root = cache_dir(f"recognizer_train/{samples}x{seconds:g}s")
    store = root / "store"
    if not (store / "manifest.json").exists():
        tools = Path(sys.executable).parent
        subprocess.run([str(tools / "wildworld"), "synth", str(root / "part"), "--samples", str(samples), "--seconds",
                        str(seconds), "--resolution", "320x180", "--seed", "3"], check=True)
        subprocess.run([str(tools / "wildworld"), "convert", str(root / "part"), str(store), "--workers", "2"], check=True)
    return store


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--samples", type=int, default=12)
    parser.add_argument("--seconds", type=float, default=60.0)
    parser.add_argument("--epochs", type=int, default=None, help="default: TrainConfig's")
    parser.add_argument("--steps-per-epoch", type=int, default=None, help="default: TrainConfig's")
    parser.add_argument("--device", default="cpu")
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--keep", type=Path, default=None, help="write the model directory here (default: a temporary one)")
    args = parser.parse_args()
    import torch

    if args.device.startswith("cuda") and not torch.cuda.is_available():
        print("CUDA is absent on this machine: nothing to measure with --device cuda (run it on a CUDA machine). Exiting 0.")
        return 0
    from wildbench.recognizer import TrainConfig, train_recognizer

    store = synthetic_store(args.samples, args.seconds)
    options = {k: v for k, v in (("epochs", args.epochs), ("steps_per_epoch", args.steps_per_epoch)) if v is not None}
    config = TrainConfig(**options)
    load_before = os.getloadavg()
    with tempfile.TemporaryDirectory() as tmp:
        out = args.keep or Path(tmp) / "model"
        start, cpu = time.perf_counter(), time.process_time()
        result = train_recognizer(store, out, config, device=args.device, workers=args.workers)
        wall, cpu = time.perf_counter() - start, time.process_time() - cpu
    load_after = os.getloadavg()
    card = result.card
    seconds = card["training"]["seconds"]
    segments, frames = card["held_out"]["segments"], card["held_out"]["frames"]
    print(f"store {store}: {args.samples} synthetic samples x {args.seconds:g} s at 320x180; "
          f"{len(card['data']['held_out_samples'])} held out by sample id")
    print(f"config: epochs={config.epochs} steps_per_epoch={config.steps_per_epoch} batch_size={config.batch_size} "
          f"device={args.device} ({card['vocabulary']['classes']} classes, {card['recognizer']['parameters']} parameters)")
    print(f"held-out segments ({segments['items']}): top-1 {segments['top1']:.3f} (target >= {TARGET_TOP1}), "
          f"balanced {segments['balanced']:.3f}, top-5 {segments['top5']:.3f}, group {segments['group']:.3f} "
          f"(target >= {TARGET_GROUP})")
    every = card["held_out"]["all_segments"]
    print(f"all held-out segments ({every['items']}, also where the player is hidden): top-1 {every['top1']:.3f}, "
          f"group {every['group']:.3f}")
    print(f"held-out frames ({frames['items']}, sliding window): top-1 {frames['top1']:.3f}, balanced "
          f"{frames['balanced']:.3f}, group {frames['group']:.3f}")
    print("seconds: " + ", ".join(f"{k} {v:.1f}" for k, v in seconds.items())
          + f"; training CPU {seconds.get('training_cpu', float('nan')):.1f} s (main process)")
    print(f"whole run: {wall:.1f} s wall, {cpu:.1f} s CPU in the main process (target: under {TARGET_SECONDS:.0f} s); "
          f"load average {load_before[0]:.1f} before, {load_after[0]:.1f} after on {os.cpu_count()} cores")
    met = segments["top1"] >= TARGET_TOP1 and segments["group"] >= TARGET_GROUP and wall < TARGET_SECONDS
    print("targets met" if met else "targets NOT met")
    return 0


if __name__ == "__main__":
    sys.exit(main())
