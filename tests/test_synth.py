"""The synthetic world: geometry checked through its pixels, determinism, actions, re-simulation."""

from __future__ import annotations

import json
from dataclasses import replace
from pathlib import Path

import numpy as np
import pyarrow as pa
import pytest

from wildworld import open_sample, read_skeleton, read_state_csv
from wildworld.geometry import project_points
from wildworld.release.sample import column_array
from wildworld.synth import (
    ACTIONS_BY_NAME,
    PLAYER_ACTIONS,
    SynthOptions,
    SyntheticWorld,
    action_groups,
    decode_depth,
    generate,
    load_scripts,
    make_script,
)
from wildworld.synth.annotate import state_row
from wildworld.synth.framing import measure_framing
from wildworld.synth.poses import player_pose
from wildworld.synth.simulation import MONSTER_RADIUS, MonsterState, initial_state, step
from wildworld.synth.skeletons import PLAYER
from wildworld.video import read_frames


@pytest.fixture(scope="module")
def hires_part(tmp_path_factory) -> Path:
    out = tmp_path_factory.mktemp("hires") / "part"
    generate(out, SynthOptions(samples=1, seconds=1.5, width=320, height=180, seed=3, crf=12))
    return out


def _visible_player_joints(sample, frame_stride=3):
    """(frame, u, v, z, radius) of in-image player joints with radius >= 6 cm, valid camera."""
    key = next(k for k in sample.skeleton if k.startswith(f"n{int(sample.actions.tracked_index[0])}_"))
    joints = sample.skeleton[key].joints.astype(np.float64)
    cam = sample.camera
    width, height = sample.size
    proj = project_points(joints, cam.K, cam.position, cam.rotation)
    inside = proj.inside(width, height) & cam.valid[:, None]
    radii = np.asarray(PLAYER.radii)
    rows = []
    for frame in range(0, sample.num_frames, frame_stride):
        for j in np.flatnonzero(inside[frame] & (radii >= 0.06)):
            u, v = np.round(proj.uv[frame, j]).astype(int)
            rows.append((frame, u, v, proj.depth[frame, j], radii[j]))
    return rows


def test_projected_joints_land_on_player_pixels_and_depth(hires_part):
    """Independent of the renderer: the documented camera convention, applied by the reader to
    the annotations, must put player joints on bluish player pixels, and the depth video must
    agree with each joint's camera-space depth."""
    sample = open_sample(hires_part / "000000")
    rows = _visible_player_joints(sample)
    assert len(rows) > 50
    frames = sorted({r[0] for r in rows})
    rgb = dict(zip(frames, read_frames(sample.file("rgb"), frames, backend="pyav")))
    depth = dict(zip(frames, decode_depth(read_frames(sample.file("depth"), frames, color="gray"))))
    on_player, agrees = 0, 0
    for frame, u, v, z, radius in rows:
        r, g, b = rgb[frame][v, u].astype(int)
        on_player += b > r + 40 and b > g + 20
        d = depth[frame][v, u]
        # The joint's own body sphere covers its pixel: nothing behind the joint is visible.
        assert d <= z + 0.2, (frame, u, v, d, z)
        agrees += d >= z - radius - 0.3
    assert on_player / len(rows) > 0.8
    assert agrees / len(rows) > 0.75  # the rest are hidden behind other body parts or monsters


def test_same_seed_same_annotations(tmp_path):
    options = SynthOptions(samples=1, seconds=1.0, width=64, height=48, seed=11)
    a, b = generate(tmp_path / "a", options)[0], generate(tmp_path / "b", options)[0]
    assert (a / "state.csv").read_bytes() == (b / "state.csv").read_bytes()
    sa, sb = read_skeleton(a / "skeleton.npz"), read_skeleton(b / "skeleton.npz")
    assert sa.keys() == sb.keys()
    for key in sa:
        np.testing.assert_array_equal(sa[key].joints, sb[key].joints)
    other = generate(tmp_path / "c", replace(options, seed=12))[0]
    assert (other / "state.csv").read_bytes() != (a / "state.csv").read_bytes()


