"""``SyntheticWorld``: one sample's script, its dynamics, its annotations and its pictures.

Depth coding (the release leaves its own undocumented): an 8-bit code ``c`` stands for the
OpenCV camera-space depth ``z = c * DEPTH_METRES_PER_CODE`` metres, rounded to the nearest
code; ``c = 255`` means ``z >= 63.75 m`` or sky.
"""

from __future__ import annotations

import zlib
from dataclasses import dataclass
from functools import cached_property
from typing import Sequence

import numpy as np
import pyarrow as pa

from .annotate import camera_for, entity_joints, restore_state, skeleton_keys, skeleton_type, state_columns, state_row
from .bodies import body_spheres
from .raster import Spheres, render_frame
from .scene import make_scene
from .simulation import Command, MonsterSlot, Script, WorldState, initial_state, simulate
from .skeletons import MONSTERS, PLAYER, WEAPONS

__all__ = [
    "SyntheticWorld",
    "Annotations",
    "make_script",
    "encode_depth",
    "decode_depth",
    "DEPTH_METRES_PER_CODE",
    "skeleton_edges",
]

DEPTH_METRES_PER_CODE = 0.25
_SPECIES = (21, 37, 53)


def encode_depth(depth_m: np.ndarray) -> np.ndarray:
    """Metres -> 8-bit codes (255 = far or sky)."""
    with np.errstate(invalid="ignore", over="ignore"):
        codes = np.where(np.isfinite(depth_m), np.round(depth_m / DEPTH_METRES_PER_CODE), 255)
    return np.clip(codes, 0, 255).astype(np.uint8)


def decode_depth(codes: np.ndarray) -> np.ndarray:
    """8-bit codes -> metres; 255 -> inf (far or sky)."""
    metres = np.asarray(codes, dtype=np.float32) * DEPTH_METRES_PER_CODE
    return np.where(np.asarray(codes) == 255, np.inf, metres).astype(np.float32)


def skeleton_edges() -> dict[str, list[list[int]]]:
    """skeleton_edges.json content for every skeleton type of the world."""
    types = [PLAYER, *WEAPONS.values(), *MONSTERS.values()]
    return {t.edges_key: [list(b) for b in t.bones] for t in types}


def make_script(seed: int, index: int, *, frames: int, width: int, height: int, fps: float = 30.0) -> Script:
    """A varied sample script. Indices cycle through the features tests rely on:
    0: two monsters (the second arrives), invalid-camera rows;
    1: a companion with the tracked player in list slot 1, a monster that leaves;
    2: one monster, a camera glitch; then random mixes."""
    rng = np.random.default_rng([seed, index, 99])
    kind = index % 3 if index < 3 else int(rng.integers(3))
    species = [int(s) for s in rng.permutation(_SPECIES)]
    if kind == 0:
        monsters = (MonsterSlot(species[0], 0, frames), MonsterSlot(species[1], frames // 3, frames))
    elif kind == 1:
        monsters = (MonsterSlot(species[0], 0, max(2, frames * 2 // 3)),)
    else:
        monsters = (MonsterSlot(species[0], 0, frames),)
    glitches = []
    if kind != 1 or rng.uniform() < 0.5:
        for _ in range(int(rng.integers(1, 3))):
            start = int(rng.integers(frames // 5, max(frames // 5 + 1, frames - 12)))
            glitches.append((start, min(frames, start + int(rng.integers(3, 9)))))
    return Script(
        seed=int(np.random.default_rng([seed, index]).integers(2**31)),
        frames=frames,
        width=width,
        height=height,
        fps=fps,
        tracked_slot=1 if kind == 1 else 0,
        companion=kind == 1 or bool(rng.uniform() < 0.3),
        weapon_id=int(rng.choice(list(WEAPONS))),
        monsters=monsters,
        invalid_camera=tuple(sorted(glitches)),
        scene_seed=seed,
        start_position=(float(rng.uniform(-8, 8)), float(rng.uniform(-8, 8))),
    )


@dataclass(frozen=True)
class Annotations:
    """Everything the release stores besides pixels, for a run of frames."""

    columns: dict[str, list]  # state.csv column -> per-frame values
    skeletons: dict[str, np.ndarray]  # key -> (N, J, 3) float32

    @property
    def frames(self) -> int:
        return len(next(iter(self.columns.values())))


class SyntheticWorld:
    """A deterministic, re-simulatable world for one sample script."""

    def __init__(self, script: Script) -> None:
        self.script = script

    def __repr__(self) -> str:
        script = self.script
        return (f"SyntheticWorld(seed={script.seed}, {script.frames} frames at {script.fps:g} fps, "
                f"{script.width}x{script.height}, players={len(script.player_slots)}, monsters={len(script.monsters)})")

    @cached_property
    def scene(self):
        return make_scene(self.script.scene_seed)

    # -- dynamics ---------------------------------------------------------------------
    def initial_state(self) -> WorldState:
        return initial_state(self.script)

    def states(self) -> list[WorldState]:
        """Every frame of the sample as the policies play it."""
        return simulate(self.script)

    def restore(self, table: pa.Table, frame: int) -> WorldState:
        """The world at ``frame``, rebuilt from the sample's state table."""
        return restore_state(self.script, table, frame)

    def rollout(self, start: WorldState, frames: int, commands: Sequence[dict[int, Command]] | None = None) -> list[WorldState]:
        """``frames`` states from ``start`` (included), driven by ``commands`` (see ``step``)."""
        return simulate(self.script, start=start, frames=frames, commands=commands)

    # -- annotations ------------------------------------------------------------------
    def annotate(self, states: Sequence[WorldState]) -> Annotations:
        names = state_columns(self.script)
        columns: dict[str, list] = {name: [] for name in names}
        skeletons: dict[str, list] = {key: [] for key, _, _ in skeleton_keys(self.script)}
        for state in states:
            row = state_row(self.script, state)
            for name in names:
                columns[name].append(row[name])
            for key, joints in entity_joints(self.script, state).items():
                skeletons[key].append(joints)
        arrays = {key: np.asarray(value, dtype=np.float32) for key, value in skeletons.items()}
        return Annotations(columns=columns, skeletons=arrays)

    # -- pictures ---------------------------------------------------------------------
    def spheres(self, state: WorldState) -> Spheres:
        parts = []
        for key, joints in entity_joints(self.script, state).items():
            kind, type_id = key[0], int(key.split("_", 1)[1])
            if not np.isfinite(joints).all():
                continue
            parts.append(body_spheres(joints, skeleton_type(kind, type_id), seed=zlib.crc32(key.encode()) % 7))
        return Spheres.concat(parts)

    def render(self, state: WorldState, *, width: int | None = None, height: int | None = None) -> tuple[np.ndarray, np.ndarray]:
        """RGB ``(H, W, 3)`` uint8 and depth ``(H, W)`` float32 metres of a frame (true camera)."""
        width = width or self.script.width
        height = height or self.script.height
        camera = camera_for(self.script, state)
        K = camera.K * np.array([width / self.script.width, height / self.script.height] * 2)
        return render_frame(self.scene, K, camera.position, camera.rotation, self.spheres(state), width, height)

