"""Reference submissions: the ceiling, two trivial baselines and an informative wrong answer.

* ``oracle``: the true future (the store's own video of the window): the ceiling;
* ``frozen``: the first frame repeated: what a model that does nothing gets (trivial);
* ``shuffled``: the true video of another case (a seeded derangement): right-looking video,
  wrong world;
* ``resim``: synthetic stores only - the world restored at the case's first frame and
  re-simulated with a different action sequence: right scene, wrong actions.
"""

from __future__ import annotations

import json
import os
from pathlib import Path
from typing import Callable, Literal

import numpy as np

from wildworld.files import TEMP_MARK, atomic_path
from wildworld.store.layout import TABLE_FILE
from wildworld.video import VideoWriter, open_video

from .errors import WildBenchError
from .split import Case, Split
from .version import BENCHMARK_VERSION

__all__ = ["BASELINES", "make_baseline", "alternative_commands"]

BaselineName = Literal["oracle", "frozen", "shuffled", "resim"]
BASELINES = {
    "oracle": ("ceiling", "the true future video of the case (upper bound)", ["first_frame", "future_frames"]),
    "frozen": ("trivial", "the first frame held: a model that does nothing", ["first_frame"]),
    "shuffled": ("trivial", "the true video of another case (right-looking, wrong world)", []),
    "resim": ("reference", "re-simulated from the true first state with different actions (right scene, wrong actions)", ["first_frame", "state"]),
}


def _window(split: Split, store, case: Case) -> np.ndarray:
    with open_video(store.video(case.sample_id, "rgb")) as reader:
        return reader.get(range(case.start, case.start + case.horizon))


def _derangement(n: int, seed: int) -> list[int]:
    if n < 2:
        raise WildBenchError("the shuffled baseline needs at least two cases")
    rng = np.random.default_rng(seed)
    while True:
        order = rng.permutation(n)
        if not np.any(order == np.arange(n)):
            return order.tolist()


def alternative_commands(actions: np.ndarray, tracked_slot: int, seed: int) -> list[dict]:
    """Per-step commands that replace every action segment of the window by a different action
    (preferably of another group), starting on the first step."""
    from wildworld.synth import ACTIONS_BY_KEY, PLAYER_ACTIONS

    rng = np.random.default_rng(seed)
    keys = [tuple(int(v) for v in row) for row in actions[:, 1:3]]
    phases = actions[:, 3]
    commands: list[dict] = []
    current = None
    for t in range(1, len(actions)):
        new_segment = t == 1 or keys[t] != keys[t - 1] or phases[t] < phases[t - 1]
        if new_segment:
            original = ACTIONS_BY_KEY.get(keys[t])
            choices = [a for a in PLAYER_ACTIONS if original is None or (a.group != original.group and a.key != original.key)]
            current = choices[int(rng.integers(len(choices)))].key
            commands.append({tracked_slot: current})
        else:
            commands.append({})
    return commands


def _resim(split: Split, store, case: Case, seed: int) -> np.ndarray:
    import pyarrow.parquet as pq

    from wildworld.synth import Script, SyntheticWorld

    if not case.synthetic_script:
        raise WildBenchError(f"case {case.case_id}: the resim baseline needs a synthetic store (no synthetic script recorded)")
    script = Script.from_json(case.synthetic_script)
    table = pq.read_table(store.path / TABLE_FILE, filters=[("sample_id", "=", case.sample_id)])
    world = SyntheticWorld(script)
    start = world.restore(table, case.start)
    answer = split.answer(case.case_id)
    tracked = int(answer.actions[0, 4])
    commands = alternative_commands(answer.actions, tracked, seed)
    states = world.rollout(start, case.horizon, commands)
    width, height = split.resolution
    return np.stack([world.render(state, width=width, height=height)[0] for state in states])


def make_baseline(
    name: BaselineName,
    split: Split,
    out: str | os.PathLike[str],
    *,
    seed: int = 0,
    progress: Callable[[int, int], None] | None = None,
) -> Path:
    """Write the ``name`` reference submission for every case of ``split`` into ``out``."""
    if name not in BASELINES:
        raise WildBenchError(f"no baseline {name!r}; choose one of {', '.join(BASELINES)}")
    store = split.open_store()
    out = Path(out)
    if out.exists() and not out.is_dir():
        raise WildBenchError(f"{out}: not a directory; --out names the submission directory to write")
    cases = list(split.cases)
    ours = {f"{case.case_id}.mp4" for case in cases} | {"submission.json"}
    stale = []
    for entry in sorted(out.iterdir()) if out.exists() else []:
        if TEMP_MARK in entry.name and entry.is_file():
            entry.unlink()  # a temporary of an interrupted run of ours
        elif entry.name not in ours and not entry.name.startswith("."):  # hidden: ignored, as check does
            stale.append(entry.name)
    if stale:
        raise WildBenchError(f"{out / stale[0]}: the submission directory holds other files ({len(stale)}); "
                             "write the baseline into a new or empty directory")
    out.mkdir(parents=True, exist_ok=True)
    donors = _derangement(len(cases), seed) if name == "shuffled" else None
    width, height = split.resolution
    for number, case in enumerate(cases):
        if name == "oracle":
            frames = _window(split, store, case)
        elif name == "frozen":
            frames = np.repeat(_window(split, store, case)[:1], case.horizon, axis=0)
        elif name == "shuffled":
            frames = _window(split, store, cases[donors[number]])
        else:
            frames = _resim(split, store, case, seed + number)
        with VideoWriter(out / f"{case.case_id}.mp4", fps=split.fps, width=width, height=height, crf=18) as writer:
            writer.write_many(frames)
        if progress is not None:
            progress(number + 1, len(cases))
    reference, description, conditioning = BASELINES[name]
    info = {
        "model": name,
        "version": BENCHMARK_VERSION,
        "reference": reference,
        "description": description,
        "conditioning": conditioning,
        "split_checksum": split.checksum,
    }
    with atomic_path(out / "submission.json") as tmp:
        tmp.write_text(json.dumps(info, indent=1) + "\n")
    return out