def test_vocabulary_groups_and_distinct_motion():
    groups = action_groups()
    assert set(groups) == {"movement", "attack", "skill"}
    assert len(PLAYER_ACTIONS) >= 12 and all(len(v) >= 3 for v in groups.values())
    assert len({a.key for a in PLAYER_ACTIONS}) == len(PLAYER_ACTIONS)
    trajectories = {a.name: np.stack([player_pose(a, p) for p in range(a.length)]) for a in PLAYER_ACTIONS}
    names = list(trajectories)
    for i, x in enumerate(names):
        for y in names[i + 1 :]:
            a, b = trajectories[x], trajectories[y]
            n = min(len(a), len(b))
            distance = np.abs(a[np.linspace(0, len(a) - 1, n).astype(int)] - b[np.linspace(0, len(b) - 1, n).astype(int)]).mean()
            motion = max(np.ptp(a, axis=0).max(), np.ptp(b, axis=0).max())
            assert distance > 0.01 or motion > 0.05, (x, y)


def _duel_state(script, action_name, *, hp=60.0, sp=100.0):
    """Player at the origin facing +z, a monster right in front, the given clip about to start."""
    state = initial_state(script)
    player = replace(state.players[0], pos=(0.0, 0.0, 0.0), yaw=0.0, hp=hp, red_hp=hp, sp=sp, phase=29.0,
                     action=ACTIONS_BY_NAME["idle"].key)
    species = script.monsters[0].species
    monster = MonsterState(slot=0, species=species, pos=(0.0, 0.0, MONSTER_RADIUS[species] + 1.0), yaw=3.14159,
                           motion_id=4, phase=0.0, hp=2000.0, max_hp=4000.0)  # roaring: no damage to the player
    return replace(state, players=(player,), monsters=(monster,))


@pytest.mark.parametrize("action", PLAYER_ACTIONS, ids=lambda a: a.name)
def test_every_action_changes_what_it_claims(action):
    script = replace(make_script(0, 2, frames=400, width=64, height=48), companion=False, tracked_slot=0)
    start = _duel_state(script, action.name)
    state = step(script, start, {0: action.key})
    assert state.players[0].action == action.key and state.players[0].phase == 0.0
    before_row = state_row(script, state)
    trace = [state]
    for _ in range(action.length - 1):
        state = step(script, state, {0: action.key})
        trace.append(state)
    after_row = state_row(script, state)
    player0, player1 = trace[0].players[0], trace[-1].players[0]
    monster0, monster1 = trace[0].monsters[0], trace[-1].monsters[0]
    checks = {
        "pos": lambda: max(np.linalg.norm(np.subtract(s.players[0].pos, player0.pos)) for s in trace) > 0.3,
        "rot": lambda: max(abs(s.players[0].yaw - player0.yaw) for s in trace) > 1.0,
        "sp": lambda: abs(start.players[0].sp - player1.sp) > 1.0,
        "hp": lambda: player1.hp > player0.hp + 10,
        "atk": lambda: max(s.players[0].atk for s in trace) > player0.atk + 10,
        "monster.hp": lambda: monster1.hp < monster0.hp - 10,
        "monster.cond": lambda: any(s.monsters[0].cond == "stun" for s in trace),
    }
    for claim in action.changes:
        assert checks[claim](), f"{action.name} should change {claim}"
    assert before_row["npc.list.0.motion_id"] == after_row["npc.list.0.motion_id"] == action.motion_id


def _recorded_commands(table, script, start: int) -> list[dict]:
    """The per-step commands that replay the recorded clips from ``start`` on."""
    motion_ids = {slot: column_array(table, f"npc.list.{slot}.motion_id") for slot in script.player_slots}
    banks = {slot: column_array(table, f"npc.list.{slot}.motion_bank_id") for slot in script.player_slots}
    phases = {slot: column_array(table, f"npc.list.{slot}.motion_frame") for slot in script.player_slots}
    commands = []
    for frame in range(start + 1, script.frames):
        commands.append({
            slot: (int(banks[slot][frame]), int(motion_ids[slot][frame]))
            for slot in script.player_slots
            if phases[slot][frame] == 0 or motion_ids[slot][frame] != motion_ids[slot][frame - 1]
        })
    return commands


