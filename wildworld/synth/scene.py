"""The static scene: a textured ground plane, textured box props, a sky, a sun.

Everything is generated from a scene seed, so the same seed gives the same world.
Texture is band-limited (smooth noise octaves) so that distant ground does not shimmer,
which keeps point tracking and SfM on rendered frames meaningful.
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import lru_cache

import cv2
import numpy as np

__all__ = ["Scene", "make_scene", "TEXTURE_PERIOD_M"]

#: Ground texture repeats every this many metres.
TEXTURE_PERIOD_M = 12.0


@dataclass(frozen=True)
class Scene:
    ground_texture: np.ndarray  # (T, T, 3) float32 in [0, 1]
    prop_texture: np.ndarray  # (T, T, 3) float32
    box_min: np.ndarray  # (B, 3)
    box_max: np.ndarray  # (B, 3)
    box_tint: np.ndarray  # (B, 3)
    sun: np.ndarray  # (3,) unit vector towards the sun
    sky_top: np.ndarray
    sky_horizon: np.ndarray
    face_quads: np.ndarray  # (F, 4, 3) every box face, world
    face_box: np.ndarray  # (F,) its box
    face_axis: np.ndarray  # (F,) the axis it is normal to
    face_upper: np.ndarray  # (F,) whether it is the box's max side on that axis


    def keep_out(self, position: np.ndarray, radius: float) -> tuple[float, float, float]:
        """``position`` moved out of every box footprint grown by ``radius``, through the
        nearest face (so a body walking into a prop stops at it and slides along it)."""
        position = np.array(position, dtype=np.float64)
        lo, hi = self.box_min[:, [0, 2]] - radius, self.box_max[:, [0, 2]] + radius
        for _ in range(2):  # a push out of one box may end in a neighbour
            flat = position[[0, 2]]
            inside = np.flatnonzero(((flat > lo) & (flat < hi)).all(axis=1))
            if not len(inside):
                break
            box = int(inside[0])
            depths = np.array([flat[0] - lo[box, 0], hi[box, 0] - flat[0], flat[1] - lo[box, 1], hi[box, 1] - flat[1]])
            side = int(np.argmin(depths))  # x-, x+, z-, z+
            column = side // 2
            position[2 * column] = lo[box, column] if side % 2 == 0 else hi[box, column]
        return (float(position[0]), float(position[1]), float(position[2]))


def _noise(rng: np.random.Generator, size: int, octaves: tuple[int, ...]) -> np.ndarray:
    out = np.zeros((size, size), np.float32)
    for i, cells in enumerate(octaves):
        grid = rng.standard_normal((cells, cells)).astype(np.float32)
        tiled = np.tile(grid, (3, 3))  # tile so that the upsampled texture wraps seamlessly
        up = cv2.resize(tiled, (3 * size, 3 * size), interpolation=cv2.INTER_CUBIC)[size : 2 * size, size : 2 * size]
        out += up / (1.6**i)
    out -= out.min()
    out /= max(float(out.max()), 1e-6)
    return out


def _face_quads(box_min: np.ndarray, box_max: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """Every box face as a world quad ``(F, 4, 3)``, with its box, axis and side (upper or not)."""
    quads, boxes, axes, uppers = [], [], [], []
    for box in range(len(box_min)):
        lo, hi = box_min[box], box_max[box]
        for axis in range(3):
            other = [k for k in range(3) if k != axis]
            for upper in (False, True):
                quad = np.empty((4, 3))
                quad[:, axis] = hi[axis] if upper else lo[axis]
                quad[:, other[0]] = [lo[other[0]], hi[other[0]], hi[other[0]], lo[other[0]]]
                quad[:, other[1]] = [lo[other[1]], lo[other[1]], hi[other[1]], hi[other[1]]]
                quads.append(quad)
                boxes.append(box)
                axes.append(axis)
                uppers.append(upper)
    return np.asarray(quads), np.asarray(boxes), np.asarray(axes), np.asarray(uppers)


@lru_cache(maxsize=8)
def make_scene(seed: int, *, texture_size: int = 512, boxes: int = 36) -> Scene:
    rng = np.random.default_rng([seed, 2024])
    n1 = _noise(rng, texture_size, (4, 8, 16, 32, 64))
    n2 = _noise(rng, texture_size, (6, 12, 24, 48))
    grass = np.array([0.30, 0.48, 0.20], np.float32)
    dirt = np.array([0.50, 0.40, 0.28], np.float32)
    mix = np.clip((n2 - 0.35) * 3.0, 0, 1)[..., None]
    ground = (grass * (1 - mix) + dirt * mix) * (0.55 + 0.7 * n1[..., None])
    # Faint stone-path grid lines add corners for feature tracking.
    lines = np.zeros((texture_size, texture_size), np.float32)
    step = texture_size // 4
    lines[::step, :] = 1.0
    lines[:, ::step] = 1.0
    lines = cv2.GaussianBlur(lines, (0, 0), 2.0)
    ground = ground * (1 - 0.25 * np.clip(lines * 3, 0, 1))[..., None]
    n3 = _noise(rng, texture_size, (8, 16, 32, 64))
    rock = np.array([0.55, 0.53, 0.50], np.float32) * (0.5 + 0.8 * n3[..., None])
    angles = rng.uniform(0, 2 * np.pi, boxes)
    radii = rng.uniform(9.0, 45.0, boxes)
    half = np.stack([rng.uniform(0.4, 1.8, boxes), rng.uniform(0.6, 3.5, boxes), rng.uniform(0.4, 1.8, boxes)], axis=1)
    centers = np.stack([radii * np.cos(angles), half[:, 1], radii * np.sin(angles)], axis=1)
    tint = rng.uniform(0.7, 1.2, (boxes, 3)) * np.array([1.0, 0.95, 0.9])
    sun = np.array([0.45, 0.8, 0.35])
    box_min, box_max = centers - half, centers + half
    return Scene(
        ground_texture=np.clip(ground, 0, 1).astype(np.float32),
        prop_texture=np.clip(rock, 0, 1).astype(np.float32),
        box_min=box_min,
        box_max=box_max,
        box_tint=tint,
        sun=sun / np.linalg.norm(sun),
        sky_top=np.array([0.35, 0.55, 0.85]),
        sky_horizon=np.array([0.78, 0.85, 0.92]),
        **dict(zip(("face_quads", "face_box", "face_axis", "face_upper"), _face_quads(box_min, box_max))),
    )
