"""The usable horizon H*, shared by State Alignment and Explicit State."""

from __future__ import annotations

from typing import Sequence

import numpy as np

__all__ = ["usable_horizon", "median_entry"]


def usable_horizon(failing: Sequence[bool | None], starts_s: Sequence[float], horizon_s: float) -> float | None:
    """H*: the start (seconds) of the first failing bucket whose next judged bucket fails too
    (or that is the last judged one); ``horizon_s`` when none does; None when no bucket is
    judged. ``failing[b]`` is None for a bucket that cannot be judged (it is skipped).

    >>> usable_horizon([False, True, False, True, None, True], [0, 1, 2, 3, 4, 5], 6.0)
    3
    >>> usable_horizon([False, None, False], [0, 1, 2], 3.0), usable_horizon([None], [0], 1.0)
    (3.0, None)
    """
    judged = [(fails, start) for fails, start in zip(failing, starts_s) if fails is not None]
    if not judged:
        return None
    for index, (fails, start) in enumerate(judged):
        if fails and (index + 1 == len(judged) or judged[index + 1][0]):
            return start
    return horizon_s


def median_entry(values: Sequence[float | None], *, resamples: int = 2000, seed: int = 0) -> dict:
    """A summary entry for H*: the median over cases (None excluded) in ``mean`` (the key the
    leaderboard reads), a seeded percentile-bootstrap interval of the median, the case count."""
    array = np.asarray([v for v in values if v is not None], np.float64)
    if not array.size:
        return {"mean": None, "ci95": None, "cases": 0, "statistic": "median"}
    rng = np.random.default_rng(seed)
    draws = np.median(array[rng.integers(0, array.size, size=(resamples, array.size))], axis=1)
    return {"mean": float(np.median(array)), "ci95": [float(np.quantile(draws, 0.025)), float(np.quantile(draws, 0.975))],
            "cases": int(array.size), "statistic": "median"}
