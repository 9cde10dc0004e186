"""Training data: the tracked player's actions and crops, read through ``WildWorldDataset``.

Two passes over a store's samples, both as disjoint windows of the loader, in order:

1. annotations (``action``, ``camera``, ``skeleton``; no video): per frame the tracked
   player's action key, phase and joints, and the camera -> :class:`SampleFrames`;
2. pixels (``rgb``, and ``depth`` when the store has it): each frame cropped around the
   player where the crop track of pass 1 puts it (:mod:`.crops`), in DataLoader workers -> one
   (n, crop, crop, 3) uint8 array per sample, kept in memory (a 60 s sample at 30 fps is
   17 MB); and how much of the player the frame shows: the share of its joints that project
   inside the image, in front of the camera and are not hidden behind something nearer in the
   depth map (the split's visibility rule, ``wildbench.answers.joint_visibility``). Depth only
   chooses which clips train and which held-out segments are scored (a player hidden behind
   a wall or outside the picture cannot be recognised from pixels); it is never an input.

Training clips are then index maths over those arrays: a clip is the frames
``centre + offsets`` of one sample, labelled with the action of its centre frame.
Samples are split into training and held-out samples by a hash of their id (deterministic,
independent of the seed and of the other samples).
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from pathlib import Path
from types import SimpleNamespace
from typing import Callable, Sequence

import numpy as np
import torch
from torch.utils.data import DataLoader, Dataset

from wildworld.data import WildWorldDataset
from wildworld.store import Store

from ..answers import Visibility, joint_visibility

from .crops import CropTrack, crop_frames, crop_track, skeleton_radius, tracked_joints
from .errors import RecognizerError

__all__ = ["REQUIRED_STREAMS", "MIN_VISIBLE", "SampleFrames", "Pixels", "read_frames", "read_pixels", "split_samples",
           "body_radius", "segment_bounds", "is_synthetic", "depth_scale", "Progress"]

REQUIRED_STREAMS = ("rgb", "action", "camera", "skeleton")
Progress = Callable[[str, int, int], None]
_ANNOTATION_WINDOW = 256  # the store's chunk rows: one Zarr read per window
_VIDEO_WINDOW = 64
#: A frame shows the player when at least this share of its joints is visible.
MIN_VISIBLE = 0.5


def check_store(store: Store) -> None:
    missing = [s for s in REQUIRED_STREAMS if s not in store.streams]
    if missing:
        raise RecognizerError(f"{store.path}: the recognizer trains on the rgb, action, camera and skeleton streams; "
                              f"the store lacks {', '.join(missing)} (convert with --streams including them)")


def segment_bounds(keys: np.ndarray, phase: np.ndarray, tracked: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """``(starts, stops)`` of the runs of one action: a run ends where the key or the tracked
    player changes or the phase jumps back (the same clip started again), as
    ``PlayerActions.segments`` does for a release sample."""
    n = len(keys)
    if n == 0:
        return np.zeros(0, np.int64), np.zeros(0, np.int64)
    change = (np.diff(keys, axis=0) != 0).any(axis=1) | (np.diff(tracked) != 0)
    with np.errstate(invalid="ignore"):
        change |= np.diff(phase) < 0
    starts = np.concatenate([[0], np.flatnonzero(change) + 1]).astype(np.int64)
    stops = np.concatenate([starts[1:], [n]]).astype(np.int64)
    return starts, stops


@dataclass(frozen=True)
class SampleFrames:
    """Per-frame annotations of one sample (``n`` frames)."""

    sample_id: str
    size: tuple[int, int]  # (width, height) of the frames
    keys: np.ndarray  # (n, 2) int64 (motion_bank_id, motion_id) of the tracked player, -1 missing
    phase: np.ndarray  # (n,) float32 motion frame
    tracked: np.ndarray  # (n,) int64 npc.list index of the tracked player, -1 none
    camera: np.ndarray  # (n, 11) float64, NaN where invalid
    joints: np.ndarray  # (n, J, 3) float32 world joints of the tracked player, NaN absent

    @property
    def frames(self) -> int:
        return len(self.keys)

    def segments(self) -> tuple[np.ndarray, np.ndarray]:
        return segment_bounds(self.keys, self.phase, self.tracked)

    def known(self) -> np.ndarray:
        """(n,) the frame has a tracked player with a known action."""
        return (self.keys >= 0).all(axis=1) & (self.tracked >= 0)

    def track(self, *, body_radius: float, margin: float) -> CropTrack:
        return crop_track(self.camera, self.joints, self.size, body_radius=body_radius, margin=margin)


def _frame_size(store: Store, sample_id: str) -> tuple[int, int]:
    return tuple(store.resolution or store.sample(sample_id).size)


def read_frames(store: Store, sample_ids: Sequence[str], *, progress: Progress | None = None) -> dict[str, SampleFrames]:
    """Pass 1: the tracked player's annotations of each sample, from disjoint loader windows."""
    dataset = WildWorldDataset(store, window=_ANNOTATION_WINDOW, stride=_ANNOTATION_WINDOW, pad="end",
                               streams=("action", "camera", "skeleton"), samples=list(sample_ids))
    out: dict[str, SampleFrames] = {}
    done, total = 0, sum(store.sample(s).frames for s in sample_ids)
    for sample_id in sample_ids:
        entry = store.sample(sample_id)
        n = entry.frames
        keys = np.full((n, 2), -1, np.int64)
        phase = np.full(n, np.nan, np.float32)
        tracked = np.full(n, -1, np.int64)
        camera = np.full((n, 11), np.nan, np.float64)
        joints = None
        for index in dataset.windows_of(sample_id):
            window = dataset[index]
            real = ~window.pad.numpy()
            frames = window.frames.numpy()[real]
            action, cam, skeleton = window.action, window.camera, window.skeleton
            keys[frames, 0] = action.motion_bank_id.numpy()[real]
            keys[frames, 1] = action.motion_id.numpy()[real]
            phase[frames] = action.phase.numpy()[real]
            tracked[frames] = action.tracked_index.numpy()[real]
            camera[frames] = torch.cat([cam.K, cam.position, cam.rotation], dim=1).numpy()[real]
            player = tracked_joints(skeleton.joints.numpy()[real], skeleton.slots, action.tracked_index.numpy()[real])
            if joints is None:
                joints = np.full((n,) + player.shape[1:], np.nan, np.float32)
            joints[frames] = player
            done += int(real.sum())
            if progress is not None:
                progress("annotations", done, total)
        out[sample_id] = SampleFrames(sample_id, _frame_size(store, sample_id), keys, phase, tracked, camera,
                                      joints if joints is not None else np.full((n, 1, 3), np.nan, np.float32))
    return out


