"""Camera geometry for the release's conventions.

The release stores, per frame, a camera position ``t`` (world) and a camera-to-world rotation
quaternion ``q = (x, y, z, w)`` in the **OpenGL camera frame** (x right, y up, looking down -z),
plus intrinsics ``K = (fx, fy, cx, cy)``. OpenCV camera coordinates (x right, y down, z forward)
of a world point ``X`` are ``p = F R(q)^T (X - t)`` with ``F = diag(1, -1, -1)``; its pixel is
``(fx p_x / p_z + cx, fy p_y / p_z + cy)`` and it is in front of the camera when ``p_z > near``.

Quaternions are scalar-last and are normalised before use; rows holding any NaN give NaN.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from scipy.spatial.transform import Rotation

__all__ = [
    "OPENGL_TO_OPENCV",
    "DEFAULT_NEAR",
    "quaternion_to_matrix",
    "matrix_to_quaternion",
    "intrinsics_matrix",
    "opengl_c2w_to_opencv_w2c",
    "world_to_camera",
    "project_points",
    "Projection",
    "clip_segment_to_near",
    "look_at_opengl",
]

#: Flips the y and z axes: OpenGL camera frame <-> OpenCV camera frame.
OPENGL_TO_OPENCV = np.diag([1.0, -1.0, -1.0])
#: Near plane used by the release's own renderer (world units in front of the camera).
DEFAULT_NEAR = 0.05


def quaternion_to_matrix(quaternion: np.ndarray) -> np.ndarray:
    """``(..., 4)`` scalar-last quaternions -> ``(..., 3, 3)`` rotation matrices (NaN rows stay NaN)."""
    q = np.asarray(quaternion, dtype=np.float64)
    flat = q.reshape(-1, 4)
    out = np.full((flat.shape[0], 3, 3), np.nan)
    norms = np.linalg.norm(flat, axis=1)
    ok = np.isfinite(flat).all(axis=1) & (norms > 1e-12)
    if ok.any():
        out[ok] = Rotation.from_quat(flat[ok]).as_matrix()
    return out.reshape(q.shape[:-1] + (3, 3))


def matrix_to_quaternion(matrix: np.ndarray) -> np.ndarray:
    """``(..., 3, 3)`` rotation matrices -> ``(..., 4)`` scalar-last unit quaternions with w >= 0."""
    m = np.asarray(matrix, dtype=np.float64)
    flat = m.reshape(-1, 3, 3)
    out = np.full((flat.shape[0], 4), np.nan)
    ok = np.isfinite(flat).all(axis=(1, 2))
    if ok.any():
        quats = Rotation.from_matrix(flat[ok]).as_quat()
        quats *= np.where(quats[:, 3:4] < 0, -1.0, 1.0)
        out[ok] = quats
    return out.reshape(m.shape[:-2] + (4,))


def intrinsics_matrix(K: np.ndarray) -> np.ndarray:
    """``(..., 4)`` ``(fx, fy, cx, cy)`` -> ``(..., 3, 3)`` pinhole matrices."""
    k = np.asarray(K, dtype=np.float64)
    out = np.zeros(k.shape[:-1] + (3, 3))
    out[..., 0, 0] = k[..., 0]
    out[..., 1, 1] = k[..., 1]
    out[..., 0, 2] = k[..., 2]
    out[..., 1, 2] = k[..., 3]
    out[..., 2, 2] = 1.0
    return out


def opengl_c2w_to_opencv_w2c(position: np.ndarray, rotation: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Release camera pose -> OpenCV world-to-camera extrinsics ``(R, t)``: ``p = R X + t``.

    ``position`` is ``(..., 3)``, ``rotation`` the ``(..., 4)`` OpenGL camera-to-world
    quaternion. Returns ``R`` ``(..., 3, 3)`` and ``t`` ``(..., 3)``.
    """
    c2w = quaternion_to_matrix(rotation)
    rot = OPENGL_TO_OPENCV @ np.swapaxes(c2w, -1, -2)
    trans = -np.einsum("...ij,...j->...i", rot, np.asarray(position, dtype=np.float64))
    return rot, trans


