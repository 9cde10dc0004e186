"""Results: the document ``evaluate`` writes, its typed view, and its reader.

    doc     = results_document(split, info, ...)  # the runner: per-case results -> aggregates
    results = read_results("RESULTS.json")        # schema, version, consistency -> Results
    results.metrics["camera_control"].measures["ate_fraction"].mean
    results.family_scores()                       # {"Camera Control": 71.3, ...}

Consistency: a results file is read back only if each computed metric's summary is what its
``aggregate`` gives on the file's own per-case results (the metric's rules are the check), so
an edited or damaged file is refused. Below the runner and the leaderboard, above the metrics.
"""

from __future__ import annotations

import json
import os
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Iterator

from .errors import SubmissionError
from .metrics.base import Measure, SplitFacts, check_aggregate, get_metric
from .version import BENCHMARK_VERSION, SCORING_VERSION

__all__ = ["Results", "MetricResult", "MeasureResult", "results_document", "read_results", "RESULTS_MAJOR"]

#: The major benchmark version of the results documents this code reads and writes.
RESULTS_MAJOR = int(BENCHMARK_VERSION.split(".")[0])


@dataclass(frozen=True)
class MeasureResult:
    """One measure over the split: its raw mean and interval, and the same on the 0-100 scale."""

    measure: Measure
    mean: float | None
    ci95: tuple[float, float] | None
    per_horizon: tuple[float | None, ...] | None = None

    @property
    def score(self) -> float | None:
        return self.measure.to_score(self.mean)

    @property
    def score_ci95(self) -> tuple[float, float] | None:
        if self.ci95 is None:
            return None
        a, b = (self.measure.to_score(v) for v in self.ci95)
        return (min(a, b), max(a, b))

    @property
    def score_per_horizon(self) -> tuple[float | None, ...] | None:
        if self.per_horizon is None:
            return None
        return tuple(self.measure.to_score(v) for v in self.per_horizon)


@dataclass(frozen=True)
class MetricResult:
    """One metric of a results file: computed (with measures) or not computed (with a reason)."""

    name: str
    version: str
    family: str
    description: str
    computed: bool
    reason: str | None
    measures: dict[str, MeasureResult] = field(default_factory=dict)
    summary: dict = field(default_factory=dict)  # the whole aggregate, extras included
    seconds_per_case: float | None = None

    @property
    def failure_rate(self) -> float | None:
        return self.summary.get("failure_rate") if self.computed else None

    @property
    def buckets(self) -> list[dict]:
        return list(self.summary.get("buckets") or [])


class Results(Mapping):
    """A read-only results document: typed attributes, and the raw JSON as a Mapping."""

    def __init__(self, doc: dict, *, path: str | os.PathLike[str] | None = None) -> None:
        self._doc = doc
        self.path = Path(path) if path is not None else None
        self.metrics: dict[str, MetricResult] = {name: _metric_result(name, m) for name, m in doc["metrics"].items()}

    # Mapping over the JSON document, for code that reads it by key.
    def __getitem__(self, key: str) -> Any:
        return self._doc[key]

    def __iter__(self) -> Iterator[str]:
        return iter(self._doc)

    def __len__(self) -> int:
        return len(self._doc)

    @property
    def doc(self) -> dict:
        return self._doc

    @property
    def model(self) -> str:
        return self._doc["submission"]["model"]

    @property
    def reference(self) -> str | None:
        return self._doc["submission"].get("reference")

    @property
    def split_checksum(self) -> str:
        return self._doc["split"]["checksum"]

    @property
    def track(self) -> str:
        return self._doc["split"].get("track", "short")

    @property
    def case_ids(self) -> list[str]:
        return list(self._doc["case_order"])

    def family_scores(self) -> dict[str, float | None]:
        """Per family: the mean 0-100 score of its computed metrics' headline measures."""
        out: dict[str, list[float]] = {}
        for metric in self.metrics.values():
            if not metric.computed:
                continue
            for measure in metric.measures.values():
                if measure.measure.headline and measure.score is not None:
                    out.setdefault(metric.family, []).append(measure.score)
        return {family: sum(v) / len(v) for family, v in out.items()}

    def __repr__(self) -> str:
        names = ", ".join(f"{n}{'' if m.computed else ' (not computed)'}" for n, m in self.metrics.items())
        return f"Results(model={self.model!r}, split={self.split_checksum[:12]}, track={self.track}, cases={self._doc['split']['cases']}, metrics=[{names}])"


def _metric_result(name: str, doc: dict) -> MetricResult:
    computed = doc.get("status") == "computed"
    measures = {}
    if computed:
        declared = {m["key"]: Measure.from_json(m) for m in doc["declared_measures"]}
        for key, value in doc["measures"].items():
            ci = value.get("ci95")
            curve = value.get("per_horizon")
            measures[key] = MeasureResult(declared[key], value.get("mean"), tuple(ci) if ci else None,
                                          tuple(curve) if curve is not None else None)
    summary = {k: v for k, v in doc.items() if k not in ("version", "family", "description", "status", "reason", "declared_measures", "seconds_per_case")}
    return MetricResult(name, doc["version"], doc["family"], doc.get("description", ""), computed, doc.get("reason"),
                        measures, summary, doc.get("seconds_per_case"))


