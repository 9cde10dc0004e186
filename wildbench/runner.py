"""The evaluation runner: every input read once per case, every metric on the arrays.

    split    = load_split(SPLIT)                        # checksum-verified split and answer key
    report   = check_submission(SUB, split)             # refuse a broken submission up front
    plan     = plan_metrics(names, env)                 # versions; what cannot run is "not computed"
    tasks    = plan_cases(SUB, split, plan, cache)      # per case and metric: a cache key; hits reused
    entries  = run_tasks(score_chunk, chunks(tasks))    # local pool or Ray; setup once per chunk
    results  = build_results(split, plan, entries)      # aggregate once, in split order: 1 == N workers

Per-case results are cached next to the results file (``RESULTS.json.cache/<case_id>.json``),
one entry per case holding each metric's result under its own key (the digests of the
submitted files, the split checksum and the metric's full version), so ``resume=True``
recomputes only what a killed run, a new metric or a changed file left undone.
"""

from __future__ import annotations

import hashlib
import json
import os
import platform
import shutil
import sys
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Callable, Sequence

from wildworld.files import atomic_path
from wildworld.schemas import loads_strict, validate_document
from wildworld.parallel import run_tasks

from .errors import SubmissionError, WildBenchError
from .metrics.base import EstimationFailed, MetricEnv, SplitFacts, get_metric, select_metrics
from .providers import CF_SUFFIX, STATE_SUFFIX, CaseFiles, decode_submission, file_digest, needs
from .results import Results, results_document
from .split import Split, load_split
from .submission import check_submission, read_submission_info

__all__ = ["CaseTask", "MetricPlan", "evaluate", "evaluate_case", "evaluate_submissions", "decode_submission", "metric_version"]


def metric_version(name: str, env: MetricEnv | None = None) -> str:
    """The full version of a registered metric (its own, plus its tools and weights)."""
    return get_metric(name).version_for(env or MetricEnv())


@dataclass(frozen=True)
class MetricPlan:
    """The metrics of one run: which run (with their versions) and which cannot, and why."""

    run: dict[str, str]  # name -> full version
    not_computed: dict[str, str]  # name -> reason
    env: MetricEnv

    @property
    def provide(self) -> frozenset[str]:
        out: set[str] = set()
        for name in self.run:
            out |= needs(get_metric(name).requires)
        return frozenset(out)


def plan_metrics(selection: Sequence[str] | None, env: MetricEnv) -> MetricPlan:
    run, skipped = {}, {}
    for name in select_metrics(selection):
        metric = get_metric(name)
        reason = metric.unavailable(env)
        if reason is None:
            run[name] = metric.version_for(env)
        else:
            skipped[name] = reason
    return MetricPlan(run, skipped, env)


@dataclass(frozen=True)
class CaseTask:
    """One case to score: its files, the metrics still to compute and their cache keys."""

    files: CaseFiles
    keys: dict[str, str]  # metric name -> cache key (only the metrics still to compute)
    cache: str
    done: dict = field(default_factory=dict)  # cached results of the other metrics, kept in the entry

    @property
    def case_id(self) -> str:
        return self.files.case_id


@dataclass(frozen=True)
class _Chunk:
    tasks: tuple[CaseTask, ...]
    env: MetricEnv


def _key(digests: dict, split_checksum: str, name: str, version: str) -> str:
    body = json.dumps([digests, split_checksum, name, version], sort_keys=True)
    return hashlib.sha256(body.encode()).hexdigest()


def _entry_digest(entry: dict) -> str:
    """A checksum of a cache entry's content, so that a damaged entry is recomputed, not used."""
    body = {k: v for k, v in entry.items() if k != "digest"}
    return hashlib.sha256(json.dumps(body, sort_keys=True, allow_nan=False, default=float).encode()).hexdigest()


def _cached_results(path: Path, keys: dict[str, str]) -> dict[str, dict]:
    """The intact cached results of one case whose keys match (metric name -> entry part)."""
    try:
        entry = loads_strict(path.read_text(encoding="utf-8"))
        if not isinstance(entry, dict) or entry.get("digest") != _entry_digest(entry):
            return {}
    except (OSError, ValueError, TypeError, UnicodeDecodeError, RecursionError):
        return {}
    scores, stored_keys, seconds = entry.get("scores"), entry.get("keys"), entry.get("seconds")
    if not all(isinstance(x, dict) for x in (scores, stored_keys, seconds)):
        return {}
    return {name: {"score": scores[name], "key": key, "seconds": seconds.get(name, 0.0)}
            for name, key in keys.items()
            if stored_keys.get(name) == key and isinstance(scores.get(name), dict) and isinstance(seconds.get(name), (int, float))}


