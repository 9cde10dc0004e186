"""classify_path: one decision of what a path holds, shared by validate, info and the errors."""

from __future__ import annotations

import shutil

import pytest

from wildworld import MissingFileError, NotADatasetError, classify_path
from wildworld.classify import BENCH_MARKERS, expect_kind


def test_release_kinds(synth_part, tmp_path):
    assert classify_path(synth_part / "000000") == "sample"
    assert classify_path(synth_part) == "part"
    root = tmp_path / "root"
    shutil.copytree(synth_part, root / "data_part1")
    assert classify_path(root) == "root"


def _marked(directory, name):
    directory.mkdir(parents=True)
    (directory / name).write_text("{}")
    return directory


def test_store_split_inputs_and_submission(synth_part, tmp_path):
    assert classify_path(_marked(tmp_path / "store", "manifest.json")) == "store"
    assert classify_path(_marked(tmp_path / "split", "split.json")) == "split"
    assert classify_path(tmp_path / "split" / "split.json") == "split"
    store_in_part = tmp_path / "part"
    shutil.copytree(synth_part, store_in_part)
    (store_in_part / "manifest.json").write_text("{}")
    assert classify_path(store_in_part) == "store"  # markers first: a store written into a part is a store
    inputs = tmp_path / "inputs"
    inputs.mkdir()
    (inputs / "cases.json").write_text("{}")
    assert classify_path(inputs) == "inputs"
    videos = tmp_path / "sub"
    videos.mkdir()
    (videos / "wb0000.mp4").write_bytes(b"")
    assert classify_path(videos) == "submission"  # no submission.json yet: still a submission
    (videos / "submission.json").write_text("{}")
    assert classify_path(videos) == "submission"


def test_what_is_not_a_dataset_is_said_in_one_line(synth_part, tmp_path):
    with pytest.raises(MissingFileError, match="no such file"):
        classify_path(tmp_path / "nope")
    with pytest.raises(NotADatasetError, match="not a directory"):
        classify_path(synth_part / "000000" / "state.csv")
    (tmp_path / "empty").mkdir()
    with pytest.raises(NotADatasetError, match="not a dataset: an empty directory"):
        classify_path(tmp_path / "empty")
    (tmp_path / "unfinished" / "_work").mkdir(parents=True)
    with pytest.raises(NotADatasetError, match="unfinished conversion"):
        classify_path(tmp_path / "unfinished")


def test_expect_kind_names_what_was_found_and_the_next_step(synth_part, tmp_path):
    store = _marked(tmp_path / "store", "manifest.json")
    assert expect_kind(store, "store") == "store"
    with pytest.raises(NotADatasetError, match="this is a release part directory, not a converted store.*wildworld convert"):
        expect_kind(synth_part, "store")
    with pytest.raises(NotADatasetError, match="this is a converted store, not a WildBench split.*wildbench split"):
        expect_kind(store, "split")


def test_bench_markers_are_the_names_wildbench_writes():
    from wildbench.inputs import CASES_FILE
    from wildbench.split import SPLIT_FILE
    from wildbench.submission import SUBMISSION_FILE

    assert BENCH_MARKERS == {"split": SPLIT_FILE, "inputs": CASES_FILE, "submission": SUBMISSION_FILE}


def test_wrong_kinds_are_usage_errors_in_the_cli(tmp_path):
    from typer.testing import CliRunner

    from wildworld_cli.wildworld_app import app

    runner = CliRunner()
    split = _marked(tmp_path / "split", "split.json")
    for command in ("validate", "info"):
        result = runner.invoke(app, [command, str(split)])
        assert result.exit_code == 2, result.output
        assert "WildBench split" in result.output and len(result.output.strip().splitlines()) == 1


def test_commands_given_the_wrong_kind_say_what_it_is_and_what_to_run(synth_part, tmp_path):
    from typer.testing import CliRunner

    from wildworld_cli.wildbench_app import app as bench
    from wildworld_cli.wildworld_app import app as world

    runner = CliRunner()
    store = _marked(tmp_path / "store", "manifest.json")
    cases = [
        (bench, ["split", str(synth_part), "--out", str(tmp_path / "s")], "this is a release part directory", "wildworld convert"),
        (world, ["load", str(synth_part)], "this is a release part directory", "wildworld convert"),
        (world, ["stats", str(synth_part)], "this is a release part directory", "wildworld convert"),
        (bench, ["inputs", str(store), "--out", str(tmp_path / "i")], "this is a converted store, not a WildBench split", "wildbench split"),
    ]
    for app, args, what, step in cases:
        result = runner.invoke(app, args)
        assert result.exit_code == 2, result.output
        assert what in result.output and step in result.output and len(result.output.strip().splitlines()) == 1
