"""Body-frame poses of the synthetic skeletons as a function of (clip, phase).

Each clip has a visibly distinct motion (legs cycling for walk/run, an overhead arc for
heavy_slash, arms up for war_cry...). Poses are pure functions of the clip and its phase, so
the skeleton of any frame is determined by that frame's annotations.
"""

from __future__ import annotations

import math

import numpy as np

from .actions import ActionSpec, MonsterMotion
from .skeletons import PLAYER, WEAPON_OFFSETS, rot_x, rot_y, rot_z

__all__ = ["player_pose", "weapon_pose", "monster_pose"]

TAU = 2.0 * math.pi


def _ramp(s: float, a: float, b: float) -> float:
    """0 before ``a``, 1 after ``b``, smooth in between."""
    if s <= a:
        return 0.0
    if s >= b:
        return 1.0
    x = (s - a) / (b - a)
    return x * x * (3 - 2 * x)


def _humanoid(
    *,
    hips=(0.0, 0.0),
    knees=(0.0, 0.0),
    arms_pitch=(0.0, 0.0),
    arms_roll=(0.15, 0.15),
    elbows=(0.2, 0.2),
    lean=0.0,
    crouch=0.0,
    twist=0.0,
) -> np.ndarray:
    """Forward kinematics of the 17-joint humanoid; (left, right) pairs of angles in radians."""
    joints = np.zeros((PLAYER.num_joints, 3))
    pelvis = np.array([0.0, 0.95 - crouch, 0.0])
    torso = rot_x(lean) @ rot_y(twist)
    joints[0] = pelvis
    joints[1] = pelvis + torso @ [0.0, 0.2, 0.0]
    joints[2] = pelvis + torso @ [0.0, 0.42, 0.0]
    joints[3] = pelvis + torso @ [0.0, 0.6, 0.0]
    joints[4] = pelvis + torso @ [0.0, 0.76, 0.0]
    for side, (shoulder, elbow, wrist) in enumerate(((5, 6, 7), (8, 9, 10))):
        sign = -1.0 if side == 0 else 1.0
        joints[shoulder] = pelvis + torso @ [0.2 * sign, 0.5, 0.0]
        arm = torso @ rot_x(-arms_pitch[side]) @ rot_z(sign * arms_roll[side])
        joints[elbow] = joints[shoulder] + arm @ [0.0, -0.3, 0.0]
        joints[wrist] = joints[elbow] + arm @ rot_x(-elbows[side]) @ [0.0, -0.28, 0.0]
    for side, (hip, knee, ankle) in enumerate(((11, 12, 13), (14, 15, 16))):
        sign = -1.0 if side == 0 else 1.0
        joints[hip] = pelvis + [0.1 * sign, -0.02, 0.0]
        thigh = rot_x(-hips[side])
        joints[knee] = joints[hip] + thigh @ [0.0, -0.45, 0.0]
        joints[ankle] = joints[knee] + thigh @ rot_x(knees[side]) @ [0.0, -0.45, 0.0]
    return joints


