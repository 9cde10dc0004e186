"""The synthetic world's third-person camera: a follow rig that keeps the tracked player framed.

Each frame, from what the world looks like (a :class:`Shot`):

1. **Boom.** The goal is ``DISTANCE`` behind the tracked player, on the far side from the
   lock-on target (the nearest monster's body; the player's back when there is none or it is
   on top of the player), with a slow orbit. When that boom is blocked, the goal becomes the
   clearest of a fixed fan of bearings, nearer ones to the camera preferred (so the rig
   settles at the edge of an obstacle instead of hunting). The boom's bearing leads the
   camera's by at most ``ORBIT_LEAD``, so the camera swings around the player, never through.
2. **Occluders.** That boom, and the camera's current line of sight, are cast from the
   player's chest; the first box, monster or companion they meet (inflated by a margin, so
   that the rig reacts before the view is cut) shortens the boom: the camera moves in front of
   the obstacle. One nearer than ``MIN_BOOM`` to the player cannot be got in front of and is
   left to the bearing search.
3. **Follow.** The position follows the boom's end with a critically damped spring (the exact
   solution over one frame: no overshoot, stiffer when pulling in), sliding along props
   instead of entering them, never moving more than ``MAX_MOVE`` per frame, nor faster around
   the player than the camera can turn to keep it framed.
4. **Aim.** From its new position the camera turns part of the way towards the player's chest
   pulled a fraction towards the lock-on target; the turn is then corrected so that the chest
   stays inside the central safe region (the target may pull the view, never push the player
   out); never more than ``MAX_TURN`` per frame. The camera never rolls.

So pans are smooth and there are no cuts. The pose is world state written to state.csv
(``camera.pos``, ``camera.rot``). The spring's velocity is not a column: it is the difference
of the last two positions, restored from the previous row; where that row's camera is not
written (frame 0, an invalid-camera row) the spring starts from rest, in the simulation too.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np

from ..errors import OptionError
from ._sightlines import free_lengths

__all__ = [
    "Shot",
    "start_pose",
    "follow",
    "camera_velocity",
    "intrinsics",
    "camera_quaternion",
    "forward_angles",
    "MAX_TURN",
    "MAX_MOVE",
    "SAFE_REGION",
]

DISTANCE = 6.0  # boom length, metres from the player's chest
HEIGHT = 2.5  # boom end above the player's ground point
CHEST = 1.25  # aim height above the player's root on the ground
MIN_BOOM = 1.4  # the closest an occluder may pull the camera in
BOX_MARGIN = 0.9  # boxes are inflated by this much for the boom cast
BODY_MARGIN = 0.45  # monster and companion spheres, likewise
CAMERA_CLEARANCE = 0.15  # the camera keeps this far from every prop
LOCK_PULL = 0.3  # fraction of the way from the chest to the lock-on target the aim moves
LOCK_RANGE = 25.0  # lock-on targets further than this do not pull the view
SPRING_RATE = 0.3  # critically damped spring angular frequency, per frame
PULL_IN_RATE = 0.7  # stiffer when an occluder shortens the boom
ORBIT_LEAD = math.radians(15.0)  # the boom's bearing leads the camera's by at most this much
FREE_ENOUGH = 0.85  # a goal boom this free (fraction of its length) is taken without searching
SEARCH_BEARINGS = np.radians(np.arange(-180.0, 180.0, 15.0))
SEARCH_COST = 0.12  # free fraction a bearing must gain per radian further from the camera
TURN_FOLLOW = 0.25  # fraction of the aim error the camera turns per frame
MAX_TURN = math.radians(2.5)  # camera rotation per frame, at most
MAX_MOVE = 0.35  # camera translation per frame, at most (metres)
MAX_ACCELERATION = 0.1  # change of the camera's move per frame, at most (metres per frame)
SAFE_REGION = 0.5  # the chest stays within this fraction of the half image from the centre
PITCH_RANGE = (math.radians(-45.0), math.radians(15.0))


@dataclass(frozen=True)
class Shot:
    """What the rig frames on one frame (world coordinates, metres)."""

    subject: np.ndarray  # (3,) the tracked player's root; y is its lift above the ground
    subject_yaw: float
    lock_on: np.ndarray | None  # (3,) the lock-on target's body centre on the ground, or None
    occluder_centers: np.ndarray  # (S, 3) spheres of other bodies (monsters, companions)
    occluder_radii: np.ndarray  # (S,)
    box_min: np.ndarray  # (B, 3) static props
    box_max: np.ndarray  # (B, 3)
    K: np.ndarray  # (4,) fx fy cx cy of this frame
    frame: int
    seed: int

    def __post_init__(self) -> None:
        if np.shape(self.subject) != (3,) or np.shape(self.K) != (4,):
            raise OptionError(f"subject {np.shape(self.subject)} and K {np.shape(self.K)} must be (3,) and (4,)")
        if len(self.occluder_centers) != len(self.occluder_radii) or len(self.box_min) != len(self.box_max):
            raise OptionError("occluder centres/radii and box min/max must have matching lengths")

    @property
    def chest(self) -> np.ndarray:
        return np.array([self.subject[0], self.subject[1] + CHEST, self.subject[2]])

    def safe_angles(self) -> tuple[float, float]:
        """Half-widths (radians) of the safe region around the optical axis at this zoom."""
        fx, fy, cx, cy = (float(v) for v in self.K)
        return math.atan(SAFE_REGION * cx / fx), math.atan(SAFE_REGION * cy / fy)


# ----------------------------------------------------------------------------- angles


def camera_quaternion(yaw: float, pitch: float) -> np.ndarray:
    """Camera-to-world quaternion (x, y, z, w), OpenGL frame, of a roll-free camera whose
    forward axis is ``(cos p sin y, sin p, cos p cos y)``: ``R = Ry(yaw + pi) Rx(pitch)``."""
    half_y, half_p = 0.5 * (yaw + math.pi), 0.5 * pitch
    cy, sy, cp, sp = math.cos(half_y), math.sin(half_y), math.cos(half_p), math.sin(half_p)
    q = np.array([cy * sp, sy * cp, -sy * sp, cy * cp])
    return -q if q[3] < 0 else q


def forward_angles(rotation) -> tuple[float, float]:
    """(yaw, pitch) of a camera-to-world quaternion's viewing direction (its -z axis)."""
    x, y, z, w = (float(v) for v in rotation)
    norm = x * x + y * y + z * z + w * w
    fx, fy, fz = -2.0 * (x * z + w * y) / norm, -2.0 * (y * z - w * x) / norm, -(1.0 - 2.0 * (x * x + y * y) / norm)
    return math.atan2(fx, fz), math.asin(max(-1.0, min(1.0, fy / math.sqrt(fx * fx + fy * fy + fz * fz))))


