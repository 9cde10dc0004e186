"""validate: a good sample passes; each planted problem yields its finding (and exit 1)."""

from __future__ import annotations

import json
import shutil

import numpy as np
import pytest
from typer.testing import CliRunner

from wildworld.release.writer import write_skeleton
from wildworld.validate import validate_path, validate_sample
from wildworld.video import read_frames, write_video
from wildworld_cli.wildworld_app import app

runner = CliRunner()


def codes(report):
    return {f.code for f in report.errors}


def test_good_part_and_sample_are_valid(synth_part):
    report = validate_path(synth_part)
    assert report.ok, [str(f) for f in report.errors]
    assert report.samples == 3
    assert "invalid-camera" in {f.code for f in report.warnings}
    assert validate_path(synth_part / "000000").ok


def _truncate_rows(path, keep):
    lines = path.read_text().splitlines()
    path.write_text("\n".join(lines[: keep + 1]) + "\n")


def _replace_cell(path, row, column, text):
    import csv
    import io

    rows = list(csv.reader(io.StringIO(path.read_text())))
    rows[row + 1][rows[0].index(column)] = text
    out = io.StringIO()
    csv.writer(out, lineterminator="\n").writerows(rows)
    path.write_text(out.getvalue())


def test_missing_file(sample_copy):
    (sample_copy / "depth.mkv").unlink()
    report = validate_sample(sample_copy)
    assert codes(report) == {"missing-file"}


def test_frame_count_mismatch(sample_copy):
    _truncate_rows(sample_copy / "state.csv", 50)
    report = validate_sample(sample_copy)
    assert codes(report) == {"frame-count-mismatch"}
    assert "state.csv rows=50" in report.errors[0].message


def test_unparseable_cell_is_located(sample_copy):
    _replace_cell(sample_copy / "state.csv", 7, "npc.list.0.pos", "(1.0, banana, 3.0)")
    report = validate_sample(sample_copy)
    [finding] = report.errors
    assert finding.code == "state-unreadable" and finding.row == 7 and finding.column == "npc.list.0.pos"


def test_missing_required_column(sample_copy):
    import csv
    import io

    path = sample_copy / "state.csv"
    rows = list(csv.reader(io.StringIO(path.read_text())))
    drop = rows[0].index("npc.list.0.sp")
    out = io.StringIO()
    csv.writer(out, lineterminator="\n").writerows([r[:drop] + r[drop + 1 :] for r in rows])
    path.write_text(out.getvalue())
    report = validate_sample(sample_copy)
    assert {(f.code, f.column) for f in report.errors} == {("missing-column", "npc.list.0.sp")}


def test_bad_quaternion(sample_copy):
    _replace_cell(sample_copy / "state.csv", 3, "camera.rot", "(0.5, 0.5, 0.5, 0.9)")
    report = validate_sample(sample_copy)
    [finding] = report.errors
    assert (finding.code, finding.row, finding.column) == ("bad-quaternion", 3, "camera.rot")


def test_skeleton_key_without_edges_and_out_of_range(sample_copy):
    edges_path = sample_copy.parent / "skeleton_edges.json"
    edges = json.loads(edges_path.read_text())
    edges.pop("npc")
    edges["wp_3"] = [[0, 1], [1, 99]]
    edges["wp_7"] = [[0, 1], [1, 99]]
    edges_path.write_text(json.dumps(edges))
    report = validate_sample(sample_copy)
    assert codes(report) == {"missing-edges", "edge-out-of-range"}
    assert any(f.key and f.key.startswith("n0_") for f in report.errors if f.code == "missing-edges")


