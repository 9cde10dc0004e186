"""Explicit State v1: does the submitted state table follow the true state of the world?

A model that predicts state (not only pixels) submits ``SUB/<case_id>.state.csv`` in the
release's state.csv format, with the store's state columns (those of the case's
``state_first.json``) for frames 0..horizon-1. Definition (docs/long-horizon.md#explicit-state):

* **Scored frames**: 1..horizon-1 (frame 0 is given) with a valid camera (invalid-camera frames
  are masked, as on every long-track metric, and counted in ``masked_frames``), in horizon
  buckets of ``bucket_seconds`` (1 s); a case's value is the mean over its buckets.
* **Entities**: the tracked player (``npc.list.<tracked>``, the case's frame-0 tracked index)
  and every monster slot present on frame 0 (the model was given those), on the frames where
  the truth has them.
* **Measures**: tracked-player and monster root position error (metres, world coordinates, no
  alignment: the inputs give the start); player HP and stamina error and monster HP error,
  each ``|predicted - true| / true maximum``; monster condition macro-F1 (pooled over the
  split's frames, classes that occur in the truth or the predictions); the tracked player's
  action accuracy (``motion_bank_id`` and ``motion_id`` both right); H* on position error
  (the first second whose player position error exceeds ``POSITION_TOLERANCE_M`` and stays
  above it for the next second).
* **Not predicted is not zero**: a measure whose columns are absent from the file (or a case
  without a state file) is None for that case ("not predicted"), never 0. A missing cell
  (``nan``) inside a present column is scored as the given first frame's value (what holding
  still predicts), so leaving cells out never helps (``filled_cells`` counts them).
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field

import numpy as np

from ._horizon import median_entry, usable_horizon
from .base import CaseData, Measure, MetricBase, SplitFacts, frame_buckets, register, summarise

__all__ = ["ExplicitState", "macro_f1", "POSITION_TOLERANCE_M", "POSITION_WORST_M", "VITAL_WORST"]

#: H*: the player position error (metres) above which the predicted state is lost.
POSITION_TOLERANCE_M = 1.0
#: The 0-100 maps: 0 at this error (metres; fraction of the maximum for vitals).
POSITION_WORST_M = 10.0
VITAL_WORST = 0.5


def _conditions() -> tuple[str, ...]:
    from wildworld.release.state_csv import state_column_spec

    spec = state_column_spec("monster.list.0.cond")
    return tuple(spec.categories) if spec is not None and spec.categories else ()


MEASURES = (
    Measure("player_position_error", "player position error", "lower", 0.0, POSITION_WORST_M, unit="m",
            text="tracked player's root position, metres in world coordinates (100 at 0 m, 0 at 10 m)"),
    Measure("monster_position_error", "monster position error", "lower", 0.0, POSITION_WORST_M, unit="m",
            text="root position of the monsters present on frame 0, metres (100 at 0 m, 0 at 10 m)"),
    Measure("player_hp_error", "player HP error", "lower", 0.0, VITAL_WORST,
            text="|HP - true HP| / true max HP of the tracked player (100 at 0, 0 at half the bar)"),
    Measure("player_stamina_error", "player stamina error", "lower", 0.0, VITAL_WORST,
            text="|stamina - true| / true max stamina of the tracked player (100 at 0, 0 at half the bar)"),
    Measure("monster_hp_error", "monster HP error", "lower", 0.0, VITAL_WORST,
            text="|HP - true HP| / true max HP of the monsters present on frame 0 (100 at 0, 0 at half the bar)"),
    Measure("monster_condition_f1", "monster condition macro-F1", "higher", 1.0, 0.0,
            text="macro-F1 of the monsters' condition (angry, stun, tired, none, ...) pooled over the split's frames"),
    Measure("action_accuracy", "player action accuracy", "higher", 1.0, 0.0,
            text="fraction of frames whose tracked-player (motion_bank_id, motion_id) is right"),
    Measure("usable_horizon", "usable horizon H* (position)", "higher", 1.0, 0.0, headline=False,
            text="median over cases of H* (first second whose player position error exceeds 1 m and stays above), fraction of the horizon"),
)
_ERRORS = ("player_position_error", "monster_position_error", "player_hp_error", "player_stamina_error", "monster_hp_error", "action_accuracy")


def macro_f1(counts: list[list]) -> float | None:
    """Macro-F1 of ``[[truth, predicted, count], ...]`` over the classes that occur in either.

    >>> macro_f1([["none", "none", 8], ["stun", "none", 2]])  # none: P 0.8 R 1; stun: 0
    0.4444444444444444
    """
    tp: dict[str, float] = {}
    fp: dict[str, float] = {}
    fn: dict[str, float] = {}
    for truth, predicted, count in counts:
        if truth == predicted:
            tp[truth] = tp.get(truth, 0) + count
        else:
            fn[truth] = fn.get(truth, 0) + count
            fp[predicted] = fp.get(predicted, 0) + count
    classes = set(tp) | set(fp) | set(fn)
    if not classes:
        return None
    scores = [2 * tp.get(c, 0) / (2 * tp.get(c, 0) + fp.get(c, 0) + fn.get(c, 0)) for c in sorted(classes)]
    return float(np.mean(scores))


def _merge(counts: list[list]) -> list[list]:
    merged: dict[tuple[str, str], int] = {}
    for truth, predicted, count in counts:
        merged[(truth, predicted)] = merged.get((truth, predicted), 0) + int(count)
    return [[t, p, n] for (t, p), n in sorted(merged.items())]


class _Submitted:
    """Columns of a submitted state table, as float arrays (NaN = a missing cell) or strings."""

    def __init__(self, table, rows: int) -> None:
        self.table, self.rows = table, rows
        self.filled = 0

    def has(self, *names: str) -> bool:
        return self.table is not None and all(name in self.table.column_names for name in names)

    def numeric(self, name: str, truth: np.ndarray) -> np.ndarray:
        """(rows, width) values like ``truth``; a missing cell (or a row past the table) takes
        the first frame's true value, counted where the truth has a value to compare with."""
        width = truth.shape[1]
        values = self.table.column(name).to_pylist()[: self.rows]
        out = np.full((self.rows, width), np.nan)
        for row, value in enumerate(values):
            cell = np.asarray(value if isinstance(value, (list, tuple)) else [value], dtype=object).reshape(-1)
            if value is not None and len(cell) == width and not any(v is None for v in cell):
                out[row] = cell.astype(np.float64)
        missing = ~np.isfinite(out).all(axis=1)
        self.filled += int((missing[1:] & np.isfinite(truth[1:]).all(axis=1)).sum())
        out[missing] = truth[0]
        return out

    def labels(self, name: str, truth: list[str | None]) -> list[str]:
        """Condition labels; a missing cell takes the first frame's true label (counted)."""
        values = self.table.column(name).to_pylist()[: self.rows]
        values += [None] * (self.rows - len(values))
        out = []
        for row, value in enumerate(values):
            text = str(value).strip() if value is not None else ""
            if not text or text.lower() == "nan":
                self.filled += row > 0 and truth[row] is not None
                text = truth[0] or "none"
            out.append(text)
        return out


