"""Counterfactual action sequences, and (on synthetic stores) the worlds they produce.

A case's counterfactual sequence starts from the same first frame and keeps the true
sequence's segment boundaries, but every segment plays another action, of another group where
the vocabulary allows (movement / attack / skill on the synthetic world; another bank on a
real store). Frame 0 keeps its true action (it is the given first frame).

    cf = counterfactual_actions(actions, choices, seed=...)       # (H, 5), same layout as actions
    states = resimulate(script, table, start, cf)                   # synthetic: the world under cf
    cf = played_actions(states, tracked, vocabulary)                # what it really played

On the synthetic world the re-simulation is commanded with the counterfactual key on every
frame (the same key continues, or restarts once its clip ends), so the played sequence is the
counterfactual sequence, phases included; the answer key records the played one.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Sequence

import numpy as np

from .errors import WildBenchError
from .segments import segment_bounds

__all__ = ["ActionChoice", "counterfactual_actions", "synthetic_choices", "store_choices", "resimulate", "played_actions"]


@dataclass(frozen=True)
class ActionChoice:
    """An action a counterfactual segment may play: its key, group and clip length (if known)."""

    key: tuple[int, int]
    group: str
    length: int | None = None


def synthetic_choices() -> list[ActionChoice]:
    from wildworld.synth import PLAYER_ACTIONS

    return [ActionChoice(a.key, a.group, a.length) for a in PLAYER_ACTIONS]


def store_choices(vocabulary: Sequence[tuple[int, int]], idle: Sequence[tuple[int, int]] = ()) -> list[ActionChoice]:
    """Every non-idle key of a store's vocabulary, grouped by bank (lengths unknown)."""
    return [ActionChoice((int(b), int(m)), f"bank {int(b)}") for b, m in vocabulary if (b, m) not in set(map(tuple, idle)) and b >= 0]


def counterfactual_actions(actions: np.ndarray, choices: Sequence[ActionChoice], *, seed: int,
                           vocabulary: Sequence[tuple[int, int]] = ()) -> np.ndarray:
    """An (H, 5) counterfactual of an (H, 5) action block (columns: vocabulary index, bank,
    motion id, phase, tracked index): per segment a different action, of another group when
    one exists, never the previous segment's; phases count from the segment start (modulo the
    clip length when known)."""
    if not choices:
        raise WildBenchError("no actions to build a counterfactual sequence from")
    rng = np.random.default_rng(seed)
    group_of = {c.key: c.group for c in choices}
    index_of = {tuple(k): i for i, k in enumerate(vocabulary)}
    out = actions.astype(np.float32).copy()
    previous: tuple[int, int] | None = None
    for start, stop in segment_bounds(actions):
        first = max(start, 1)  # frame 0 is the given first frame: its action stays
        if first >= stop:
            continue
        key = tuple(int(v) for v in np.nan_to_num(actions[start, 1:3], nan=-1))
        group = group_of.get(key)
        ranked = [c for c in choices if c.key != key and c.key != previous and (group is None or c.group != group)]
        ranked = ranked or [c for c in choices if c.key != key and c.key != previous] or [c for c in choices if c.key != key]
        if not ranked:
            raise WildBenchError(f"no action other than {key} to build a counterfactual from")
        chosen = ranked[int(rng.integers(len(ranked)))]
        offsets = np.arange(stop - first, dtype=np.float32)
        out[first:stop, 0] = index_of.get(chosen.key, -1)
        out[first:stop, 1], out[first:stop, 2] = chosen.key
        out[first:stop, 3] = offsets % chosen.length if chosen.length else offsets
        previous = chosen.key
    return out


def resimulate(script, table, start: int, cf_actions: np.ndarray) -> list:
    """States of the synthetic world from frame ``start`` under the counterfactual keys
    (commanded on every frame after the first)."""
    from wildworld.synth import SyntheticWorld

    world = SyntheticWorld(script)
    first = world.restore(table, start)
    tracked = int(cf_actions[0, 4])
    commands = [{tracked: (int(cf_actions[t, 1]), int(cf_actions[t, 2]))} for t in range(1, len(cf_actions))]
    return world.rollout(first, len(cf_actions), commands)


def played_actions(states: Sequence, tracked: int, vocabulary: Sequence[tuple[int, int]]) -> np.ndarray:
    """The (H, 5) action block the tracked player of synthetic ``states`` played."""
    index_of = {tuple(k): i for i, k in enumerate(vocabulary)}
    rows = []
    for state in states:
        player = state.players[tracked]
        rows.append([index_of.get(tuple(player.action), -1), player.action[0], player.action[1], player.phase, tracked])
    return np.asarray(rows, dtype=np.float32)