def player_pose(action: ActionSpec, phase: float) -> np.ndarray:
    """``(17, 3)`` body-frame joints of the player playing ``action`` at frame ``phase``."""
    s = (phase % action.length) / action.length
    name = action.name
    if name == "idle":
        b = 0.03 * math.sin(TAU * s)
        return _humanoid(arms_roll=(0.18 + b, 0.18 + b), lean=0.02 + b)
    if name in ("walk", "turn_around"):
        w = math.sin(TAU * s)
        return _humanoid(hips=(0.4 * w, -0.4 * w), knees=(0.3 * max(w, 0), 0.3 * max(-w, 0)), arms_pitch=(-0.3 * w, 0.3 * w))
    if name == "run":
        w = math.sin(TAU * s)
        return _humanoid(
            hips=(0.8 * w, -0.8 * w), knees=(0.9 * max(w, 0) + 0.2, 0.9 * max(-w, 0) + 0.2),
            arms_pitch=(-0.7 * w, 0.7 * w), elbows=(1.2, 1.2), lean=0.25,
        )
    if name == "dodge_roll":
        r = math.sin(math.pi * s)
        return _humanoid(hips=(1.4 * r, 1.4 * r), knees=(2.0 * r, 2.0 * r), arms_pitch=(1.2 * r, 1.2 * r), elbows=(1.5, 1.5), lean=1.1 * r, crouch=0.45 * r)
    if name == "jump":
        tuck = math.sin(math.pi * s)
        pre = 0.3 * (1.0 - _ramp(s, 0.0, 0.15))
        return _humanoid(hips=(0.9 * tuck, 0.9 * tuck), knees=(1.4 * tuck + pre, 1.4 * tuck + pre), arms_pitch=(2.4 * tuck, 2.4 * tuck), crouch=0.15 * pre)
    if name == "light_slash":
        pitch = 2.6 * _ramp(s, 0.0, 0.4) - 2.9 * _ramp(s, 0.4, 0.6) + 0.3 * _ramp(s, 0.6, 1.0)
        return _humanoid(arms_pitch=(0.2, pitch), elbows=(0.3, 0.3), twist=0.4 * _ramp(s, 0.4, 0.6), lean=0.1)
    if name == "heavy_slash":
        pitch = 3.0 * _ramp(s, 0.0, 0.62) - 3.2 * _ramp(s, 0.62, 0.74) + 0.2 * _ramp(s, 0.74, 1.0)
        return _humanoid(arms_pitch=(pitch, pitch), arms_roll=(0.05, 0.05), elbows=(0.2, 0.2), lean=0.35 * _ramp(s, 0.62, 0.74) - 0.15 * _ramp(s, 0.0, 0.62), crouch=0.15 * _ramp(s, 0.62, 0.74))
    if name == "thrust":
        reach = _ramp(s, 0.2, 0.5) - _ramp(s, 0.7, 1.0)
        return _humanoid(arms_pitch=(0.3, 1.57 * reach), elbows=(0.5, 1.4 * (1 - reach)), lean=0.25 * reach, hips=(0.4 * reach, -0.2 * reach))
    if name == "spin_attack":
        out = _ramp(s, 0.0, 0.2) - _ramp(s, 0.85, 1.0)
        return _humanoid(arms_roll=(1.2 * out + 0.15, 1.5 * out + 0.15), elbows=(0.1, 0.1), crouch=0.12 * out, knees=(0.3 * out, 0.3 * out), hips=(0.2 * out, 0.2 * out))
    if name == "charge_blast":
        hold = _ramp(s, 0.0, 0.3) - _ramp(s, 0.85, 1.0)
        return _humanoid(arms_pitch=(1.45 * hold, 1.45 * hold), arms_roll=(0.05, 0.05), elbows=(0.1, 0.1), crouch=0.12 * hold, knees=(0.35 * hold, 0.35 * hold), hips=(0.2 * hold, 0.2 * hold))
    if name == "heal":
        drink = _ramp(s, 0.1, 0.45) - _ramp(s, 0.7, 0.95)
        return _humanoid(arms_pitch=(0.1, 2.2 * drink), elbows=(0.2, 2.1 * drink + 0.2), lean=-0.15 * drink)
    if name == "war_cry":
        up = _ramp(s, 0.1, 0.45) - _ramp(s, 0.8, 1.0)
        return _humanoid(arms_pitch=(2.9 * up, 2.9 * up), arms_roll=(0.5 * up + 0.15, 0.5 * up + 0.15), lean=-0.25 * up, crouch=0.05 * up)
    if name == "guard":
        block = _ramp(s, 0.0, 0.25) - _ramp(s, 0.8, 1.0)
        return _humanoid(arms_pitch=(1.3 * block, 1.3 * block), elbows=(1.4 * block + 0.2, 1.4 * block + 0.2), arms_roll=(-0.3 * block, -0.3 * block), crouch=0.1 * block, knees=(0.3 * block, 0.3 * block))
    raise KeyError(f"no pose for action {name!r}")


def weapon_pose(player_joints: np.ndarray, weapon_id: int) -> np.ndarray:
    """Weapon joints (same frame as ``player_joints``) held in the right hand along the forearm."""
    elbow, wrist = player_joints[PLAYER.index("r_elbow")], player_joints[PLAYER.index("r_wrist")]
    direction = wrist - elbow
    direction = direction / max(float(np.linalg.norm(direction)), 1e-9)
    offsets = np.asarray(WEAPON_OFFSETS[weapon_id])
    joints = wrist + offsets[:, None] * direction
    if weapon_id == 7:  # hammer head: two joints across the shaft
        side = np.cross(direction, [0.0, 1.0, 0.0])
        norm = float(np.linalg.norm(side))
        side = side / norm if norm > 1e-6 else np.array([1.0, 0.0, 0.0])
        joints[3] = joints[2] + 0.22 * side
        joints[4] = joints[2] - 0.22 * side
    return joints