def _truth(true_state: dict, name: str, rows: int) -> np.ndarray:
    value = np.asarray(true_state[name], np.float64)[:rows]
    return value.reshape(rows, -1)


@dataclass(frozen=True)
class ExplicitState(MetricBase):
    name: str = "explicit_state"
    version: str = "1.0"
    family: str = "Explicit State"
    description: str = "the submitted state table (<case_id>.state.csv) against the true state: positions, vitals, conditions, actions"
    requires: frozenset[str] = field(default=frozenset({"state", "true_state", "answer.camera_valid"}))
    bucket_seconds: float = 1.0
    measures: tuple[Measure, ...] = MEASURES

    @property
    def full_version(self) -> str:
        return self.version if self.bucket_seconds == 1.0 else f"{self.version}+bucket{self.bucket_seconds:g}s"

    def score(self, case: CaseData) -> dict:
        truth = case.true_state
        rows = int(case.horizon or len(truth["action.tracked_index"]))
        valid = np.asarray(case.answer.camera_valid[:rows], bool)
        scored = valid.copy()
        scored[0] = False  # frame 0 is given
        buckets = frame_buckets(rows, case.fps, seconds=self.bucket_seconds, first=1)
        out: dict = {key: None for key in _ERRORS + ("monster_condition_f1", "usable_horizon", "usable_horizon_s")}
        out.update({"state_file": case.state is not None, "masked_frames": int((~valid[1:]).sum()), "missing_columns": []})
        submitted = _Submitted(case.state, rows)
        tracked = int(np.nan_to_num(truth["action.tracked_index"][0], nan=-1))
        player = f"npc.list.{tracked}"
        monsters = sorted({int(m.group(1)) for name in truth if (m := re.fullmatch(r"monster\.list\.(\d+)\.pos", name))})
        present = [i for i in monsters if np.isfinite(_truth(truth, f"monster.list.{i}.pos", rows)[0]).all()
                   and np.nan_to_num(truth[f"monster.list.{i}.type_id"][0], nan=-1) >= 0]

        def predicted(names: list[str]) -> bool:
            """Every column of a measure is in the file (else it is not predicted; noted)."""
            missing = [n for n in names if not submitted.has(n)]
            out["missing_columns"] += missing if case.state is not None else []
            return case.state is not None and bool(names) and not missing

        def position(name: str) -> np.ndarray:
            true = _truth(truth, name, rows)
            pred = submitted.numeric(name, true)
            return np.linalg.norm(pred - true, axis=1)

        def vital(name: str, maximum: str) -> np.ndarray:
            true, top = _truth(truth, name, rows)[:, 0], _truth(truth, maximum, rows)[:, 0]
            pred = submitted.numeric(name, true[:, None])[:, 0]
            with np.errstate(invalid="ignore", divide="ignore"):
                return np.where(top > 0, np.abs(pred - true) / top, np.nan)

        def action(keys: list[str]) -> np.ndarray:
            """1 where the predicted (motion_bank_id, motion_id) is the true one, 0 where not."""
            true = np.stack([_truth(truth, k, rows)[:, 0] for k in keys], axis=1)
            pred = np.stack([submitted.numeric(k, true[:, i : i + 1])[:, 0] for i, k in enumerate(keys)], axis=1)
            right = (pred == true).all(axis=1).astype(np.float64)
            return np.where((true >= 0).all(axis=1), right, np.nan)

        # Per measure: its columns, and the (rows, entities) per-frame errors they give.
        monster = [f"monster.list.{i}" for i in present]
        keys = [f"{player}.motion_bank_id", f"{player}.motion_id"]
        plan = {
            "player_position_error": ([f"{player}.pos"], lambda: [position(f"{player}.pos")]),
            "monster_position_error": ([f"{m}.pos" for m in monster], lambda: [position(f"{m}.pos") for m in monster]),
            "player_hp_error": ([f"{player}.hp"], lambda: [vital(f"{player}.hp", f"{player}.max_hp")]),
            "player_stamina_error": ([f"{player}.sp"], lambda: [vital(f"{player}.sp", f"{player}.max_sp")]),
            "monster_hp_error": ([f"{m}.hp" for m in monster], lambda: [vital(f"{m}.hp", f"{m}.max_hp") for m in monster]),
            "action_accuracy": (keys, lambda: [action(keys)]),
        }
        errors = {key: np.stack(compute(), axis=1) if predicted(columns) else None for key, (columns, compute) in plan.items()}
        for key, values in errors.items():
            if values is None:
                continue
            values = np.where(scored[:, None], values, np.nan)
            curve = []
            for bucket in buckets:
                part = values[bucket["start"] : bucket["stop"]]
                curve.append(float(np.nanmean(part)) if np.isfinite(part).any() else None)
            kept = [v for v in curve if v is not None]
            out[key] = float(np.mean(kept)) if kept else None
            out[f"per_horizon_{key}"] = curve
        self._conditions(out, truth, submitted, present, scored, buckets, rows, case.state is not None)
        curve = out.get("per_horizon_player_position_error")
        if curve is not None:
            horizon_s = buckets[-1]["stop"] / case.fps if buckets else 0.0
            failing = [None if v is None else v > POSITION_TOLERANCE_M for v in curve]
            out["usable_horizon_s"] = usable_horizon(failing, [(b["start"] - 1) / case.fps for b in buckets], horizon_s)
            out["usable_horizon"] = None if out["usable_horizon_s"] is None or not horizon_s else out["usable_horizon_s"] / horizon_s
        out["filled_cells"] = submitted.filled
        out["missing_columns"] = sorted(set(out["missing_columns"]))
        return out

    @staticmethod
    def _conditions(out: dict, truth: dict, submitted: _Submitted, present: list[int], scored: np.ndarray,
                    buckets: list[dict], rows: int, has_file: bool) -> None:
        """Condition confusion counts per bucket (pooled over the split in ``aggregate``)."""
        names = [f"monster.list.{i}.cond" for i in present]
        if not has_file or not names:
            return
        missing = [n for n in names if not submitted.has(n)]
        if missing:
            out["missing_columns"] += missing
            return
        labels = _conditions()
        per_bucket: list[list] = [[] for _ in buckets]
        for name in names:
            codes = np.nan_to_num(np.asarray(truth[name], np.float64)[:rows], nan=-1).astype(int)
            true = [labels[c] if 0 <= c < len(labels) else (f"code {c}" if c >= 0 else None) for c in codes]
            pred = submitted.labels(name, true)
            for b, bucket in enumerate(buckets):
                per_bucket[b] += [[true[t], pred[t], 1] for t in range(bucket["start"], bucket["stop"])
                                  if scored[t] and true[t] is not None]
        counts = [_merge(c) for c in per_bucket]
        out["condition_counts_per_horizon"] = counts
        out["per_horizon_monster_condition_f1"] = [macro_f1(c) for c in counts]
        out["monster_condition_f1"] = macro_f1(_merge([row for c in counts for row in c]))

    def failed_result(self, reason: str) -> dict:
        return {**{m.key: m.worst for m in self.measures}, "failed": True, "failure": reason}

    def aggregate(self, per_case: list[dict], split: SplitFacts) -> dict:
        buckets = frame_buckets(split.horizon, split.fps, seconds=self.bucket_seconds, first=1)
        plain = [m for m in self.measures if m.key in _ERRORS]
        out = summarise(per_case, plain, curve_key={m.key: f"per_horizon_{m.key}" for m in plain}, buckets=buckets)
        measures = out["measures"]
        measures["monster_condition_f1"] = _pooled_f1(per_case, len(buckets))
        measures["usable_horizon"] = median_entry([c.get("usable_horizon") for c in per_case])
        out["measures"] = {m.key: measures[m.key] for m in self.measures}
        seconds = [c["usable_horizon_s"] for c in per_case if c.get("usable_horizon_s") is not None]
        out["usable_horizon_s"] = float(np.median(seconds)) if seconds else None
        out["cases_with_state"] = sum(1 for c in per_case if c.get("state_file"))
        out["masked_frames"] = int(sum(c.get("masked_frames", 0) for c in per_case))
        out["filled_cells"] = int(sum(c.get("filled_cells", 0) for c in per_case))
        return out


