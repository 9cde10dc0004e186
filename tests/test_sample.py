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
