"""The synthetic world's third-person camera: a lock-on rig with inertia.

Each frame the rig proposes a pose (behind the tracked player, turned towards the nearest
monster, with a slow orbit); the camera moves towards it smoothly: a fixed fraction of the
way per frame, and never faster than ``MAX_TURN`` radians or ``MAX_MOVE`` metres per frame.
So target switches become pans, never cuts. The camera pose is part of the world state and is
written to state.csv (``camera.pos``, ``camera.rot``), so a restored frame restores it.
"""

from __future__ import annotations

import math

import numpy as np

from ..geometry import look_at_opengl

__all__ = ["desired_pose", "follow", "intrinsics", "MAX_TURN", "MAX_MOVE", "FOLLOW"]

DISTANCE = 6.5
HEIGHT = 2.6
FOLLOW = 0.12  # fraction of the way to the proposed pose per frame
MAX_TURN = math.radians(2.5)
MAX_MOVE = 0.35


def desired_pose(tracked_pos, tracked_yaw: float, monsters, frame: int, seed: int) -> tuple[np.ndarray, np.ndarray]:
    """The rig's proposal: position (3,) and camera-to-world quaternion (4,), OpenGL frame."""
    p = np.array(tracked_pos, dtype=np.float64)
    p[1] = 0.0
    facing = np.array([math.sin(tracked_yaw), 0.0, math.cos(tracked_yaw)])
    back = -facing
    look = p + np.array([0.0, 1.3, 0.0])
    if monsters:
        nearest = min(monsters, key=lambda m: math.hypot(m[0] - p[0], m[2] - p[2]))
        away = p - np.array(nearest)
        away[1] = 0.0
        dist = float(np.linalg.norm(away))
        w = min(1.0, max(0.0, (dist - 1.5) / 2.0))
        if dist > 1e-6:
            back = w * away / dist + (1 - w) * back
        if dist < 25.0:
            look = look + 0.3 * (np.array(nearest) + np.array([0.0, 1.2, 0.0]) - look)
    norm = float(np.linalg.norm(back))
    back = back / norm if norm > 1e-6 else -facing
    orbit = 0.35 * math.sin(frame * 0.013 + seed % 97)
    c, s = math.cos(orbit), math.sin(orbit)
    back = np.array([c * back[0] + s * back[2], 0.0, -s * back[0] + c * back[2]])
    position = p + DISTANCE * back + np.array([0.0, HEIGHT, 0.0])
    return position, look_at_opengl(position, look)


def _slerp(a: np.ndarray, b: np.ndarray, t: float) -> np.ndarray:
    dot = float(np.dot(a, b))
    if dot < 0:
        b, dot = -b, -dot
    if dot > 0.9995:
        out = a + t * (b - a)
        return out / np.linalg.norm(out)
    theta = math.acos(min(1.0, dot))
    out = (math.sin((1 - t) * theta) * a + math.sin(t * theta) * b) / math.sin(theta)
    return out / np.linalg.norm(out)


def follow(position, rotation, target_position, target_rotation) -> tuple[np.ndarray, np.ndarray]:
    """One frame of camera motion towards the proposed pose."""
    position = np.asarray(position, dtype=np.float64)
    rotation = np.asarray(rotation, dtype=np.float64)
    step = FOLLOW * (np.asarray(target_position) - position)
    length = float(np.linalg.norm(step))
    if length > MAX_MOVE:
        step *= MAX_MOVE / length
    angle = 2.0 * math.acos(min(1.0, abs(float(np.dot(rotation, target_rotation)))))
    fraction = FOLLOW if angle * FOLLOW <= MAX_TURN else MAX_TURN / angle
    new_rotation = _slerp(rotation, np.asarray(target_rotation, dtype=np.float64), fraction) if angle > 1e-12 else rotation
    if new_rotation[3] < 0:
        new_rotation = -new_rotation
    return position + step, new_rotation


def intrinsics(width: int, height: int, frame: int) -> np.ndarray:
    """(fx, fy, cx, cy): a slow zoom oscillation, so K varies per frame."""
    zoom = 1.0 + 0.08 * math.sin(frame * 0.021)
    f = 0.8 * width * zoom
    return np.array([f, f, width / 2.0, height / 2.0])
