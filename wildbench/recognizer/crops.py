"""Where the recognizer looks: a square crop that follows the tracked player.

The crop of frame ``t`` is centred on the projection of the tracked player's joint centroid
(``centres[t]``) and spans ``sides[t]`` pixels: the image of a square of
``2 * margin * body_radius`` world units at the player's depth, so the player keeps the same
size in the crop however far the camera is, and a pose (a roll, a jump, a swing) changes the
picture, not the zoom. ``body_radius`` is measured on the training store (median distance of
the player's farthest joint from the joint centroid) and saved with the model.

At evaluation the centres come from the answer key (the true camera and joints: the place where
the asked-for actions should be seen), so a generated video is judged where its player should
be, whatever it draws elsewhere. :func:`crop_track` is pure (numpy), for the metric to call with
answer-key arrays; :func:`crop_frames` cuts the crops, the same code in training and inference.
"""

from __future__ import annotations

from dataclasses import dataclass

import cv2
import numpy as np

from wildworld import project_points

from .config import DEFAULT_MARGIN
from .errors import RecognizerError

__all__ = ["CropTrack", "crop_track", "crop_frames", "tracked_joints", "skeleton_radius", "DEFAULT_MARGIN"]

_MIN_SIDE_PX = 8.0


@dataclass(frozen=True)
class CropTrack:
    """Per-frame crop placement: ``centres`` (T, 2) pixels, ``sides`` (T,) pixels, and
    ``found`` (T,): the player was projected on that frame (other frames are interpolated
    from the nearest found frames; with none found, the image centre and half its height)."""

    centres: np.ndarray
    sides: np.ndarray
    found: np.ndarray

    def __post_init__(self) -> None:
        t = len(self.centres)
        if self.centres.shape != (t, 2) or self.sides.shape != (t,) or self.found.shape != (t,):
            raise RecognizerError(f"crop track shapes {self.centres.shape}, {self.sides.shape}, {self.found.shape}: "
                                  "expected (T, 2), (T,), (T,)")

    def __len__(self) -> int:
        return len(self.centres)

    def __getitem__(self, frames) -> "CropTrack":
        return CropTrack(self.centres[frames], self.sides[frames], self.found[frames])


def _fill(values: np.ndarray, found: np.ndarray, default: np.ndarray) -> np.ndarray:
    """Linear interpolation of rows not found from the found ones (nearest at the ends)."""
    if not found.any():
        return np.broadcast_to(default, values.shape).astype(np.float64).copy()
    if found.all():
        return values.astype(np.float64)
    t = np.arange(len(values))
    columns = values.reshape(len(values), -1)
    out = np.stack([np.interp(t, t[found], columns[found, c]) for c in range(columns.shape[1])], axis=1)
    return out.reshape(values.shape)


def crop_track(camera: np.ndarray, joints: np.ndarray, size: tuple[int, int], *, body_radius: float,
               margin: float = DEFAULT_MARGIN) -> CropTrack:
    """Crop centres and sides from the true camera and the tracked player's world joints.

    Args:
        camera: (T, 11) ``fx fy cx cy | position | rotation`` (camera-to-world quaternion xyzw,
            OpenGL frame), as the store's ``camera.*`` fields and the answer key's ``camera``,
            for an image of ``size``.
        joints: (T, J, 3) world joints of the tracked player (NaN where absent). Pass all of
            them: the centre is their centroid.
        size: ``(width, height)`` of the frames the crops will be cut from.
        body_radius: the model's body radius in world units (``Recognizer.config.body_radius``).
        margin: crop side in units of ``2 * body_radius`` (the model's ``crop_margin``).
    """
    camera = np.asarray(camera, dtype=np.float64)
    joints = np.asarray(joints, dtype=np.float64)
    if camera.ndim != 2 or camera.shape[1] != 11:
        raise RecognizerError(f"camera has shape {camera.shape}; expected (T, 11): fx fy cx cy, position, rotation")
    if joints.ndim != 3 or joints.shape[2] != 3 or len(joints) != len(camera):
        raise RecognizerError(f"joints have shape {joints.shape}; expected (T, J, 3) with T = {len(camera)} like camera")
    if not (np.isfinite(body_radius) and body_radius > 0 and np.isfinite(margin) and margin > 0):
        raise RecognizerError(f"body_radius={body_radius!r} and margin={margin!r} must be positive numbers")
    width, height = int(size[0]), int(size[1])
    finite = np.isfinite(joints).all(axis=2)
    counts = finite.sum(axis=1)
    with np.errstate(invalid="ignore", divide="ignore"):
        centroid = np.where(finite[..., None], joints, 0.0).sum(axis=1) / counts[:, None]
    projection = project_points(centroid[:, None, :], camera[:, 0:4], camera[:, 4:7], camera[:, 7:11])
    uv, depth = projection.uv[:, 0], projection.depth[:, 0]
    found = (counts > 0) & projection.in_front[:, 0] & np.isfinite(uv).all(axis=1)
    with np.errstate(invalid="ignore", divide="ignore"):
        sides = 2.0 * margin * body_radius * camera[:, 1] / depth
    found &= np.isfinite(sides)
    centres = _fill(uv, found, np.array([width / 2.0, height / 2.0]))
    sides = _fill(sides, found, np.array(height / 2.0))
    sides = np.clip(sides, _MIN_SIDE_PX, 2.0 * max(width, height))
    return CropTrack(centres, sides, found)


