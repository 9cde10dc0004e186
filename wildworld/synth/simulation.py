"""The synthetic world's dynamics: frozen states, one ``step`` function, scripted policies.

Design for re-simulation: every random decision draws from a counter-based generator keyed by
(sample seed, frame, purpose), never from a running RNG, and every dynamic variable is written
to state.csv. So the world at any frame is fully determined by that frame's annotations plus
the sample's :class:`Script` (kept in the part's ``synthetic_world.json``; the camera pose is
restored from ``camera.pos``/``camera.rot`` and its spring's velocity from the previous row's
``camera.pos``, so frames with an invalid camera cannot be restored), and it can be restored
and stepped forward with the recorded actions (which reproduces the sample) or with any other
actions (a counterfactual future).
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field, replace
from typing import Sequence

import numpy as np

from .actions import ACTIONS_BY_KEY, ACTIONS_BY_NAME, ActionSpec, MonsterMotion, monster_motion
from .bodies import body_spheres, monster_joints, player_joints
from .camera import Shot, camera_velocity, follow, intrinsics, start_pose
from .scene import make_scene
from .skeletons import MONSTERS, PLAYER

__all__ = [
    "Script",
    "MonsterSlot",
    "PlayerState",
    "MonsterState",
    "WorldState",
    "Command",
    "initial_state",
    "step",
    "simulate",
    "monster_bank",
    "ARENA_RADIUS",
    "MONSTER_RADIUS",
    "MONSTER_MAX_HP",
]

ARENA_RADIUS = 30.0
#: Body radius per species (metres), for reach and distance tests.
MONSTER_RADIUS = {21: 2.0, 37: 1.6, 53: 1.8}
#: A player's body radius (metres) against the props.
PLAYER_RADIUS = 0.45
MONSTER_MAX_HP = {21: 4000.0, 37: 3000.0, 53: 5000.0}
_PLAYER_BASE_ATK = 100.0

#: ``(motion_bank_id, motion_id)`` to start on the next frame; ``None`` lets the policy decide.
Command = tuple[int, int] | None


def monster_bank(species: int) -> int:
    return 100 + species


def _rng(seed: int, frame: int, purpose: int) -> np.random.Generator:
    """Counter-based randomness: the same (seed, frame, purpose) always gives the same draws."""
    return np.random.default_rng([seed & 0xFFFFFFFF, frame, purpose])


@dataclass(frozen=True)
class MonsterSlot:
    """A monster.list slot: which species, and the frames during which it is present."""

    species: int
    enter: int
    leave: int  # exclusive; the slot is empty from this frame on

    def present(self, frame: int) -> bool:
        return self.enter <= frame < self.leave


@dataclass(frozen=True)
class Script:
    """Everything about a sample that is not in its annotations (saved as JSON)."""

    seed: int
    frames: int
    width: int
    height: int
    fps: float = 30.0
    tracked_slot: int = 0
    companion: bool = False
    weapon_id: int = 3
    player_type_id: int = 1
    companion_type_id: int = 2
    monsters: tuple[MonsterSlot, ...] = ()
    invalid_camera: tuple[tuple[int, int], ...] = ()  # [start, end) frame ranges
    scene_seed: int = 0
    start_position: tuple[float, float] = (0.0, 0.0)

    def to_json(self) -> dict:
        data = {k: getattr(self, k) for k in self.__dataclass_fields__}
        data["monsters"] = [m.__dict__ for m in self.monsters]
        data["invalid_camera"] = [list(r) for r in self.invalid_camera]
        data["start_position"] = list(self.start_position)
        return data

    @classmethod
    def from_json(cls, data: dict) -> "Script":
        values = dict(data)
        values["monsters"] = tuple(MonsterSlot(**m) for m in data.get("monsters", ()))
        values["invalid_camera"] = tuple(tuple(r) for r in data.get("invalid_camera", ()))
        values["start_position"] = tuple(data.get("start_position", (0.0, 0.0)))
        return cls(**values)

    def camera_invalid(self, frame: int) -> bool:
        return any(a <= frame < b for a, b in self.invalid_camera)

    @property
    def player_slots(self) -> tuple[int, ...]:
        return (0, 1) if self.companion else (0,)


@dataclass(frozen=True)
class PlayerState:
    slot: int
    type_id: int
    member_id: int
    weapon_id: int
    pos: tuple[float, float, float]
    yaw: float
    action: tuple[int, int]
    phase: float
    hp: float
    max_hp: float
    red_hp: float
    sp: float
    max_sp: float
    atk: float
    stats: tuple[float, ...] = field(default=(250.0, 0.0, 120.0, 0.15, 1.25, 60.0, 3.0, 0.0, -2.0, 1.0, 0.0))

    @property
    def spec(self) -> ActionSpec:
        return ACTIONS_BY_KEY[self.action]


#: Names of PlayerState.stats in state.csv order (after atk).
PLAYER_STAT_NAMES = ("wp_atk", "attr", "wp_attr", "crit_rate", "crit_atk_rate", "def", "resist_fire", "resist_water", "resist_ice", "resist_elec", "resist_dragon")


@dataclass(frozen=True)
class MonsterState:
    slot: int
    species: int
    pos: tuple[float, float, float]
    yaw: float
    motion_id: int
    phase: float
    hp: float
    max_hp: float

    @property
    def motion(self) -> MonsterMotion:
        return monster_motion(self.motion_id)

    @property
    def cond(self) -> str:
        name = self.motion.name
        if name == "stunned":
            return "stun"
        if name == "tired":
            return "tired"
        if self.hp < 0.5 * self.max_hp:
            return "angry"
        return "none"


@dataclass(frozen=True)
class WorldState:
    frame: int
    players: tuple[PlayerState, ...]
    monsters: tuple[MonsterState | None, ...]
    camera_pos: tuple[float, float, float] = (0.0, 0.0, 0.0)
    camera_rot: tuple[float, float, float, float] = (0.0, 0.0, 0.0, 1.0)
    #: The camera's last move (metres per frame): ``camera_pos`` minus the previous frame's,
    #: zero where the previous row's camera is not written (see :mod:`.camera`).
    camera_vel: tuple[float, float, float] = (0.0, 0.0, 0.0)

    def player(self, slot: int) -> PlayerState:
        return self.players[slot]


# ----------------------------------------------------------------------------- helpers


def _forward(yaw: float) -> np.ndarray:
    return np.array([math.sin(yaw), 0.0, math.cos(yaw)])


def _yaw_to(src: Sequence[float], dst: Sequence[float]) -> float:
    return math.atan2(dst[0] - src[0], dst[2] - src[2])


def _turn(yaw: float, target: float, rate: float) -> float:
    delta = (target - yaw + math.pi) % (2 * math.pi) - math.pi
    return yaw + max(-rate, min(rate, delta))


def _flat_distance(a: Sequence[float], b: Sequence[float]) -> float:
    return math.hypot(a[0] - b[0], a[2] - b[2])


def _walkable(pos: np.ndarray, script: Script, radius: float) -> tuple[float, float, float]:
    """``pos`` kept inside the arena and out of the props (a body stops at a box and slides)."""
    pos = np.array(pos, dtype=np.float64)
    r = math.hypot(pos[0], pos[2])
    if r > ARENA_RADIUS:
        pos = pos * np.array([ARENA_RADIUS / r, 1.0, ARENA_RADIUS / r])
    return make_scene(script.scene_seed).keep_out(pos, radius)


def _nearest_monster(state: WorldState, pos: Sequence[float]) -> MonsterState | None:
    present = [m for m in state.monsters if m is not None]
    if not present:
        return None
    return min(present, key=lambda m: _flat_distance(m.pos, pos))


def _waypoint(script: Script, frame: int) -> tuple[float, float, float]:
    rng = _rng(script.seed, frame // 240, 7)
    angle, radius = rng.uniform(0, 2 * math.pi), rng.uniform(4.0, ARENA_RADIUS * 0.7)
    return (radius * math.cos(angle), 0.0, radius * math.sin(angle))


# ----------------------------------------------------------------------------- initial state


def _new_monster(slot: int, species: int, script: Script, frame: int, player_pos) -> MonsterState:
    rng = _rng(script.seed, frame, 100 + slot)
    angle = rng.uniform(0, 2 * math.pi)
    distance = rng.uniform(10.0, 16.0)
    pos = (player_pos[0] + distance * math.cos(angle), 0.0, player_pos[2] + distance * math.sin(angle))
    return MonsterState(
        slot=slot, species=species, pos=_walkable(np.array(pos), script, MONSTER_RADIUS[species]), yaw=_yaw_to(pos, player_pos),
        motion_id=monster_motion("enter").motion_id, phase=0.0,
        hp=MONSTER_MAX_HP[species], max_hp=MONSTER_MAX_HP[species],
    )


def initial_state(script: Script) -> WorldState:
    """The world at frame 0 of a sample."""
    rng = _rng(script.seed, 0, 1)
    x0, z0 = script.start_position
    players = []
    for slot in script.player_slots:
        tracked = slot == script.tracked_slot
        offset = np.array([0.0, 0.0, 0.0]) if tracked else np.array([1.8, 0.0, -1.2])
        players.append(
            PlayerState(
                slot=slot,
                type_id=script.player_type_id if tracked else script.companion_type_id,
                member_id=100 + 7 * slot + 3,
                weapon_id=script.weapon_id if tracked else 0,
                pos=_walkable(np.array([x0 + offset[0], 0.0, z0 + offset[2]]), script, PLAYER_RADIUS),
                yaw=float(rng.uniform(-math.pi, math.pi)),
                action=ACTIONS_BY_NAME["idle"].key,
                phase=0.0,
                hp=150.0, max_hp=150.0, red_hp=150.0, sp=150.0, max_sp=150.0, atk=_PLAYER_BASE_ATK,
            )
        )
    state = WorldState(frame=0, players=tuple(players), monsters=tuple(None for _ in script.monsters))
    monsters = tuple(
        _new_monster(i, slot.species, script, 0, players[script.tracked_slot if script.companion else 0].pos)
        if slot.present(0) else None
        for i, slot in enumerate(script.monsters)
    )
    state = replace(state, monsters=monsters)
    position, rotation = start_pose(_shot(script, state))
    return replace(state, camera_pos=tuple(map(float, position)), camera_rot=tuple(map(float, rotation)))


def _shot(script: Script, state: WorldState) -> Shot:
    """What the camera frames on ``state``: the tracked player, its lock-on target (the nearest
    monster's body centre on the ground), the bodies that may stand in between (monsters,
    companions) and the static props."""
    tracked = state.players[script.tracked_slot]
    nearest = _nearest_monster(state, tracked.pos)
    lock_on = None
    spheres = [body_spheres(player_joints(p.action, p.phase, p.pos, p.yaw), PLAYER)
               for p in state.players if p.slot != script.tracked_slot]
    for monster in state.monsters:
        if monster is None:
            continue
        joints = monster_joints(monster.species, monster.motion, monster.phase, monster.pos, monster.yaw)
        spheres.append(body_spheres(joints, MONSTERS[monster.species]))
        if monster is nearest:
            lock_on = np.array([joints[:, 0].mean(), 0.0, joints[:, 2].mean()])
    scene = make_scene(script.scene_seed)
    return Shot(
        subject=np.array(tracked.pos, dtype=np.float64),
        subject_yaw=tracked.yaw,
        lock_on=lock_on,
        occluder_centers=np.concatenate([s.centers for s in spheres]) if spheres else np.zeros((0, 3)),
        occluder_radii=np.concatenate([s.radii for s in spheres]) if spheres else np.zeros(0),
        box_min=scene.box_min,
        box_max=scene.box_max,
        K=intrinsics(script.width, script.height, state.frame),
        frame=state.frame,
        seed=script.seed,
    )


# ----------------------------------------------------------------------------- policies


def _player_policy(script: Script, state: WorldState, player: PlayerState) -> ActionSpec:
    """The scripted hunter: heal when hurt, rest when tired, close in, then attack."""
    rng = _rng(script.seed, state.frame, 11 + player.slot)
    u = rng.uniform()
    tracked = player.slot == script.tracked_slot
    if not tracked:  # the companion keeps near the tracked player
        leader = state.players[script.tracked_slot]
        dist = _flat_distance(leader.pos, player.pos)
        return ACTIONS_BY_NAME["run" if dist > 6 else "walk" if dist > 2.5 else "idle"]
    monster = _nearest_monster(state, player.pos)
    if player.hp < 0.45 * player.max_hp and u < 0.6:
        return ACTIONS_BY_NAME["heal"]
    if player.sp < 25:
        return ACTIONS_BY_NAME["idle" if u < 0.6 else "walk"]
    if monster is None:
        choices = ["walk", "run", "run", "jump", "idle", "turn_around"]
        return ACTIONS_BY_NAME[choices[int(rng.integers(len(choices)))]]
    dist = _flat_distance(monster.pos, player.pos) - MONSTER_RADIUS[monster.species]
    facing = abs((_yaw_to(player.pos, monster.pos) - player.yaw + math.pi) % (2 * math.pi) - math.pi)
    if monster.motion.name in ("charge", "swipe") and dist < 4.0 and u < 0.5:
        return ACTIONS_BY_NAME["dodge_roll" if u < 0.3 else "guard"]
    if dist > 9.0:
        return ACTIONS_BY_NAME["run" if u < 0.7 else "charge_blast" if facing < 0.4 else "walk"]
    if dist > 2.4:
        pick = ["walk", "run", "thrust", "charge_blast", "war_cry", "jump"]
        weights = np.array([3, 3, 2, 1.5 if facing < 0.4 else 0, 1, 0.5])
        return ACTIONS_BY_NAME[pick[int(rng.choice(len(pick), p=weights / weights.sum()))]]
    if facing > 2.0 and u < 0.4:
        return ACTIONS_BY_NAME["turn_around"]
    pick = ["light_slash", "heavy_slash", "thrust", "spin_attack", "war_cry", "guard", "dodge_roll"]
    weights = np.array([4, 2.5, 2, 1.5, 0.5, 0.5, 0.7])
    return ACTIONS_BY_NAME[pick[int(rng.choice(len(pick), p=weights / weights.sum()))]]


def _monster_policy(script: Script, state: WorldState, monster: MonsterState) -> MonsterMotion:
    rng = _rng(script.seed, state.frame, 31 + monster.slot)
    u = rng.uniform()
    target = state.players[script.tracked_slot]
    dist = _flat_distance(monster.pos, target.pos) - MONSTER_RADIUS[monster.species]
    if monster.hp < 0.5 * monster.max_hp and u < 0.12:
        return monster_motion("tired")
    if dist > 9.0:
        return monster_motion("walk" if u < 0.6 else "charge")
    if dist < 3.0:
        return monster_motion("swipe" if u < 0.55 else "idle" if u < 0.75 else "roar" if u < 0.85 else "charge")
    return monster_motion("charge" if u < 0.35 else "walk" if u < 0.75 else "roar" if u < 0.85 else "idle")


# ----------------------------------------------------------------------------- stepping


def _advance_player(script: Script, state: WorldState, player: PlayerState) -> PlayerState:
    """Apply this frame of the player's clip: motion, turning, lift, stamina, heal, buff."""
    spec = player.spec
    phase = int(player.phase)
    yaw = player.yaw
    monster = _nearest_monster(state, player.pos)
    if not player.slot == script.tracked_slot:
        target = state.players[script.tracked_slot].pos
    else:
        target = monster.pos if monster is not None else _waypoint(script, state.frame)
    if spec.turn_rate:
        yaw = _turn(yaw, _yaw_to(player.pos, target), spec.turn_rate)
    if spec.spin:
        yaw += spec.spin / spec.length
    yaw = (yaw + math.pi) % (2 * math.pi) - math.pi
    pos = np.array(player.pos) + spec.speed * _forward(yaw)
    pos[1] = spec.lift * math.sin(math.pi * (phase + 1) / spec.length) if spec.lift else 0.0
    sp = min(player.max_sp, player.sp + spec.sp_regen)
    hp, red_hp, atk = player.hp, player.red_hp, player.atk
    atk = max(_PLAYER_BASE_ATK, atk - 0.1)
    red_hp = max(hp, red_hp - 0.25)
    if phase == spec.hit_phase:
        if spec.heal:
            hp = min(player.max_hp, hp + spec.heal)
            red_hp = max(red_hp, hp)
        if spec.atk_buff:
            atk = _PLAYER_BASE_ATK + spec.atk_buff
    return replace(player, pos=_walkable(pos, script, PLAYER_RADIUS), yaw=yaw, sp=sp, hp=hp, red_hp=red_hp, atk=atk)