def _angles_to(source: np.ndarray, target: np.ndarray) -> tuple[float, float]:
    d = target - source
    return math.atan2(d[0], d[2]), math.atan2(d[1], math.hypot(d[0], d[2]))


def _wrap(angle):
    return (angle + math.pi) % (2.0 * math.pi) - math.pi


def _clamp(value: float, low: float, high: float) -> float:
    return max(low, min(high, value))


def _rotation_angle(a: np.ndarray, b: np.ndarray) -> float:
    return 2.0 * math.acos(min(1.0, abs(float(np.dot(a, b)))))


# ----------------------------------------------------------------------------- boom


def _goal_bearing(shot: Shot) -> float:
    """Bearing (yaw of the player -> camera direction) the lock-on asks for."""
    back = -np.array([math.sin(shot.subject_yaw), 0.0, math.cos(shot.subject_yaw)])
    if shot.lock_on is not None:
        away = shot.subject - np.asarray(shot.lock_on, dtype=np.float64)
        distance = math.hypot(away[0], away[2])
        weight = _clamp((distance - 1.5) / 2.0, 0.0, 1.0)
        if distance > 1e-6:
            back = weight * np.array([away[0], 0.0, away[2]]) / distance + (1.0 - weight) * back
    if math.hypot(back[0], back[2]) < 1e-6:
        back = -np.array([math.sin(shot.subject_yaw), 0.0, math.cos(shot.subject_yaw)])
    orbit = 0.35 * math.sin(shot.frame * 0.013 + shot.seed % 97)
    return math.atan2(back[0], back[2]) + orbit


def _booms(shot: Shot, bearings: np.ndarray) -> np.ndarray:
    """``(K, 3)`` boom vectors from the chest at ``bearings``."""
    lift = float(shot.subject[1])
    ends = np.stack([shot.subject[0] + DISTANCE * np.sin(bearings), np.full(len(bearings), HEIGHT + 0.5 * lift),
                     shot.subject[2] + DISTANCE * np.cos(bearings)], axis=1)
    return ends - shot.chest


