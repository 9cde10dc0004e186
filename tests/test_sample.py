"""open_sample: the typed lazy view over a release sample."""

from __future__ import annotations

import numpy as np

from wildworld import open_sample
from wildworld.synth import load_scripts


def test_sample_view(synth_part):
    sample = open_sample(synth_part / "000000")
    assert sample.num_frames == 60
    assert sample.fps == 30.0 and sample.size == (160, 96)
    assert sample.rgb_probe.codec == "h264" and sample.depth_probe.codec == "hevc"
    cam = sample.camera
    assert cam.K.shape == (60, 4) and cam.position.shape == (60, 3) and cam.rotation.shape == (60, 4)
    assert (~cam.valid).sum() > 0  # the script plants invalid-camera rows
    assert np.isnan(cam.K[~cam.valid]).all()
    keys = set(sample.skeleton)
    assert "n0_1" in keys and any(k.startswith("w0_") for k in keys)
    assert {k.split("_")[0] for k in keys if k.startswith("m")} == {"m0", "m1"}
    assert all(entity.joints.shape[0] == 60 for entity in sample.skeleton.values())
    assert sample.entity_indices("monster") == [0, 1]


def test_tracked_player_follows_member_id(synth_part):
    """Sample 1 has a companion in npc.list.0 and the tracked player in npc.list.1."""
    scripts = load_scripts(synth_part)
    assert scripts["000001"].tracked_slot == 1
    sample = open_sample(synth_part / "000001")
    actions = sample.actions
    assert (actions.tracked_index == 1).all()
    np.testing.assert_array_equal(actions.motion_id, sample.column("npc.list.1.motion_id"))
    np.testing.assert_array_equal(actions.motion_frame, sample.column("npc.list.1.motion_frame"))
    tracking = sample.column("npc.tracking")
    assert (tracking == sample.column("npc.list.1.member_id")).all()
    assert (tracking != sample.column("npc.list.0.member_id")).all()


def test_segments_cover_every_frame(synth_part):
    sample = open_sample(synth_part / "000002")
    segments = sample.action_segments
    assert segments[0].start == 0 and segments[-1].end == sample.num_frames
    for a, b in zip(segments, segments[1:]):
        assert a.end == b.start
    for segment in segments:
        keys = sample.actions.keys[segment.start : segment.end]
        assert (keys == keys[0]).all()
        phases = sample.actions.motion_frame[segment.start : segment.end]
        assert (np.diff(phases) > 0).all()


def test_camera_project_refuses_points_of_another_frame_count(synth_part):
    import pytest

    from wildworld import OptionError, project_points

    sample = open_sample(synth_part / "000000")
    camera, joints = sample.camera, sample.skeleton["n0_1"].joints  # (60, J, 3)
    every = camera.project(joints)
    assert every.uv.shape == (60, joints.shape[1], 2)
    with pytest.raises(OptionError, match=r"shape \(17, 3\), expected \(60, P, 3\).*project\(points\[None\], frames=\[t\]\)"):
        camera.project(joints[7])  # one frame's joints: refused, never projected with all 60 cameras
    with pytest.raises(OptionError, match=r"shape \(10, 17, 3\), expected \(60, P, 3\).*pass frames="):
        camera.project(joints[:10])
    one = camera.project(joints[7][None], frames=[7])
    np.testing.assert_array_equal(one.uv[0], every.uv[7])
    picked = camera.project(joints[[3, 9]], frames=[3, 9])
    truth = project_points(joints[[3, 9]], camera.K[[3, 9]], camera.position[[3, 9]], camera.rotation[[3, 9]])
    np.testing.assert_array_equal(picked.uv, truth.uv)
    with pytest.raises(OptionError, match="frame 60, outside the camera's 0..59"):
        camera.project(joints[:1], frames=[60])
    with pytest.raises(OptionError, match=r"expected \(2, P, 3\)"):
        camera.project(joints[:3], frames=[3, 9])


def test_sample_rgb_and_depth_are_the_raw_frames(synth_part):
    from wildworld.video.decode import iter_frames

    sample = open_sample(synth_part / "000001")
    all_rgb = np.stack(list(iter_frames(sample.file("rgb"))))  # decoded in order, another code path
    all_depth = np.stack(list(iter_frames(sample.file("depth"), color="gray")))
    rgb, depth = sample.rgb([5, 0, 5, 59]), sample.depth(np.array([2, 40]))
    assert rgb.shape == (4, 96, 160, 3) and rgb.dtype == np.uint8 and depth.shape == (2, 96, 160) and depth.dtype == np.uint8
    np.testing.assert_array_equal(rgb, all_rgb[[5, 0, 5, 59]])
    np.testing.assert_array_equal(depth, all_depth[[2, 40]])
    import pytest

    with pytest.raises(IndexError, match="frame 60 is outside 0..59"):
        sample.rgb([60])


def test_release_reprs_are_summaries(synth_part):
    from wildworld.synth import SyntheticWorld

    sample = open_sample(synth_part / "000000")
    texts = {
        "camera": repr(sample.camera), "actions": repr(sample.actions), "skeleton": repr(sample.skeleton),
        "entity": repr(sample.skeleton["n0_1"]), "projection": repr(sample.camera.project(sample.skeleton["n0_1"].joints)),
        "world": repr(SyntheticWorld(load_scripts(synth_part)["000000"])),
    }
    for name, text in texts.items():
        assert "array(" not in text and "[[" not in text and len(text) < 300, (name, text)
    assert texts["camera"] == f"Camera(60 frames, {int(sample.camera.valid.sum())} valid; K, position, rotation per frame)"
    assert texts["actions"].startswith("PlayerActions(60 frames, ") and "segments" in texts["actions"]
    assert texts["skeleton"].startswith(f"SkeletonFile({str(synth_part / '000000' / 'skeleton.npz')!r}, ") and "n0_1" in texts["skeleton"]
    assert texts["entity"] == "SkeletonEntity('n0_1', joints float32(60, 17, 3))"
    assert texts["world"].startswith("SyntheticWorld(seed=") and "60 frames at 30 fps, 160x96" in texts["world"]
