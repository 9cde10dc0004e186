"""Action Following validity: the truth scores at its ceiling, wrong videos near chance, late and
frozen videos lower the more they are late or frozen, and a model that ignores the actions gets
nothing on the counterfactual track.

The recognizer is trained once per session (``af_recognizer``) on a store of its own (another
seed than the benchmark's): the cross-store use the metric is built for.
"""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest

pytest.importorskip("torch")
pytest.importorskip("safetensors")

from typer.testing import CliRunner  # noqa: E402

from wildbench.metrics import CaseData, get_metric  # noqa: E402
from wildbench.metrics.action_following import MIN_SEGMENT_FRAMES, calibrated  # noqa: E402
from wildbench.metrics.base import MetricEnv, SplitFacts  # noqa: E402
from wildbench.runner import decode_submission  # noqa: E402

DELAYS = (0, 4, 8, 16)  # up to about a segment's length: beyond it a shifted video is as wrong as any
FREEZE_AT = (81, 60, 40, 20)


@pytest.fixture(scope="module")
def videos(bench):
    """Every reference video and every true video of the benchmark, decoded once."""
    from wildworld.video import open_video

    split = bench["split"]
    store = split.open_store()
    out = {"true": {}}
    for case in split.cases:
        with open_video(store.video(case.sample_id, "rgb")) as reader:
            out["true"][case.case_id] = reader.get(range(case.start, case.start + case.horizon))
    for name, sub in bench["subs"].items():
        out[name] = {c.case_id: decode_submission(sub / f"{c.case_id}.mp4", c.horizon, split.resolution) for c in split.cases}
        cf = {c.case_id: sub / f"{c.case_id}.cf.mp4" for c in split.cases}
        out[name + ".cf"] = {k: decode_submission(p, split.cases[0].horizon, split.resolution) for k, p in cf.items() if p.exists()}
    return out


@pytest.fixture(scope="module")
def scorer(af_recognizer):
    return get_metric("action_following").setup(MetricEnv(recognizer=af_recognizer))


def _aggregate(bench, scorer, videos, make, cf=None) -> dict:
    split = bench["split"]
    per_case = []
    for case in split.cases:
        video = make(case.case_id)
        cf_video = cf(case.case_id) if cf is not None else None
        per_case.append(scorer.score(CaseData(case.case_id, video, split.answer(case.case_id), split.fps,
                                              true_video=videos["true"][case.case_id], cf_video=cf_video)))
    summary = get_metric("action_following").aggregate(per_case, SplitFacts(split.fps, split.horizon))
    return {key: value["mean"] for key, value in summary["measures"].items()} | {"_summary": summary}


@pytest.fixture(scope="module")
def references(bench, scorer, videos):
    return {name: _aggregate(bench, scorer, videos, lambda cid, n=name: videos[n][cid]) for name in bench["subs"]}


def test_the_recognizer_sees_the_truth_well_above_chance(references):
    """Training learns, and what it learns carries to another store: the recognizer trained on
    its own store recognises the benchmark's true clips far above chance."""
    summary = references["oracle"]["_summary"]
    assert summary["segments"] >= 15, summary["skipped_segments"]
    assert summary["ceiling"]["balanced_top1"] > summary["chance"] + 0.2, summary["ceiling"]
    assert summary["ceiling"]["frame_agreement"] > summary["chance"] + 0.2, summary["ceiling"]


def test_references_rank_oracle_far_above_resim_shuffled_and_frozen(references):
    """The test recognizer is small (a few minutes of training: ~40% top-1 on its held-out
    clips, against 81% for the benchmark's); docs/action-following.md has the table measured
    with the benchmark's. The per-frame (timing) score separates the references clearly with
    both; the segment score, over ~35 segments, is noisier with a weak recognizer."""
    oracle = references["oracle"]
    assert oracle["calibrated"] > 0.75 and oracle["timing"] > 0.85, oracle  # re-encoded truth: near its ceiling
    for name in ("resim", "shuffled", "frozen"):
        assert references[name]["timing"] < oracle["timing"] - 0.3, (name, references[name]["timing"], oracle["timing"])
        assert references[name]["calibrated"] < oracle["calibrated"], (name, references[name]["calibrated"], oracle["calibrated"])
    for name in ("resim", "shuffled"):  # nearer the floor (0) than the ceiling (1)
        assert references[name]["timing"] < 0.5, (name, references[name]["timing"])
    # Frozen holds the true first frame, so it is credited wherever that picture shows the true
    # action (the first segment, the standing actions): how often depends on the recognizer.
    # Measured: timing 0.30 with the benchmark's recognizer, 0.51 with this small one on a
    # fresh machine, far below the oracle either way (asserted above).
    assert references["frozen"]["timing"] < 0.65, references["frozen"]