def _pooled_f1(per_case: list[dict], width: int, *, resamples: int = 2000, seed: int = 0) -> dict:
    """Macro-F1 of the counts pooled over cases (a failed case: its worst, F1 0, weight 1 case),
    a bootstrap interval over cases, and per bucket the pooled F1."""
    cases = [c for c in per_case if c.get("condition_counts_per_horizon") is not None and not c.get("failed")]
    totals = [_merge([row for bucket in c["condition_counts_per_horizon"] for row in bucket]) for c in cases]
    failed = sum(1 for c in per_case if c.get("failed"))
    if not totals:
        return {"mean": 0.0 if failed else None, "ci95": [0.0, 0.0] if failed else None, "cases": failed, "per_horizon": []}

    def pooled(indices) -> float:
        values = [totals[i] for i in indices if i < len(totals)]
        f1 = macro_f1(_merge([row for t in values for row in t])) if values else 0.0
        share = sum(1 for i in indices if i < len(totals)) / max(1, len(indices))
        return (f1 or 0.0) * share  # failed cases (indices past the scored ones) weigh in at F1 0

    everyone = list(range(len(totals) + failed))
    value = pooled(everyone)
    rng = np.random.default_rng(seed)
    draws = [pooled(list(rng.integers(0, len(everyone), len(everyone)))) for _ in range(resamples)] if len(everyone) > 1 else [value]
    curve = [macro_f1(_merge([row for c in cases if b < len(c["condition_counts_per_horizon"])
                              for row in c["condition_counts_per_horizon"][b]])) for b in range(width)]
    return {"mean": value, "ci95": [float(np.quantile(draws, 0.025)), float(np.quantile(draws, 0.975))],
            "cases": len(everyone), "per_horizon": curve, "statistic": "pooled"}


register(ExplicitState())
