"""Camera following: what a model conditioned on the camera gets for free.

* ``rotation_homographies(camera)``: the homography ``H_t = K_t R_t R_0^T K_0^-1`` (R: OpenCV
  world-to-camera rotations) that moves frame-0 pixels where a camera that only turns would
  see them on frame t;
* ``follow_camera_frames(first_frame, camera)``: the first frame warped by it, frame by frame
  (the camera also moves, and bodies move on their own: ignored);
* ``follow_camera_positions(position, camera)``: a world point kept where it stands relative to
  the camera on frame 0 and carried along by the camera's poses (the tracked player of the
  ``camera-follow`` reference submission).

Invalid-camera frames (NaN poses, ``valid`` False) hold the last valid frame's result.
"""

from __future__ import annotations

from typing import Iterator

import cv2
import numpy as np

from wildworld import Camera, intrinsics_matrix, quaternion_to_matrix

__all__ = ["rotation_homographies", "follow_camera_frames", "follow_camera_positions", "camera_from_rows"]


def camera_from_rows(rows: np.ndarray, valid: np.ndarray | None = None) -> Camera:
    """A ``Camera`` from ``(T, 11)`` rows of K | position | rotation (the answer key's layout)."""
    rows = np.asarray(rows, np.float64)
    ok = np.isfinite(rows).all(axis=1) if valid is None else np.asarray(valid, bool) & np.isfinite(rows).all(axis=1)
    return Camera(K=rows[:, 0:4], position=rows[:, 4:7], rotation=rows[:, 7:11], valid=ok)


def _usable(camera: Camera) -> np.ndarray:
    finite = np.isfinite(camera.K).all(1) & np.isfinite(camera.position).all(1) & np.isfinite(camera.rotation).all(1)
    return np.asarray(camera.valid, bool) & finite


def rotation_homographies(camera: Camera) -> np.ndarray:
    """(T, 3, 3) homographies taking frame 0 pixels to frame t pixels for a camera that only
    rotates; NaN on frames whose camera (or frame 0's) is invalid.

    >>> camera = Camera(K=np.array([[100.0, 100, 50, 50]] * 2), position=np.zeros((2, 3)),
    ...                 rotation=np.array([[0.0, 0, 0, 1]] * 2), valid=np.ones(2, bool))
    >>> np.allclose(rotation_homographies(camera), np.eye(3))
    True
    """
    usable = _usable(camera)
    out = np.full((camera.num_frames, 3, 3), np.nan)
    if not usable.any() or not usable[0]:
        return out
    safe = Camera(K=np.where(usable[:, None], camera.K, camera.K[0]), position=np.where(usable[:, None], camera.position, camera.position[0]),
                  rotation=np.where(usable[:, None], camera.rotation, camera.rotation[0]), valid=usable)
    rotations, _ = safe.extrinsics()  # OpenCV world-to-camera, (T, 3, 3)
    K = intrinsics_matrix(safe.K)
    out[usable] = (K @ rotations @ rotations[0].T @ np.linalg.inv(K[0]))[usable]
    return out


def follow_camera_frames(first_frame: np.ndarray, camera: Camera) -> Iterator[np.ndarray]:
    """The first frame re-projected through the rotation of every later camera (frame 0 as
    given; an invalid camera repeats the previous frame)."""
    height, width = first_frame.shape[:2]
    pixels = np.stack([*np.meshgrid(np.arange(width), np.arange(height)), np.ones((height, width))], axis=-1)
    unseen = first_frame.reshape(-1, 3).mean(axis=0).astype(np.uint8)
    previous = first_frame
    for t, homography in enumerate(rotation_homographies(camera)):
        if t == 0 or not np.isfinite(homography).all():
            frame = previous
        else:
            frame = cv2.warpPerspective(first_frame, homography, (width, height), flags=cv2.INTER_LINEAR,
                                        borderMode=cv2.BORDER_REPLICATE)  # beside frame 0's view: its nearest pixel
            # A ray behind frame 0's camera (turned more than the field of view) maps through
            # infinity to a mirrored pixel; frame 0 never saw it: paint it the mean colour.
            behind = pixels @ np.linalg.inv(homography)[2] <= 0
            frame[behind] = unseen
        previous = frame
        yield frame


def follow_camera_positions(position: np.ndarray, camera: Camera) -> np.ndarray:
    """(T, 3) world positions of a point that keeps its frame-0 place relative to the camera:
    ``x_t = c_t + R_t R_0^T (x_0 - c_0)`` (R camera-to-world); invalid cameras hold the last
    valid position.

    >>> camera = Camera(K=np.ones((2, 4)), position=np.array([[0.0, 0, 0], [1.0, 0, 0]]),
    ...                 rotation=np.array([[0.0, 0, 0, 1]] * 2), valid=np.ones(2, bool))
    >>> follow_camera_positions(np.array([0.0, 0, -5]), camera).tolist()
    [[0.0, 0.0, -5.0], [1.0, 0.0, -5.0]]
    """
    usable = _usable(camera)
    position = np.asarray(position, np.float64)
    out = np.tile(position, (camera.num_frames, 1))
    if not usable.any() or not usable[0] or not np.isfinite(position).all():
        return out
    rotations = quaternion_to_matrix(np.where(usable[:, None], camera.rotation, camera.rotation[0]))
    local = rotations[0].T @ (position - camera.position[0])
    for t in range(1, camera.num_frames):
        out[t] = camera.position[t] + rotations[t] @ local if usable[t] else out[t - 1]
    return out