def results_document(split, info: dict, submission: Path, plan, entries: dict[str, dict], facts: SplitFacts, *,
                     environment: dict, wall_time_s: float) -> dict:
    """The results document of one run (JSON-ready), aggregates computed once in split order."""
    order = [case.case_id for case in split.cases]
    metrics: dict[str, dict] = {}
    for name, version in plan.run.items():
        metric = get_metric(name)
        per_case = [entries[c]["scores"][name] for c in order]
        seconds = [entries[c]["seconds"].get(name, 0.0) for c in order]
        metrics[name] = {"version": version, "family": metric.family, "description": metric.description, "status": "computed",
                         "declared_measures": [m.to_json() for m in metric.measures], **metric.aggregate(per_case, facts),
                         "seconds_per_case": sum(seconds) / len(seconds) if seconds else 0.0}
    for name, reason in plan.not_computed.items():
        metric = get_metric(name)
        metrics[name] = {"version": metric.version_for(plan.env), "family": metric.family, "description": metric.description,
                         "status": "not computed", "reason": reason, "declared_measures": [m.to_json() for m in metric.measures]}
    doc = {
        "benchmark": "wildbench",
        "benchmark_version": BENCHMARK_VERSION,
        "scoring_version": SCORING_VERSION,
        "split": {"path": str(split.path.resolve()), "checksum": split.checksum, "version": split.doc["split_version"],
                  "cases": len(split.cases), "horizon": split.horizon, "fps": split.fps, "track": split.track,
                  "resolution": list(split.resolution)},
        "submission": {**info, "path": str(submission.resolve())},
        "metrics": metrics,
        "case_order": order,
        "cases": {c: {name: entries[c]["scores"][name] for name in plan.run} for c in order},
        "environment": environment,
        "wall_time_s": wall_time_s,
    }
    return json.loads(json.dumps(doc, allow_nan=False, default=float))


def read_results(path: str | os.PathLike[str]) -> Results:
    """Read and check a RESULTS.json (schema, benchmark version, consistency) -> ``Results``."""
    from wildworld.classify import describe_kind, kind_of
    from wildworld.schemas import read_document

    if Path(path).is_dir() and kind_of(path) is not None:  # a split, a submission...: say which
        raise SubmissionError(f"{path}: this is {describe_kind(kind_of(path))}, not a results file; pass the RESULTS.json "
                              "that `wildbench evaluate` writes")
    doc = read_document(path, "wildbench_results", error=SubmissionError,
                        missing="no such results file (write one with `wildbench evaluate`)")
    found = str(doc["benchmark_version"])
    if int(found.split(".")[0]) != RESULTS_MAJOR:
        raise SubmissionError(f"{path}: results of WildBench {found}; this wildbench reads {RESULTS_MAJOR}.x "
                              "(evaluate the submission again with this version)")
    _check_consistent(path, doc)
    return Results(doc, path=path)


def _check_consistent(path, doc: dict) -> None:
    """A results file whose summaries do not follow from its per-case results was edited or damaged."""
    order = doc["case_order"]
    if len(order) != doc["split"]["cases"] or sorted(order) != sorted(doc["cases"]):
        raise SubmissionError(f"{path}: holds {len(doc['cases'])} cases but its split has {doc['split']['cases']}")
    facts = SplitFacts(fps=float(doc["split"]["fps"]), horizon=int(doc["split"]["horizon"]), track=doc["split"].get("track", "short"))
    for name, stored in doc["metrics"].items():
        if stored["status"] != "computed":
            continue
        try:
            metric = get_metric(name)
        except Exception:  # noqa: BLE001 - a metric this installation does not have
            raise SubmissionError(f"{path}: metric {name!r} is not part of this wildbench; it cannot be checked or ranked") from None
        if stored["version"].split("+")[0] != metric.version:
            raise SubmissionError(f"{path}: metric {name} version {stored['version']}; this wildbench computes {metric.version} "
                                  "(evaluate again)")
        per_case = []
        for case_id in order:
            case = doc["cases"][case_id]
            if name not in case:
                raise SubmissionError(f"{path}: case {case_id} has no {name} result")
            per_case.append(case[name])
        try:
            problem = check_aggregate(metric, per_case, facts, stored)
        except (KeyError, TypeError, ValueError) as exc:
            problem = f"none: the per-case results cannot be aggregated ({exc})"
        if problem is not None:
            raise SubmissionError(f"{path}: metric {name}: its summary ({problem}) and its per-case results do not follow "
                                  "from each other (the file was edited or damaged; evaluate again)")
