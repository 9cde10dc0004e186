"""How well a written sample frames its tracked player, measured on the release files only.

Users see the player through ``state.csv``'s camera, ``skeleton.npz`` and the decoded
``depth.mkv``, so that is what is measured (never the world's own state). On every
valid-camera frame:

- **in view**: at least ``min_joint_fraction`` of the tracked player's joints project inside
  the image and in front of the camera;
- **unoccluded**: the root joint (joint 0, the pelvis) projects inside the image and the depth
  map there is not nearer than the joint by more than ``occluder_margin_m`` (a box or another
  body in between is nearer; the player's own body is within the margin). A root outside the
  image counts as occluded: nothing shows that it is visible.

The synthetic camera (:mod:`.camera`) is built to meet ``>= 95 %`` in view and ``>= 90 %``
unoccluded over 8 samples x 20 s (``benchmarks/synth_framing.py``).
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from ..errors import FormatError, OptionError
from ..release.sample import open_sample
from ..release.skeleton import parse_skeleton_key
from ..video import iter_frames
from .world import decode_depth

__all__ = ["FramingReport", "measure_framing"]


@dataclass(frozen=True)
class FramingReport:
    """Counts over one sample's valid-camera frames; ``per_frame_*`` hold each frame's verdict."""

    sample: str
    frames: int
    valid_frames: int
    in_view: int
    unoccluded: int
    per_frame_in_view: np.ndarray  # (N,) bool, False on invalid-camera frames
    per_frame_unoccluded: np.ndarray  # (N,) bool

    def __post_init__(self) -> None:
        if not 0 <= self.in_view <= self.valid_frames or not 0 <= self.unoccluded <= self.valid_frames:
            raise OptionError(f"counts out of range: {self.in_view}, {self.unoccluded} of {self.valid_frames}")

    @property
    def in_view_rate(self) -> float:
        return self.in_view / self.valid_frames if self.valid_frames else float("nan")

    @property
    def unoccluded_rate(self) -> float:
        return self.unoccluded / self.valid_frames if self.valid_frames else float("nan")

    def __repr__(self) -> str:
        return (f"FramingReport({self.sample}: {self.valid_frames} valid frames, in view {self.in_view_rate:.1%}, "
                f"unoccluded {self.unoccluded_rate:.1%})")


def _tracked_joints(sample) -> np.ndarray:
    """``(N, J, 3)`` world joints of the tracked player per frame (NaN where none is tracked)."""
    tracked = sample.actions.tracked_index
    keys = {key: parse_skeleton_key(key) for key in sample.skeleton}
    players = {parsed.index: sample.skeleton[key].joints for key, parsed in keys.items() if parsed.kind == "n"}
    if not players:
        raise FormatError("has no player skeleton (n<index>_<type> key)", path=sample.file("skeleton"))
    joints_count = max(j.shape[1] for j in players.values())
    out = np.full((len(tracked), joints_count, 3), np.nan)
    for index, joints in players.items():
        rows = tracked == index
        out[rows, : joints.shape[1]] = joints[rows]
    return out


def measure_framing(sample_dir: str | os.PathLike[str], *, min_joint_fraction: float = 0.5,
                    occluder_margin_m: float = 1.0) -> FramingReport:
    """Measure one written sample (see the module docstring for the two verdicts)."""
    if not 0.0 < min_joint_fraction <= 1.0:
        raise OptionError(f"min_joint_fraction={min_joint_fraction} must be in (0, 1]")
    if not occluder_margin_m >= 0.0:
        raise OptionError(f"occluder_margin_m={occluder_margin_m} must be >= 0 metres")
    sample = open_sample(sample_dir)
    camera = sample.camera
    joints = _tracked_joints(sample)
    if len(joints) != camera.num_frames:
        raise FormatError(f"skeleton has {len(joints)} frames, state.csv {camera.num_frames}", path=sample.file("skeleton"))
    width, height = sample.size
    projection = camera.project(joints)
    inside = projection.inside(width, height)
    present = np.isfinite(joints).all(axis=2)
    counted = present.sum(axis=1)
    in_view = camera.valid & (counted > 0) & (inside.sum(axis=1) >= min_joint_fraction * counted)
    root_inside = camera.valid & inside[:, 0]
    root_uv = np.where(root_inside[:, None], projection.uv[:, 0], 0.0)
    columns = np.clip(np.round(root_uv[:, 0]).astype(np.int64), 0, width - 1)
    rows = np.clip(np.round(root_uv[:, 1]).astype(np.int64), 0, height - 1)
    unoccluded = np.zeros(camera.num_frames, bool)
    decoded = 0
    for frame, codes in enumerate(iter_frames(sample.file("depth"), color="gray")):
        decoded += 1
        if frame < camera.num_frames and root_inside[frame]:
            seen = float(decode_depth(codes[rows[frame], columns[frame]]))
            unoccluded[frame] = seen >= projection.depth[frame, 0] - occluder_margin_m
    if decoded < camera.num_frames:
        raise FormatError(f"has {decoded} frames, state.csv {camera.num_frames}", path=sample.file("depth"))
    return FramingReport(
        sample=Path(sample_dir).name,
        frames=camera.num_frames,
        valid_frames=int(camera.valid.sum()),
        in_view=int(in_view.sum()),
        unoccluded=int(unoccluded.sum()),
        per_frame_in_view=in_view,
        per_frame_unoccluded=unoccluded,
    )
