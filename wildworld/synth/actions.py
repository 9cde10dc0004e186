"""The synthetic world's action vocabulary: animation clips with their own length and effects.

An action is what the release calls an animation clip, keyed by (motion_bank_id, motion_id).
Movement actions live in bank 1, attacks in bank 2, skills in bank 3. Each declares the state it
changes (``changes``); a test steps the world with every action and checks exactly that.
"""

from __future__ import annotations

from dataclasses import dataclass, field

__all__ = [
    "ActionSpec",
    "MonsterMotion",
    "PLAYER_ACTIONS",
    "ACTIONS_BY_KEY",
    "ACTIONS_BY_NAME",
    "MONSTER_MOTIONS",
    "monster_motion",
    "action_groups",
]


@dataclass(frozen=True)
class ActionSpec:
    """One player action (clip)."""

    name: str
    group: str  # movement | attack | skill
    motion_bank_id: int
    motion_id: int
    length: int  # frames
    speed: float = 0.0  # metres per frame along the facing direction
    turn_rate: float = 0.0  # max radians per frame of turning toward the target
    spin: float = 0.0  # radians of yaw added over the whole clip
    sp_cost: float = 0.0  # stamina taken when the clip starts
    sp_regen: float = 0.0  # stamina regained per frame while playing
    hit_phase: int = -1  # frame of the clip at which damage lands
    damage: float = 0.0
    reach: float = 0.0  # metres from the player's root to the monster's surface
    arc: float = 3.2  # radians of the hit cone (full width) in front of the player
    stun: bool = False  # a landed hit stuns the monster
    heal: float = 0.0  # hp restored at ``hit_phase``
    atk_buff: float = 0.0  # attack raised to base + this at ``hit_phase``
    lift: float = 0.0  # jump apex height in metres
    invulnerable: bool = False
    guard: bool = False
    changes: tuple[str, ...] = field(default_factory=tuple)

    @property
    def key(self) -> tuple[int, int]:
        return (self.motion_bank_id, self.motion_id)


PLAYER_ACTIONS: tuple[ActionSpec, ...] = (
    # movement
    ActionSpec("idle", "movement", 1, 10, 30, sp_regen=0.6, changes=("sp",)),
    ActionSpec("walk", "movement", 1, 11, 30, speed=0.05, turn_rate=0.06, sp_regen=0.3, changes=("pos",)),
    ActionSpec("run", "movement", 1, 12, 24, speed=0.14, turn_rate=0.08, sp_cost=6.0, changes=("pos", "sp")),
    ActionSpec("dodge_roll", "movement", 1, 13, 20, speed=0.17, sp_cost=18.0, invulnerable=True, changes=("pos", "sp")),
    ActionSpec("jump", "movement", 1, 14, 26, speed=0.06, sp_cost=10.0, lift=1.1, changes=("pos", "sp")),
    ActionSpec("turn_around", "movement", 1, 15, 16, spin=3.14159265, changes=("rot",)),
    # attacks
    ActionSpec("light_slash", "attack", 2, 20, 18, turn_rate=0.05, sp_cost=4.0, hit_phase=9, damage=22.0, reach=2.6, changes=("sp", "monster.hp")),
    ActionSpec("heavy_slash", "attack", 2, 21, 36, sp_cost=14.0, hit_phase=24, damage=60.0, reach=2.9, stun=True, changes=("sp", "monster.hp", "monster.cond")),
    ActionSpec("thrust", "attack", 2, 22, 24, speed=0.04, sp_cost=8.0, hit_phase=12, damage=34.0, reach=3.3, arc=1.2, changes=("pos", "sp", "monster.hp")),
    ActionSpec("spin_attack", "attack", 2, 23, 40, spin=6.2831853, sp_cost=20.0, hit_phase=28, damage=45.0, reach=3.0, arc=6.3, changes=("rot", "sp", "monster.hp")),
    # skills
    ActionSpec("charge_blast", "skill", 3, 30, 45, turn_rate=0.04, sp_cost=28.0, hit_phase=36, damage=80.0, reach=14.0, arc=0.8, stun=True, changes=("sp", "monster.hp", "monster.cond")),
    ActionSpec("heal", "skill", 3, 31, 40, hit_phase=22, heal=45.0, changes=("hp",)),
    ActionSpec("war_cry", "skill", 3, 32, 32, sp_cost=10.0, hit_phase=16, atk_buff=35.0, changes=("sp", "atk")),
    ActionSpec("guard", "skill", 3, 33, 24, sp_regen=0.2, guard=True, changes=("sp",)),
)

ACTIONS_BY_KEY = {action.key: action for action in PLAYER_ACTIONS}
ACTIONS_BY_NAME = {action.name: action for action in PLAYER_ACTIONS}


def action_groups() -> dict[str, list[str]]:
    groups: dict[str, list[str]] = {}
    for action in PLAYER_ACTIONS:
        groups.setdefault(action.group, []).append(action.name)
    return groups


@dataclass(frozen=True)
class MonsterMotion:
    """One monster clip. Banks are per species: bank = 100 + species id."""

    name: str
    motion_id: int
    length: int
    speed: float = 0.0
    turn_rate: float = 0.0
    hit_phase: int = -1
    damage: float = 0.0
    reach: float = 0.0


MONSTER_MOTIONS: tuple[MonsterMotion, ...] = (
    MonsterMotion("idle", 0, 40, turn_rate=0.03),
    MonsterMotion("walk", 1, 40, speed=0.07, turn_rate=0.04),
    MonsterMotion("charge", 2, 36, speed=0.2, turn_rate=0.015, hit_phase=24, damage=30.0, reach=2.5),
    MonsterMotion("swipe", 3, 30, turn_rate=0.03, hit_phase=18, damage=22.0, reach=3.5),
    MonsterMotion("roar", 4, 44),
    MonsterMotion("stunned", 5, 70),
    MonsterMotion("tired", 6, 80, speed=0.02),
    MonsterMotion("enter", 7, 60, speed=0.09, turn_rate=0.05),
)
_MONSTER_BY_NAME = {motion.name: motion for motion in MONSTER_MOTIONS}
_MONSTER_BY_ID = {motion.motion_id: motion for motion in MONSTER_MOTIONS}


def monster_motion(name_or_id: str | int) -> MonsterMotion:
    if isinstance(name_or_id, str):
        return _MONSTER_BY_NAME[name_or_id]
    return _MONSTER_BY_ID[int(name_or_id)]
