"""The summary of a metric whose cases carry per-horizon curves of some of its measures."""

from __future__ import annotations

from typing import Sequence

from .base import Measure, summarise

__all__ = ["summarise_with_curves"]


def summarise_with_curves(per_case: list[dict], measures: Sequence[Measure], curved: Sequence[Measure],
                          buckets: list[dict]) -> dict:
    """``summarise`` with per-bucket means of ``case["per_horizon"][measure.key]`` for each
    measure in ``curved``; a failed case counts with its measure's worst value in every
    bucket, as it does in the overall mean (nothing is dropped)."""
    rows = []
    for case in per_case:
        curves = case.get("per_horizon") or {}
        row = dict(case)
        for m in curved:
            row[f"_curve_{m.key}"] = [m.worst] * len(buckets) if case.get("failed") else curves.get(m.key)
        rows.append(row)
    return summarise(rows, measures, curve_key={m.key: f"_curve_{m.key}" for m in curved}, buckets=buckets)
