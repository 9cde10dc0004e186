"""wildworld view: a sample logged to a Rerun recording, read back with Rerun's own reader."""

from __future__ import annotations

from collections import defaultdict

import numpy as np
import pytest
from typer.testing import CliRunner

from wildworld import open_sample
from wildworld.viewer import view_sample

pytest.importorskip("rerun")


def _read(path) -> dict[str, dict[str, list]]:
    """Entity path -> column -> values, one per logged row, from the .rrd file (Rerun's reader)."""
    from rerun.chunk import RrdReader

    columns: dict[str, dict[str, list]] = defaultdict(lambda: defaultdict(list))
    for chunk in RrdReader(path).store().stream():
        batch = chunk.to_record_batch()
        for name in batch.schema.names:
            if name not in ("rerun.controls.RowId", "time"):
                columns[chunk.entity_path.lstrip("/")][name] += batch.column(name).to_pylist()
    return columns


def _by_frame(entity: dict[str, list], column: str) -> dict[int, object]:
    return dict(zip(entity["frame"], entity[column]))


def test_a_release_sample_is_logged_with_every_stream_and_frame(synth_part, tmp_path):
    sample = open_sample(synth_part / "000000")
    result = view_sample(sample.path, out=tmp_path / "s.rrd")
    logged = _read(tmp_path / "s.rrd")
    n = sample.num_frames
    assert result.frames == n and set(result.entities) == set(logged) - {"__properties"}
    assert sorted(logged["world/camera/image/rgb"]["frame"]) == list(range(n))
    assert len(logged["world/camera/image/depth"]["frame"]) == n  # synthetic: depth in metres, in 3-D
    assert len(logged["world/camera"]["frame"]) == int(sample.camera.valid.sum())  # no pose on invalid frames
    t = int(np.flatnonzero(sample.camera.valid)[3])
    np.testing.assert_allclose(_by_frame(logged["world/camera"], "Transform3D:translation")[t][0], sample.camera.position[t], rtol=1e-6)
    np.testing.assert_allclose(_by_frame(logged["world/camera"], "Transform3D:quaternion")[t][0], sample.camera.rotation[t], rtol=1e-6)
    fx, fy, cx, cy = sample.camera.K[t]
    pinhole = np.array(_by_frame(logged["world/camera/image"], "Pinhole:image_from_camera")[t][0]).reshape(3, 3).T
    np.testing.assert_allclose(pinhole, [[fx, 0, cx], [0, fy, cy], [0, 0, 1]], rtol=1e-6)
    right, up, back = 3, 1, 6  # Rerun's ViewDir codes: the OpenGL camera frame (x right, y up, -z ahead)
    assert _by_frame(logged["world/camera/image"], "Pinhole:camera_xyz")[t][0] == [right, up, back]
    for key, entity in sample.skeleton.items():
        joints = logged[f"world/skeletons/{key}/joints"]
        present = np.isfinite(entity.joints).all(axis=(1, 2))
        assert sorted(joints["frame"]) == list(np.flatnonzero(present))
        first = int(np.flatnonzero(present)[0])
        np.testing.assert_allclose(_by_frame(joints, "Points3D:positions")[first], entity.joints[first], rtol=1e-6)
        bones = _by_frame(logged[f"world/skeletons/{key}/bones"], "LineStrips3D:strips")[first]
        assert len(bones) == len(sample.edges[entity.key.edges_key])
        if not present.all():  # the monster that leaves is cleared, not left standing
            assert sorted(logged[f"world/skeletons/{key}"]["frame"]) == list(np.flatnonzero(~present))
    tracked = sample.actions.tracked_index
    hp = np.array([sample.column(f"npc.list.{i}.hp")[f] if i >= 0 else np.nan for f, i in enumerate(tracked)])
    logged_hp = _by_frame(logged["state/player/hp"], "Scalars:scalars")
    assert sorted(logged_hp) == list(np.flatnonzero(np.isfinite(hp)))
    np.testing.assert_allclose([logged_hp[f][0] for f in sorted(logged_hp)], hp[np.isfinite(hp)])
    for index in sample.entity_indices("monster"):
        assert f"state/monster{index}/hp" in logged
    motion = _by_frame(logged["action/motion_id"], "Scalars:scalars")
    assert [motion[f][0] for f in range(n)] == sample.actions.motion_id.tolist()
    segments = logged["action/segment"]
    assert segments["frame"] == [s.start for s in sample.action_segments]


def test_a_store_sample_is_logged_like_its_release_sample(synth_part, tmp_path):
    from wildworld.store.convert import convert
    from wildworld.store.extract import ConvertOptions

    convert([synth_part], tmp_path / "store", ConvertOptions(), workers=1)
    store_result = view_sample(tmp_path / "store", sample_id="000001", out=tmp_path / "store.rrd", max_frames=20)
    release_result = view_sample(synth_part, sample_id="000001", out=tmp_path / "release.rrd", max_frames=20)
    assert store_result.entities == release_result.entities and store_result.frames == 20
    store, release = _read(tmp_path / "store.rrd"), _read(tmp_path / "release.rrd")
    for path in ("world/camera", "state/player/hp", "action/motion_id"):
        assert store[path]["frame"] == release[path]["frame"], path
    np.testing.assert_allclose(np.array(store["state/player/hp"]["Scalars:scalars"]),
                               np.array(release["state/player/hp"]["Scalars:scalars"]))
    with pytest.raises(Exception, match="name the sample to view"):
        view_sample(tmp_path / "store", out=tmp_path / "x.rrd")


def test_the_view_command_writes_a_file_headless_and_refuses_bad_arguments_in_one_line(synth_part, tmp_path, monkeypatch):
    from wildworld_cli.wildworld_app import app

    runner = CliRunner()
    monkeypatch.delenv("DISPLAY", raising=False)
    monkeypatch.delenv("WAYLAND_DISPLAY", raising=False)
    monkeypatch.chdir(tmp_path)
    result = runner.invoke(app, ["view", str(synth_part), "--sample", "000002", "--max-frames", "4"])
    assert result.exit_code == 0, result.output
    assert (tmp_path / "000002.rrd").exists() and "rerun 000002.rrd" in result.output
    assert sorted(_read(tmp_path / "000002.rrd")["world/camera/image/rgb"]["frame"]) == [0, 1, 2, 3]
    assert [p.name for p in tmp_path.iterdir()] == ["000002.rrd"]  # no temporary left
    for args, message in ((["view", str(synth_part)], "not a sample directory"),
                          (["view", str(synth_part / "000000"), "--out", "x.txt"], "must end in .rrd"),
                          (["view", str(synth_part / "000000"), "--sample", "000001", "--out", "x.rrd"], "not '000001'")):
        failed = runner.invoke(app, args)
        assert failed.exit_code == 2 and message in failed.output and "Traceback" not in failed.output, failed.output