def world_to_camera(points: np.ndarray, position: np.ndarray, rotation: np.ndarray) -> np.ndarray:
    """OpenCV camera coordinates of world points.

    ``points`` is ``(..., P, 3)``; the camera arrays ``(..., 3)`` / ``(..., 4)`` broadcast over
    the leading dimensions (one camera per frame, P points per frame).
    """
    rot, trans = opengl_c2w_to_opencv_w2c(position, rotation)
    pts = np.asarray(points, dtype=np.float64)
    return np.einsum("...ij,...pj->...pi", rot, pts) + trans[..., None, :]


@dataclass(frozen=True)
class Projection:
    """Pixels ``uv`` ``(..., P, 2)``, camera-space depth ``(..., P)`` and which points are in front."""

    uv: np.ndarray
    depth: np.ndarray
    in_front: np.ndarray

    def __repr__(self) -> str:
        return f"Projection(uv {self.uv.dtype}{self.uv.shape}, {int(np.count_nonzero(self.in_front))} of {self.in_front.size} points in front)"

    def inside(self, width: int, height: int) -> np.ndarray:
        """Points in front of the camera whose pixel lies inside a ``width x height`` image."""
        u, v = self.uv[..., 0], self.uv[..., 1]
        with np.errstate(invalid="ignore"):
            return self.in_front & (u >= 0) & (u <= width - 1) & (v >= 0) & (v <= height - 1)


def project_points(
    points: np.ndarray,
    K: np.ndarray,
    position: np.ndarray,
    rotation: np.ndarray,
    *,
    near: float = DEFAULT_NEAR,
) -> Projection:
    """Project world points with the release camera; points behind ``near`` get NaN pixels.

    ``points`` ``(..., P, 3)``; ``K`` ``(..., 4)``, ``position`` ``(..., 3)``, ``rotation``
    ``(..., 4)`` broadcast over the leading dimensions.
    """
    cam = world_to_camera(points, position, rotation)
    z = cam[..., 2]
    k = np.asarray(K, dtype=np.float64)[..., None, :]
    with np.errstate(invalid="ignore", divide="ignore"):
        in_front = np.isfinite(cam).all(axis=-1) & (z > near) & np.isfinite(k).all(axis=-1)
        u = k[..., 0] * cam[..., 0] / z + k[..., 2]
        v = k[..., 1] * cam[..., 1] / z + k[..., 3]
    uv = np.stack([u, v], axis=-1)
    uv[~in_front] = np.nan
    return Projection(uv=uv, depth=z, in_front=in_front)


def clip_segment_to_near(
    a: np.ndarray, b: np.ndarray, *, near: float = DEFAULT_NEAR
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Clip camera-space segments ``a -> b`` (``(..., 3)``, OpenCV frame) to ``z >= near``.

    Returns the clipped endpoints and a mask of segments with a visible part. A segment wholly
    behind the near plane is masked out; one crossing it is cut at the plane, as the release's
    renderer does.
    """
    a = np.asarray(a, dtype=np.float64)
    b = np.asarray(b, dtype=np.float64)
    za, zb = a[..., 2], b[..., 2]
    finite = np.isfinite(a).all(axis=-1) & np.isfinite(b).all(axis=-1)
    with np.errstate(invalid="ignore"):
        visible = finite & ((za >= near) | (zb >= near))
        denom = np.where(zb - za == 0, 1.0, zb - za)
        s = ((near - za) / denom)[..., None]
    cut = a + s * (b - a)
    a_out = np.where(((za < near) & visible)[..., None], cut, a)
    b_out = np.where(((zb < near) & visible)[..., None], cut, b)
    return a_out, b_out, visible


def look_at_opengl(eye: np.ndarray, target: np.ndarray, up: np.ndarray = (0.0, 1.0, 0.0)) -> np.ndarray:
    """Camera-to-world rotation quaternion (OpenGL frame) of a camera at ``eye`` looking at ``target``."""
    eye = np.asarray(eye, dtype=np.float64)
    target = np.asarray(target, dtype=np.float64)
    forward = target - eye
    forward = forward / np.linalg.norm(forward, axis=-1, keepdims=True)
    right = np.cross(forward, np.broadcast_to(np.asarray(up, dtype=np.float64), forward.shape))
    right = right / np.linalg.norm(right, axis=-1, keepdims=True)
    true_up = np.cross(right, forward)
    # Columns: camera x (right), y (up), z (backwards: the camera looks down -z).
    matrix = np.stack([right, true_up, -forward], axis=-1)
    return matrix_to_quaternion(matrix)