def test_skeleton_frame_count_and_corrupt_archive(sample_copy):
    from wildworld.release.skeleton import read_skeleton

    arrays = {k: v.joints[:-3] for k, v in read_skeleton(sample_copy / "skeleton.npz").items()}
    write_skeleton(sample_copy / "skeleton.npz", arrays)
    assert "frame-count-mismatch" in codes(validate_sample(sample_copy))
    data = bytearray((sample_copy / "skeleton.npz").read_bytes())
    data[len(data) // 2 : len(data) // 2 + 64] = b"\xff" * 64
    (sample_copy / "skeleton.npz").write_bytes(bytes(data))
    assert "skeleton-unreadable" in codes(validate_sample(sample_copy))


def test_fps_and_size_mismatch(sample_copy):
    depth = read_frames(sample_copy / "depth.mkv", range(60), color="gray")
    write_video(sample_copy / "depth.mkv", depth, fps=25, profile="depth")
    assert codes(validate_sample(sample_copy)) == {"fps-mismatch"}
    write_video(sample_copy / "depth.mkv", depth[:, :64, :80], fps=30, profile="depth")
    assert codes(validate_sample(sample_copy)) == {"size-mismatch"}


def test_truncated_video(sample_copy):
    path = sample_copy / "depth.mkv"
    data = path.read_bytes()
    path.write_bytes(data[: len(data) * 2 // 3])
    report = validate_sample(sample_copy)
    assert codes(report) & {"frame-count-mismatch", "last-frame-undecodable", "video-unreadable"}
    assert report.errors


def test_corrupted_mp4_never_crashes(sample_copy):
    path = sample_copy / "rgb.mp4"
    data = bytearray(path.read_bytes())
    data[:64] = b"\x00" * 64
    path.write_bytes(bytes(data))
    report = validate_sample(sample_copy)
    assert "video-unreadable" in codes(report)


def test_cli_exit_codes_and_json(part_copy, tmp_path):
    ok = runner.invoke(app, ["validate", str(part_copy), "--json"])
    assert ok.exit_code == 0, ok.output
    assert json.loads(ok.stdout)["valid"] is True
    (part_copy / "000001" / "rgb.mp4").unlink()
    bad = runner.invoke(app, ["validate", str(part_copy), "--json"])
    assert bad.exit_code == 1
    doc = json.loads(bad.stdout)
    assert [f["code"] for f in doc["reports"][0]["findings"] if f["severity"] == "error"] == ["missing-file"]
    usage = runner.invoke(app, ["validate", str(tmp_path / "nope")])
    assert usage.exit_code == 2
    assert "no such file" in usage.output


def test_empty_directory_is_a_problem(tmp_path):
    report = validate_path(tmp_path)
    assert not report.ok and "no-samples" in codes(report)


def test_empty_skeleton_archive_is_an_error(sample_copy):
    np.savez(sample_copy / "skeleton.npz")
    report = validate_sample(sample_copy)
    assert codes(report) == {"skeleton-empty"}


def test_part_with_bad_or_missing_edges_file_reports_it_once(part_copy):
    edges_path = part_copy / "skeleton_edges.json"
    edges_path.write_text("{")
    report = validate_path(part_copy)
    assert [f.code for f in report.errors] == ["edges-unreadable"]
    edges_path.unlink()
    report = validate_path(part_copy)
    assert [(f.code, f.path) for f in report.errors] == [("missing-file", str(edges_path))]


def test_stream_file_that_is_a_directory(sample_copy):
    (sample_copy / "rgb.mp4").unlink()
    (sample_copy / "rgb.mp4").mkdir()
    [finding] = validate_sample(sample_copy).errors
    assert finding.code == "missing-file" and "is a directory" in finding.message


def test_data_root_validates_each_part(part_copy, tmp_path):
    root = tmp_path / "root"
    root.mkdir()
    shutil.move(str(part_copy), root / "data_part1")
    shutil.copytree(root / "data_part1", root / "data_part2")
    report = validate_path(root)
    assert report.kind == "root" and report.samples == 6 and report.ok
    (root / "data_part2" / "000001" / "rgb.mp4").unlink()
    assert [f.path for f in validate_path(root).errors] == [str(root / "data_part2" / "000001" / "rgb.mp4")]


def test_cli_not_a_dataset_exits_2(tmp_path):
    (tmp_path / "empty").mkdir()
    result = runner.invoke(app, ["validate", str(tmp_path / "empty")])
    assert result.exit_code == 2 and "not a dataset" in result.output
    assert len(result.output.strip().splitlines()) == 1


def test_cli_prints_brackets_literally(part_copy, tmp_path):
    import io

    from rich.console import Console

    from wildworld_cli._render import validation_table

    result = runner.invoke(app, ["validate", str(tmp_path / "no[such]dir")])
    assert result.exit_code == 2 and "no[such]dir" in result.output
    part = part_copy.rename(tmp_path / "p[old]")
    (part / "skeleton_edges.json").write_text('{"npc": [[0, -1]]}')
    out = io.StringIO()
    Console(file=out, width=1000).print(validation_table(validate_path(part)))
    text = out.getvalue()
    assert f"part {part}:" in text and "[a, b] pairs" in text


def test_unknown_category_warns_and_fractional_id_is_an_error(sample_copy):
    import csv
    import io

    header = next(csv.reader(io.StringIO((sample_copy / "state.csv").read_text())))
    cond = next(name for name in header if name.endswith(".cond"))
    type_id = next(name for name in header if name.startswith("npc.list.") and name.endswith(".weapon_id"))
    _replace_cell(sample_copy / "state.csv", 12, cond, "bogus")
    _replace_cell(sample_copy / "state.csv", 5, type_id, "10.5")
    report = validate_sample(sample_copy)
    [warning] = [f for f in report.warnings if f.code == "unknown-category"]
    assert warning.row == 12 and warning.column == cond and "'bogus'" in warning.message
    [error] = report.errors
    assert error.code == "non-integral-id" and error.row == 5 and error.column == type_id
