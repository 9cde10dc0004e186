"""The evaluation runner: every submitted video decoded once, every metric on the arrays.

    report   = check_submission(sub, split)            # refuse a broken submission up front
    tasks    = one CaseTask per case                   # paths only; workers load arrays
    per_case = run_tasks(evaluate_case, tasks, ...)    # local pool or Ray; each result cached
    results  = aggregate in split order                # once: 1 worker == N workers

A per-case cache (``RESULTS.cache/<case_id>.json``, keyed by the video's sha256, the split
checksum and the metric versions) lets a killed run resume with ``resume=True``.
"""

from __future__ import annotations

import hashlib
import json
import os
import platform
import shutil
import sys
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Callable, Sequence

import numpy as np

from wildworld._atomic import atomic_path
from wildworld.schemas import loads_strict, validate_document
from wildworld.store.executors import run_tasks

from .errors import SubmissionError, WildBenchError
from .split import load_split
from .submission import check_submission, read_submission_info
from .version import BENCHMARK_VERSION

__all__ = ["CaseTask", "evaluate_case", "evaluate", "decode_submission", "metric_version"]


def metric_version(name: str) -> str:
    from .metrics import get_metric

    metric = get_metric(name)
    return getattr(metric, "full_version", metric.version)


def decode_submission(path: str | os.PathLike[str], frames: int, size: tuple[int, int]) -> np.ndarray:
    """The first ``frames`` frames of a video as (T, H, W, 3) uint8 at ``size`` (resized if needed)."""
    import cv2

    from wildworld.video import iter_frames

    out = np.empty((frames, size[1], size[0], 3), np.uint8)
    count = 0
    for frame in iter_frames(path):
        if count == frames:
            break
        if frame.shape[1] != size[0] or frame.shape[0] != size[1]:
            frame = cv2.resize(frame, size, interpolation=cv2.INTER_AREA)
        out[count] = frame
        count += 1
    if count < frames:
        raise SubmissionError(f"{path}: only {count} frames decode, {frames} are needed")
    return out


@dataclass(frozen=True)
class CaseTask:
    case_id: str
    video: str
    answer: str
    metrics: tuple[str, ...]
    size: tuple[int, int]
    horizon: int
    fps: float
    cache: str
    key: str  # what the cached entry must match


def _video_digest(path: Path) -> str:
    digest = hashlib.sha256()
    with open(path, "rb") as handle:
        while chunk := handle.read(1 << 20):
            digest.update(chunk)
    return digest.hexdigest()


def evaluate_case(task: CaseTask) -> dict:
    """Score one case with every metric (pure; writes its cache entry)."""
    import cv2

    from .answers import CaseAnswer
    from .metrics import CaseData, get_metric

    cv2.setNumThreads(1)  # deterministic and no oversubscription under a worker pool
    started = time.perf_counter()
    video = decode_submission(task.video, task.horizon, task.size)
    decoded = time.perf_counter()
    with np.load(task.answer, allow_pickle=False) as data:
        answer = CaseAnswer.from_npz(data)
    case = CaseData(task.case_id, video, answer, task.fps)
    scores, seconds = {}, {}
    for name in task.metrics:
        t0 = time.perf_counter()
        scores[name] = get_metric(name).score(case)
        seconds[name] = time.perf_counter() - t0
    entry = {"key": task.key, "case_id": task.case_id, "scores": scores,
             "seconds": {"decode": decoded - started, **seconds}}
    entry["digest"] = _entry_digest(entry)
    with atomic_path(Path(task.cache)) as tmp:
        tmp.write_text(json.dumps(entry, sort_keys=True))
    return entry


def _entry_digest(entry: dict) -> str:
    """A checksum of a cache entry's content, so that a damaged entry is recomputed, not used."""
    body = {k: v for k, v in entry.items() if k != "digest"}
    return hashlib.sha256(json.dumps(body, sort_keys=True, allow_nan=False, default=float).encode()).hexdigest()


def _cached_entry(path: Path, key: str, metrics: Sequence[str]) -> dict | None:
    """The cached result of one case if it is intact and was made from the same inputs, else None."""
    try:
        entry = loads_strict(path.read_text(encoding="utf-8"))
        if not isinstance(entry, dict) or entry.get("key") != key or entry.get("digest") != _entry_digest(entry):
            return None
    except (OSError, ValueError, TypeError, UnicodeDecodeError, RecursionError):
        return None
    scores = entry.get("scores")
    if not isinstance(scores, dict) or any(not isinstance(scores.get(name), dict) for name in metrics):
        return None
    if not isinstance(entry.get("seconds"), dict) or any(name not in entry["seconds"] for name in metrics):
        return None
    return entry


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


