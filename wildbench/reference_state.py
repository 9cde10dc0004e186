"""Explicit state of the reference submissions: ``{state.csv column: per-frame values}``.

The columns are the store's state fields (those of a case's ``state_first.json``), written by
``make_baseline`` as ``<case_id>.state.csv`` in the release's own format:

* ``window_state``: the true state of a window (the store's rows): the oracle's, and
  shuffled's (another case's: right-looking, wrong world);
* ``held_state``: the first frame's state on every frame (frozen);
* ``camera_follow_state``: frozen, but the tracked player kept where it stands relative to
  the camera on frame 0 and carried along by the given camera poses (camera-follow);
* ``resim_state``: synthetic stores: the state of the world re-simulated under the case's
  counterfactual actions (resim).
"""

from __future__ import annotations

import numpy as np

from .camera_follow import camera_from_rows, follow_camera_positions
from .errors import WildBenchError

__all__ = ["window_state", "held_state", "camera_follow_state", "resim_state"]


def _cell(field, values: np.ndarray):
    """One state.csv cell of a store field from its float32 row values."""
    if field.kind == "category":
        code = int(values[0]) if np.isfinite(values[0]) else -1
        return field.categories[code] if 0 <= code < len(field.categories) else None
    if field.kind == "id":
        return int(values[0]) if np.isfinite(values[0]) and values[0] >= 0 else None
    if field.width == 1:
        return float(values[0])
    return values.astype(np.float64)


def window_state(store, sample_id: str, start: int, horizon: int) -> dict[str, list]:
    """Every state field of the store on frames ``start .. start + horizon - 1`` of a sample."""
    rows = store.rows(sample_id, start, start + horizon)
    return {field.name: [_cell(field, row[field.start : field.stop]) for row in rows]
            for field in store.layout.stream_fields("state")}


def held_state(columns: dict[str, list]) -> dict[str, list]:
    """The first frame's values on every frame."""
    return {name: [values[0]] * len(values) for name, values in columns.items()}


def camera_follow_state(columns: dict[str, list], camera: np.ndarray, camera_valid: np.ndarray, tracked: int) -> dict[str, list]:
    """``held_state``, with the tracked player's position carried along by the camera."""
    out = held_state(columns)
    name = f"npc.list.{tracked}.pos"
    if name not in columns:
        raise WildBenchError(f"no {name} column: the tracked player (list index {tracked}) has no position field in this store")
    start = np.asarray(columns[name][0], np.float64)
    out[name] = list(follow_camera_positions(start, camera_from_rows(camera, camera_valid)))
    return out


def resim_state(script, states, state_names) -> dict[str, list]:
    """The state columns (those in ``state_names``) of re-simulated synthetic ``states``."""
    from wildworld.synth import SyntheticWorld

    columns = SyntheticWorld(script).annotate(states).columns
    return {name: values for name, values in columns.items() if name in set(state_names)}