def evaluate_case(task: CaseTask, scorers: dict | None = None, store=None, env: MetricEnv | None = None) -> dict:
    """Score one case with the metrics still to compute and write its cache entry.

    ``scorers`` are the set-up scorers of a worker (name -> scorer); without them each metric
    is set up here (one case alone, as in tests)."""
    import cv2

    cv2.setNumThreads(1)  # deterministic and no oversubscription under a worker pool
    env = env or MetricEnv()
    if scorers is None:
        scorers = {name: get_metric(name).setup(env) for name in task.keys}
    provide = frozenset().union(*(needs(get_metric(name).requires) for name in task.keys)) if task.keys else frozenset()
    started = time.perf_counter()
    scores, seconds = {}, {}
    with task.files.load(provide, store=store) as case:
        seconds["inputs"] = time.perf_counter() - started
        for name in task.keys:
            t0 = time.perf_counter()
            try:
                scores[name] = scorers[name].score(case)
            except EstimationFailed as exc:
                scores[name] = get_metric(name).failed_result(str(exc))
            seconds[name] = time.perf_counter() - t0
    keys = dict(task.keys)
    for name, part in task.done.items():
        scores[name], keys[name], seconds[name] = part["score"], part["key"], part["seconds"]
    entry = {"case_id": task.case_id, "scores": scores, "keys": keys, "seconds": seconds}
    entry = json.loads(json.dumps(entry, allow_nan=False, default=float))
    entry["digest"] = _entry_digest(entry)
    with atomic_path(Path(task.cache)) as tmp:
        tmp.write_text(json.dumps(entry, sort_keys=True))
    return entry


def score_chunk(chunk: _Chunk) -> list[dict]:
    """A worker's share: every metric set up once, then each case scored and cached."""
    names = sorted({name for task in chunk.tasks for name in task.keys})
    scorers = {name: get_metric(name).setup(chunk.env) for name in names}
    store = None
    if any(needs(get_metric(name).requires) & {"true_video", "true_depth", "true_state"} for name in names) and chunk.tasks:
        from wildworld.store import open_store

        store = open_store(chunk.tasks[0].files.store)
    return [evaluate_case(task, scorers, store, chunk.env) for task in chunk.tasks]