def _free(shot: Shot, vectors: np.ndarray) -> np.ndarray:
    """``(K,)`` free fraction of each line from the chest along ``vectors``."""
    chest = shot.chest
    lengths = np.sqrt(np.einsum("kj,kj->k", vectors, vectors))
    free = free_lengths(chest, chest + vectors, box_min=shot.box_min, box_max=shot.box_max, box_margin=BOX_MARGIN,
                        centers=shot.occluder_centers, radii=shot.occluder_radii, body_margin=BODY_MARGIN)
    return np.minimum(free / lengths, 1.0)


def _wanted_position(shot: Shot, camera: np.ndarray | None) -> np.ndarray:
    chest = shot.chest
    goal = _goal_bearing(shot)
    current = goal if camera is None else math.atan2(camera[0] - shot.subject[0], camera[2] - shot.subject[2])
    bearings = np.concatenate([[goal], SEARCH_BEARINGS])
    free = _free(shot, _booms(shot, bearings))
    if free[0] < FREE_ENOUGH:  # blocked: the clearest bearing, nearer ones preferred (ties: the goal)
        goal = float(bearings[int(np.argmax(free - SEARCH_COST * np.abs(_wrap(bearings - current))))])
    lead = _clamp(_wrap(goal - current), -ORBIT_LEAD, ORBIT_LEAD)
    booms = _booms(shot, np.array([current + lead, current - lead]))
    length = float(np.linalg.norm(booms[0]))
    lines = list(booms)
    if camera is not None:  # the line of sight the camera has now counts too
        sight = camera - chest
        lines.append(sight * (length / max(float(np.linalg.norm(sight)), 1e-9)))
    free = _free(shot, np.asarray(lines))
    # Towards the goal, unless the way there is blocked next to the player (an obstacle the
    # camera could not get in front of) and the other way round is not: circle that way.
    usable = free[:2] * length >= MIN_BOOM
    way = 1 if not usable[0] and usable[1] else 0
    fraction = float(min(free[way], free[2])) if camera is not None else float(free[way])
    return chest + booms[way] * (fraction if fraction * length >= MIN_BOOM else 1.0)


def _spring(position: np.ndarray, velocity: np.ndarray, target: np.ndarray, rate: float) -> np.ndarray:
    """One frame of a critically damped spring (exact for a target held over the frame)."""
    offset = position - target
    return target + (offset + (velocity + rate * offset)) * math.exp(-rate)


def _slide(shot: Shot, position: np.ndarray, step: np.ndarray) -> np.ndarray:
    """``step`` without the components that would take the camera into a box: it slides along
    the faces instead, so the camera never enters a prop."""
    lo, hi = shot.box_min - CAMERA_CLEARANCE, shot.box_max + CAMERA_CLEARANCE
    moved = position + step
    for box in np.flatnonzero(((moved > lo) & (moved < hi)).all(axis=1)):
        step = np.where((position <= lo[box]) | (position >= hi[box]), 0.0, step)
    return step


def _yaw_error(shot: Shot, position: np.ndarray, yaw: float) -> float:
    """How far (radians) the chest seen from ``position`` is to the side of what one frame's
    turn from ``yaw`` can bring into the safe region; 0 when it can."""
    chest_yaw, _ = _angles_to(position, shot.chest)
    return max(abs(_wrap(chest_yaw - yaw)) - shot.safe_angles()[0] - 0.8 * MAX_TURN, 0.0)


def _within_turn(shot: Shot, position: np.ndarray, step: np.ndarray, yaw: float) -> np.ndarray:
    """``step`` with its part around the player shortened where it would carry the camera
    sideways faster than the camera can turn to keep the player framed. Moves towards or away
    from the player are kept (backing off is how the rig lets a charging player stay framed),
    and so is the player's own motion: only what the step adds counts."""
    if _yaw_error(shot, position + step, yaw) == 0.0:
        return step
    away = position - shot.chest
    away[1] = 0.0
    norm = float(np.linalg.norm(away))
    if norm < 1e-9:
        return step
    away /= norm
    radial = np.dot(step, away) * away
    radial[1] = step[1]
    sideways = step - radial
    allowed = _yaw_error(shot, position + radial, yaw)
    for scale in (1.0, 0.5, 0.25, 0.125):
        if _yaw_error(shot, position + radial + scale * sideways, yaw) <= allowed:
            return radial + scale * sideways
    return radial


# ----------------------------------------------------------------------------- aim


