"""Reference submissions: the ceiling, two trivial baselines and an informative wrong answer.

* ``oracle``: the true future (the store's own video of the window): the ceiling;
* ``frozen``: the first frame repeated: what a model that does nothing gets (trivial);
* ``shuffled``: the true video of another case (a seeded derangement): right-looking video,
  wrong world;
* ``resim``: synthetic stores only - the world restored at the case's first frame and
  re-simulated under the case's counterfactual actions (the answer key's): right scene,
  wrong actions.

Counterfactual videos (``<case_id>.cf.mp4``): the oracle's is the true counterfactual (the
re-simulated world, synthetic stores only); frozen's is its own video again (a model that
ignores the actions makes the same video twice).
"""

from __future__ import annotations

import json
import os
from dataclasses import dataclass
from pathlib import Path
from typing import Callable, Literal

import numpy as np

from wildworld.files import TEMP_MARK, atomic_path
from wildworld.video import VideoWriter, open_video

from .errors import WildBenchError
from .split import Case, Split
from .names import FILE_KINDS
from .version import BENCHMARK_VERSION

__all__ = ["BASELINES", "CaseOutput", "make_baseline"]

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


@dataclass(frozen=True)
class CaseOutput:
    """What a reference submission writes for one case: the video, and optionally the
    counterfactual video (``<case_id>.cf.mp4``) and explicit state (``<case_id>.state.csv``)."""

    video: np.ndarray
    cf_video: np.ndarray | None = None
    state: dict | None = None  # {state.csv column: per-frame values}, written by wildworld's state.csv writer


@dataclass(frozen=True)
class _Context:
    split: Split
    store: object
    cases: tuple[Case, ...]
    donors: list[int] | None
    seed: int


def _counterfactual_world(split: Split, store, case: Case) -> np.ndarray:
    """Synthetic stores: the world restored at the case's first frame, re-simulated under the
    case's counterfactual actions (the answer key's), rendered at the evaluation resolution."""
    from wildworld.synth import Script, SyntheticWorld

    from .counterfactual import resimulate
    from .split import _sample_table

    if not case.synthetic_script:
        raise WildBenchError(f"case {case.case_id}: re-simulation needs a synthetic store (no synthetic script recorded)")
    answer = split.answer(case.case_id)
    answer.require("cf_actions")
    script = Script.from_json(case.synthetic_script)
    states = resimulate(script, _sample_table(store, case.sample_id), case.start, answer.cf_actions)
    world = SyntheticWorld(script)
    width, height = split.resolution
    return np.stack([world.render(state, width=width, height=height)[0] for state in states])


def _oracle(ctx: _Context, number: int, case: Case) -> CaseOutput:
    cf = _counterfactual_world(ctx.split, ctx.store, case) if case.synthetic_script else None
    return CaseOutput(_window(ctx.split, ctx.store, case), cf_video=cf)


def _frozen(ctx: _Context, number: int, case: Case) -> CaseOutput:
    frames = np.repeat(_window(ctx.split, ctx.store, case)[:1], case.horizon, axis=0)
    return CaseOutput(frames, cf_video=frames)  # it ignores the actions: the same video for both


def _shuffled(ctx: _Context, number: int, case: Case) -> CaseOutput:
    return CaseOutput(_window(ctx.split, ctx.store, ctx.cases[ctx.donors[number]]))


def _resim(ctx: _Context, number: int, case: Case) -> CaseOutput:
    return CaseOutput(_counterfactual_world(ctx.split, ctx.store, case))


#: Baseline name -> the function that makes one case's output.
_BUILDERS: dict[str, Callable[[_Context, int, Case], CaseOutput]] = {
    "oracle": _oracle, "frozen": _frozen, "shuffled": _shuffled, "resim": _resim,
}


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
    ours = {f"{case.case_id}{suffix}" for case in cases for suffix in FILE_KINDS.values()} | {"submission.json"}
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
    ctx = _Context(split, store, tuple(cases), _derangement(len(cases), seed) if name == "shuffled" else None, seed)
    width, height = split.resolution
    for number, case in enumerate(cases):
        made = _BUILDERS[name](ctx, number, case)
        _write_video(out / f"{case.case_id}{FILE_KINDS['video']}", made.video, split.fps, width, height)
        cf_path = out / f"{case.case_id}{FILE_KINDS['counterfactual']}"
        if made.cf_video is not None:
            _write_video(cf_path, made.cf_video, split.fps, width, height)
        elif cf_path.exists():
            cf_path.unlink()  # left by an earlier run of ours that wrote one
        state_path = out / f"{case.case_id}{FILE_KINDS['state']}"
        if made.state is not None:
            from wildworld.release.writer import write_state_csv

            write_state_csv(state_path, made.state)  # atomic
        elif state_path.exists():
            state_path.unlink()
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


def _write_video(path: Path, frames: np.ndarray, fps: float, width: int, height: int) -> None:
    with VideoWriter(path, fps=fps, width=width, height=height, crf=18) as writer:
        writer.write_many(frames)