def _quadruped(motion: MonsterMotion, s: float) -> np.ndarray:
    gait = {"walk": 1.0, "enter": 1.0, "charge": 2.0, "tired": 0.3}.get(motion.name, 0.0)
    low = {"stunned": 0.9 * math.sin(math.pi * min(1.0, 3 * s)), "tired": 0.35}.get(motion.name, 0.0)
    head_up = {"roar": 0.9 * math.sin(math.pi * s)}.get(motion.name, 0.0)
    swipe = {"swipe": math.sin(TAU * s)}.get(motion.name, 0.0)
    breathe = 0.05 * math.sin(TAU * s * 2)
    base = np.array([
        [0, 1.8, -1.2], [0, 1.95, 0.0], [0, 2.0, 1.2], [0, 2.4, 2.2], [0, 2.6, 3.0], [0, 2.3, 3.4],
        [0, 1.7, -2.4], [0, 1.5, -3.5], [0, 1.2, -4.5],
        [-0.7, 1.9, 1.2], [-0.8, 1.0, 1.3], [-0.8, 0.12, 1.2], [0.7, 1.9, 1.2], [0.8, 1.0, 1.3], [0.8, 0.12, 1.2],
        [-0.7, 1.8, -1.2], [-0.8, 0.9, -1.0], [-0.8, 0.12, -1.3], [0.7, 1.8, -1.2], [0.8, 0.9, -1.0], [0.8, 0.12, -1.3],
    ], dtype=np.float64)
    joints = base.copy()
    body = [0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 12, 15, 18]
    joints[body, 1] += breathe - low
    joints[[10, 13, 16, 19], 1] -= 0.5 * low
    joints[[3, 4, 5], 1] += head_up * np.array([0.5, 1.0, 0.9])
    joints[[3, 4, 5], 0] += swipe * np.array([0.6, 1.3, 1.5])
    joints[5, 1] -= 0.35 * head_up
    joints[[6, 7, 8], 0] += 0.4 * math.sin(TAU * s) * np.array([0.3, 0.7, 1.2]) - swipe * np.array([0.3, 0.6, 1.0])
    for leg, offset in ((9, 0.0), (12, 0.5), (15, 0.5), (18, 0.0)):
        w = math.sin(TAU * (gait * s + offset)) if gait else 0.0
        joints[leg + 1, 2] += 0.45 * w
        joints[leg + 2, 2] += 0.8 * w
        joints[leg + 2, 1] += 0.25 * max(w, 0.0)
    return joints


def _flyer(motion: MonsterMotion, s: float) -> np.ndarray:
    flap_rate = {"walk": 1.0, "enter": 3.0, "charge": 4.0, "roar": 2.0, "swipe": 2.0}.get(motion.name, 0.5)
    flap = math.sin(TAU * flap_rate * s)
    low = {"stunned": 0.8 * math.sin(math.pi * min(1.0, 3 * s)), "tired": 0.3}.get(motion.name, 0.0)
    peck = {"swipe": math.sin(math.pi * s)}.get(motion.name, 0.0)
    joints = np.array([
        [0, 2.2, 0.0], [0, 2.6, 0.8], [0, 3.2, 1.4], [0, 3.5, 1.9], [0, 3.4, 2.5], [0, 2.0, -1.0], [0, 1.8, -2.0],
        [-1.2, 2.8, 0.6], [-2.6, 3.0, 0.4], [-4.0, 2.8, 0.0], [1.2, 2.8, 0.6], [2.6, 3.0, 0.4], [4.0, 2.8, 0.0],
        [-0.4, 2.0, 0.0], [-0.45, 1.1, 0.3], [-0.45, 0.1, 0.1], [0.4, 2.0, 0.0], [0.45, 1.1, 0.3], [0.45, 0.1, 0.1],
    ], dtype=np.float64)
    joints[:13, 1] -= low
    joints[[8, 11], 1] += 0.6 * flap
    joints[[9, 12], 1] += 1.3 * flap
    joints[[2, 3, 4], 2] += peck * np.array([0.4, 0.9, 1.2])
    joints[[2, 3, 4], 1] -= peck * np.array([0.3, 0.8, 1.0])
    return joints


def _serpent(motion: MonsterMotion, s: float) -> np.ndarray:
    speed = {"walk": 1.0, "enter": 1.0, "charge": 2.5, "tired": 0.3}.get(motion.name, 0.4)
    rise = {"roar": math.sin(math.pi * s), "swipe": math.sin(math.pi * s)}.get(motion.name, 0.0)
    low = {"stunned": 0.3}.get(motion.name, 0.0)
    z = np.linspace(-5.0, 4.5, 11)
    x = 0.8 * np.sin(TAU * (z / 6.0 - speed * s))
    y = 0.55 - low + 0.0 * z
    y[-3:] += rise * np.array([0.5, 1.2, 2.0])
    joints = np.stack([x, y, z], axis=1)
    head = joints[-1] + np.array([0.0, 0.3 + 0.8 * rise, 1.0])
    return np.vstack([joints, head])


def monster_pose(species: int, motion: MonsterMotion, phase: float) -> np.ndarray:
    """Body-frame joints of a monster of ``species`` playing ``motion`` at frame ``phase``."""
    s = (phase % motion.length) / motion.length
    if species == 21:
        return _quadruped(motion, s)
    if species == 37:
        return _flyer(motion, s)
    if species == 53:
        return _serpent(motion, s)
    raise KeyError(f"no monster species {species}")
