"""The metric framework: declared inputs and scoring, per-worker setup, failures as scores,
not-computed metrics, per-metric cache reuse, consistency checks and one board per track."""

from __future__ import annotations

import json
from dataclasses import dataclass, field

import numpy as np
import pytest

from wildbench import SubmissionError, WildBenchError, build_boards, evaluate, evaluate_submissions, read_results
from wildbench.metrics import (
    EstimationFailed,
    Measure,
    MetricBase,
    MetricEnv,
    SplitFacts,
    get_metric,
    register,
    select_metrics,
)
from wildbench.metrics.base import check_aggregate, summarise, unregister

BRIGHTNESS = Measure(key="brightness", label="mean brightness", direction="higher", best=255.0, worst=0.0,
                     text="test metric: mean pixel value")
SETUPS: list[str] = []


@dataclass(frozen=True)
class _Scorer:
    seen: list = field(default_factory=list)

    def score(self, case):
        self.seen.append(case.case_id)
        if case.case_id.endswith("1"):
            raise EstimationFailed("no estimate on this case")
        assert case.true_video is not None and case.true_video.shape == case.video.shape
        return {"brightness": float(case.video.mean()), "true": float(case.true_video.mean())}


@dataclass(frozen=True)
class Brightness(MetricBase):
    name: str = "test_brightness"
    version: str = "0.1"
    family: str = "Test Family"
    description: str = "mean pixel value (a test metric)"
    requires: frozenset = frozenset({"video", "true_video"})
    measures: tuple = (BRIGHTNESS,)

    def setup(self, env):
        SETUPS.append(env.device)
        return _Scorer()

    def aggregate(self, per_case, split):
        return summarise(per_case, self.measures)


@dataclass(frozen=True)
class NeedsWeights(MetricBase):
    name: str = "test_needs_weights"
    version: str = "0.1"
    family: str = "Test Family"
    description: str = "a learned test metric"
    requires: frozenset = frozenset({"video"})
    measures: tuple = (Measure(key="quality", label="quality", direction="lower", best=0.0, worst=10.0),)

    def unavailable(self, env):
        return None if env.weights else "not computed: no weights given (--weights DIR)"

    def score(self, case):
        return {"quality": 1.0}

    def aggregate(self, per_case, split):
        return summarise(per_case, self.measures)


@pytest.fixture
def test_metrics():
    SETUPS.clear()
    metrics = [register(Brightness()), register(NeedsWeights())]
    yield metrics
    for metric in metrics:
        unregister(metric.name)


def test_measures_map_raw_values_by_their_declared_direction():
    assert BRIGHTNESS.to_score(127.5) == pytest.approx(50.0) and BRIGHTNESS.to_score(300) == 100.0
    lower = Measure(key="ate", label="ATE", direction="lower", best=0.0, worst=0.5)
    assert lower.to_score(0.0) == 100.0 and lower.to_score(0.25) == pytest.approx(50.0) and lower.to_score(2.0) == 0.0
    with pytest.raises(WildBenchError, match="disagree"):
        Measure(key="x", label="x", direction="lower", best=1.0, worst=0.0)
    with pytest.raises(WildBenchError, match="differ"):
        Measure(key="x", label="x", direction="higher", best=1.0, worst=1.0)


def test_selection_by_metric_or_family_name(test_metrics):
    assert select_metrics(["Test Family"]) == ["test_brightness", "test_needs_weights"]
    assert select_metrics(["test_family", "state_alignment"]) == ["state_alignment", "test_brightness", "test_needs_weights"]
    assert select_metrics(["test_brightness"]) == ["test_brightness"]
    with pytest.raises(WildBenchError, match="no such metric or family"):
        select_metrics(["nosuch"])


def test_failures_count_as_worst_not_computed_has_a_reason_and_setup_runs_once(bench, test_metrics, tmp_path):
    out = tmp_path / "r.json"
    results = evaluate(bench["subs"]["oracle"], bench["split_dir"], out, metrics=["test_family"])
    assert SETUPS == ["cpu"]  # one worker: set up once, not per case
    metric = results.metrics["test_brightness"]
    case_ids = results.case_ids
    failed = [c for c in case_ids if c.endswith("1")]
    assert failed and metric.summary["failed_cases"] == len(failed)
    assert metric.failure_rate == pytest.approx(len(failed) / len(case_ids))
    for case_id in failed:  # a failed case is scored with the worst value and flagged, not dropped
        entry = results["cases"][case_id]["test_brightness"]
        assert entry["failed"] and entry["brightness"] == BRIGHTNESS.worst and "no estimate" in entry["failure"]
    values = [results["cases"][c]["test_brightness"]["brightness"] for c in case_ids]
    assert metric.measures["brightness"].mean == pytest.approx(np.mean(values))
    skipped = results.metrics["test_needs_weights"]
    assert not skipped.computed and "no weights" in skipped.reason and not skipped.measures
    assert all("test_needs_weights" not in results["cases"][c] for c in case_ids)
    again = read_results(out)
    assert again.family_scores() == results.family_scores()
    assert set(again.family_scores()) == {"Test Family"}