def body_radius(samples: Sequence[SampleFrames]) -> float:
    """Median over frames (with a tracked player) of the player's skeleton radius."""
    radii = np.concatenate([skeleton_radius(s.joints[s.known()]) for s in samples] or [np.zeros(0)])
    radii = radii[np.isfinite(radii) & (radii > 0)]
    if radii.size == 0:
        raise RecognizerError("no frame of the training samples has a tracked player with joints: nothing to crop around")
    return float(np.median(radii))


def is_synthetic(store: Store) -> bool:
    """Every sample of the store was converted from a part written by ``wildworld synth``."""
    from wildworld.synth import SIDECAR_FILE

    sources = [Path(entry.get("source", "")) for entry in store.manifest["samples"]]
    return bool(sources) and all((source.parent / SIDECAR_FILE).exists() for source in sources)


def depth_scale(store: Store, samples: dict[str, SampleFrames]) -> float | None:
    """Metres per depth code: the synthetic world's, else fitted on the players' joints as the
    split does (``wildbench.split.estimate_depth_scale``); None without a depth stream."""
    if "depth" not in store.streams:
        return None
    if is_synthetic(store):
        from wildworld.synth import DEPTH_METRES_PER_CODE

        return DEPTH_METRES_PER_CODE
    from ..split import estimate_depth_scale

    probes = [SimpleNamespace(sample_id=s.sample_id, start=int(t), slot=f"n{int(s.tracked[t])}")
              for s in samples.values() for t in np.flatnonzero(s.known())[:: max(1, s.frames // 8)][:8]]
    return estimate_depth_scale(store, probes)


@dataclass(frozen=True)
class Pixels:
    """Pass 2's output, per sample id: crops (n, crop, crop, 3) uint8 and the share of the
    player's joints visible on each frame (n,) float32."""

    crops: dict[str, np.ndarray]
    visible: dict[str, np.ndarray]


class _CropWindows(Dataset):
    """Disjoint video windows of the loader, cropped (and scored for visibility) in the worker:
    only crops and visibility cross processes."""

    def __init__(self, dataset: WildWorldDataset, samples: dict[str, SampleFrames], tracks: dict[str, CropTrack],
                 crop_size: int, context: float, scale: float | None) -> None:
        self.dataset, self.samples, self.tracks, self.scale = dataset, samples, tracks, scale
        self.crop_size, self.context = crop_size, context

    def __len__(self) -> int:
        return len(self.dataset)

    def __getitem__(self, index: int):
        window = self.dataset[index]
        real = ~window.pad.numpy()
        frames = window.frames.numpy()[real]
        rgb = window.rgb.permute(0, 2, 3, 1).numpy()[real]  # channels-last memory: no copy
        crops = crop_frames(rgb, self.tracks[window.sample_id][frames], out_size=self.crop_size, context=self.context)
        sample = self.samples[window.sample_id]
        joints = sample.joints[frames].astype(np.float64)
        depth = window.depth[:, 0].numpy()[real] if window.depth is not None else None
        _, _, seen = joint_visibility(joints, sample.camera[frames], depth, sample.size, Visibility(self.scale))
        present = np.isfinite(joints).all(axis=2).sum(axis=1)
        visible = np.where(present > 0, seen.sum(axis=1) / np.maximum(present, 1), 0.0).astype(np.float32)
        return window.sample_id, frames, crops, visible


def _as_is(item):
    return item


def read_pixels(store: Store, samples: dict[str, SampleFrames], tracks: dict[str, CropTrack], *, crop_size: int,
                context: float, workers: int = 0, progress: Progress | None = None) -> Pixels:
    """Pass 2: crops of every frame of each sample (placed by ``tracks``; ``crop_size`` pixels
    covering ``context`` times the track's sides) and how much of the player each shows."""
    ids = list(samples)
    streams = ("rgb", "depth") if "depth" in store.streams else ("rgb",)
    dataset = WildWorldDataset(store, window=_VIDEO_WINDOW, stride=_VIDEO_WINDOW, pad="end", streams=streams, samples=ids)
    windows = _CropWindows(dataset, samples, tracks, crop_size, context, depth_scale(store, samples))
    loader = DataLoader(windows, batch_size=None, shuffle=False, num_workers=workers, collate_fn=_as_is,
                        prefetch_factor=2 if workers else None)
    crops = {sample_id: np.zeros((samples[sample_id].frames, crop_size, crop_size, 3), np.uint8) for sample_id in ids}
    visible = {sample_id: np.zeros(samples[sample_id].frames, np.float32) for sample_id in ids}
    total, done = sum(s.frames for s in samples.values()), 0
    for sample_id, frames, window_crops, window_visible in loader:
        crops[sample_id][frames] = window_crops
        visible[sample_id][frames] = window_visible
        done += len(frames)
        if progress is not None:
            progress("crops", done, total)
    return Pixels(crops, visible)


def split_samples(sample_ids: Sequence[str], *, holdout_fraction: float) -> tuple[list[str], list[str]]:
    """``(training, held_out)`` sample ids: the ``round(fraction * n)`` ids (at least one) with
    the smallest sha256 of the id are held out. Deterministic, seed-independent, and a sample
    keeps its side when other samples are added (unless it sits at the boundary)."""
    ids = list(dict.fromkeys(sample_ids))
    if len(ids) < 2:
        raise RecognizerError(f"the store has {len(ids)} sample(s); training needs at least 2 (one is held out to "
                              "measure accuracy)")
    if not 0 < holdout_fraction < 1:
        raise RecognizerError(f"holdout_fraction={holdout_fraction} must be between 0 and 1")
    held = max(1, min(len(ids) - 1, int(round(holdout_fraction * len(ids)))))
    ranked = sorted(ids, key=lambda sample_id: hashlib.sha256(sample_id.encode()).hexdigest())
    chosen = set(ranked[:held])
    return [s for s in ids if s not in chosen], [s for s in ids if s in chosen]
