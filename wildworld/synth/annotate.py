"""From world states to release annotations (and back): camera, skeletons, state.csv rows."""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np
import pyarrow as pa

from ..errors import FormatError
from ..release.sample import column_array
from .bodies import monster_joints, player_joints
from .camera import camera_velocity, intrinsics
from .poses import weapon_pose
from .simulation import (
    MONSTER_RADIUS,
    PLAYER_STAT_NAMES,
    MonsterState,
    PlayerState,
    Script,
    WorldState,
    monster_bank,
)
from .skeletons import MONSTERS, PLAYER, WEAPONS

__all__ = ["CameraPose", "camera_for", "entity_joints", "skeleton_keys", "state_row", "state_columns", "restore_state", "yaw_quaternion"]



@dataclass(frozen=True)
class CameraPose:
    K: np.ndarray  # (4,) fx fy cx cy
    position: np.ndarray  # (3,)
    rotation: np.ndarray  # (4,) xyzw camera-to-world, OpenGL frame


def yaw_quaternion(yaw: float) -> np.ndarray:
    """Body-to-world rotation about +y as (x, y, z, w)."""
    return np.array([0.0, math.sin(yaw / 2), 0.0, math.cos(yaw / 2)])


def _yaw_from_quaternion(q: np.ndarray) -> float:
    return 2.0 * math.atan2(float(q[1]), float(q[3]))


def camera_for(script: Script, state: WorldState) -> CameraPose:
    """The camera of a frame: its pose is world state (see :mod:`.camera`), K varies with time."""
    return CameraPose(
        K=intrinsics(script.width, script.height, state.frame),
        position=np.array(state.camera_pos, dtype=np.float64),
        rotation=np.array(state.camera_rot, dtype=np.float64),
    )


def skeleton_keys(script: Script) -> list[tuple[str, str, int]]:
    """``(key, kind, slot)`` of every skeleton array the sample has, in a fixed order."""
    keys = [(f"n{slot}_{script.player_type_id if slot == script.tracked_slot else script.companion_type_id}", "n", slot) for slot in script.player_slots]
    keys.append((f"w{script.tracked_slot}_{script.weapon_id}", "w", script.tracked_slot))
    keys += [(f"m{i}_{slot.species}", "m", i) for i, slot in enumerate(script.monsters)]
    return keys


def _player_joints(player: PlayerState) -> np.ndarray:
    return player_joints(player.action, player.phase, player.pos, player.yaw)


def entity_joints(script: Script, state: WorldState) -> dict[str, np.ndarray]:
    """World joints of every skeleton key on this frame (NaN for an absent monster)."""
    out: dict[str, np.ndarray] = {}
    for key, kind, slot in skeleton_keys(script):
        if kind == "n":
            out[key] = _player_joints(state.players[slot])
        elif kind == "w":
            out[key] = weapon_pose(_player_joints(state.players[slot]), script.weapon_id)
        else:
            monster = state.monsters[slot]
            species = script.monsters[slot].species
            if monster is None:
                out[key] = np.full((MONSTERS[species].num_joints, 3), np.nan)
            else:
                out[key] = monster_joints(species, monster.motion, monster.phase, monster.pos, monster.yaw)
    return out


def state_columns(script: Script) -> list[str]:
    """state.csv header of a sample, in the order the world writes it."""
    from ..schemas import load_record_schema, load_state_schema

    state = load_state_schema()
    names = [spec.csv for spec in load_record_schema("camera").fields if spec.csv]
    names += [spec.name for spec in state.globals]
    for kind, count in (("player", len(script.player_slots)), ("monster", len(script.monsters))):
        entity = state.entities[kind]
        for index in range(count):
            names += [entity.column(index, spec.name) for spec in entity.fields]
    return names


def _player_values(player: PlayerState) -> dict[str, object]:
    values = {
        "type_id": player.type_id, "member_id": player.member_id, "weapon_id": player.weapon_id,
        "pos": np.array(player.pos), "rot": yaw_quaternion(player.yaw),
        "motion_bank_id": player.action[0], "motion_id": player.action[1], "motion_frame": float(player.phase),
        "hp": player.hp, "max_hp": player.max_hp, "red_hp": player.red_hp, "sp": player.sp, "max_sp": player.max_sp,
        "atk": player.atk,
    }
    values.update(dict(zip(PLAYER_STAT_NAMES, player.stats)))
    return values


