"""The converted store: frame alignment, annotations, shards, stats, resume, Ray, validation."""

from __future__ import annotations

import io
import json
import os
import shutil
import signal
import subprocess
import sys
import time
from pathlib import Path

import cv2
import numpy as np
import pyarrow.parquet as pq
import pytest

from wildworld import NotADatasetError, WildWorldError, open_sample
from wildworld.store.convert import ConversionError, convert
from wildworld.store.extract import ConvertOptions, scale_intrinsics
from wildworld.store.reader import open_store
from wildworld.store.validate import validate_store
from wildworld.synth import SynthOptions, generate
from wildworld.video import read_frames

OPTIONS = ConvertOptions(width=128, height=72, clip_len=16, gop=8, shard_bytes=100_000)


@pytest.fixture(scope="module")
def odd_part(tmp_path_factory) -> Path:
    """Odd lengths (37 and 37 frames), invalid-camera rows, two monsters, a companion."""
    out = tmp_path_factory.mktemp("odd") / "part"
    generate(out, SynthOptions(samples=2, seconds=37 / 30, width=160, height=96, seed=21))
    return out


@pytest.fixture(scope="module")
def store(odd_part, tmp_path_factory) -> Path:
    target = tmp_path_factory.mktemp("store") / "store"
    convert([odd_part], target, OPTIONS, workers=2)
    return target


