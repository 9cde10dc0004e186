"""Skeleton types of the synthetic world: joint names, bones, sizes, and posing.

Every pose is computed in the body frame (x right, y up, z forward, origin on the ground below
the root) and then placed in the world with the entity's position and yaw. Joint orders are
fixed per type, as in the release.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

__all__ = ["SkeletonType", "PLAYER", "WEAPONS", "MONSTERS", "rot_x", "rot_y", "rot_z", "place"]


@dataclass(frozen=True)
class SkeletonType:
    """A skeleton type: ``edges_key`` in skeleton_edges.json, joints, bones and joint radii."""

    edges_key: str
    joints: tuple[str, ...]
    bones: tuple[tuple[int, int], ...]
    radii: tuple[float, ...]
    color: tuple[int, int, int]

    @property
    def num_joints(self) -> int:
        return len(self.joints)

    def index(self, name: str) -> int:
        return self.joints.index(name)


def rot_x(angle: float) -> np.ndarray:
    c, s = np.cos(angle), np.sin(angle)
    return np.array([[1.0, 0.0, 0.0], [0.0, c, -s], [0.0, s, c]])


def rot_y(angle: float) -> np.ndarray:
    c, s = np.cos(angle), np.sin(angle)
    return np.array([[c, 0.0, s], [0.0, 1.0, 0.0], [-s, 0.0, c]])


def rot_z(angle: float) -> np.ndarray:
    c, s = np.cos(angle), np.sin(angle)
    return np.array([[c, -s, 0.0], [s, c, 0.0], [0.0, 0.0, 1.0]])


def place(local: np.ndarray, position: np.ndarray, yaw: float) -> np.ndarray:
    """Body-frame joints ``(J, 3)`` -> world, rotated by ``yaw`` about +y and translated."""
    return local @ rot_y(yaw).T + position


PLAYER = SkeletonType(
    edges_key="npc",
    joints=(
        "pelvis", "spine", "chest", "neck", "head",
        "l_shoulder", "l_elbow", "l_wrist", "r_shoulder", "r_elbow", "r_wrist",
        "l_hip", "l_knee", "l_ankle", "r_hip", "r_knee", "r_ankle",
    ),
    bones=(
        (0, 1), (1, 2), (2, 3), (3, 4), (2, 5), (5, 6), (6, 7), (2, 8), (8, 9), (9, 10),
        (0, 11), (11, 12), (12, 13), (0, 14), (14, 15), (15, 16),
    ),
    radii=(0.16, 0.15, 0.17, 0.08, 0.13, 0.08, 0.06, 0.05, 0.08, 0.06, 0.05, 0.09, 0.07, 0.06, 0.09, 0.07, 0.06),
    color=(40, 90, 200),
)

WEAPONS = {
    3: SkeletonType(  # great sword
        edges_key="wp_3",
        joints=("grip", "guard", "mid", "tip"),
        bones=((0, 1), (1, 2), (2, 3)),
        radii=(0.04, 0.07, 0.05, 0.03),
        color=(210, 210, 220),
    ),
    7: SkeletonType(  # hammer: a shaft and a head
        edges_key="wp_7",
        joints=("grip", "shaft", "neck", "head_l", "head_r"),
        bones=((0, 1), (1, 2), (2, 3), (2, 4)),
        radii=(0.04, 0.04, 0.05, 0.12, 0.12),
        color=(150, 110, 70),
    ),
}

#: Weapon lengths along the forearm direction, per joint, in metres.
WEAPON_OFFSETS = {3: (0.0, 0.18, 0.7, 1.25), 7: (0.0, 0.5, 0.95, 1.0, 1.0)}

MONSTERS = {
    21: SkeletonType(  # a heavy quadruped
        edges_key="em_21",
        joints=(
            "hips", "spine", "chest", "neck", "head", "jaw", "tail1", "tail2", "tail3",
            "fl_shoulder", "fl_knee", "fl_foot", "fr_shoulder", "fr_knee", "fr_foot",
            "bl_hip", "bl_knee", "bl_foot", "br_hip", "br_knee", "br_foot",
        ),
        bones=(
            (0, 1), (1, 2), (2, 3), (3, 4), (4, 5), (0, 6), (6, 7), (7, 8),
            (2, 9), (9, 10), (10, 11), (2, 12), (12, 13), (13, 14),
            (0, 15), (15, 16), (16, 17), (0, 18), (18, 19), (19, 20),
        ),
        radii=(0.6, 0.62, 0.65, 0.4, 0.45, 0.25, 0.4, 0.3, 0.2, 0.3, 0.22, 0.2, 0.3, 0.22, 0.2, 0.32, 0.24, 0.2, 0.32, 0.24, 0.2),
        color=(170, 80, 40),
    ),
    37: SkeletonType(  # a winged flyer
        edges_key="em_37",
        joints=(
            "root", "chest", "neck", "head", "beak", "tail1", "tail2",
            "l_wing1", "l_wing2", "l_wingtip", "r_wing1", "r_wing2", "r_wingtip",
            "l_hip", "l_knee", "l_foot", "r_hip", "r_knee", "r_foot",
        ),
        bones=(
            (0, 1), (1, 2), (2, 3), (3, 4), (0, 5), (5, 6),
            (1, 7), (7, 8), (8, 9), (1, 10), (10, 11), (11, 12),
            (0, 13), (13, 14), (14, 15), (0, 16), (16, 17), (17, 18),
        ),
        radii=(0.45, 0.5, 0.25, 0.3, 0.12, 0.25, 0.15, 0.2, 0.15, 0.1, 0.2, 0.15, 0.1, 0.2, 0.15, 0.12, 0.2, 0.15, 0.12),
        color=(60, 150, 90),
    ),
    53: SkeletonType(  # a long serpent
        edges_key="em_53",
        joints=tuple(f"seg{i}" for i in range(11)) + ("head",),
        bones=tuple((i, i + 1) for i in range(11)),
        radii=(0.35, 0.45, 0.5, 0.55, 0.55, 0.5, 0.45, 0.4, 0.35, 0.3, 0.25, 0.4),
        color=(120, 60, 160),
    ),
}