def _chunks(tasks: list[CaseTask], workers: int, env: MetricEnv) -> list[_Chunk]:
    """Contiguous chunks, about four per worker (setup cost vs. load balance and progress)."""
    if not tasks:
        return []
    count = min(len(tasks), 1 if workers <= 1 else 4 * workers)
    size = -(-len(tasks) // count)
    return [_Chunk(tuple(tasks[i : i + size]), env) for i in range(0, len(tasks), size)]


def _check_out(out: Path, submission: Path, split_dir: Path) -> None:
    """Refuse a results path that is a directory or lies inside the submission or the split."""
    if out.is_dir():
        raise WildBenchError(f"{out}: is a directory; --out names the RESULTS.json file to write")
    for ancestor in out.parents:
        if ancestor.exists():
            if not ancestor.is_dir():
                raise WildBenchError(f"{ancestor}: not a directory, so {out} cannot be written")
            break
    target = out.resolve()
    for inside, what in ((submission, "submission"), (split_dir, "split")):
        if inside.exists() and target.is_relative_to(inside.resolve()):
            raise WildBenchError(f"{out}: inside the {what} directory {inside}; write results elsewhere "
                                 "(evaluation never writes into its inputs)")


def _case_files(submission: Path, split: Split, case) -> CaseFiles:
    cf = submission / f"{case.case_id}{CF_SUFFIX}"
    state = submission / f"{case.case_id}{STATE_SUFFIX}"
    return CaseFiles(case.case_id, str(submission / f"{case.case_id}.mp4"), str(cf) if cf.exists() else None,
                     str(state) if state.exists() else None, str(split.answer_path(case.case_id)), str(split.store_path),
                     case.sample_id, case.start, case.horizon, split.fps, split.resolution, split.track, case.to_json())


def plan_cases(submission: Path, split: Split, plan: MetricPlan, cache: Path, resume: bool) -> tuple[list[CaseTask], dict]:
    """A task per case with metrics left to compute; the cached results of the others."""
    tasks, cached = [], {}
    for case in split.cases:
        files = _case_files(submission, split, case)
        digests = {"video": file_digest(Path(files.video)), "cf_video": file_digest(Path(files.cf_video)) if files.cf_video else None,
                   "state": file_digest(Path(files.state)) if files.state else None}
        keys = {name: _key(digests, split.checksum, name, version) for name, version in plan.run.items()}
        entry_path = cache / f"{case.case_id}.json"
        hits = _cached_results(entry_path, keys) if resume else {}
        todo = {name: key for name, key in keys.items() if name not in hits}
        if not todo:
            cached[case.case_id] = {"case_id": case.case_id, "scores": {n: h["score"] for n, h in hits.items()},
                                    "seconds": {n: h["seconds"] for n, h in hits.items()}}
            continue
        if entry_path.is_dir() and not entry_path.is_symlink():  # the cache is ours: clear what blocks the entry
            shutil.rmtree(entry_path)
        tasks.append(CaseTask(files, todo, str(entry_path), hits))
    return tasks, cached


def _environment(env: MetricEnv) -> dict:
    import importlib.metadata as metadata

    import av

    versions = {}
    for package in ("wildworld", "numpy", "opencv-python-headless", "av", "pyarrow", "zarr", "scipy", "pycolmap", "evo", "torch"):
        try:
            versions[package] = metadata.version(package)
        except metadata.PackageNotFoundError:
            versions[package] = None
    return {"python": sys.version.split()[0], "platform": platform.platform(), "packages": versions,
            "decoder": f"pyav {av.__version__} (ffmpeg {av.library_versions.get('libavcodec')})", "device": env.device}


def _terminal_bar(done: int, total: int) -> None:
    """A dependency-free progress line on stderr (the library does not import rich)."""
    width = 30
    filled = width * done // max(total, 1)
    sys.stderr.write(f"\rwildbench evaluate [{'#' * filled}{'.' * (width - filled)}] {done}/{total} cases")
    if done >= total:
        sys.stderr.write("\n")
    sys.stderr.flush()


def _progress_callback(progress: bool | Callable[[int, int], None] | None) -> Callable[[int, int], None] | None:
    if callable(progress):
        return progress
    if progress is True and sys.stderr.isatty():
        return _terminal_bar
    if progress not in (True, False, None):
        raise WildBenchError(f"progress={progress!r}: pass True, False or a callable(done, total)")
    return None


def evaluate(
    submission: str | os.PathLike[str],
    split_path: str | os.PathLike[str],
    out: str | os.PathLike[str],
    *,
    metrics: Sequence[str] | None = None,
    workers: int = 1,
    executor: str = "local",
    ray_address: str | None = None,
    resume: bool = False,
    device: str = "cpu",
    weights: str | os.PathLike[str] | None = None,
    recognizer: str | os.PathLike[str] | None = None,
    store: str | os.PathLike[str] | None = None,
    progress: bool | Callable[[int, int], None] | None = True,
) -> Results:
    """Evaluate a submission on a split; write the results document and return it, typed.

    ``metrics`` selects metrics or families by name (default: all); a metric that cannot run
    here (no recognizer or weights given) is recorded as "not computed" with its reason.
    ``workers`` > 1 scores cases in parallel (``executor`` local or ray) with identical numbers.
    ``progress``: True (default) draws a one-line progress bar on stderr when it is a terminal
    (nothing otherwise: logs and notebooks stay clean); False silences it; a callable
    ``progress(done, total)`` is called as cases finish instead.

    >>> results = evaluate("SUB", "SPLIT", "RESULTS.json", metrics=["state_alignment"])  # doctest: +SKIP
    >>> results.metrics["state_alignment"].measures["position_accuracy"].mean            # doctest: +SKIP
    """
    (results,) = evaluate_submissions([(submission, out)], split_path, metrics=metrics, workers=workers, executor=executor,
                                      ray_address=ray_address, resume=resume, device=device, weights=weights,
                                      recognizer=recognizer, store=store, progress=progress)
    return results


def evaluate_submissions(
    jobs: Sequence[tuple[str | os.PathLike[str], str | os.PathLike[str]]],
    split_path: str | os.PathLike[str],
    *,
    metrics: Sequence[str] | None = None,
    workers: int = 1,
    executor: str = "local",
    ray_address: str | None = None,
    resume: bool = False,
    device: str = "cpu",
    weights: str | os.PathLike[str] | None = None,
    recognizer: str | os.PathLike[str] | None = None,
    store: str | os.PathLike[str] | None = None,
    progress: bool | Callable[[int, int], None] | None = True,
) -> list[Results]:
    """Evaluate several submissions of one split in one run: ``jobs`` are (SUB, RESULTS.json) pairs.

    The same numbers as one ``evaluate`` per submission (each case is scored alone), for the
    price of one start-up: every submission is checked before any case is scored, the cases of
    all of them share one worker pool (each worker sets its metrics up once, the recognizer
    included), and the results files are written, each atomically, when every case is scored.
    No results file may lie inside any of the submissions. ``wall_time_s`` of each document is
    the wall time of the whole run (shared by its submissions). ``progress`` counts cases over
    all submissions.
    """
    started = time.perf_counter()
    if executor not in ("local", "ray"):
        raise WildBenchError(f"executor {executor!r}: choose local or ray")
    jobs = [(Path(submission), Path(out)) for submission, out in jobs]
    if not jobs:
        raise WildBenchError("no submission to evaluate")
    seen: dict[Path, Path] = {}
    for submission, out in jobs:
        target = out.resolve()
        if target in seen:
            raise WildBenchError(f"{out}: the results of both {seen[target]} and {submission}; give each submission its own file")
        seen[target] = submission
    env = MetricEnv(device=device, weights=Path(weights) if weights else None, recognizer=Path(recognizer) if recognizer else None)
    split = load_split(split_path, store=store)                                  # checksum-verified
    for _, out in jobs:
        for submission, _ in jobs:  # never into any of the inputs, another job's submission included
            _check_out(out, submission, split.path)
    for submission, out in jobs:
        report = check_submission(submission, split, decode=False)  # the workers decode each video once
        if not report.ok:
            first = report.errors[0]
            raise SubmissionError(f"{submission}: {len(report.errors)} problems (first: {first.code}: {first.path}: {first.message}); "
                                  "run `wildbench check` to see them all")
    plan = plan_metrics(metrics, env)                                            # versions; not computed
    progress = _progress_callback(progress)
    tasks: list[CaseTask] = []
    owners: list[int] = []  # the job of each task
    entries: list[dict] = []
    for index, (submission, out) in enumerate(jobs):
        cache = out.with_name(out.name + ".cache")
        if cache.exists() and not resume:
            shutil.rmtree(cache)
        cache.mkdir(parents=True, exist_ok=True)
        job_tasks, job_entries = plan_cases(submission, split, plan, cache, resume)  # cache hits reused
        tasks += job_tasks
        owners += [index] * len(job_tasks)
        entries.append(job_entries)
    total = len(split.cases) * len(jobs)
    done = sum(len(e) for e in entries)
    if progress is not None:
        progress(done, total)
    chunks = _chunks(tasks, workers, env)
    offsets, offset = [], 0
    for chunk in chunks:
        offsets.append(offset)
        offset += len(chunk.tasks)
    for position, chunk_entries in run_tasks(score_chunk, chunks, executor=executor, workers=workers, address=ray_address):
        for k, entry in enumerate(chunk_entries):                                # setup once per chunk
            entries[owners[offsets[position] + k]][entry["case_id"]] = entry
        done += len(chunk_entries)
        if progress is not None:
            progress(done, total)
    facts = SplitFacts(fps=split.fps, horizon=split.horizon, track=split.track)
    environment = _environment(env)
    wall = time.perf_counter() - started
    written = []
    for (submission, out), job_entries in zip(jobs, entries):
        doc = results_document(split, read_submission_info(submission), submission, plan, job_entries, facts,
                               environment=environment, wall_time_s=wall)
        validate_document(doc, "wildbench_results", path=out)                    # aggregate once, in split order
        with atomic_path(out) as tmp:
            tmp.write_text(json.dumps(doc, indent=1, sort_keys=True) + "\n")
        written.append(Results(doc, path=out))
    return written
