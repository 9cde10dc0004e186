"""info and render through the CLI (typer's CliRunner)."""

from __future__ import annotations

import json

import cv2
import numpy as np
from typer.testing import CliRunner

from wildworld.video import probe_video
from wildworld_cli.wildworld_app import app

runner = CliRunner()


def test_info_json(synth_part):
    result = runner.invoke(app, ["info", str(synth_part / "000000"), "--json"])
    assert result.exit_code == 0, result.output
    info = json.loads(result.stdout)
    assert info["frames"] == 60 and info["invalid_camera_frames"] > 0
    assert len(info["monsters"]) == 2 and info["top_actions"]
    part = json.loads(runner.invoke(app, ["info", str(synth_part), "--json"]).stdout)
    assert part["samples"] == 3 and part["frames"] == 180


def test_info_table(synth_part):
    result = runner.invoke(app, ["info", str(synth_part / "000001")])
    assert result.exit_code == 0 and "top actions" in result.output


def test_render_video_and_sheet(synth_part, tmp_path):
    out, sheet = tmp_path / "skeleton.mp4", tmp_path / "sheet.png"
    result = runner.invoke(app, ["render", str(synth_part / "000000"), "-o", str(out), "--overlay-rgb", "--depth", "--sheet", str(sheet)])
    assert result.exit_code == 0, result.output
    probe = probe_video(out)
    assert probe.frames == 60 and probe.width == 2 * 160
    image = cv2.imread(str(sheet))
    assert image is not None and image.shape[1] == 3 * 2 * 160


def test_render_draws_bones_on_black(synth_part, tmp_path):
    sheet = tmp_path / "bones.png"
    assert runner.invoke(app, ["render", str(synth_part / "000002"), "--sheet", str(sheet)]).exit_code == 0
    assert (cv2.imread(str(sheet)) > 0).mean() > 0.001  # something was drawn


def test_usage_errors_are_one_line(tmp_path):
    result = runner.invoke(app, ["render", str(tmp_path)])
    assert result.exit_code == 2 and "nothing to do" in result.output
    result = runner.invoke(app, ["info", str(tmp_path / "missing")])
    assert result.exit_code == 2 and "Traceback" not in result.output
    result = runner.invoke(app, ["render", str(tmp_path), "--sheet", str(tmp_path / "s.png")])
    assert result.exit_code == 2 and "Traceback" not in result.output


def test_render_skips_edges_beyond_the_joints(part_copy, tmp_path):
    edges_path = part_copy / "skeleton_edges.json"
    edges = json.loads(edges_path.read_text())
    edges["npc"].append([0, 99])
    edges_path.write_text(json.dumps(edges))
    sheet = tmp_path / "sheet.png"
    result = runner.invoke(app, ["render", str(part_copy / "000000"), "--sheet", str(sheet), "--max-frames", "3"])
    assert result.exit_code == 0, result.output
    assert result.output.count("warning:") == 1 and "'npc'" in result.output and "skipped" in result.output
    assert cv2.imread(str(sheet)) is not None


def test_draw_skeletons_ignores_out_of_range_pairs():
    from wildworld.render import draw_skeletons

    canvas = np.zeros((96, 160, 3), np.uint8)
    joints = {"n0_1": np.array([[0.0, 0.0, -5.0], [1.0, 0.0, -5.0]])}
    K, position, rotation = np.array([100.0, 100.0, 80.0, 48.0]), np.zeros(3), np.array([0.0, 0.0, 0.0, 1.0])
    draw_skeletons(canvas, joints, {"n0_1": np.array([[0, 1], [1, 40]])}, K, position, rotation)
    assert canvas.any()  # the good bone is drawn, the bad one skipped


def test_render_depth_shorter_or_of_another_size(part_copy, tmp_path):
    from wildworld.video import read_frames, write_video

    sample = part_copy / "000000"
    depth = read_frames(sample / "depth.mkv", range(60), color="gray")
    write_video(sample / "depth.mkv", depth[:30], fps=30, profile="depth")
    out, sheet = tmp_path / "short.mp4", tmp_path / "short.png"
    result = runner.invoke(app, ["render", str(sample), "-o", str(out), "--depth", "--sheet", str(sheet)])
    assert result.exit_code == 0, result.output
    assert "ends at frame 30 of 60" in result.output
    assert probe_video(out).frames == 60 and cv2.imread(str(sheet)).shape[1] == 3 * 2 * 160
    write_video(sample / "depth.mkv", depth[:, :64, :80], fps=30, profile="depth")
    result = runner.invoke(app, ["render", str(sample), "-o", str(out), "--depth", "--max-frames", "5"])
    assert result.exit_code == 0, result.output
    assert "resized" in result.output and probe_video(out).width == 2 * 160


def test_info_on_a_file_or_a_directory_without_data(synth_part, tmp_path):
    result = runner.invoke(app, ["info", str(synth_part / "000000" / "state.csv")])
    assert result.exit_code == 2 and "not a directory" in result.output and "Traceback" not in result.output
    (tmp_path / "empty").mkdir()
    result = runner.invoke(app, ["info", str(tmp_path / "empty")])
    assert result.exit_code == 2 and "not a dataset" in result.output


def test_info_on_a_data_root_sums_its_parts(synth_part, tmp_path):
    import shutil

    root = tmp_path / "root"
    for name in ("data_part1", "data_part2"):
        shutil.copytree(synth_part, root / name)
    result = runner.invoke(app, ["info", str(root), "--json"])
    assert result.exit_code == 0, result.output
    data = json.loads(result.stdout)
    assert (data["parts"], data["samples"], data["frames"]) == (2, 6, 360)
    assert [p["part"] for p in data["per_part"]] == [str(root / "data_part1"), str(root / "data_part2")]


def test_render_on_a_part_asks_for_a_sample(synth_part, tmp_path):
    result = runner.invoke(app, ["render", str(synth_part), "--sheet", str(tmp_path / "s.png")])
    assert result.exit_code == 2 and "a part directory" in result.output
    assert str(synth_part / "000000") in result.output