def _environment(decoder: str) -> dict:
    import importlib.metadata as metadata

    versions = {}
    for package in ("wildworld", "numpy", "opencv-python-headless", "av", "pyarrow", "zarr", "scipy"):
        try:
            versions[package] = metadata.version(package)
        except metadata.PackageNotFoundError:
            versions[package] = None
    return {"python": sys.version.split()[0], "platform": platform.platform(), "packages": versions, "decoder": decoder}


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
    progress: Callable[[int, int], None] | None = None,
) -> dict:
    """Evaluate a submission on a split; write and return the results document."""
    from .metrics import available_metrics

    started = time.perf_counter()
    submission, out = Path(submission), Path(out)
    if executor not in ("local", "ray"):
        raise WildBenchError(f"executor {executor!r}: choose local or ray")
    split = load_split(split_path)
    _check_out(out, submission, split.path)
    report = check_submission(submission, split, decode=False)  # the workers decode each video once
    if not report.ok:
        first = report.errors[0]
        raise SubmissionError(f"{submission}: {len(report.errors)} problems (first: {first.code}: {first.path}: {first.message}); run `wildbench check` to see them all")
    info = read_submission_info(submission)
    names = tuple(metrics or available_metrics())
    versions = {name: metric_version(name) for name in names}
    cache = out.with_name(out.name + ".cache")
    if cache.exists() and not resume:
        shutil.rmtree(cache)
    cache.mkdir(parents=True, exist_ok=True)
    entries: dict[str, dict] = {}
    tasks = []
    for case in split.cases:
        video = submission / f"{case.case_id}.mp4"
        key = hashlib.sha256(json.dumps([_video_digest(video), split.checksum, versions], sort_keys=True).encode()).hexdigest()
        cached = cache / f"{case.case_id}.json"
        if resume and (entry := _cached_entry(cached, key, names)) is not None:
            entries[case.case_id] = entry
            continue
        if cached.is_dir() and not cached.is_symlink():  # the cache is ours: clear what blocks the entry
            shutil.rmtree(cached)
        tasks.append(CaseTask(case.case_id, str(video), str(split.answer_path(case.case_id)), names,
                              split.resolution, case.horizon, split.fps, str(cached), key))
    if progress is not None:
        progress(len(entries), len(split.cases))
    for _, entry in run_tasks(evaluate_case, tasks, executor=executor, workers=workers, address=ray_address):
        entries[entry["case_id"]] = entry
        if progress is not None:
            progress(len(entries), len(split.cases))
    from .metrics import get_metric

    ordered = [entries[case.case_id] for case in split.cases]
    aggregates = {name: get_metric(name).aggregate([e["scores"][name] for e in ordered]) for name in names}
    seconds = {name: float(np.mean([e["seconds"][name] for e in ordered])) for name in names}
    import av

    results = {
        "benchmark": "wildbench",
        "benchmark_version": BENCHMARK_VERSION,
        "split": {"path": str(split.path.resolve()), "checksum": split.checksum, "version": split.doc["split_version"],
                  "cases": len(split.cases), "horizon": split.horizon, "resolution": list(split.resolution)},
        "submission": {**info, "path": str(submission.resolve())},
        "metrics": {name: {"version": versions[name], "family": get_metric(name).family,
                           "description": get_metric(name).description, **aggregates[name],
                           "seconds_per_case": seconds[name]} for name in names},
        "cases": {e["case_id"]: e["scores"] for e in ordered},
        "environment": _environment(f"pyav {av.__version__} (ffmpeg {av.library_versions.get('libavcodec')})"),
        "wall_time_s": time.perf_counter() - started,
    }
    results = json.loads(json.dumps(results, allow_nan=False, default=float))
    validate_document(results, "wildbench_results", path=out)
    with atomic_path(out) as tmp:
        tmp.write_text(json.dumps(results, indent=1, sort_keys=True) + "\n")
    return results


def read_results(path: str | os.PathLike[str]) -> dict:
    """Read and check a RESULTS.json (schema and benchmark version)."""
    from wildworld.schemas import read_document

    doc = read_document(path, "wildbench_results", error=SubmissionError, version_key="benchmark_version",
                        missing="no such results file (write one with `wildbench evaluate`)")
    _check_results_consistent(path, doc)
    return doc


def _check_results_consistent(path, doc: dict) -> None:
    """A results file whose aggregates do not follow from its per-case scores was edited or damaged."""
    if len(doc["cases"]) != doc["split"]["cases"]:
        raise SubmissionError(f"{path}: holds {len(doc['cases'])} cases but its split has {doc['split']['cases']}")
    for name, metric in doc["metrics"].items():
        scores = []
        for case_id, case in doc["cases"].items():
            if name not in case:
                raise SubmissionError(f"{path}: case {case_id} has no {name} result")
            if case[name]["score"] is not None:
                scores.append(float(case[name]["score"]))
        mean = sum(scores) / len(scores) if scores else None
        if metric["cases"] != len(scores) or (mean is None) != (metric["mean"] is None) or (
                mean is not None and abs(mean - metric["mean"]) > 1e-9 * max(1.0, abs(mean))):
            raise SubmissionError(f"{path}: metric {name}: its mean and case count do not follow from the per-case "
                                  "scores (the file was edited or damaged; evaluate again)")