def test_restore_mid_sample_and_replay_reproduces_it(synth_part):
    for sample_id, script in load_scripts(synth_part).items():
        table = read_state_csv(synth_part / sample_id / "state.csv")
        skeleton = read_skeleton(synth_part / sample_id / "skeleton.npz")
        world = SyntheticWorld(script)
        valid = np.isfinite(column_array(table, "camera.pos")).all(axis=1)
        start = int(np.flatnonzero(valid[script.frames // 2 :])[0]) + script.frames // 2
        states = world.rollout(world.restore(table, start), script.frames - start, _recorded_commands(table, script, start))
        replay = world.annotate(states)
        for name, values in replay.columns.items():
            recorded = table.column(name).to_pylist()[start:]
            for frame, (got, want) in enumerate(zip(values, recorded)):
                got = None if got is None else got
                if isinstance(want, (list, float)) or isinstance(got, np.ndarray):
                    np.testing.assert_allclose(np.asarray(got, float), np.asarray(want, float), atol=1e-6, err_msg=f"{sample_id} {name} frame {start + frame}")
                else:
                    assert got == want or (got is None and want is None), (sample_id, name, start + frame, got, want)
        for key, joints in replay.skeletons.items():
            np.testing.assert_allclose(joints, skeleton[key].joints[start:], atol=1e-4, err_msg=f"{sample_id} {key}")


def test_restoring_an_invalid_camera_frame_is_refused(synth_part):
    from wildworld import FormatError

    script = load_scripts(synth_part)["000000"]
    table = read_state_csv(synth_part / "000000" / "state.csv")
    invalid = int(np.flatnonzero(~np.isfinite(column_array(table, "camera.pos")).all(axis=1))[0])
    with pytest.raises(FormatError, match="invalid"):
        SyntheticWorld(script).restore(table, invalid)


def _assert_no_cuts(table) -> None:
    """The camera never turns more than 2.5 degrees or moves more than 0.35 m per frame."""
    from wildworld.geometry import quaternion_to_matrix

    pos, rot = column_array(table, "camera.pos"), column_array(table, "camera.rot")
    both = np.isfinite(pos).all(1)[:-1] & np.isfinite(pos).all(1)[1:]
    assert (np.linalg.norm(np.diff(pos, axis=0), axis=1)[both] <= 0.35 + 1e-9).all()
    R = quaternion_to_matrix(rot)
    cos = (np.einsum("nij,nij->n", R[:-1], R[1:]) - 1) / 2
    assert (np.degrees(np.arccos(np.clip(cos[both], -1, 1))) <= 2.5 + 1e-6).all()


def test_camera_moves_smoothly(synth_part):
    """No cuts: the camera never turns more than 2.5 degrees or moves more than 0.35 m per frame."""
    for sample_id in load_scripts(synth_part):
        _assert_no_cuts(read_state_csv(synth_part / sample_id / "state.csv"))


def test_restore_at_frame_zero_and_right_after_invalid_camera_rows_renders_the_same(synth_part):
    """The camera's spring velocity is not a column: restore rebuilds it from the previous row,
    and from rest where that row is not written. Replaying from such frames gives the simulated
    cameras and pictures (to float rounding: a yaw read back from its quaternion may differ in
    the last bit)."""
    for sample_id, script in load_scripts(synth_part).items():
        table = read_state_csv(synth_part / sample_id / "state.csv")
        world = SyntheticWorld(script)
        simulated = world.states()
        starts = [0] + [end for _, end in script.invalid_camera if end < script.frames - 1]
        assert len(starts) > 1, "the fixture must have invalid-camera rows to restore after"
        for start in starts:
            replay = world.rollout(world.restore(table, start), script.frames - start, _recorded_commands(table, script, start))
            for got, want in zip(replay, simulated[start:]):
                for name in ("camera_pos", "camera_rot", "camera_vel"):
                    np.testing.assert_allclose(getattr(got, name), getattr(want, name), rtol=0, atol=1e-9,
                                               err_msg=f"{sample_id} restored at {start}, {name} of frame {got.frame}")
            for frame in (start, start + 5, script.frames - 1):
                (rgb, depth), (true_rgb, true_depth) = world.render(replay[frame - start]), world.render(simulated[frame])
                assert (rgb == true_rgb).mean() > 0.999, (sample_id, start, frame)
                np.testing.assert_allclose(depth, true_depth, rtol=0, atol=1e-5)


def test_a_table_that_disagrees_with_the_script_about_invalid_rows_is_refused(synth_part):
    from wildworld import FormatError

    script = load_scripts(synth_part)["000000"]
    table = read_state_csv(synth_part / "000000" / "state.csv")
    start = script.invalid_camera[0][0] - 1  # valid; its previous row is valid too
    rows = column_array(table, "camera.pos").copy()
    rows[start - 1] = np.nan
    broken = table.set_column(table.column_names.index("camera.pos"), "camera.pos",
                              pa.FixedSizeListArray.from_arrays(pa.array(rows.reshape(-1)), 3))
    with pytest.raises(FormatError, match="does not belong to this script"):
        SyntheticWorld(script).restore(broken, start)


def _rewrite_camera_yaw(sample_dir: Path, degrees: float) -> None:
    """Turn every written camera about the vertical axis by ``degrees`` (state.csv only)."""
    from wildworld.geometry import matrix_to_quaternion, quaternion_to_matrix
    from wildworld.release.writer import write_state_csv
    from wildworld.synth.skeletons import rot_y

    table = read_state_csv(sample_dir / "state.csv")
    columns = {name: table.column(name).to_pylist() for name in table.column_names}
    rotation = column_array(table, "camera.rot")
    turned = matrix_to_quaternion(rot_y(np.radians(degrees)) @ quaternion_to_matrix(rotation))
    columns["camera.rot"] = [np.asarray(q) for q in turned]
    write_state_csv(sample_dir / "state.csv", columns, decimals=None)


def _rewrite_depth(sample_dir: Path, code: int) -> None:
    """Replace depth.mkv by a video of one code everywhere (1: a wall 0.25 m in front)."""
    from wildworld.video import VideoWriter

    sample = open_sample(sample_dir)
    width, height = sample.size
    with VideoWriter(sample_dir / "depth.tmp.mkv", fps=sample.fps, width=width, height=height, profile="depth") as writer:
        for _ in range(sample.num_frames):
            writer.write(np.full((height, width), code, np.uint8))
    (sample_dir / "depth.tmp.mkv").replace(sample_dir / "depth.mkv")


def test_framing_measure_falls_as_the_camera_turns_away_and_sees_a_wall(part_copy):
    """The measure reads only the written files: turning the written cameras away from the
    player lowers 'in view' monotonically to nothing; a depth video of a near wall makes every
    frame occluded, one of sky none, without touching 'in view'."""
    sample_dir = part_copy / "000002"
    truth = measure_framing(sample_dir)
    assert truth.valid_frames == open_sample(sample_dir).camera.valid.sum() > 0
    assert truth.in_view_rate > 0.9 and truth.unoccluded_rate > 0.8
    written = (sample_dir / "state.csv").read_bytes()
    rates = []
    for degrees in (0, 20, 30, 34, 38, 45, 60, 180):
        (sample_dir / "state.csv").write_bytes(written)
        _rewrite_camera_yaw(sample_dir, degrees)
        rates.append(measure_framing(sample_dir).in_view_rate)
    assert rates[0] == truth.in_view_rate and all(a >= b for a, b in zip(rates, rates[1:])), rates
    assert rates[-1] == 0.0 and rates[0] > 0.9, rates
    fresh = part_copy / "000001"
    _rewrite_depth(fresh, 1)
    wall = measure_framing(fresh)
    _rewrite_depth(fresh, 255)
    sky = measure_framing(fresh)
    assert wall.unoccluded == 0 and wall.in_view == sky.in_view > 0
    assert sky.unoccluded >= sky.in_view * 0.9  # the root is inside the picture on almost every framed frame


@pytest.mark.slow
def test_tracked_player_stays_framed_over_eight_twenty_second_samples(tmp_path):
    """The issue's target, measured on what `wildworld synth` writes (state.csv camera,
    skeleton.npz, decoded depth.mkv): over 8 samples x 20 s the tracked player is in view on
    >= 95% of valid-camera frames and unoccluded at its root on >= 90%. At 128x72 to keep CI
    fast (both measures are about the geometry, not the pixel count);
    benchmarks/synth_framing.py gives the same numbers at 320x180 and for longer samples."""
    paths = generate(tmp_path / "part", SynthOptions(samples=8, seconds=20.0, width=128, height=72, seed=0))
    reports = [measure_framing(path) for path in paths]
    valid = sum(r.valid_frames for r in reports)
    assert valid > 8 * 550
    in_view = sum(r.in_view for r in reports) / valid
    unoccluded = sum(r.unoccluded for r in reports) / valid
    assert in_view >= 0.95 and unoccluded >= 0.90, reports
    assert all(r.in_view_rate >= 0.9 and r.unoccluded_rate >= 0.8 for r in reports), reports  # no broken sample
    for path in paths:  # and it gets there without cuts
        _assert_no_cuts(read_state_csv(path / "state.csv"))


def test_counterfactual_actions_change_the_future(synth_part):
    script = load_scripts(synth_part)["000000"]
    world = SyntheticWorld(script)
    table = read_state_csv(synth_part / "000000" / "state.csv")
    valid = np.isfinite(column_array(table, "camera.pos")).all(axis=1)
    start = world.restore(table, int(np.flatnonzero(valid)[5]))
    jump = [{script.tracked_slot: ACTIONS_BY_NAME["jump"].key}] * 30
    futures = world.rollout(start, 31, jump)
    heights = [s.players[script.tracked_slot].pos[1] for s in futures]
    assert max(heights) > 0.5
    rgb, depth = world.render(futures[-1])
    assert rgb.shape == (script.height, script.width, 3) and np.isfinite(depth).any()


def test_generate_is_resumable_and_atomic(tmp_path):
    options = SynthOptions(samples=2, seconds=0.5, width=64, height=48, seed=5)
    paths = generate(tmp_path, options)
    first = (paths[0] / "state.csv").stat().st_mtime_ns
    import shutil

    shutil.rmtree(paths[1])
    (tmp_path / "000001.wwtmp-dead").mkdir()  # leftover of a killed run
    generate(tmp_path, options)
    assert (paths[0] / "state.csv").stat().st_mtime_ns == first
    assert (paths[1] / "rgb.mp4").exists()
    sidecar = json.loads((tmp_path / "synthetic_world.json").read_text())
    assert set(sidecar["samples"]) == {"000000", "000001"}


def test_parallel_generation_writes_the_same_bytes(tmp_path):
    """Samples rendered in two processes are the files one process writes, and each finished
    sample is reported once."""
    import hashlib

    options = SynthOptions(samples=3, seconds=0.5, width=64, height=48, seed=5)
    generate(tmp_path / "one", options)
    written = []
    generate(tmp_path / "two", options, workers=2, on_written=lambda sample_id, frames: written.append((sample_id, frames)))
    assert sorted(written) == [(f"{i:06d}", options.frames) for i in range(3)]

    def digests(root):
        return {str(p.relative_to(root)): hashlib.sha256(p.read_bytes()).hexdigest() for p in sorted(root.rglob("*")) if p.is_file()}

    one, two = digests(tmp_path / "one"), digests(tmp_path / "two")
    assert len(one) > 3 * 4 and one == two


@pytest.mark.slow
def _assert_same_state(ours, theirs) -> None:
    """Two state.csv files hold the same table: names and text exactly, numbers to rounding."""
    import pyarrow as pa

    a, b = read_state_csv(ours), read_state_csv(theirs)
    assert a.column_names == b.column_names and a.num_rows == b.num_rows
    for name in b.column_names:
        x, y = a.column(name).combine_chunks(), b.column(name).combine_chunks()
        if pa.types.is_floating(y.type) or pa.types.is_fixed_size_list(y.type) or pa.types.is_list(y.type):
            xs = np.asarray(x.flatten() if hasattr(x, "flatten") and not pa.types.is_floating(y.type) else x, dtype=np.float64)
            ys = np.asarray(y.flatten() if hasattr(y, "flatten") and not pa.types.is_floating(y.type) else y, dtype=np.float64)
            np.testing.assert_allclose(xs, ys, rtol=1e-9, atol=1e-12, equal_nan=True, err_msg=name)
        else:
            assert x.equals(y), name


def test_bundled_sample_data_regenerates(bundled_part, tmp_path):
    """sample_data/ is what `wildworld synth` writes: the same columns, texts and categories, numbers
    equal to float rounding (machines differ in the last digit of libm and SIMD maths, so
    bytes are not compared), pixels closely."""
    sidecar = json.loads((bundled_part / "synthetic_world.json").read_text())
    options = SynthOptions(**sidecar["options"])
    fresh = tmp_path / "data_part1"
    generate(fresh, options)
    assert (fresh / "skeleton_edges.json").read_bytes() == (bundled_part / "skeleton_edges.json").read_bytes()
    assert json.loads((fresh / "synthetic_world.json").read_text()) == sidecar
    for sample_id in sidecar["samples"]:
        ours, theirs = fresh / sample_id, bundled_part / sample_id
        _assert_same_state(ours / "state.csv", theirs / "state.csv")
        a, b = read_skeleton(ours / "skeleton.npz"), read_skeleton(theirs / "skeleton.npz")
        assert sorted(a) == sorted(b)
        for key in b:
            np.testing.assert_allclose(a[key].joints, b[key].joints, rtol=1e-5, atol=1e-5)
        frames = list(range(0, options.frames, 7))
        x = read_frames(ours / "rgb.mp4", frames, backend="pyav").astype(int)
        y = read_frames(theirs / "rgb.mp4", frames, backend="pyav").astype(int)
        assert np.abs(x - y).mean() < 1.0
        dx = read_frames(ours / "depth.mkv", frames, color="gray")
        dy = read_frames(theirs / "depth.mkv", frames, color="gray")
        assert (dx == dy).mean() > 0.999
