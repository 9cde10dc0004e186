"""Plausible state.csv columns built from the schema, for tests and benchmarks.

This is not the synthetic world (``wildworld.synth``), which simulates a consistent scene with
videos; it only fills every schema column with random-walk values of the right type and
shape, fast, for any number of rows and entities.
"""

from __future__ import annotations

import numpy as np

from ..schemas import load_record_schema, load_state_schema

__all__ = ["example_state_columns"]


def _walk(rng: np.random.Generator, n: int, width: int, scale: float) -> np.ndarray:
    return np.cumsum(rng.normal(0.0, scale, size=(n, width)), axis=0) + rng.normal(0.0, 10.0, size=width)


def _quats(rng: np.random.Generator, n: int) -> np.ndarray:
    q = _walk(rng, n, 4, 0.02)
    return q / np.linalg.norm(q, axis=1, keepdims=True)


def example_state_columns(
    n_rows: int, *, players: int = 1, monsters: int = 1, seed: int = 0, invalid_camera_rows: int = 0
) -> dict[str, object]:
    """Columns of a state.csv with ``players`` npc.list entries and ``monsters`` monster.list entries."""
    rng = np.random.default_rng(seed)
    state = load_state_schema()
    camera = load_record_schema("camera")
    columns: dict[str, object] = {}
    for spec in camera.fields:
        if spec.csv is None:
            continue
        if spec.name == "K":
            columns[spec.csv] = np.tile([640.0, 640.0, 640.0, 360.0], (n_rows, 1))
        elif spec.name == "rot":
            columns[spec.csv] = _quats(rng, n_rows)
        else:
            columns[spec.csv] = _walk(rng, n_rows, spec.width or 1, 0.05)
    if invalid_camera_rows:
        rows = rng.choice(n_rows, size=min(invalid_camera_rows, n_rows), replace=False)
        for spec in camera.fields:
            if spec.csv is not None:
                columns[spec.csv][rows] = np.nan
    for spec in state.globals:
        if spec.name == "npc.count":
            columns[spec.name] = np.full(n_rows, players, dtype=np.int64)
        elif spec.name == "npc.tracking":
            columns[spec.name] = np.full(n_rows, 100, dtype=np.int64)
        elif spec.name == "monster.count":
            columns[spec.name] = np.full(n_rows, monsters, dtype=np.int64)
    counts = {"player": players, "monster": monsters}
    for kind, entity in state.entities.items():
        for index in range(counts[kind]):
            for spec in entity.fields:
                name = entity.column(index, spec.name)
                if spec.name == "rot":
                    columns[name] = _quats(rng, n_rows)
                elif spec.width:
                    columns[name] = _walk(rng, n_rows, spec.width, 0.05)
                elif spec.is_text:
                    columns[name] = rng.choice(list(spec.categories), size=n_rows)
                elif spec.name == "member_id":
                    columns[name] = np.full(n_rows, 100 + index, dtype=np.int64)
                elif spec.name == "motion_id":
                    columns[name] = np.repeat(rng.integers(0, 400, size=n_rows // 40 + 1), 40)[:n_rows]
                elif spec.is_id:
                    columns[name] = np.full(n_rows, int(rng.integers(0, 30)), dtype=np.int64)
                elif spec.name == "motion_frame":
                    columns[name] = (np.arange(n_rows) % 40).astype(np.float64)
                else:
                    columns[name] = np.abs(_walk(rng, n_rows, 1, 1.0)[:, 0])
    return columns
