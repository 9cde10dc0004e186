"""The recognizer's network on a CUDA device: training steps/s and inference clips/s, next to
the CPU measured in the same run.

    python benchmarks/recognizer_gpu.py [--device cuda] [--batch 32] [--steps 20]

Random clips of the default model's shape (8 crops of 48 x 48 pixels) through the same
``ClipNet``, ``prepare_clips`` and AdamW step that ``train_recognizer`` runs, and the
``Recognizer.per_frame`` path on 81 frames (one WildBench case). Without CUDA it says so and
exits 0; ``--device cpu`` runs the device code path on the CPU (a dry run of the script).
"""

from __future__ import annotations

import argparse
import sys
import time

import numpy as np
import torch
import torch.nn.functional as F

from _common import cuda_absent


def _sync(device: torch.device) -> None:
    if device.type == "cuda":
        torch.cuda.synchronize(device)


def train_rate(device: torch.device, batch: int, steps: int) -> float:
    """Training clips per second (after one warm-up step)."""
    from wildbench.recognizer.model import ModelConfig, build_network, prepare_clips

    config = ModelConfig(classes=14, body_radius=1.0)
    network = build_network(config).to(device)
    optimizer = torch.optim.AdamW(network.parameters(), lr=1e-2)
    clips = torch.randint(0, 255, (batch, config.clip_frames, config.input_size, config.input_size, 3), dtype=torch.uint8)
    labels = torch.randint(0, config.classes, (batch,))
    elapsed = 0.0
    for step in range(steps + 1):
        start = time.perf_counter()
        loss = F.cross_entropy(network(prepare_clips(clips.to(device), config)), labels.to(device))
        optimizer.zero_grad()
        loss.backward()
        optimizer.step()
        _sync(device)
        if step:
            elapsed += time.perf_counter() - start
    return steps * batch / elapsed


def inference_rate(device: torch.device, repeats: int) -> float:
    """Frames per second of ``per_frame`` on an 81-frame 320 x 180 case (crops included)."""
    from wildbench.recognizer.inference import Recognizer
    from wildbench.recognizer.model import ModelConfig, build_network
    from wildbench.recognizer.vocabulary import ActionClass, Vocabulary

    vocabulary = Vocabulary(tuple(ActionClass(1, m, 10) for m in range(14)), min_count=8)
    config = ModelConfig(classes=14, body_radius=1.0)
    recognizer = Recognizer(build_network(config), config, vocabulary, checksum="0" * 64, device=device)
    frames = np.random.default_rng(0).integers(0, 255, (81, 180, 320, 3), dtype=np.uint8)
    centres = np.tile([160.0, 90.0], (81, 1))
    recognizer.per_frame(frames, centres, sides=100.0)
    start = time.perf_counter()
    for _ in range(repeats):
        recognizer.per_frame(frames, centres, sides=100.0)
    _sync(device)
    return repeats * len(frames) / (time.perf_counter() - start)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--device", default="cuda", help="cuda (default), cuda:N, or cpu for a dry run")
    parser.add_argument("--batch", type=int, default=32)
    parser.add_argument("--steps", type=int, default=20)
    parser.add_argument("--repeats", type=int, default=3)
    args = parser.parse_args()
    if cuda_absent(args.device):
        return 0
    device = torch.device(args.device)
    cpu = torch.device("cpu")
    rows = {"cpu (reference)": (train_rate(cpu, args.batch, args.steps), inference_rate(cpu, args.repeats))}
    if device.type != "cpu":
        rows[str(device)] = (train_rate(device, args.batch, args.steps), inference_rate(device, args.repeats))
    print(f"{'device':18s} {'train clips/s':>14s} {'per_frame frames/s':>19s}")
    for name, (train, infer) in rows.items():
        print(f"{name:18s} {train:14.1f} {infer:19.1f}")
    if len(rows) == 2:
        (_, (t0, i0)), (_, (t1, i1)) = rows.items()
        print(f"speed-up: training {t1 / t0:.1f}x, inference {i1 / i0:.1f}x")
    return 0


if __name__ == "__main__":
    sys.exit(main())
