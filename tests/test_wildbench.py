"""WildBench protocol: split rules and integrity, inputs, submission checks, runner, leaderboard."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import numpy as np
import pytest
from typer.testing import CliRunner

from wildbench import SplitError, SplitRules, build_rows, check_submission, evaluate, load_split, make_split, to_html, to_markdown, write_inputs
from wildbench.results import read_results
from wildworld.store.reader import open_store
from wildworld.video import write_video
from wildworld_cli.wildbench_app import app

runner = CliRunner()


def test_split_follows_its_rules(bench):
    split = bench["split"]
    store = open_store(bench["store"])
    layout = store.layout
    idle = [tuple(k) for k in split.doc["rules"]["idle_keys"]]
    spans: dict[str, list] = {}
    for case in split.cases:
        entry = store.sample(case.sample_id)
        rows = store.frames_array[entry.offset + case.start : entry.offset + case.start + case.horizon]
        assert (rows[:, layout.field("camera.valid").start] == 1).all()
        keys = set(map(tuple, rows[:, [layout.field("action.motion_bank_id").start, layout.field("action.motion_id").start]].astype(int).tolist()))
        assert keys - set(idle), "every case has a non-idle action"
        answer = split.answer(case.case_id)
        player = answer.point_slot == layout.slot_index(case.player_slot)
        assert player.sum() >= 0.5 * entry.skeleton[case.player_slot]["joints"]
        assert answer.track_visible[0].all() and not answer.track_reliable[0].any()
        for a, b in spans.get(case.sample_id, []):
            assert case.start >= b or case.start + case.horizon <= a, "windows never overlap"
        spans.setdefault(case.sample_id, []).append((case.start, case.start + case.horizon))
    assert len({c.stratum["group"] for c in split.cases}) >= 2
    assert sum(split.doc["strata"].values()) == len(split.cases)


def test_split_is_deterministic_and_tamper_evident(bench, tmp_path):
    # The same conversion of the same samples elsewhere: another store directory whose manifest
    # names another source directory. Content, not location, makes the split and its checksum.
    elsewhere = tmp_path / "elsewhere"
    shutil.copytree(bench["root"] / "part", elsewhere / "part")
    shutil.copytree(bench["store"], elsewhere / "store")
    manifest = json.loads((elsewhere / "store" / "manifest.json").read_text())
    old_part = str(Path(manifest["samples"][0]["source"]).parent)
    text = json.dumps(manifest).replace(json.dumps(old_part)[1:-1], json.dumps(str(elsewhere / "part"))[1:-1])
    (elsewhere / "store" / "manifest.json").write_text(text)
    assert str(elsewhere / "part") in (elsewhere / "store" / "manifest.json").read_text()
    again = make_split(elsewhere / "store", tmp_path / "again", SplitRules(cases=12, horizon=81, seed=0))
    assert again.checksum == bench["split"].checksum
    assert again.store_path != bench["split"].store_path
    assert load_split(bench["split_dir"], store=elsewhere / "store").open_store() is not None
    other = make_split(bench["store"], tmp_path / "other", SplitRules(cases=12, horizon=81, seed=1))
    assert other.checksum != bench["split"].checksum
    doc = json.loads((tmp_path / "again" / "split.json").read_text())
    doc["cases"][0]["start"] += 8
    (tmp_path / "again" / "split.json").write_text(json.dumps(doc))
    with pytest.raises(SplitError, match="checksum"):
        load_split(tmp_path / "again")
    answer = tmp_path / "other" / other.doc["answers"][other.cases[0].case_id]["path"]
    answer.write_bytes(answer.read_bytes()[:-10] + b"0123456789")
    with pytest.raises(SplitError, match="altered"):
        load_split(tmp_path / "other")


def test_a_split_checksummed_the_earlier_way_still_loads(bench, tmp_path):
    import hashlib

    split_dir = tmp_path / "split"
    shutil.copytree(bench["split_dir"], split_dir)
    doc = json.loads((split_dir / "split.json").read_text())
    del doc["store_identity"]  # earlier splits named their store by its manifest's bytes
    doc["store_manifest_sha256"] = hashlib.sha256((bench["store"] / "manifest.json").read_bytes()).hexdigest()
    body = {k: v for k, v in doc.items() if k != "checksum"}  # the store location was covered then
    doc["checksum"] = hashlib.sha256(json.dumps(body, sort_keys=True, separators=(",", ":")).encode()).hexdigest()
    (split_dir / "split.json").write_text(json.dumps(doc))
    assert load_split(split_dir).checksum == doc["checksum"]
    assert load_split(split_dir).open_store() is not None
    doc["store"] = "/elsewhere"  # but an edit is still caught
    (split_dir / "split.json").write_text(json.dumps(doc))
    with pytest.raises(SplitError, match="altered"):
        load_split(split_dir)


def test_a_moved_store_is_found_with_store_option(bench, tmp_path):
    split_dir = tmp_path / "split"
    shutil.copytree(bench["split_dir"], split_dir)
    doc = json.loads((split_dir / "split.json").read_text())
    doc["store"] = str(tmp_path / "gone")  # the store has moved away since the split was made
    (split_dir / "split.json").write_text(json.dumps(doc))
    result = runner.invoke(app, ["baseline", "frozen", "--split", str(split_dir), "--out", str(tmp_path / "sub")])
    assert result.exit_code == 2 and "--store" in result.output and "gone" in result.output
    result = runner.invoke(app, ["baseline", "frozen", "--split", str(split_dir), "--out", str(tmp_path / "sub"), "--store", str(bench["store"])])
    assert result.exit_code == 0, result.output
    assert check_submission(tmp_path / "sub", load_split(split_dir)).ok


def test_inputs_hold_no_future_frames(bench, tmp_path):
    out = write_inputs(bench["split"], tmp_path / "inputs")
    case = bench["split"].cases[0]
    files = sorted(p.name for p in (out / case.case_id).iterdir())
    assert files == ["actions.json", "actions_cf.json", "camera.json", "captions.json", "first_frame.png", "skeleton_first.json",
                     "state_first.json"]
    assert not list(out.rglob("*.mp4")) and len(list(out.rglob("*.png"))) == len(bench["split"].cases)
    actions = json.loads((out / case.case_id / "actions.json").read_text())
    assert len(actions["frames"]) == case.horizon and actions["segments"][0]["start"] == 0
    counterfactual = json.loads((out / case.case_id / "actions_cf.json").read_text())
    assert len(counterfactual["frames"]) == case.horizon and counterfactual["frames"][0] == actions["frames"][0]
    true_keys = [(f["motion_bank_id"], f["motion_id"]) for f in actions["frames"][1:]]
    cf_keys = [(f["motion_bank_id"], f["motion_id"]) for f in counterfactual["frames"][1:]]
    assert sum(a != b for a, b in zip(true_keys, cf_keys)) > 0.8 * len(true_keys)  # other actions almost everywhere
    captions = json.loads((out / case.case_id / "captions.json").read_text())
    assert len(captions) == len(actions["segments"]) and "motion_id=" in captions[0]["text"]
    camera = json.loads((out / case.case_id / "camera.json").read_text())
    assert len(camera["frames"]) == case.horizon
    skeleton = json.loads((out / case.case_id / "skeleton_first.json").read_text())
    assert case.player_slot in skeleton
    assert json.loads((out / "cases.json").read_text())["edges"]["npc"]
    import cv2

    frame = cv2.cvtColor(cv2.imread(str(out / case.case_id / "first_frame.png")), cv2.COLOR_BGR2RGB)
    oracle_first = __import__("wildworld").video.read_frames(bench["subs"]["oracle"] / f"{case.case_id}.mp4", [0], backend="pyav")[0]
    assert np.abs(frame.astype(int) - oracle_first).mean() < 3


def test_check_reports_every_problem(bench, tmp_path):
    split = bench["split"]
    sub = tmp_path / "sub"
    shutil.copytree(bench["subs"]["frozen"], sub)
    assert check_submission(sub, split).ok
    cases = [c.case_id for c in split.cases]
    (sub / f"{cases[0]}.mp4").unlink()  # missing
    (sub / "wb9999.mp4").write_bytes(b"x")  # extra case
    (sub / "notes.txt").write_text("hi")  # not a case id
    (sub / f"{cases[1]}.mp4").write_bytes(b"\x00" * 500)  # undecodable
    frames = np.zeros((20, 180, 320, 3), np.uint8)
    write_video(sub / f"{cases[2]}.mp4", frames, fps=30)  # too few frames
    write_video(sub / f"{cases[3]}.mp4", np.zeros((81, 180, 320, 3), np.uint8), fps=25)  # wrong fps
    write_video(sub / f"{cases[4]}.mp4", np.zeros((81, 100, 320, 3), np.uint8), fps=30)  # wrong aspect
    (sub / "submission.json").write_text(json.dumps({"model": "x"}))  # invalid json
    report = check_submission(sub, split)
    found = {(f.code, f.key) for f in report.errors}
    assert ("missing-case", cases[0]) in found and ("extra-case", "wb9999") in found
    assert ("undecodable", cases[1]) in found and ("too-few-frames", cases[2]) in found
    assert ("wrong-fps", cases[3]) in found and ("bad-size", cases[4]) in found
    assert {"bad-name", "bad-submission-json"} <= {f.code for f in report.errors}
    result = runner.invoke(app, ["check", str(sub), "--split", str(bench["split_dir"]), "--json"])
    assert result.exit_code == 1 and json.loads(result.stdout)["errors"] == len(report.errors)
    assert runner.invoke(app, ["check", str(bench["subs"]["oracle"]), "--split", str(bench["split_dir"])]).exit_code == 0
    usage = runner.invoke(app, ["check", str(tmp_path / "nothing"), "--split", str(bench["split_dir"])])
    assert usage.exit_code == 2 and "Traceback" not in usage.output


def test_check_names_files_that_are_not_plain_videos_and_decodes_every_frame(bench, tmp_path):
    import os

    split = bench["split"]
    sub = tmp_path / "sub"
    shutil.copytree(bench["subs"]["frozen"], sub)
    cases = [c.case_id for c in split.cases]
    (sub / f"{cases[0]}.mp4").rename(sub / f"{cases[0]}.mp4\n")  # $ would match before the newline
    (sub / f"{cases[1]}.mp4").unlink()
    (sub / f"{cases[1]}.mp4").mkdir()
    (sub / f"{cases[2]}.mp4").unlink()
    os.mkfifo(sub / f"{cases[2]}.mp4")  # opening it would block forever
    video = bytearray((bench["subs"]["oracle"] / f"{cases[3]}.mp4").read_bytes())
    middle = len(video) // 2
    video[middle : middle + 3000] = bytes((x * 7 + 13) & 255 for x in video[middle : middle + 3000])
    (sub / f"{cases[3]}.mp4").write_bytes(bytes(video))  # first and last frames fine, the middle is not
    report = check_submission(sub, split)
    found = {(f.code, f.key) for f in report.errors}
    assert ("missing-case", cases[0]) in found and "bad-name" in {f.code for f in report.errors}
    assert ("bad-file", cases[1]) in found and ("bad-file", cases[2]) in found
    assert ("undecodable", cases[3]) in found
    assert "decoding fails after" in next(f.message for f in report.errors if f.key == cases[3])


def test_submission_json_claims_are_checked_against_the_split(bench, tmp_path):
    split = bench["split"]
    sub = tmp_path / "sub"
    shutil.copytree(bench["subs"]["resim"], sub)
    info = json.loads((sub / "submission.json").read_text())

    def codes(**changes):
        doc = {k: v for k, v in {**info, **changes}.items() if v is not None}
        (sub / "submission.json").write_text(json.dumps(doc))
        report = check_submission(sub, split, decode=False)
        return {f.code for f in report.errors}, {f.code for f in report.warnings}, report.ok

    assert codes() == (set(), set(), True)
    (sub / ".DS_Store").write_bytes(b"\0")
    assert codes() == (set(), {"ignored-hidden"}, True)
    (sub / ".DS_Store").unlink()
    assert codes(description="x" * 20000)[0] == {"bad-submission-json"}
    assert codes(model="my-model", reference="ceiling")[0] == {"bad-submission-json"}  # only baselines are references
    assert codes(split_checksum="0" * 64)[0] == {"wrong-split"}
    assert codes(split_checksum=None) == (set(), {"no-split-checksum"}, True)


def test_evaluate_refuses_bad_outputs_before_any_work(bench, tmp_path):
    from wildbench import WildBenchError

    sub = bench["subs"]["frozen"]
    for out, words in [(sub / "r.json", "inside the submission"), (bench["split_dir"] / "split.json", "inside the split"),
                       (tmp_path, "is a directory")]:
        with pytest.raises(WildBenchError, match=words):
            evaluate(sub, bench["split_dir"], out)
    with pytest.raises(WildBenchError, match="executor"):
        evaluate(sub, bench["split_dir"], tmp_path / "r.json", executor="nosuch")
    assert not (tmp_path / "r.json.cache").exists() and not (sub / "r.json.cache").exists()
    (tmp_path / "stale").mkdir()
    (tmp_path / "stale" / "old.txt").write_text("x")
    with pytest.raises(WildBenchError, match="other files"):
        __import__("wildbench").make_baseline("frozen", bench["split"], tmp_path / "stale")
    again = tmp_path / "again"
    shutil.copytree(sub, again)
    case = bench["split"].cases[0].case_id
    (again / f"{case}.mp4.wwtmp-0123456789ab").write_bytes(b"half")  # left by a killed run
    (again / ".DS_Store").write_bytes(b"\0")
    __import__("wildbench").make_baseline("frozen", bench["split"], again)
    assert not list(again.glob("*.wwtmp-*")) and check_submission(again, bench["split"]).ok


def test_baselines_made_in_parallel_are_the_same_bytes(bench, tmp_path):
    """The fixture's submissions are made by one ``make_baselines`` run, their cases in one pool of
    two workers; one baseline at a time in one process writes the same files (shuffled: the
    derangement each worker recomputes; frozen: the counterfactual copy)."""
    from wildbench import WildBenchError, make_baseline, make_baselines

    for name in ("shuffled", "frozen"):
        serial = make_baseline(name, bench["split"], tmp_path / name, workers=1)
        parallel = bench["subs"][name]
        names = sorted(p.name for p in serial.iterdir())
        assert names == sorted(p.name for p in parallel.iterdir() if not p.name.startswith("."))
        for file in names:
            assert (serial / file).read_bytes() == (parallel / file).read_bytes(), (name, file)
    with pytest.raises(WildBenchError, match="workers 0"):
        make_baseline("frozen", bench["split"], tmp_path / "none", workers=0)
    for jobs, message in ((("frozen", tmp_path / "a"), ("shuffled", tmp_path / "a")), "named for two baselines"), \
                         ((("frozen", tmp_path / "a"), ("shuffled", tmp_path / "a" / "b")), "one submission directory inside another"), \
                         ((("frozen", tmp_path / "a"), ("nosuch", tmp_path / "b")), "no baseline 'nosuch'"):
        with pytest.raises(WildBenchError, match=message):
            make_baselines(list(jobs), bench["split"])
        assert not (tmp_path / "a").exists()  # every job is checked before anything is written


@pytest.fixture(scope="module")
def frozen_run(bench, tmp_path_factory):
    """One default evaluation of the frozen submission (every family that needs no recognizer,
    one worker), made once: the tests below copy its results and cache before changing them."""
    out = tmp_path_factory.mktemp("frozen_run") / "r.json"
    return out, evaluate(bench["subs"]["frozen"], bench["split_dir"], out, workers=1)


def _copy_run(frozen_run, tmp_path: Path) -> Path:
    source, _ = frozen_run
    out = tmp_path / source.name
    shutil.copy(source, out)
    shutil.copytree(source.with_name(source.name + ".cache"), out.with_name(out.name + ".cache"))
    return out


def test_damaged_cache_entries_are_recomputed_on_resume(bench, frozen_run, tmp_path):
    out = _copy_run(frozen_run, tmp_path)
    clean = frozen_run[1]
    cache = out.with_name(out.name + ".cache")
    entries = sorted(cache.iterdir())
    edited = json.loads(entries[0].read_text())
    edited["scores"]["state_alignment"]["score"] = 0.99  # an edit keeps the key but breaks the digest
    entries[0].write_text(json.dumps(edited))
    entries[1].write_text("[1, 2]")
    entries[2].write_bytes(b"\xff\xfe")
    entries[3].unlink()
    entries[3].mkdir()
    entries[4].write_text(entries[4].read_text().replace('"visible_pairs": ', '"visible_pairs": NaN, "was": ', 1))
    resumed = evaluate(bench["subs"]["frozen"], bench["split_dir"], out, resume=True)
    assert resumed["cases"] == clean["cases"]


def test_leaderboard_refuses_edited_duplicated_or_out_of_range_results(frozen_run, tmp_path):
    path = _copy_run(frozen_run, tmp_path)
    doc = json.loads(path.read_text())
    edited = json.loads(json.dumps(doc))
    edited["metrics"]["state_alignment"]["measures"]["position_accuracy"]["mean"] = 5.0
    (tmp_path / "edited.json").write_text(json.dumps(edited))
    mean = doc["metrics"]["state_alignment"]["measures"]["position_accuracy"]["mean"]
    nan = path.read_text().replace(f'"mean": {mean!r}', '"mean": NaN', 1)
    assert "NaN" in nan
    (tmp_path / "nan.json").write_text(nan)
    shutil.copy(path, tmp_path / "copy.json")
    for args, words in [([path, tmp_path / "edited.json"], "do not follow"), ([path, tmp_path / "nan.json"], "NaN"),
                        ([path, path], "given twice"), ([path, tmp_path / "copy.json"], "same results")]:
        result = runner.invoke(app, ["leaderboard", *map(str, args)])
        assert result.exit_code == 2 and words in result.output, (words, result.output)
        assert "Traceback" not in result.output


def test_evaluate_results_workers_and_resume(bench, frozen_run, tmp_path):
    out1, out2 = _copy_run(frozen_run, tmp_path), tmp_path / "r2.json"
    one = frozen_run[1]
    two = evaluate(bench["subs"]["frozen"], bench["split_dir"], out2, workers=2)
    accuracy = one.metrics["state_alignment"].measures["position_accuracy"]
    assert one["cases"] == two["cases"] and accuracy.mean == two.metrics["state_alignment"].measures["position_accuracy"].mean
    lo, hi = accuracy.ci95
    buckets = one.metrics["state_alignment"].buckets
    assert lo <= accuracy.mean <= hi and len(accuracy.per_horizon) == 3 and (buckets[0]["start"], buckets[0]["stop"]) == (1, 31)
    assert buckets[-1]["seconds"] == pytest.approx([61 / 30, 81 / 30], abs=1e-6)
    assert read_results(out1)["environment"]["decoder"].startswith("pyav")
    # Resume: cached cases are not recomputed.
    import wildbench.runner as runner_module

    calls = []
    original = runner_module.evaluate_case
    runner_module.evaluate_case = lambda task, *args: calls.append(task.case_id) or original(task, *args)
    try:
        cache = out1.with_name(out1.name + ".cache")
        first = sorted(cache.iterdir())[0]
        first.unlink()
        resumed = evaluate(bench["subs"]["frozen"], bench["split_dir"], out1, workers=1, resume=True)
    finally:
        runner_module.evaluate_case = original
    assert calls == [first.stem]
    assert resumed["cases"] == one["cases"]


def test_broken_submission_is_refused_before_scoring(bench, tmp_path):
    from wildbench import SubmissionError

    sub = tmp_path / "sub"
    shutil.copytree(bench["subs"]["frozen"], sub)
    next(p for p in sub.glob("*.mp4") if not p.name.endswith(".cf.mp4")).unlink()  # a main video
    with pytest.raises(SubmissionError, match="wildbench check"):
        evaluate(sub, bench["split_dir"], tmp_path / "r.json")


def test_leaderboard_outputs(bench, tmp_path):
    paths = []
    for name in ("oracle", "frozen", "resim"):  # two families: the board's mechanics, without SfM's cost
        paths.append(tmp_path / f"{name}.json")
        evaluate(bench["subs"][name], bench["split_dir"], paths[-1], workers=2, metrics=["state_alignment", "explicit_state"])
    rows, facts = build_rows(paths)
    assert [r.model for r in rows][0] == "oracle" and rows[0].reference == "ceiling"
    oracle_skill = read_results(paths[0]).metrics["state_alignment"].measures["skill"].mean
    assert rows[0].families["State Alignment"] == pytest.approx(100 * oracle_skill)  # the headline: skill
    assert rows[0].families["Explicit State"] == 100.0  # the reference state files: the oracle's is the truth
    assert facts["families"] == ["State Alignment", "Explicit State"]  # registration order (the paper's first)
    assert rows[0].overall == pytest.approx((100 * oracle_skill + 100.0) / 2)
    markdown = to_markdown(rows, facts)
    frozen = next(r for r in rows if r.model == "frozen")
    assert frozen.families["State Alignment"] == pytest.approx(0.0, abs=0.5)  # holding still has no skill
    floor = f"{rows[-1].model} ({rows[-1].label}, floor)"  # resim moves wrongly: no better than holding still
    assert "oracle (ceiling)" in markdown and floor in markdown and "State Alignment" in markdown
    assert "overall" in markdown.split("\n\n")[1]  # two families: an overall column
    page = to_html(rows, facts)
    assert page.count('class="ceiling"') == 1 and page.count('class="floor"') == 1
    assert "sortBy(" in page and page.count('<path class="curve') == 6 and page.count("<svg") == 2
    assert "http" not in page.split("<body>")[1].split("<script>")[0]
    result = runner.invoke(app, ["leaderboard", *map(str, paths), "--html", str(tmp_path / "lb.html"), "--markdown", str(tmp_path / "lb.md")])
    assert result.exit_code == 0, result.output
    assert (tmp_path / "lb.html").read_text() == page and (tmp_path / "lb.md").read_text() == markdown


def test_leaderboard_refuses_mixed_splits(frozen_run, tmp_path):
    path = _copy_run(frozen_run, tmp_path)
    other = json.loads(path.read_text())
    other["split"]["checksum"] = "0" * 64
    (tmp_path / "b.json").write_text(json.dumps(other))
    result = runner.invoke(app, ["leaderboard", str(path), str(tmp_path / "b.json")])
    assert result.exit_code == 2 and "different splits" in result.output
    other = json.loads(path.read_text())
    other["metrics"]["state_alignment"]["version"] = "2.1+lk-0.9"  # the same metric, another tracker version
    (tmp_path / "c.json").write_text(json.dumps(other))
    result = runner.invoke(app, ["leaderboard", str(path), str(tmp_path / "c.json")])
    assert result.exit_code == 2 and "different versions" in result.output and "c.json" in result.output


def test_resim_needs_a_synthetic_store(bench, tmp_path):
    from wildbench import WildBenchError, make_baseline

    split = bench["split"]
    doc = dict(split.doc)
    stripped = type(split)(path=split.path, doc=doc, cases=tuple(type(c)(**{**c.to_json(), "synthetic_script": None}) for c in split.cases))
    with pytest.raises(WildBenchError, match="synthetic"):
        make_baseline("resim", stripped, tmp_path / "resim")


def test_split_of_a_store_without_synthetic_sidecar_calibrates_depth(tmp_path):
    """Real release stores have no depth scale: the split calibrates it on the players' joints
    (the synthetic truth is 0.25 m per code) and takes the most played action as idle."""
    from collections import Counter

    from wildworld.store.convert import convert
    from wildworld.store.extract import ConvertOptions
    from wildworld.synth import SIDECAR_FILE, SynthOptions, generate

    generate(tmp_path / "part", SynthOptions(samples=2, seconds=6, width=320, height=180, seed=11))
    (tmp_path / "part" / SIDECAR_FILE).unlink()
    convert([tmp_path / "part"], tmp_path / "store", ConvertOptions(), workers=2)
    split = make_split(tmp_path / "store", tmp_path / "split", SplitRules(cases=3, horizon=41, seed=0))
    assert split.doc["depth_scale_source"] == "calibrated on joints"
    assert 0.24 <= split.doc["rules"]["depth_scale"] <= 0.30
    store = open_store(tmp_path / "store")
    rows = store.frames_array[:]
    keys = Counter(map(tuple, rows[:, [store.layout.field("action.motion_bank_id").start, store.layout.field("action.motion_id").start]].astype(int).tolist()))
    assert [tuple(k) for k in split.doc["rules"]["idle_keys"]] == [keys.most_common(1)[0][0]]
    assert all(c.synthetic_script is None for c in split.cases)
    assert split.doc["strata"] and all(c.stratum["group"].startswith("bank ") for c in split.cases)