def _delayed(video: np.ndarray, frames: int) -> np.ndarray:
    """The first frame held for ``frames`` frames, then the truth (late by ``frames``)."""
    return video[np.maximum(np.arange(len(video)) - frames, 0)]


def _frozen_from(video: np.ndarray, frame: int) -> np.ndarray:
    return video[np.minimum(np.arange(len(video)), frame)]


@pytest.mark.parametrize("degrade, levels", [(_delayed, DELAYS), (_frozen_from, FREEZE_AT)], ids=["delay", "freeze"])
def test_timing_score_falls_monotonically(bench, scorer, videos, degrade, levels):
    scores = [_aggregate(bench, scorer, videos, lambda cid, v=level: degrade(videos["oracle"][cid], v))["timing"] for level in levels]
    assert all(a > b for a, b in zip(scores, scores[1:])), dict(zip(levels, scores))


def test_counterfactual_track_ranks_the_true_pair_above_identical_videos(bench, scorer, videos):
    if not videos["oracle.cf"]:
        pytest.skip("the oracle has no counterfactual videos (not a synthetic store)")
    true_pair = _aggregate(bench, scorer, videos, lambda cid: videos["oracle"][cid], cf=lambda cid: videos["oracle.cf"][cid])
    same = _aggregate(bench, scorer, videos, lambda cid: videos["oracle"][cid], cf=lambda cid: videos["oracle"][cid])
    assert same["cf_preference"] == pytest.approx(0.5)  # the same video twice: exactly chance
    assert true_pair["_summary"]["measures"]["cf_preference"]["cases"] == len(bench["split"].cases)
    assert true_pair["cf_preference"] > 0.58, true_pair["_summary"]["measures"]["cf_preference"]


def test_calibration_reads_zero_at_chance_and_one_at_the_ceiling():
    assert calibrated(0.8, 0.8, 0.1) == 1.0
    assert calibrated(0.1, 0.8, 0.1) == 0.0
    assert calibrated(0.45, 0.8, 0.1) == pytest.approx(0.5)
    assert calibrated(0.5, 0.12, 0.1) is None  # a ceiling at chance calibrates nothing
    assert calibrated(None, 0.8, 0.1) is None


def test_short_segments_and_unknown_actions_are_counted_not_scored(bench, scorer, videos):
    split = bench["split"]
    case = split.cases[0]
    answer = split.answer(case.case_id)
    result = scorer.score(CaseData(case.case_id, videos["oracle"][case.case_id], answer, split.fps,
                                   true_video=videos["true"][case.case_id]))
    assert all(s["stop"] - s["start"] >= MIN_SEGMENT_FRAMES and s["start"] >= 1 for s in result["segments"])
    assert json.loads(json.dumps(result, allow_nan=False)) == result  # a JSON-able per-case record


def test_without_a_recognizer_it_is_not_computed_never_a_number(bench, tmp_path):
    from wildbench import evaluate

    results = evaluate(bench["subs"]["oracle"], bench["split_dir"], tmp_path / "r.json", metrics=["action_following"])
    entry = results["metrics"]["action_following"]
    assert "not computed: no recognizer given" in json.dumps(entry)
    assert entry["status"] == "not computed" and "measures" not in entry


def test_results_record_the_recognizer_and_its_version_is_the_metrics(bench, af_recognizer, tmp_path):
    from wildbench import evaluate
    from wildbench.recognizer import Recognizer

    results = evaluate(bench["subs"]["frozen"], bench["split_dir"], tmp_path / "r.json", metrics=["action_following"],
                       recognizer=af_recognizer)
    entry = results["metrics"]["action_following"]
    recognizer = Recognizer.load(af_recognizer)
    assert entry["version"].endswith(recognizer.version) and recognizer.checksum[:16] in entry["version"]
    assert entry["recognizer"] == recognizer.version
    assert entry["measures"]["calibrated"]["mean"] is not None


def test_cli_evaluates_with_a_recognizer_and_refuses_a_bad_one_in_one_line(bench, af_recognizer, tmp_path):
    from wildworld_cli.wildbench_app import app

    runner = CliRunner()
    out = tmp_path / "r.json"
    ok = runner.invoke(app, ["evaluate", str(bench["subs"]["oracle"]), "--split", str(bench["split_dir"]), "--out", str(out),
                             "--metrics", "action_following", "--recognizer", str(af_recognizer)])
    assert ok.exit_code == 0, ok.output
    assert json.loads(out.read_text())["metrics"]["action_following"]["measures"]["timing"]["mean"] > 0.85
    bad = runner.invoke(app, ["evaluate", str(bench["subs"]["oracle"]), "--split", str(bench["split_dir"]), "--out",
                              str(tmp_path / "bad.json"), "--metrics", "action_following", "--recognizer", str(tmp_path / "nothing")])
    assert bad.exit_code != 0 and "Traceback" not in bad.output
    assert "nothing" in bad.output and len(bad.output.strip().splitlines()) <= 2, bad.output