def test_resume_reuses_each_metrics_cached_result(bench, test_metrics, tmp_path):
    out = tmp_path / "r.json"
    first = evaluate(bench["subs"]["frozen"], bench["split_dir"], out, metrics=["test_brightness"])
    assert SETUPS == ["cpu"]
    SETUPS.clear()
    both = evaluate(bench["subs"]["frozen"], bench["split_dir"], out, metrics=["test_brightness", "state_alignment"], resume=True)
    assert SETUPS == []  # only state_alignment was computed: the cached brightness results were reused
    assert both.metrics["state_alignment"].computed
    assert both["cases"] == {c: {**v, "state_alignment": both["cases"][c]["state_alignment"]} for c, v in first["cases"].items()}
    entry = json.loads(next((tmp_path / "r.json.cache").iterdir()).read_text())
    assert set(entry["scores"]) == {"test_brightness", "state_alignment"}
    (tmp_path / "r.json.cache" / f"{first.case_ids[0]}.json").unlink()
    again = evaluate(bench["subs"]["frozen"], bench["split_dir"], out, metrics=["test_brightness", "state_alignment"], resume=True)
    assert SETUPS == ["cpu"] and again["cases"] == both["cases"]  # one case recomputed, same numbers


def test_results_are_checked_by_each_metrics_own_aggregate(bench, test_metrics, tmp_path):
    out = tmp_path / "r.json"
    evaluate(bench["subs"]["frozen"], bench["split_dir"], out, metrics=["test_brightness"])
    doc = json.loads(out.read_text())
    metric = get_metric("test_brightness")
    per_case = [doc["cases"][c]["test_brightness"] for c in doc["case_order"]]
    facts = SplitFacts(fps=doc["split"]["fps"], horizon=doc["split"]["horizon"])
    assert check_aggregate(metric, per_case, facts, doc["metrics"]["test_brightness"]) is None
    first = doc["case_order"][0]
    doc["cases"][first]["test_brightness"]["brightness"] += 1.0  # a per-case edit
    out.write_text(json.dumps(doc))
    with pytest.raises(WildBenchError, match="do not follow"):
        read_results(out)


def test_one_board_per_track(bench, tmp_path):
    short = tmp_path / "short.json"
    evaluate(bench["subs"]["frozen"], bench["split_dir"], short)
    doc = json.loads(short.read_text())
    doc["split"]["track"] = "long"
    doc["split"]["checksum"] = "1" * 64
    (tmp_path / "long.json").write_text(json.dumps(doc))
    boards = build_boards([short, tmp_path / "long.json"])
    assert [b.track for b in boards] == ["short", "long"] and all(len(b.rows) == 1 for b in boards)


def test_metric_env_refuses_unknown_devices():
    with pytest.raises(WildBenchError, match="cpu or cuda"):
        MetricEnv(device="tpu")


def test_several_submissions_in_one_run_score_as_one_run_each(bench, tmp_path):
    names = ("frozen", "shuffled", "oracle")
    jobs = [(bench["subs"][name], tmp_path / "together" / f"{name}.json") for name in names]
    seen = []
    together = evaluate_submissions(jobs, bench["split_dir"], metrics=["state_alignment"], workers=2,
                                    progress=lambda done, total: seen.append((done, total)))
    cases = len(bench["split"].cases)
    assert seen[0] == (0, 3 * cases) and seen[-1] == (3 * cases, 3 * cases)  # one count over every submission
    for (submission, out), results in zip(jobs, together):
        assert out.is_file() and results["submission"]["model"] == submission.name.removeprefix("sub_")
        alone = evaluate(submission, bench["split_dir"], tmp_path / "alone" / out.name, metrics=["state_alignment"], workers=1)
        assert results["cases"] == alone["cases"] and results.family_scores() == alone.family_scores()
    assert together[2].family_scores() != together[0].family_scores()  # each submission's own cases, not a neighbour's
    with pytest.raises(WildBenchError, match="the results of both"):
        evaluate_submissions([(bench["subs"]["frozen"], tmp_path / "x.json"), (bench["subs"]["oracle"], tmp_path / "x.json")],
                             bench["split_dir"], metrics=["state_alignment"])
    inside = bench["subs"]["oracle"] / "frozen.json"
    with pytest.raises(WildBenchError, match="inside the submission directory"):  # into another job's submission
        evaluate_submissions([(bench["subs"]["frozen"], inside), (bench["subs"]["oracle"], tmp_path / "o.json")],
                             bench["split_dir"], metrics=["state_alignment"])
    assert not inside.exists()


def test_several_submissions_are_all_checked_before_any_case_is_scored(bench, tmp_path):
    import shutil

    broken = tmp_path / "broken"
    shutil.copytree(bench["subs"]["frozen"], broken)
    next(p for p in broken.glob("*.mp4") if not p.name.endswith(".cf.mp4")).unlink()  # a case's video missing
    jobs = [(bench["subs"]["oracle"], tmp_path / "r" / "oracle.json"), (broken, tmp_path / "r" / "broken.json")]
    with pytest.raises(SubmissionError, match=str(broken)):
        evaluate_submissions(jobs, bench["split_dir"], metrics=["state_alignment"])
    assert not (tmp_path / "r").exists()  # the good one was not scored either: nothing written
