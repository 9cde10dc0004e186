"""``train_recognizer``: a store in, a model directory out (resumable; see docs/recognizer.md).

The whole run, one line per stage::

    exclusions = load_exclusions(exclude_splits, store)        # same store, or one clear error
    train, held = split_samples(ids, holdout_fraction)         # by a hash of the sample id
    frames     = read_frames(store, ids)                       # pass 1: annotations (loader windows)
    radius     = body_radius(frames of train)                  # how big a player is, in world units
    tracks     = crop_track(camera, joints) per sample         # where each frame's crop goes
    pixels     = read_pixels(store, frames, tracks)            # pass 2: crops + visibility (loader windows)
    clips      = candidate_clips(...) minus excluded_clips(...)  # index maths on the arrays
    vocabulary = build_vocabulary(segment_counts(clips))       # min count; rare keys fold to the bank
    prepare the model directory                                # same settings resume, others refuse
    fit(...)                                                   # balanced epochs, a checkpoint each
    weights    -> weights.safetensors; Recognizer.load(MODEL_DIR)
    evaluation = evaluate_heldout(...)                         # held-out samples, inference code
    write_card(...)                                            # model_card.json last
"""

from __future__ import annotations

import contextlib
import hashlib
import json
import math
import os
import resource
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Literal, Sequence

import numpy as np
import torch
import torch.nn.functional as F

from wildworld.store import Store, open_store

from ..split import store_identity
from ._files import read_json, write_json
from .card import write_card
from .checkpoints import latest_checkpoint, restore_checkpoint, save_checkpoint
from .clips import ClipTable, candidate_clips, excluded_clips, label_clips, segment_counts
from .config import TrainConfig
from .data import Progress, body_radius, check_store, is_synthetic, read_frames, read_pixels, split_samples
from .errors import RecognizerError
from .evaluate import evaluate_heldout
from .exclusion import excluded_intervals, load_exclusions
from .inference import Recognizer, resolve_device
from .io import CARD_JSON, CONFIG_FILE, VOCABULARY_FILE, WEIGHTS_FILE, save_tensors
from .model import ModelConfig, build_network, prepare_clips
from .vocabulary import Vocabulary, build_vocabulary

__all__ = ["TrainConfig", "TrainResult", "train_recognizer", "clip_weights", "torch_threads", "Device"]  # TrainConfig: from .config

Device = Literal["cpu", "cuda"]


@dataclass(frozen=True)
class TrainResult:
    model_dir: Path
    card: dict = field(repr=False)
    resumed_from_epoch: int = 0  # 0: trained from scratch; E: continued after epoch E; -1: was complete

    @property
    def held_out(self) -> dict:
        return self.card["held_out"]


def _fingerprint(document: dict) -> str:
    return hashlib.sha256(json.dumps(document, sort_keys=True).encode()).hexdigest()


def _prepare_model_dir(out: Path, document: dict, vocabulary: Vocabulary) -> str:
    """Write config.json and vocabulary.json, or check that the ones there are the same."""
    fingerprint = _fingerprint(document)
    config_path = out / CONFIG_FILE
    if config_path.exists():
        existing = read_json(config_path, what="model config")
        if existing.get("fingerprint") != fingerprint:
            differs = sorted(k for k in set(existing) | set(document) if k != "fingerprint" and existing.get(k) != document.get(k))
            raise RecognizerError(f"{out}: holds a recognizer trained with other settings or data (differs in: "
                                  f"{', '.join(differs) or 'fingerprint'}); choose another --out or remove it")
    else:
        write_json(out / VOCABULARY_FILE, vocabulary.to_json())
        write_json(config_path, {**document, "fingerprint": fingerprint})
    return fingerprint


def _finished(out: Path, config: TrainConfig, store: Store, exclusions) -> dict | None:
    """The model card of a finished run of exactly this training on this data, else None."""
    if not ((out / CARD_JSON).exists() and (out / WEIGHTS_FILE).exists() and (out / CONFIG_FILE).exists()):
        return None
    existing = read_json(out / CONFIG_FILE, what="model config")
    data = existing.get("data", {})
    same = (existing.get("training") == config.to_json() and data.get("store_identity") == store_identity(store.manifest)
            and [e.get("checksum") for e in data.get("exclusions", [])] == [e.checksum for e in exclusions])
    return read_json(out / CARD_JSON, what="model card") if same else None


def _cpu_seconds() -> float:
    """CPU seconds of this process (all threads) and of its finished children (the DataLoader
    workers that decode and crop): what a run costs whatever else shares the machine."""
    own, children = resource.getrusage(resource.RUSAGE_SELF), resource.getrusage(resource.RUSAGE_CHILDREN)
    return own.ru_utime + own.ru_stime + children.ru_utime + children.ru_stime