def _player_hits(state: WorldState, player: PlayerState, monster: MonsterState) -> bool:
    spec = player.spec
    if int(player.phase) != spec.hit_phase or not spec.damage:
        return False
    dist = _flat_distance(monster.pos, player.pos) - MONSTER_RADIUS[monster.species]
    angle = abs((_yaw_to(player.pos, monster.pos) - player.yaw + math.pi) % (2 * math.pi) - math.pi)
    return dist <= spec.reach and angle <= spec.arc / 2


def _advance_monster(script: Script, state: WorldState, monster: MonsterState) -> MonsterState:
    motion = monster.motion
    target = state.players[script.tracked_slot]
    yaw = _turn(monster.yaw, _yaw_to(monster.pos, target.pos), motion.turn_rate)
    yaw = (yaw + math.pi) % (2 * math.pi) - math.pi
    pos = np.array(monster.pos) + motion.speed * _forward(yaw)
    return replace(monster, pos=_walkable(pos, script, MONSTER_RADIUS[monster.species]), yaw=yaw)


def _start(player: PlayerState, spec: ActionSpec) -> PlayerState:
    return replace(player, action=spec.key, phase=0.0, sp=max(0.0, player.sp - spec.sp_cost))


def step(script: Script, state: WorldState, commands: dict[int, Command] | None = None) -> WorldState:
    """The world one frame later.

    ``commands`` maps a player slot to the clip it should play on the next frame. A clip that
    differs from the current one starts at phase 0; the same key continues (or restarts once
    finished). Without a command, the scripted policy picks a new clip when one ends.
    """
    commands = commands or {}
    frame = state.frame
    players = [_advance_player(script, state, p) for p in state.players]
    monsters = [None if m is None else _advance_monster(script, state, m) for m in state.monsters]
    # Player attacks land on monsters.
    for before in state.players:
        for i, monster in enumerate(monsters):
            if monster is None or not _player_hits(state, before, state.monsters[i]):
                continue
            spec = before.spec
            damage = spec.damage * before.atk / _PLAYER_BASE_ATK
            hp = max(1.0, monster.hp - damage)
            monster = replace(monster, hp=hp)
            if spec.stun and monster.motion.name != "stunned":
                monster = replace(monster, motion_id=monster_motion("stunned").motion_id, phase=-1.0)
            monsters[i] = monster
    # Monster attacks land on the tracked player (dodging makes them miss, guarding blocks most).
    for i, before in enumerate(state.monsters):
        if before is None or monsters[i] is None:
            continue
        motion = before.motion
        if int(before.phase) != motion.hit_phase or not motion.damage:
            continue
        slot = script.tracked_slot
        target = players[slot]
        dist = _flat_distance(before.pos, target.pos) - MONSTER_RADIUS[before.species]
        if dist > motion.reach or target.spec.invulnerable:
            continue
        damage = motion.damage * (0.2 if target.spec.guard else 1.0)
        players[slot] = replace(target, hp=max(1.0, target.hp - damage), red_hp=max(target.red_hp, target.hp))
    # Advance phases and pick what plays next.
    next_state = WorldState(frame=frame, players=tuple(players), monsters=tuple(monsters))
    for slot, player in enumerate(players):
        command = commands.get(slot)
        phase = player.phase + 1
        spec = player.spec
        if command is not None and command != spec.key:
            players[slot] = _start(player, ACTIONS_BY_KEY[command])
        elif phase >= spec.length:
            chosen = ACTIONS_BY_KEY[command] if command is not None else _player_policy(script, next_state, player)
            players[slot] = _start(player, chosen)
        else:
            players[slot] = replace(player, phase=float(phase))
    for i, monster in enumerate(monsters):
        slot = script.monsters[i]
        if not slot.present(frame + 1):
            monsters[i] = None
            continue
        if monster is None:
            anchor = players[script.tracked_slot].pos
            monsters[i] = _new_monster(i, slot.species, script, frame + 1, anchor)
            continue
        phase = monster.phase + 1
        if phase >= monster.motion.length:
            chosen = _monster_policy(script, next_state, monster)
            monsters[i] = replace(monster, motion_id=chosen.motion_id, phase=0.0)
        else:
            monsters[i] = replace(monster, phase=float(phase))
    moved = WorldState(frame=frame + 1, players=tuple(players), monsters=tuple(monsters))
    position, rotation = follow(state.camera_pos, state.camera_vel, state.camera_rot, _shot(script, moved))
    camera_pos = tuple(map(float, position))
    written = not script.camera_invalid(frame)  # restore can only take the move from a written row
    return replace(moved, camera_pos=camera_pos, camera_rot=tuple(map(float, rotation)),
                   camera_vel=camera_velocity(camera_pos, state.camera_pos if written else None))


def simulate(script: Script, *, start: WorldState | None = None, frames: int | None = None,
             commands: Sequence[dict[int, Command]] | None = None) -> list[WorldState]:
    """States for ``frames`` frames (default: the script's length) from ``start`` (default frame 0).

    ``commands[k]`` is applied on the transition into the (k+1)-th returned state.
    """
    state = start if start is not None else initial_state(script)
    total = frames if frames is not None else script.frames - state.frame
    states = [state]
    for k in range(total - 1):
        command = commands[k] if commands is not None and k < len(commands) else None
        state = step(script, state, command)
        states.append(state)
    return states
