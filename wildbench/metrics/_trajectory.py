"""Trajectory comparison for Camera Control, through ``evo`` (the SLAM community's evaluator).

Poses are camera-to-world 4 x 4 matrices in the **OpenCV camera frame** (x right, y down,
z forward), the frame COLMAP and OpenCV estimate in; the release's OpenGL camera-to-world
poses are converted by ``release_c2w``.

* ``align_sim3``: Umeyama similarity (rotation, translation, scale) of the estimated camera
  centres onto the true ones; the same equations as evo's ``umeyama_alignment`` (a test
  checks agreement to 1e-9), but defined for degenerate sets, where evo raises: a camera that
  never moves, or one that moves on a straight line;
* ``trajectory_errors``: after that alignment, per-frame position error (evo's APE,
  translation part) and, over every pair of frames ``delta`` apart, the relative pose error
  (evo's RPE, ``all_pairs=True``): translation norm and rotation angle in degrees of
  ``(Q_i^-1 Q_i+d)^-1 (P_i^-1 P_i+d)``.

The rotation part of RPE does not depend on the alignment; its translation part depends only on
the fitted scale.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from wildworld.geometry import OPENGL_TO_OPENCV, quaternion_to_matrix

from ..errors import WildBenchError

__all__ = ["release_c2w", "camera_centres", "path_length", "umeyama", "align_sim3", "TrajectoryErrors", "trajectory_errors", "evo_version"]


def evo_version() -> str:
    import evo

    return str(getattr(evo, "__version__", "unknown")).lstrip("v")


def release_c2w(camera: np.ndarray) -> np.ndarray:
    """``(T, 11)`` release camera rows (K | position | xyzw OpenGL camera-to-world) ->
    ``(T, 4, 4)`` OpenCV camera-to-world poses (rows with NaN stay NaN)."""
    camera = np.asarray(camera, dtype=np.float64)
    poses = np.full((len(camera), 4, 4), np.nan)
    poses[:, :3, :3] = quaternion_to_matrix(camera[:, 7:11]) @ OPENGL_TO_OPENCV
    poses[:, :3, 3] = camera[:, 4:7]
    poses[:, 3] = (0.0, 0.0, 0.0, 1.0)
    return poses


def camera_centres(poses: np.ndarray) -> np.ndarray:
    return np.asarray(poses)[:, :3, 3]


def path_length(poses: np.ndarray) -> float:
    """Length of the polyline through the camera centres (world units)."""
    centres = camera_centres(poses)
    return float(np.linalg.norm(np.diff(centres, axis=0), axis=1).sum()) if len(centres) > 1 else 0.0


def _path(poses: np.ndarray):
    from evo.core.trajectory import PosePath3D

    return PosePath3D(poses_se3=[np.array(p, dtype=np.float64) for p in poses])


def umeyama(source: np.ndarray, target: np.ndarray) -> tuple[float, np.ndarray, np.ndarray]:
    """Least-squares similarity ``target ~ scale * rotation @ source + translation`` of two
    (N, 3) point sets (Umeyama 1991, eqs. 34-43; evo's ``umeyama_alignment`` with scale).

    Unlike evo's, it accepts degenerate sets (collinear or coincident points, e.g. a camera on
    a straight rail or one that never moves): any optimal rotation is returned, and a source
    without spread gets scale 0 (every point mapped to the target's centroid)."""
    mean_s, mean_t = source.mean(axis=0), target.mean(axis=0)
    centred_s, centred_t = source - mean_s, target - mean_t
    variance = float(np.mean(np.sum(centred_s**2, axis=1)))
    if variance <= 1e-24:
        return 0.0, np.eye(3), mean_t
    covariance = centred_t.T @ centred_s / len(source)
    u, d, vt = np.linalg.svd(covariance)
    sign = np.eye(3)
    if np.linalg.det(u) * np.linalg.det(vt) < 0.0:
        sign[2, 2] = -1.0
    rotation = u @ sign @ vt
    scale = float(np.trace(np.diag(d) @ sign) / variance)
    return scale, rotation, mean_t - scale * rotation @ mean_s


def align_sim3(estimated: np.ndarray, truth: np.ndarray) -> tuple[np.ndarray, float, np.ndarray, np.ndarray]:
    """Aligned copy of ``estimated`` (T, 4, 4) and the similarity ``(scale, rotation, translation)``
    that maps its camera centres onto those of ``truth`` in the least-squares sense (Umeyama)."""
    if estimated.shape != truth.shape or estimated.ndim != 3 or estimated.shape[1:] != (4, 4):
        raise WildBenchError(f"align_sim3: need two (T, 4, 4) pose arrays of one length, got {estimated.shape} and {truth.shape}")
    if not (np.isfinite(estimated).all() and np.isfinite(truth).all()):
        raise WildBenchError("align_sim3: poses must be finite (drop invalid frames first)")
    scale, rotation, translation = umeyama(camera_centres(estimated), camera_centres(truth))
    aligned = estimated.copy()
    aligned[:, :3, :3] = rotation @ estimated[:, :3, :3]
    aligned[:, :3, 3] = scale * camera_centres(estimated) @ rotation.T + translation
    return aligned, scale, rotation, translation


@dataclass(frozen=True)
class TrajectoryErrors:
    """Per-frame and per-pair errors of an aligned trajectory (see the module docstring)."""

    position_error: np.ndarray  # (T,) world units, after the similarity alignment
    rpe_translation: np.ndarray  # (T - delta,) world units (estimate scaled by the alignment)
    rpe_rotation_deg: np.ndarray  # (T - delta,) degrees
    rpe_start: np.ndarray  # (T - delta,) first frame of each pair
    scale: float
    delta: int

    @property
    def ate_rmse(self) -> float:
        return float(np.sqrt(np.mean(self.position_error**2)))


def trajectory_errors(estimated: np.ndarray, truth: np.ndarray, *, delta: int) -> TrajectoryErrors:
    """Align ``estimated`` to ``truth`` (Sim(3)) and measure APE and RPE with evo."""
    from evo.core import metrics

    if delta < 1 or delta >= len(truth):
        raise WildBenchError(f"trajectory_errors: delta={delta} must be in 1..{len(truth) - 1}")
    aligned, scale, _, _ = align_sim3(estimated, truth)
    reference, estimate = _path(truth), _path(aligned)
    ape = metrics.APE(metrics.PoseRelation.translation_part)
    ape.process_data((reference, estimate))
    out = {}
    for name, relation in (("t", metrics.PoseRelation.translation_part), ("r", metrics.PoseRelation.rotation_angle_deg)):
        rpe = metrics.RPE(relation, delta=delta, delta_unit=metrics.Unit.frames, all_pairs=True)
        rpe.process_data((reference, estimate))
        out[name] = np.asarray(rpe.error, dtype=np.float64)
    starts = np.arange(len(truth) - delta)
    return TrajectoryErrors(position_error=np.asarray(ape.error, dtype=np.float64), rpe_translation=out["t"],
                            rpe_rotation_deg=out["r"], rpe_start=starts, scale=scale, delta=delta)
