"""Bodies in the world: joints placed from a clip, a phase, a position and a yaw, and the
spheres the renderer draws for them (which the camera also steers around)."""

from __future__ import annotations

from functools import lru_cache

import numpy as np

from .actions import ACTIONS_BY_KEY, MonsterMotion
from .poses import monster_pose, player_pose
from .raster import Spheres
from .skeletons import SkeletonType, place

__all__ = ["player_joints", "monster_joints", "body_spheres"]


def player_joints(action: tuple[int, int], phase: float, position, yaw: float) -> np.ndarray:
    """World joints ``(17, 3)`` of a player playing clip ``action`` at ``phase``."""
    return place(player_pose(ACTIONS_BY_KEY[action], phase), np.asarray(position, dtype=np.float64), yaw)


def monster_joints(species: int, motion: MonsterMotion, phase: float, position, yaw: float) -> np.ndarray:
    """World joints ``(J, 3)`` of a monster of ``species`` playing ``motion`` at ``phase``."""
    return place(monster_pose(species, motion, phase), np.asarray(position, dtype=np.float64), yaw)


@lru_cache(maxsize=None)
def _layout(skeleton: SkeletonType) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """Per skeleton type: bone ends, joint radii, joint colours and the bone colour."""
    bones = np.asarray(skeleton.bones, dtype=np.int64).reshape(-1, 2)
    radii = np.asarray(skeleton.radii, dtype=np.float64)
    base = np.asarray(skeleton.color, dtype=np.float64) / 255.0
    return bones[:, 0], bones[:, 1], radii, base, base * 0.85


def body_spheres(joints: np.ndarray, skeleton: SkeletonType, *, seed: int = 0) -> Spheres:
    """A sphere on every joint and one to six along every bone (what the ray caster draws):
    bone spheres are spaced about one radius apart and slightly thinner than the joints."""
    start, end, radii, base, bone_color = _layout(skeleton)
    joint_colors = base[None, :] * (0.9 + 0.1 * ((np.arange(len(radii)) + seed) % 3))[:, None]
    if not len(start):
        return Spheres(joints, radii, joint_colors)
    span = joints[end] - joints[start]
    length = np.sqrt(np.einsum("bj,bj->b", span, span))
    counts = np.clip(np.ceil(length / (1.1 * 0.5 * (radii[start] + radii[end]))) - 1, 1, 6).astype(np.int64)
    bone = np.repeat(np.arange(len(counts)), counts)
    rank = np.arange(len(bone)) - np.repeat(np.cumsum(counts) - counts, counts) + 1  # 1..count per bone
    s = rank / (counts[bone] + 1)
    centers = joints[start[bone]] + s[:, None] * span[bone]
    sizes = 0.85 * (radii[start[bone]] + s * (radii[end[bone]] - radii[start[bone]]))
    return Spheres(np.concatenate([joints, centers]), np.concatenate([radii, sizes]),
                   np.concatenate([joint_colors, np.tile(bone_color, (len(bone), 1))]))