def _monster_values(monster: MonsterState | None) -> dict[str, object]:
    if monster is None:
        nan3, nan4 = np.full(3, np.nan), np.full(4, np.nan)
        return {"type_id": None, "pos": nan3, "rot": nan4, "motion_bank_id": None, "motion_id": None,
                "motion_frame": math.nan, "hp": math.nan, "max_hp": math.nan, "cond": None}
    return {
        "type_id": monster.species, "pos": np.array(monster.pos), "rot": yaw_quaternion(monster.yaw),
        "motion_bank_id": monster_bank(monster.species), "motion_id": monster.motion_id,
        "motion_frame": float(max(monster.phase, 0.0)), "hp": monster.hp, "max_hp": monster.max_hp, "cond": monster.cond,
    }


def state_row(script: Script, state: WorldState) -> dict[str, object]:
    """One state.csv row (column -> value) for a frame, camera NaN on scripted invalid frames."""
    camera = camera_for(script, state)
    row: dict[str, object] = {}
    if script.camera_invalid(state.frame):
        row.update({"camera.K": np.full(4, np.nan), "camera.pos": np.full(3, np.nan), "camera.rot": np.full(4, np.nan)})
    else:
        row.update({"camera.K": camera.K, "camera.pos": camera.position, "camera.rot": camera.rotation})
    row["npc.count"] = len(state.players)
    row["npc.tracking"] = state.players[script.tracked_slot].member_id
    row["monster.count"] = sum(m is not None for m in state.monsters)
    for slot, player in enumerate(state.players):
        row.update({f"npc.list.{slot}.{k}": v for k, v in _player_values(player).items()})
    for slot, monster in enumerate(state.monsters):
        row.update({f"monster.list.{slot}.{k}": v for k, v in _monster_values(monster).items()})
    return row


def restore_state(script: Script, table: pa.Table, frame: int) -> WorldState:
    """Rebuild the world at ``frame`` from a sample's state table (see :mod:`.simulation`)."""
    def value(name: str):
        return column_array(table, name)[frame]

    players = []
    for slot in script.player_slots:
        prefix = f"npc.list.{slot}."
        players.append(
            PlayerState(
                slot=slot,
                type_id=int(value(prefix + "type_id")),
                member_id=int(value(prefix + "member_id")),
                weapon_id=int(value(prefix + "weapon_id")),
                pos=tuple(float(v) for v in value(prefix + "pos")),
                yaw=_yaw_from_quaternion(value(prefix + "rot")),
                action=(int(value(prefix + "motion_bank_id")), int(value(prefix + "motion_id"))),
                phase=float(value(prefix + "motion_frame")),
                hp=float(value(prefix + "hp")), max_hp=float(value(prefix + "max_hp")),
                red_hp=float(value(prefix + "red_hp")), sp=float(value(prefix + "sp")),
                max_sp=float(value(prefix + "max_sp")), atk=float(value(prefix + "atk")),
                stats=tuple(float(value(prefix + name)) for name in PLAYER_STAT_NAMES),
            )
        )
    monsters: list[MonsterState | None] = []
    for slot, info in enumerate(script.monsters):
        prefix = f"monster.list.{slot}."
        species = int(value(prefix + "type_id"))
        if species < 0:
            monsters.append(None)
            continue
        motion_id = int(value(prefix + "motion_id"))
        monsters.append(
            MonsterState(
                slot=slot, species=species,
                pos=tuple(float(v) for v in value(prefix + "pos")),
                yaw=_yaw_from_quaternion(value(prefix + "rot")),
                motion_id=motion_id, phase=float(value(prefix + "motion_frame")),
                hp=float(value(prefix + "hp")), max_hp=float(value(prefix + "max_hp")),
            )
        )
    camera_pos = value("camera.pos")
    camera_rot = value("camera.rot")
    if not (np.isfinite(camera_pos).all() and np.isfinite(camera_rot).all()):
        raise FormatError(f"frame {frame} has an invalid (NaN) camera; restore from a frame with a valid camera", row=frame, column="camera.pos")
    position = tuple(float(v) for v in camera_pos)
    previous = None
    if frame > 0 and not script.camera_invalid(frame - 1):
        previous = column_array(table, "camera.pos")[frame - 1]
        if not np.isfinite(previous).all():
            raise FormatError(f"frame {frame - 1} has an invalid (NaN) camera, but the script says it is valid; "
                              "the state table does not belong to this script", row=frame - 1, column="camera.pos")
    return WorldState(frame=frame, players=tuple(players), monsters=tuple(monsters),
                      camera_pos=position, camera_rot=tuple(float(v) for v in camera_rot),
                      camera_vel=camera_velocity(position, previous))


def body_radius(kind: str, type_id: int) -> float:
    """Rough body radius of an entity, for visibility tests."""
    if kind == "m":
        return MONSTER_RADIUS[type_id]
    return 0.3 if kind == "n" else 0.05


def skeleton_type(kind: str, type_id: int):
    if kind == "n":
        return PLAYER
    if kind == "w":
        return WEAPONS[type_id]
    return MONSTERS[type_id]
