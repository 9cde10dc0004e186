"""Action segments of a case: runs of one clip in the (H, 5) action block of the answer key.

The action block's columns are the store's action record: vocabulary index, motion_bank_id,
motion_id, motion_frame (phase) and the tracked player's list index. A new segment starts
where the key changes or the phase jumps back (the same clip started again).
"""

from __future__ import annotations

import numpy as np

__all__ = ["ACTION_COLUMNS", "segments_of", "segment_bounds"]

#: The columns of an action block (the store's action stream, in order).
ACTION_COLUMNS = ("index", "motion_bank_id", "motion_id", "motion_frame", "tracked_index")


def segment_bounds(actions: np.ndarray) -> list[tuple[int, int]]:
    """``[(start, stop), ...]`` of the runs of one clip (stop exclusive)."""
    keys = np.nan_to_num(actions[:, 1:3], nan=-1).astype(np.int64)
    phases = actions[:, 3]  # NaN phases never start a segment (comparisons with NaN are false)
    starts = [0] + [t for t in range(1, len(actions)) if (keys[t] != keys[t - 1]).any() or phases[t] < phases[t - 1]]
    return list(zip(starts, starts[1:] + [len(actions)]))


def segments_of(actions: np.ndarray) -> list[dict]:
    """Runs of one clip in an (H, 5) action block, with their key, vocabulary id and first phase."""
    keys = np.nan_to_num(actions[:, 1:3], nan=-1).astype(int)
    phases = actions[:, 3]
    return [{"start": s, "end": e, "motion_bank_id": int(keys[s, 0]), "motion_id": int(keys[s, 1]),
             "action_id": int(np.nan_to_num(actions[s, 0], nan=-1)),
             "first_phase": None if np.isnan(phases[s]) else float(phases[s])}
            for s, e in segment_bounds(actions)]
