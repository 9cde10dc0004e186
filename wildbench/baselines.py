"""Reference submissions: the ceiling, two trivial baselines and an informative wrong answer.

* ``oracle``: the true future (the store's own video of the window): the ceiling;
* ``frozen``: the first frame repeated: what a model that does nothing gets (trivial);
* ``shuffled``: the true video of another case (a seeded derangement): right-looking video,
  wrong world;
* ``resim``: synthetic stores only - the world restored at the case's first frame and
  re-simulated under the case's counterfactual actions (the answer key's): right scene,
  wrong actions;
* ``camera-follow``: the first frame turned with the given camera (rotation homography), and
  in its state the tracked player carried along with the camera: what a camera-conditioned
  model gets for free (``wildbench.camera_follow``).

Explicit state (``<case_id>.state.csv``, ``wildbench.reference_state``): the oracle's is the
true state, frozen's the first frame's held, shuffled's the other case's true state, resim's
the re-simulated world's, camera-follow's frozen's with the tracked player carried along.

Counterfactual videos (``<case_id>.cf.mp4``): the oracle's is the true counterfactual (the
re-simulated world, synthetic stores only); frozen's is its own video again (a model that
ignores the actions makes the same video twice).
"""

from __future__ import annotations

import functools
import json
import os
from dataclasses import dataclass
from pathlib import Path
from typing import Callable, Literal, Sequence

import numpy as np

from wildworld.files import TEMP_MARK, atomic_path
from wildworld.video import VideoWriter, open_video

from .camera_follow import camera_from_rows, follow_camera_frames
from .errors import WildBenchError
from .reference_state import camera_follow_state, held_state, resim_state, window_state
from .split import Case, Split
from .names import FILE_KINDS
from .version import BENCHMARK_VERSION

__all__ = ["BASELINES", "CaseOutput", "make_baseline", "make_baselines"]