def tracked_joints(joints: np.ndarray, slots: tuple[str, ...], tracked_index: np.ndarray) -> np.ndarray:
    """(T, J, 3) joints of the tracked player from a window's skeleton (T, E, J, 3), its slot
    names and the per-frame ``action.tracked_index`` (NaN where untracked or no such slot)."""
    joints = np.asarray(joints)
    out = np.full((joints.shape[0], joints.shape[2], 3), np.nan, dtype=np.float32)
    position = {name: i for i, name in enumerate(slots)}
    for t, index in enumerate(np.asarray(tracked_index).tolist()):
        slot = position.get(f"n{int(index)}") if index >= 0 else None
        if slot is not None:
            out[t] = joints[t, slot]
    return out


def skeleton_radius(joints: np.ndarray) -> np.ndarray:
    """(T,) distance of the farthest joint from the joint centroid (NaN without joints)."""
    joints = np.asarray(joints, dtype=np.float64)
    finite = np.isfinite(joints).all(axis=2)
    with np.errstate(invalid="ignore", divide="ignore"):
        centroid = np.where(finite[..., None], joints, 0.0).sum(axis=1) / finite.sum(axis=1)[:, None]
        distance = np.linalg.norm(joints - centroid[:, None, :], axis=2)
    distance[~finite] = -np.inf
    radius = distance.max(axis=1) if joints.shape[1] else np.full(len(joints), -np.inf)
    return np.where(np.isfinite(radius), radius, np.nan)


def crop_frames(frames: np.ndarray, track: CropTrack, *, out_size: int, context: float) -> np.ndarray:
    """(T, out_size, out_size, 3) uint8 crops of (T, H, W, 3) uint8 frames.

    Each crop covers ``context * sides[t]`` pixels around ``centres[t]`` (the model sees the
    central ``sides[t]`` of it; the rest leaves room for jitter), outside the image black.
    Downscaling averages pixels (OpenCV area), so the crop does not alias.
    """
    frames = np.asarray(frames)
    if frames.ndim != 4 or frames.shape[-1] != 3 or frames.dtype != np.uint8:
        raise RecognizerError(f"frames have shape {frames.shape} and dtype {frames.dtype}; expected (T, H, W, 3) uint8")
    if len(track) != len(frames):
        raise RecognizerError(f"{len(track)} crop centres for {len(frames)} frames; give one centre per frame")
    height, width = frames.shape[1:3]
    out = np.zeros((len(frames), out_size, out_size, 3), dtype=np.uint8)
    for t in range(len(frames)):
        side = max(1, int(round(context * float(track.sides[t]))))
        x0 = int(round(float(track.centres[t, 0]) - side / 2.0))
        y0 = int(round(float(track.centres[t, 1]) - side / 2.0))
        xa, ya, xb, yb = max(x0, 0), max(y0, 0), min(x0 + side, width), min(y0 + side, height)
        # the part inside the image goes to its place in the crop (the rest stays black)
        scale = out_size / side
        u0, v0 = int(round((xa - x0) * scale)), int(round((ya - y0) * scale))
        u1, v1 = int(round((xb - x0) * scale)), int(round((yb - y0) * scale))
        if u1 <= u0 or v1 <= v0:
            continue  # (nearly) wholly outside the image: a black crop
        interpolation = cv2.INTER_AREA if side > out_size else cv2.INTER_LINEAR
        out[t, v0:v1, u0:u1] = cv2.resize(frames[t, ya:yb, xa:xb], (u1 - u0, v1 - v0), interpolation=interpolation)
    return out
