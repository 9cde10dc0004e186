"""Lines of sight through the synthetic world: how far a line runs before a prop or a body.

Used by the camera rig (:mod:`.camera`) to cast its boom. Vectorised over many lines from one
start point, since the rig casts a fan of candidate booms every frame.
"""

from __future__ import annotations

import numpy as np

__all__ = ["free_lengths"]


def free_lengths(start: np.ndarray, ends: np.ndarray, *, box_min: np.ndarray, box_max: np.ndarray, box_margin: float,
                 centers: np.ndarray, radii: np.ndarray, body_margin: float) -> np.ndarray:
    """``(K,)`` distance from ``start`` along each line to ``ends[k]`` before the first box or
    sphere, each inflated by its margin (so that a caller can react before the line is cut);
    the full length where nothing is in the way.

    An obstacle that ``start`` lies within the margin of counts from its true surface, and one
    that holds ``start`` does not count at all: no point further along the line sees past it.
    """
    directions = np.asarray(ends, dtype=np.float64) - start
    lengths = np.sqrt(np.einsum("kj,kj->k", directions, directions))
    units = directions / np.maximum(lengths, 1e-12)[:, None]
    free = lengths.copy()
    reach = float(lengths.max()) if len(lengths) else 0.0
    if len(box_min):
        closest = np.clip(start, box_min, box_max)  # boxes out of reach cannot be in the way
        near_enough = np.sqrt(((closest - start) ** 2).sum(axis=1)) <= reach + box_margin
        lo_box, hi_box = box_min[near_enough], box_max[near_enough]
        for margin in (box_margin, 0.0):
            with np.errstate(divide="ignore", invalid="ignore"):  # slab test: axis-parallel lines give inf
                lo = (lo_box - margin - start)[None] / units[:, None, :]
                hi = (hi_box + margin - start)[None] / units[:, None, :]
            enter = np.fmax.reduce(np.fmin(lo, hi), axis=2)
            leave = np.fmin.reduce(np.fmax(lo, hi), axis=2)
            hit = (enter <= leave) & (enter >= 0.0)
            free = np.minimum(free, np.where(hit, enter, np.inf).min(axis=1, initial=np.inf))
    if len(radii):
        offset = centers - start
        distance2 = np.einsum("sj,sj->s", offset, offset)
        near_enough = np.sqrt(distance2) - radii <= reach + body_margin
        offset, distance2, radii = offset[near_enough], distance2[near_enough], radii[near_enough]
        along = units @ offset.T  # (K, S)
        gap2 = distance2[None] - along * along
        for radius in (radii + body_margin, radii):
            squared = radius * radius
            hit = (gap2 < squared[None]) & (along > 0.0) & (distance2 >= squared)[None]
            enter = along - np.sqrt(np.maximum(squared[None] - gap2, 0.0))
            free = np.minimum(free, np.where(hit, enter, np.inf).min(axis=1, initial=np.inf))
    return np.maximum(free, 0.0)