@contextlib.contextmanager
def torch_threads(threads: int | None):
    """Run the block with ``threads`` intra-op threads (None: leave torch's setting), then put
    the setting back. On our shared 2 cores a training step of this small net took 3x longer with
    two threads than with one (they wait for a busy core at every operation; docs/recognizer.md)."""
    if threads is None:
        yield
        return
    if not isinstance(threads, int) or isinstance(threads, bool) or threads < 1:
        raise RecognizerError(f"threads={threads!r} must be an integer >= 1 (or None for torch's default)")
    before = torch.get_num_threads()
    torch.set_num_threads(threads)
    try:
        yield
    finally:
        torch.set_num_threads(before)


def clip_weights(labels: np.ndarray, classes: int, *, balance: float) -> np.ndarray:
    """Sampling probability of each clip: a clip of class c gets ``count_c ** -balance``, so
    class c as a whole gets ``count_c ** (1 - balance)`` (1: every class alike; 0: as they come)."""
    counts = np.bincount(labels, minlength=classes).astype(np.float64)
    weights = counts[labels] ** (-balance)
    return weights / weights.sum()


def _learning_rate(config: TrainConfig, step: int, total: int) -> float:
    """Linear warm-up over the first 5% of steps, then a cosine down to 5% of the peak."""
    warmup = max(1, total // 20)
    if step < warmup:
        return config.learning_rate * (step + 1) / warmup
    progress = (step - warmup) / max(1, total - warmup)
    return config.learning_rate * (0.05 + 0.95 * 0.5 * (1 + math.cos(math.pi * progress)))


def _chosen(rng: np.random.Generator, count: int, share: float) -> np.ndarray:
    """(count,) bool: which clips get an optional augmentation applied to a ``share`` of them,
    drawn only when it is enabled (with share 0 the random stream, and so the model, is the one
    without it)."""
    return rng.random(count) < share if share > 0 else np.zeros(count, dtype=bool)


def _assemble(crops: list[np.ndarray], clips: ClipTable, picks: np.ndarray, rng: np.random.Generator,
              config: TrainConfig, model: ModelConfig) -> np.ndarray:
    """(B, T, S, S, 3) uint8 training clips: clamped to the segment for some, jittered in
    position (within the crop's context) and in brightness and contrast, an occluding rectangle
    on some, mirrored left-right on some."""
    frames = clips.centre[picks, None] + np.asarray(model.offsets)[None, :]
    clamp = rng.random(len(picks)) < config.segment_clamp
    bounded = np.clip(frames, clips.segment_start[picks, None], clips.segment_stop[picks, None] - 1)
    frames = np.where(clamp[:, None], bounded, frames)
    room = model.crop_size - model.input_size
    dx, dy = rng.integers(0, room + 1, size=(2, len(picks)))
    gain = rng.uniform(0.75, 1.25, size=len(picks)).astype(np.float32)
    bias = rng.uniform(-20, 20, size=len(picks)).astype(np.float32)
    size = model.input_size
    # occlusion: one rectangle (2-15% of the picture, aspect 1:2 to 2:1, a flat random colour) at
    # the same place on every frame of the clip, as a monster's leg or a wall in front of the player
    erase = _chosen(rng, len(picks), config.erase)
    if erase.any():
        area = rng.uniform(0.02, 0.15, size=len(picks)) * size * size
        aspect = np.exp(rng.uniform(np.log(0.5), np.log(2.0), size=len(picks)))
        heights = np.clip(np.round(np.sqrt(area * aspect)), 1, size).astype(np.int64)
        widths = np.clip(np.round(np.sqrt(area / aspect)), 1, size).astype(np.int64)
        tops, lefts = rng.integers(0, size - heights + 1), rng.integers(0, size - widths + 1)
        colours = rng.integers(0, 256, size=(len(picks), 3))
    mirror = _chosen(rng, len(picks), config.mirror)  # flipped left-right
    out = np.empty((len(picks), model.clip_frames, size, size, 3), np.uint8)
    for b, pick in enumerate(picks):
        block = crops[clips.sample[pick]][frames[b], dy[b] : dy[b] + size, dx[b] : dx[b] + size]
        if mirror[b]:
            block = block[:, :, ::-1]
        out[b] = np.clip(block.astype(np.float32) * gain[b] + bias[b], 0, 255)
        if erase[b]:
            out[b, :, tops[b] : tops[b] + heights[b], lefts[b] : lefts[b] + widths[b]] = colours[b]
    return out


def _fit(network: torch.nn.Module, crops: list[np.ndarray], clips: ClipTable, labels: np.ndarray,
         config: TrainConfig, model: ModelConfig, *, out: Path, fingerprint: str, device: torch.device,
         progress: Progress | None) -> tuple[dict, int]:
    """Train for the configured epochs, resuming from the latest checkpoint; returns the
    metadata of the last epoch (loss history, seconds) and the epoch resumed from."""
    optimizer = torch.optim.AdamW(network.parameters(), lr=config.learning_rate, weight_decay=config.weight_decay)
    state = {"fingerprint": fingerprint, "loss": [], "train_seconds": 0.0, "train_cpu_seconds": 0.0}
    latest = latest_checkpoint(out)
    if latest is not None:
        state = restore_checkpoint(latest, network, optimizer, fingerprint=fingerprint, device=device)
    first_epoch = int(state.get("epoch", 0))
    weights = clip_weights(labels, model.classes, balance=config.balance)
    total = config.epochs * config.steps_per_epoch
    for epoch in range(first_epoch, config.epochs):
        started, started_cpu = time.perf_counter(), time.process_time()
        rng = np.random.default_rng([config.seed, epoch])
        picks = rng.choice(len(labels), size=(config.steps_per_epoch, config.batch_size), p=weights)
        network.train()
        losses = []
        for step in range(config.steps_per_epoch):
            done = epoch * config.steps_per_epoch + step
            for group in optimizer.param_groups:
                group["lr"] = _learning_rate(config, done, total)
            batch = torch.from_numpy(_assemble(crops, clips, picks[step], rng, config, model)).to(device)
            target = torch.from_numpy(labels[picks[step]]).to(device)
            loss = F.cross_entropy(network(prepare_clips(batch, model)), target, label_smoothing=config.label_smoothing)
            optimizer.zero_grad(set_to_none=True)
            loss.backward()
            optimizer.step()
            losses.append(float(loss.detach()))
            if progress is not None:
                progress("training", done + 1, total)
        state = {"fingerprint": fingerprint, "loss": [*state["loss"], float(np.mean(losses))],
                 "train_seconds": float(state["train_seconds"]) + time.perf_counter() - started,
                 "train_cpu_seconds": float(state.get("train_cpu_seconds", 0.0)) + time.process_time() - started_cpu}
        save_checkpoint(out, epoch + 1, network, optimizer, state)
    return state, first_epoch


def train_recognizer(store: str | os.PathLike[str] | Store, out: str | os.PathLike[str],
                     config: TrainConfig = TrainConfig(), *, exclude_splits: Sequence[str | os.PathLike[str]] = (),
                     device: Device | str = "cpu", workers: int = 0, threads: int | None = None,
                     progress: Progress | None = None) -> TrainResult:
    """Train a recognizer on ``store`` into the model directory ``out`` (resumes a killed run).

    ``exclude_splits``: splits of this store whose case windows must not train;
    ``workers``: DataLoader processes that decode and crop video (0: in this process);
    ``threads``: torch's intra-op threads for training and evaluation (None: torch's default;
    1 is fastest on a shared or 2-core machine, docs/recognizer.md).
    """
    with torch_threads(threads):
        return _train(store, out, config, exclude_splits=exclude_splits, device=device, workers=workers,
                      progress=progress)


def _train(store: str | os.PathLike[str] | Store, out: str | os.PathLike[str], config: TrainConfig, *,
           exclude_splits: Sequence[str | os.PathLike[str]], device: Device | str, workers: int,
           progress: Progress | None) -> TrainResult:
    wall, cpu = time.perf_counter(), _cpu_seconds()
    store = store if isinstance(store, Store) else open_store(store)
    out = Path(out)
    check_store(store)
    target = resolve_device(device)
    if not isinstance(workers, int) or workers < 0:
        raise RecognizerError(f"workers={workers!r} must be an integer >= 0")
    exclusions = load_exclusions(exclude_splits, store)
    train_ids, held_ids = split_samples([s.id for s in store.samples], holdout_fraction=config.holdout_fraction)
    if not (out / CONFIG_FILE).exists() and out.is_dir() and any(out.iterdir()):  # before the long passes
        raise RecognizerError(f"{out}: the directory is not empty and holds no recognizer; choose another --out")
    finished = _finished(out, config, store, exclusions)
    if finished is not None:
        return TrainResult(out, finished, resumed_from_epoch=-1)
    seconds = {}
    tic = time.perf_counter()
    frames = read_frames(store, train_ids + held_ids, progress=progress)
    seconds["annotations"] = time.perf_counter() - tic
    radius = body_radius([frames[s] for s in train_ids])
    tracks = {s: f.track(body_radius=radius, margin=config.crop_margin) for s, f in frames.items()}
    tic = time.perf_counter()
    pixels = read_pixels(store, frames, tracks, crop_size=config.crop_size, context=config.crop_size / config.input_size,
                         workers=workers, progress=progress)
    seconds["crops"] = time.perf_counter() - tic
    span = (config.clip_frames - 1) * config.frame_step + 1
    clips, unusable = candidate_clips([frames[s] for s in train_ids], pixels.visible, span=span)
    per_split = [int(excluded_clips(clips, span, excluded_intervals([e])).sum()) for e in exclusions]
    dropped = excluded_clips(clips, span, excluded_intervals(exclusions))
    clips = clips.subset(~dropped)
    vocabulary = build_vocabulary(segment_counts(clips), min_count=config.min_count)
    if len(vocabulary) < 2:
        raise RecognizerError(f"{store.path}: only {len(vocabulary)} class(es) reach {config.min_count} training segments; "
                              "a recognizer needs 2 or more (lower --min-count, or train on more samples)")
    clips, labels = label_clips(clips, vocabulary)
    model = ModelConfig(classes=len(vocabulary), body_radius=radius, crop_margin=config.crop_margin,
                        clip_frames=config.clip_frames, frame_step=config.frame_step, input_size=config.input_size,
                        crop_size=config.crop_size, widths=tuple(config.widths))
    data = {
        "store_identity": store_identity(store.manifest),
        "training_samples": train_ids, "held_out_samples": held_ids,
        "training_frames": int(sum(frames[s].frames for s in train_ids)),
        "held_out_frames": int(sum(frames[s].frames for s in held_ids)),
        "clips": {"kept": len(clips), "without a visible player or a known action": unusable,
                  "overlapping excluded cases": int(dropped.sum()),
                  "action without a class": int((~dropped).sum()) - len(clips)},
        "exclusions": [e.report(train_ids, training_clips_dropped=n) for e, n in zip(exclusions, per_split)],
    }
    # where the store and splits lie is not part of the run: a moved store resumes
    document = {"model": model.to_json(), "training": config.to_json(), "data": data}
    fingerprint = _prepare_model_dir(out, document, vocabulary)
    network = build_network(model, seed=config.seed).to(target)
    state, resumed = _fit(network, [pixels.crops[s] for s in clips.sample_ids], clips, labels, config, model, out=out,
                          fingerprint=fingerprint, device=target, progress=progress)
    seconds["training"] = float(state["train_seconds"])
    seconds["training_cpu"] = float(state.get("train_cpu_seconds", 0.0))  # this process's CPU time (all its threads)
    save_tensors(out / WEIGHTS_FILE, network.state_dict(), {"fingerprint": fingerprint})
    recognizer = Recognizer.load(out, device=str(target))
    tic = time.perf_counter()
    evaluation = evaluate_heldout(recognizer, [frames[s] for s in held_ids], pixels,
                                  min_segment_frames=config.min_segment_frames, progress=progress)
    seconds["evaluation"] = time.perf_counter() - tic
    seconds["total_this_run"] = time.perf_counter() - wall
    seconds["cpu_this_run"] = _cpu_seconds() - cpu  # with the reading workers; on a shared machine / cores = idle wall
    places = {"store": str(store.path.resolve()), "exclude_splits": [e.path for e in exclusions]}
    card = write_card(out, recognizer=recognizer, document=document, places=places, evaluation=evaluation,
                      loss=state["loss"], seconds=seconds, device=str(target), resumed_from_epoch=resumed,
                      class_data=_class_counts(labels, clips, len(vocabulary)), **_names(store))
    return TrainResult(out, card, resumed_from_epoch=resumed)


def _class_counts(labels: np.ndarray, clips: ClipTable, classes: int) -> list[dict]:
    """Training clips and segments per class (the card's data table)."""
    out = []
    for c in range(classes):
        rows = labels == c
        segments = np.unique(np.stack([clips.sample[rows], clips.segment[rows]], axis=1), axis=0) if rows.any() else []
        out.append({"clips": int(rows.sum()), "segments": int(len(segments))})
    return out


def _names(store: Store) -> dict:
    """Action and group names for the card on a synthetic store (the release publishes none)."""
    if not is_synthetic(store):
        return {}
    from wildworld.synth import PLAYER_ACTIONS

    return {"names": {a.key: a.name for a in PLAYER_ACTIONS}, "group_names": {a.motion_bank_id: a.group for a in PLAYER_ACTIONS}}