BaselineName = Literal["oracle", "frozen", "shuffled", "resim", "camera-follow"]
BASELINES = {
    "oracle": ("ceiling", "the true future video of the case (upper bound)", ["first_frame", "future_frames"]),
    "frozen": ("trivial", "the first frame held: a model that does nothing", ["first_frame"]),
    "shuffled": ("trivial", "the true video of another case (right-looking, wrong world)", []),
    "resim": ("reference", "re-simulated from the true first state with different actions (right scene, wrong actions)", ["first_frame", "state"]),
    "camera-follow": ("trivial", "the first frame turned with the given camera; the tracked player carried along with it",
                      ["first_frame", "camera", "state"]),
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


def _counterfactual_states(split: Split, store, case: Case) -> tuple:
    """Synthetic stores: the script and the states of the world restored at the case's first
    frame, re-simulated under the case's counterfactual actions (the answer key's)."""
    from wildworld.synth import Script

    from .counterfactual import resimulate
    from .split import _sample_table

    if not case.synthetic_script:
        raise WildBenchError(f"case {case.case_id}: re-simulation needs a synthetic store (no synthetic script recorded)")
    answer = split.answer(case.case_id)
    answer.require("cf_actions")
    script = Script.from_json(case.synthetic_script)
    return script, resimulate(script, _sample_table(store, case.sample_id), case.start, answer.cf_actions)


def _counterfactual_world(split: Split, store, case: Case, states: tuple | None = None) -> np.ndarray:
    """Synthetic stores: the counterfactual world (``_counterfactual_states``) rendered at the
    evaluation resolution."""
    from wildworld.synth import SyntheticWorld

    script, states = states or _counterfactual_states(split, store, case)
    world = SyntheticWorld(script)
    width, height = split.resolution
    return np.stack([world.render(state, width=width, height=height)[0] for state in states])


def _oracle(ctx: _Context, number: int, case: Case) -> CaseOutput:
    cf = _counterfactual_world(ctx.split, ctx.store, case) if case.synthetic_script else None
    return CaseOutput(_window(ctx.split, ctx.store, case), cf_video=cf, state=_true_state(ctx, case))


def _frozen(ctx: _Context, number: int, case: Case) -> CaseOutput:
    frames = np.repeat(_window(ctx.split, ctx.store, case)[:1], case.horizon, axis=0)
    # it ignores the actions: the same video for both
    return CaseOutput(frames, cf_video=frames, state=held_state(_true_state(ctx, case)))


def _shuffled(ctx: _Context, number: int, case: Case) -> CaseOutput:
    donor = ctx.cases[ctx.donors[number]]
    return CaseOutput(_window(ctx.split, ctx.store, donor), state=_true_state(ctx, donor))


def _resim(ctx: _Context, number: int, case: Case) -> CaseOutput:
    script, states = run = _counterfactual_states(ctx.split, ctx.store, case)
    names = [f.name for f in ctx.store.layout.stream_fields("state")]
    return CaseOutput(_counterfactual_world(ctx.split, ctx.store, case, run), state=resim_state(script, states, names))


def _camera_follow(ctx: _Context, number: int, case: Case) -> CaseOutput:
    answer = ctx.split.answer(case.case_id)
    camera = camera_from_rows(answer.camera, answer.camera_valid)
    with open_video(ctx.store.video(case.sample_id, "rgb")) as reader:
        first = reader.get([case.start])[0]
    frames = np.stack(list(follow_camera_frames(first, camera)))
    return CaseOutput(frames, state=camera_follow_state(_true_state(ctx, case), answer.camera, answer.camera_valid,
                                                        int(answer.actions[0, 4])))


def _true_state(ctx: _Context, case: Case) -> dict:
    return window_state(ctx.store, case.sample_id, case.start, case.horizon)


#: Baseline name -> the function that makes one case's output.
_BUILDERS: dict[str, Callable[[_Context, int, Case], CaseOutput]] = {
    "oracle": _oracle, "frozen": _frozen, "shuffled": _shuffled, "resim": _resim, "camera-follow": _camera_follow,
}


def make_baseline(
    name: BaselineName,
    split: Split,
    out: str | os.PathLike[str],
    *,
    seed: int = 0,
    progress: Callable[[int, int], None] | None = None,
    workers: int = 1,
) -> Path:
    """Write the ``name`` reference submission for every case of ``split`` into ``out``.

    ``workers`` > 1 makes cases in parallel processes (each opens the split and its store
    again); the files are the same bytes whatever the number of workers. ``progress(done,
    total)`` is called as cases finish.
    """
    return make_baselines([(name, out)], split, seed=seed, progress=progress, workers=workers)[0]


def make_baselines(
    jobs: Sequence[tuple[BaselineName, str | os.PathLike[str]]],
    split: Split,
    *,
    seed: int = 0,
    progress: Callable[[int, int], None] | None = None,
    workers: int = 1,
) -> list[Path]:
    """Write several reference submissions, ``jobs`` = (name, directory) pairs, in one run.

    The same files as one ``make_baseline`` each; the cases of all of them share one worker pool
    (one start-up). Every name and directory is checked before anything is written.
    ``progress(done, total)`` counts cases over all jobs.
    """
    if workers < 1:
        raise WildBenchError(f"workers {workers}: must be at least 1")
    if not jobs:
        raise WildBenchError("no baseline to make")
    cases = list(split.cases)
    ours = {f"{case.case_id}{suffix}" for case in cases for suffix in FILE_KINDS.values()} | {"submission.json"}
    outs: list[Path] = []
    for name, out in jobs:
        if name not in BASELINES:
            raise WildBenchError(f"no baseline {name!r}; choose one of {', '.join(BASELINES)}")
        out = Path(out)
        for other in outs:
            if out.resolve() == other.resolve():
                raise WildBenchError(f"{out}: named for two baselines; give each its own directory")
            if out.resolve().is_relative_to(other.resolve()) or other.resolve().is_relative_to(out.resolve()):
                raise WildBenchError(f"{out} and {other}: one submission directory inside another; give each its own")
        _check_directory(out, ours)
        outs.append(out)
    store = split.open_store()
    for out in outs:
        out.mkdir(parents=True, exist_ok=True)
    total = len(cases) * len(jobs)
    if workers == 1 or total < 2:
        done = 0
        for (name, _), out in zip(jobs, outs):
            ctx = _context(split, store, name, seed)
            for number in range(len(cases)):
                _write_case(ctx, name, number, out)
                done += 1
                if progress is not None:
                    progress(done, total)
    else:
        from wildworld.parallel import run_tasks

        tasks = [_CaseTask(str(split.path), str(split.store_path), name, seed, number, str(out))
                 for (name, _), out in zip(jobs, outs) for number in range(len(cases))]
        for done, _ in enumerate(run_tasks(_case_task, tasks, workers=min(workers, len(tasks))), start=1):
            if progress is not None:
                progress(done, total)
    for (name, _), out in zip(jobs, outs):
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
    return outs


def _check_directory(out: Path, ours: set[str]) -> None:
    """Refuse a file, or a directory holding files that are not ours; clear our interrupted temporaries."""
    if out.exists() and not out.is_dir():
        raise WildBenchError(f"{out}: not a directory; --out names the submission directory to write")
    stale = []
    for entry in sorted(out.iterdir()) if out.exists() else []:
        if TEMP_MARK in entry.name and entry.is_file():
            entry.unlink()  # a temporary of an interrupted run of ours
        elif entry.name not in ours and not entry.name.startswith("."):  # hidden: ignored, as check does
            stale.append(entry.name)
    if stale:
        raise WildBenchError(f"{out / stale[0]}: the submission directory holds other files ({len(stale)}); "
                             "write the baseline into a new or empty directory")


def _context(split: Split, store, name: str, seed: int) -> _Context:
    cases = tuple(split.cases)
    return _Context(split, store, cases, _derangement(len(cases), seed) if name == "shuffled" else None, seed)


def _write_case(ctx: _Context, name: str, number: int, out: Path) -> None:
    """Make one case's output and write its files (each atomically)."""
    case = ctx.cases[number]
    split = ctx.split
    width, height = split.resolution
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

        write_state_csv(state_path, made.state, decimals=None)  # atomic; every digit, so the oracle's is exact
    elif state_path.exists():
        state_path.unlink()


@dataclass(frozen=True)
class _CaseTask:
    """One case of a baseline, for a worker process: paths and numbers only (picklable)."""

    split_path: str
    store_path: str
    name: str
    seed: int
    number: int
    out: str


@functools.lru_cache(maxsize=1)
def _worker_split(split_path: str, store_path: str):
    """In a worker process: the split and its store opened once, reused for its next cases."""
    from .split import load_split

    split = load_split(split_path, store=store_path)
    return split, split.open_store()


@functools.lru_cache(maxsize=8)  # a worker may make cases of several baselines
def _worker_context(split_path: str, store_path: str, name: str, seed: int) -> _Context:
    split, store = _worker_split(split_path, store_path)
    return _context(split, store, name, seed)


def _case_task(task: _CaseTask) -> int:
    ctx = _worker_context(task.split_path, task.store_path, task.name, task.seed)
    _write_case(ctx, task.name, task.number, Path(task.out))
    return task.number


def _write_video(path: Path, frames: np.ndarray, fps: float, width: int, height: int) -> None:
    with VideoWriter(path, fps=fps, width=width, height=height, crf=18) as writer:
        writer.write_many(frames)