def test_frames_match_the_source(store, odd_part):
    opened = open_store(store)
    assert opened.frames == 74 and [s.frames for s in opened.samples] == [37, 37]
    for entry in opened.samples:
        source = odd_part / entry.id
        frames = list(range(entry.frames))
        src_rgb = read_frames(source / "rgb.mp4", frames, backend="pyav")
        src_depth = read_frames(source / "depth.mkv", frames, color="gray")
        rgb = read_frames(opened.video(entry.id, "rgb"), frames, backend="pyav")
        depth = read_frames(opened.video(entry.id, "depth"), frames, color="gray")
        for k in (0, 1, entry.frames // 2, entry.frames - 1):
            expected = cv2.resize(src_rgb[k], (128, 72), interpolation=cv2.INTER_AREA)
            assert np.abs(rgb[k].astype(int) - expected).mean() < 4.0, k
            np.testing.assert_array_equal(depth[k], cv2.resize(src_depth[k], (128, 72), interpolation=cv2.INTER_NEAREST))
        # Frame k is frame k: a shifted comparison must be clearly worse.
        shifted = np.abs(rgb[5].astype(int) - cv2.resize(src_rgb[9], (128, 72), interpolation=cv2.INTER_AREA)).mean()
        same = np.abs(rgb[5].astype(int) - cv2.resize(src_rgb[5], (128, 72), interpolation=cv2.INTER_AREA)).mean()
        assert shifted > same


def test_annotations_match_the_source(store, odd_part):
    opened = open_store(store)
    for entry in opened.samples:
        sample = open_sample(odd_part / entry.id)
        rows = opened.rows(entry.id)
        camera = sample.camera
        K = scale_intrinsics(camera.K, sample.size, (128, 72))
        np.testing.assert_allclose(opened.field(rows, "camera.K"), K, rtol=1e-6, equal_nan=True)
        np.testing.assert_array_equal(opened.field(rows, "camera.valid").astype(bool), camera.valid)
        assert (~camera.valid).any()
        assert np.isnan(opened.field(rows, "camera.rot")[~camera.valid]).all()
        np.testing.assert_array_equal(opened.field(rows, "action.motion_id"), sample.actions.motion_id)
        index = opened.field(rows, "action.index").astype(int)
        keys = [opened.vocabulary[i] for i in index]
        assert keys == [tuple(k) for k in sample.actions.keys]
        tracked = int(sample.actions.tracked_index[0])
        np.testing.assert_allclose(opened.field(rows, f"npc.list.{tracked}.hp"), sample.column(f"npc.list.{tracked}.hp"), rtol=1e-6)
        cond = opened.layout.field("monster.list.0.cond")
        values = [cond.categories[int(c)] if c >= 0 else None for c in opened.field(rows, "monster.list.0.cond")]
        assert values == sample.state.column("monster.list.0.cond").to_pylist()
        skeleton = opened.skeleton_array[entry.offset : entry.offset + entry.frames]
        for slot, info in entry.skeleton.items():
            key = f"{slot}_{info['type_id']}"
            got = skeleton[:, opened.layout.slot_index(slot), : info["joints"]]
            np.testing.assert_array_equal(got, sample.skeleton[key].joints)
            assert np.isnan(skeleton[:, opened.layout.slot_index(slot), info["joints"] :]).all()


def test_webdataset_shards_hold_aligned_clips(store):
    import webdataset as wds

    opened = open_store(store)
    manifest = opened.manifest
    assert len(manifest["shards"]) >= 2  # the small shard size forces several shards
    seen = []
    urls = [str(store / s["path"]) for s in manifest["shards"]]
    for sample in wds.WebDataset(urls, shardshuffle=False):
        assert "." not in sample["__key__"]
        meta = json.loads(sample["json"])
        seen.append((meta["sample_id"], meta["start"]))
        entry = opened.sample(meta["sample_id"])
        rows = opened.frames_array[entry.offset + meta["start"] : entry.offset + meta["start"] + 16]
        lo, hi = opened.layout.stream_range("state")
        np.testing.assert_array_equal(np.load(io.BytesIO(sample["state.npy"])), rows[:, lo:hi])
        assert np.load(io.BytesIO(sample["skeleton.npy"])).shape[0] == 16
        clip = store / "clip.mp4"
        clip.write_bytes(sample["rgb.mp4"])
        try:
            got = read_frames(clip, [0, 15], backend="pyav")
        finally:
            clip.unlink()
        want = read_frames(opened.video(meta["sample_id"], "rgb"), [meta["start"], meta["start"] + 15], backend="pyav")
        np.testing.assert_array_equal(got, want)
    assert sorted(seen) == [(s, start) for s in ("000000", "000001") for start in (0, 16)]


def test_parquet_table(store):
    table = pq.read_table(store / "tables" / "frames.parquet")
    assert table.num_rows == 74
    assert table.column("sample_id").to_pylist()[:2] == ["000000", "000000"]
    assert table.column("frame").to_pylist()[36:38] == [36, 0]
    opened = open_store(store)
    np.testing.assert_array_equal(table.column("action.index").to_numpy(), opened.frames_array[:][:, 0].astype(int))


def test_stats_are_true_global_quantiles(store):
    opened = open_store(store)
    stats = json.loads((store / "stats.json").read_text())
    rows = opened.frames_array[:]
    for name in ("npc.list.0.hp", "camera.pos", "action.motion_frame"):
        spec = opened.layout.field(name)
        for i, column in enumerate(range(spec.start, spec.stop)):
            values = rows[:, column].astype(np.float64)
            values = values[np.isfinite(values)]
            entry = stats["fields"][name]
            assert entry["count"][i] == values.size
            assert entry["mean"][i] == pytest.approx(values.mean(), rel=1e-9, abs=1e-9)
            assert entry["std"][i] == pytest.approx(values.std(), rel=1e-7, abs=1e-9)
            assert entry["min"][i] == values.min() and entry["max"][i] == values.max()
            assert entry["quantiles"]["0.5"][i] == pytest.approx(np.quantile(values, 0.5))
            assert entry["quantiles"]["0.99"][i] == pytest.approx(np.quantile(values, 0.99))


def test_validate_store_and_catch_a_corrupted_shard(store, tmp_path):
    report = validate_store(store)
    assert report.ok, [str(f) for f in report.errors]
    broken = tmp_path / "broken"
    shutil.copytree(store, broken)
    shard = broken / open_store(broken).manifest["shards"][0]["path"]
    data = bytearray(shard.read_bytes())
    data[len(data) // 2] ^= 0xFF
    shard.write_bytes(bytes(data))
    codes = {f.code for f in validate_store(broken).errors}
    assert "checksum-mismatch" in codes
    (broken / "annotations.zarr" / "frames" / "zarr.json").unlink()
    assert not validate_store(broken).ok


def test_converting_again_is_a_no_op_and_conflicts_are_refused(store, odd_part):
    before = (store / "manifest.json").read_bytes()
    report = convert([odd_part], store, OPTIONS, workers=1)
    assert report.already_complete and (store / "manifest.json").read_bytes() == before
    with pytest.raises(ConversionError):
        convert([odd_part], store, ConvertOptions(width=64, height=36, clip_len=16, gop=8), workers=1)


def test_bad_samples_are_skipped_or_fail_strict(odd_part, tmp_path):
    part = tmp_path / "part"
    shutil.copytree(odd_part, part)
    (part / "000001" / "depth.mkv").write_bytes(b"broken")
    report = convert([part], tmp_path / "store", OPTIONS, workers=1)
    assert report.samples == 1 and report.skipped[0]["id"] == "000001"
    assert report.skipped[0]["findings"][0]["code"] in ("video-unreadable", "frame-count-mismatch")
    manifest = json.loads((tmp_path / "store" / "manifest.json").read_text())
    assert manifest["skipped"][0]["id"] == "000001"
    with pytest.raises(ConversionError, match="000001"):
        convert([part], tmp_path / "strict", OPTIONS, workers=1, strict=True)


def test_annotation_only_store(odd_part, tmp_path):
    options = ConvertOptions(clip_len=16, gop=8, streams=("action", "state"))
    convert([odd_part], tmp_path / "s", options, workers=1)
    opened = open_store(tmp_path / "s")
    assert not (tmp_path / "s" / "videos").exists()
    assert validate_store(tmp_path / "s").ok


def _run_convert(source: Path, target: Path) -> subprocess.Popen:
    code = (
        "import sys; from wildworld.store.convert import convert; from wildworld.store.extract import ConvertOptions;"
        f"convert([{str(source)!r}], {str(target)!r}, ConvertOptions(width=128, height=72, clip_len=16, gop=8, shard_bytes=100_000), workers=1)"
    )
    return subprocess.Popen([sys.executable, "-c", code], stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)


@pytest.mark.slow
def test_killed_conversion_resumes_to_an_identical_store(store, odd_part, tmp_path):
    target = tmp_path / "resumed"
    process = _run_convert(odd_part, target)
    deadline = time.time() + 120
    while time.time() < deadline and not list((target / "_work" / "samples").glob("*/result.json")):
        time.sleep(0.05)
    process.send_signal(signal.SIGKILL)
    process.wait()
    assert not (target / "manifest.json").exists()
    assert any(p.name.endswith(".json") for p in (target / "_work" / "samples").glob("*/result.json"))
    finished = _run_convert(odd_part, target)
    assert finished.wait(timeout=300) == 0, finished.stderr.read().decode()
    assert (target / "manifest.json").read_bytes() == (store / "manifest.json").read_bytes()
    assert not (target / "_work").exists()


@pytest.mark.slow
@pytest.mark.ray
def test_ray_executor_builds_the_same_store(store, odd_part, tmp_path):
    pytest.importorskip("ray")
    target = tmp_path / "ray"
    convert([odd_part], target, OPTIONS, executor="ray", workers=2)
    assert (target / "manifest.json").read_bytes() == (store / "manifest.json").read_bytes()


def test_cli_convert_info_stats_validate(odd_part, tmp_path):
    from typer.testing import CliRunner

    from wildworld_cli.wildworld_app import app

    runner = CliRunner()
    target = tmp_path / "cli_store"
    result = runner.invoke(app, ["convert", str(odd_part), str(target), "--resolution", "128x72", "--clip-len", "16", "--workers", "1"])
    assert result.exit_code == 0, result.output
    assert "2 samples" in result.output
    info = runner.invoke(app, ["info", str(target), "--json"])
    assert info.exit_code == 0 and json.loads(info.stdout)["frames"] == 74
    stats = runner.invoke(app, ["stats", str(target), "--recompute"])
    assert stats.exit_code == 0 and "match" in stats.output
    assert runner.invoke(app, ["validate", str(target)]).exit_code == 0
    bad = runner.invoke(app, ["convert", str(odd_part), str(tmp_path / "x"), "--clip-len", "10", "--gop", "8"])
    assert bad.exit_code == 2 and "multiple of gop" in bad.output
    bad = runner.invoke(app, ["convert", str(odd_part), str(tmp_path / "x"), "--streams", "rgb,sound"])
    assert bad.exit_code == 2 and "sound" in bad.output


# -- nothing written where it does not belong ---------------------------------------------------
FAST = ConvertOptions(clip_len=16, gop=8, streams=("action", "state"))  # annotations only: quick


def test_convert_refuses_destinations_that_are_not_new_or_its_own_store(odd_part, store, tmp_path):
    from _trees import tree_snapshot

    part = tmp_path / "part"
    shutil.copytree(odd_part, part)
    other = tmp_path / "other_part"
    shutil.copytree(odd_part, other)
    junk = tmp_path / "junk"
    junk.mkdir()
    (junk / "notes.txt").write_text("mine")
    split = tmp_path / "split"
    split.mkdir()
    (split / "split.json").write_text("{}")
    watched = [part, other, junk, split, store]
    before = {path: tree_snapshot(path) for path in watched}
    refusals = [
        (part, "this is the source .*part itself; write the store outside the sources, e.g. .*part_store"),
        (part / "store", "this is inside the source"),
        (part / "000000" / "store", "this is inside the source"),
        (other / "store", "would be inside .*other_part, a release part directory"),
        (other / "000001" / "store", "would be inside .*000001, a release sample directory"),
        (store / "nested", "would be inside .*store, a converted store"),
        (split / "store", "would be inside .*split, a WildBench split"),
        (junk, r"junk: not empty and not a converted store \(it holds notes.txt\)"),
        (split, "split: this is a WildBench split; write the store to a new or empty directory"),
        (other, "this is a release part directory; write the store"),
        (store, "already holds a store converted with other options"),
        (junk / "notes.txt", "a file, not a directory"),
    ]
    for destination, message in refusals:
        with pytest.raises(WildWorldError, match=message):
            convert([part], destination, FAST, workers=1)
        assert {path: tree_snapshot(path) for path in watched} == before, destination  # byte-identical
    with pytest.raises(NotADatasetError, match="this is a converted store, not a release sample directory.*\"source\""):
        convert([store], tmp_path / "from_store", FAST, workers=1)
    with pytest.raises(NotADatasetError, match="this is a WildBench split, not a release"):
        convert([split], tmp_path / "from_split", FAST, workers=1)
    assert not (tmp_path / "from_store").exists() and not (tmp_path / "from_split").exists()
    empty = tmp_path / "empty"
    empty.mkdir()
    assert convert([part], empty, FAST, workers=1).samples == 2  # an empty directory is a new store
    scratch = tmp_path / "scratch"  # a directory with a stray video beside other things is no part
    (scratch / "clip").mkdir(parents=True)
    shutil.copy(part / "000000" / "rgb.mp4", scratch / "clip" / "rgb.mp4")
    assert convert([part], scratch / "runs" / "store", FAST, workers=1).samples == 2


def test_a_data_root_of_parts_converts_like_its_parts(odd_part, tmp_path):
    root = tmp_path / "data"
    shutil.copytree(odd_part, root / "data_part1")
    shutil.copytree(odd_part, root / "data_part2")
    report = convert([root], tmp_path / "store", FAST, workers=1)
    assert report.samples == 4
    ids = [s.id for s in open_store(tmp_path / "store").samples]
    assert ids == ["data_part1_000000", "data_part1_000001", "data_part2_000000", "data_part2_000001"]
    assert convert([root], tmp_path / "store", FAST, workers=1).already_complete


def test_validate_still_checks_the_samples_of_a_part_holding_a_store(odd_part, store, tmp_path):
    from wildworld.validate import validate_path

    part = tmp_path / "part"
    shutil.copytree(odd_part, part)
    shutil.copy(store / "manifest.json", part / "manifest.json")  # what an old convert PART PART left
    report = validate_path(part, decode_ends=False)
    assert report.kind == "part" and report.samples == 2
    assert report.findings[0].code == "store-inside-part" and report.findings[0].severity == "warning"
    assert "move those files to a directory of their own" in report.findings[0].message
    (part / "000001" / "state.csv").write_text("broken")
    assert any(f.code == "missing-column" and "000001" in f.path for f in validate_path(part, decode_ends=False).errors)


def test_cli_convert_refusal_is_one_line(odd_part, tmp_path):
    from typer.testing import CliRunner

    from wildworld_cli.wildworld_app import app

    part = tmp_path / "part"
    shutil.copytree(odd_part, part)
    result = CliRunner().invoke(app, ["convert", str(part), str(part / "store"), "--workers", "1"])
    assert result.exit_code == 2 and "Traceback" not in result.output
    assert result.stderr.strip() == (f"error: {part / 'store'}: this is inside the source {part}; write the store outside "
                                     f"the sources, e.g. {part.parent / 'part_store'}")
    assert not (part / "store").exists()
