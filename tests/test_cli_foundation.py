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