def _aim_angles(shot: Shot, position: np.ndarray, yaw: float, pitch: float, *, smooth: bool) -> tuple[float, float]:
    """The camera's (yaw, pitch) after this frame's turn from (yaw, pitch)."""
    chest = shot.chest
    aim = chest
    if shot.lock_on is not None and math.hypot(*(shot.lock_on - shot.subject)[[0, 2]]) < LOCK_RANGE:
        aim = chest + LOCK_PULL * (np.asarray(shot.lock_on, dtype=np.float64) + np.array([0.0, CHEST, 0.0]) - chest)
    aim_yaw, aim_pitch = _angles_to(position, aim)
    if smooth:
        yaw, pitch = yaw + TURN_FOLLOW * _wrap(aim_yaw - yaw), pitch + TURN_FOLLOW * (aim_pitch - pitch)
    else:
        yaw, pitch = aim_yaw, aim_pitch
    half_x, half_y = shot.safe_angles()
    chest_yaw, chest_pitch = _angles_to(position, chest)
    yaw = chest_yaw - _clamp(_wrap(chest_yaw - yaw), -half_x, half_x)
    pitch = _clamp(chest_pitch - _clamp(chest_pitch - pitch, -half_y, half_y), *PITCH_RANGE)
    return _wrap(yaw), pitch


def _limit_turn(rotation: np.ndarray, yaw: float, pitch: float, new_yaw: float, new_pitch: float) -> np.ndarray:
    """The rotation towards (new_yaw, new_pitch), shortened to turn at most ``MAX_TURN``."""
    d_yaw, d_pitch = _wrap(new_yaw - yaw), new_pitch - pitch
    scale = 1.0
    for _ in range(6):  # the angle is close to linear in the scale: one or two rounds suffice
        candidate = camera_quaternion(yaw + scale * d_yaw, pitch + scale * d_pitch)
        angle = _rotation_angle(rotation, candidate)
        if angle <= MAX_TURN:
            return candidate
        scale *= 0.999 * MAX_TURN / angle
    return rotation


# ----------------------------------------------------------------------------- the rig


def start_pose(shot: Shot) -> tuple[np.ndarray, np.ndarray]:
    """The rig at rest on its wanted pose: position (3,) and camera-to-world quaternion (4,)."""
    position = _wanted_position(shot, None)
    yaw, pitch = _aim_angles(shot, position, 0.0, 0.0, smooth=False)
    return position, camera_quaternion(yaw, pitch)


def follow(position, velocity, rotation, shot: Shot) -> tuple[np.ndarray, np.ndarray]:
    """One frame of camera motion; ``velocity`` is the last frame's move (metres per frame)."""
    position = np.asarray(position, dtype=np.float64)
    velocity = np.asarray(velocity, dtype=np.float64)
    rotation = np.asarray(rotation, dtype=np.float64)
    wanted = _wanted_position(shot, position)
    pulling_in = float(np.linalg.norm(wanted - shot.chest)) < float(np.linalg.norm(position - shot.chest)) - 0.05
    step = _spring(position, velocity, wanted, PULL_IN_RATE if pulling_in else SPRING_RATE) - position
    change = step - velocity
    size = float(np.linalg.norm(change))
    if size > MAX_ACCELERATION:
        step = velocity + change * (MAX_ACCELERATION / size)
    step = _slide(shot, position, step)
    length = float(np.linalg.norm(step))
    if length > MAX_MOVE:
        step *= MAX_MOVE / length
    yaw, pitch = forward_angles(rotation)
    new_position = position + _within_turn(shot, position, step, yaw)
    new_yaw, new_pitch = _aim_angles(shot, new_position, yaw, pitch, smooth=True)
    return new_position, _limit_turn(rotation, yaw, pitch, new_yaw, new_pitch)


def camera_velocity(position, previous) -> tuple[float, float, float]:
    """The spring's velocity: the last move, ``position - previous`` (metres per frame), or
    rest where the previous position is not known (``None``: frame 0, an unwritten row)."""
    if previous is None:
        return (0.0, 0.0, 0.0)
    return tuple(float(a) - float(b) for a, b in zip(position, previous))


def intrinsics(width: int, height: int, frame: int) -> np.ndarray:
    """(fx, fy, cx, cy): a slow zoom oscillation, so K varies per frame."""
    zoom = 1.0 + 0.08 * math.sin(frame * 0.021)
    f = 0.8 * width * zoom
    return np.array([f, f, width / 2.0, height / 2.0])
