"""The Python API for model authors: load_inputs, write_submission, and the optional submission files."""

from __future__ import annotations

import csv
import io
import json
import shutil

import numpy as np
import pyarrow as pa
import pytest

import wildbench
from wildbench import InputsError, InvalidSubmissionError, SubmissionError, check_submission, load_inputs, write_submission
from wildworld import read_state_csv
from wildworld.release.sample import column_array
from wildworld.video import iter_frames, open_video


@pytest.fixture(scope="module")
def inputs_dir(bench, tmp_path_factory):
    return wildbench.write_inputs(bench["split"], tmp_path_factory.mktemp("authoring") / "inputs")


@pytest.fixture()
def inputs_copy(inputs_dir, tmp_path):
    target = tmp_path / "inputs"
    shutil.copytree(inputs_dir, target)
    return target


def _frozen(inputs):
    return {case.case_id: np.repeat(case.first_frame[None], case.horizon, axis=0) for case in inputs}


def test_load_inputs_gives_typed_cases_that_match_the_answer_key_and_an_rgb_first_frame(bench, inputs_dir):
    split = bench["split"]
    store = split.open_store()
    inputs = load_inputs(inputs_dir)
    assert inputs.case_ids == tuple(c.case_id for c in split.cases)
    assert (inputs.size, inputs.fps, inputs.split_checksum) == (split.resolution, split.fps, split.checksum)
    for case, truth in zip(inputs, split.cases):
        answer = split.answer(case.case_id)
        with open_video(store.video(truth.sample_id, "rgb")) as reader:
            frame0 = reader.get([truth.start])[0]
        assert np.array_equal(case.first_frame, frame0)  # RGB as the store decodes it, not BGR
        assert not case.first_frame.flags.writeable  # cached: a caller cannot corrupt it
        np.testing.assert_array_equal(case.actions.keys, np.nan_to_num(answer.actions[:, 1:3], nan=-1).astype(int))
        np.testing.assert_allclose(case.camera.K, answer.camera[:, 0:4], rtol=1e-6)
        np.testing.assert_allclose(case.camera.rotation, answer.camera[:, 7:11], rtol=1e-6)
        assert sum(s.end - s.start for s in case.segments) == case.horizon == truth.horizon
        assert [c.start for c in case.captions] == [s.start for s in case.segments]
        for slot, skeleton in case.skeletons.items():
            assert skeleton.joints.shape[1] == 3 and len(skeleton.edges) > 0, slot
            assert skeleton.edges.max() < len(skeleton.joints)
        assert case.state["npc.tracking"] is not None and case.track == split.track == "short"
        np.testing.assert_array_equal(case.counterfactual_actions.keys, answer.cf_actions[:, 1:3].astype(int))


def test_load_inputs_reads_nothing_of_a_case_until_asked(inputs_copy):
    victim = load_inputs(inputs_copy).case_ids[1]
    shutil.rmtree(inputs_copy / victim)
    inputs = load_inputs(inputs_copy)  # listing the cases opens no case file
    assert inputs[0].first_frame.shape == (180, 320, 3)
    with pytest.raises(InputsError, match=rf"{victim}/first_frame.png: missing"):
        inputs[victim].first_frame
    with pytest.raises(InputsError, match="no case 'nope'"):
        inputs["nope"]


def test_a_malformed_inputs_file_is_named_with_its_key(inputs_copy):
    case_id = load_inputs(inputs_copy).case_ids[0]
    path = inputs_copy / case_id / "actions.json"
    doc = json.loads(path.read_text())
    doc["frames"][3]["motion_id"] = "ten"
    path.write_text(json.dumps(doc))
    with pytest.raises(InputsError, match=r"actions.json: key 'frames/3/motion_id': 'ten' is not of type 'integer'"):
        load_inputs(inputs_copy)[0].actions
    (inputs_copy / "cases.json").write_text("{NaN")
    with pytest.raises(InputsError, match="cases.json: not valid JSON"):
        load_inputs(inputs_copy)


def test_counterfactual_actions_and_tracks_are_read_where_present(inputs_copy):
    cases = json.loads((inputs_copy / "cases.json").read_text())
    first, second = cases["cases"][:2]
    cases["cases"][0] = {"case_id": first, "track": "long"}
    cases["track"] = "short"
    (inputs_copy / "cases.json").write_text(json.dumps(cases))
    actions = json.loads((inputs_copy / first / "actions.json").read_text())
    for frame in actions["frames"]:
        frame["motion_id"] += 1000
    (inputs_copy / first / "actions_cf.json").write_text(json.dumps(actions))
    (inputs_copy / second / "actions_cf.json").unlink()  # a case without a counterfactual
    inputs = load_inputs(inputs_copy)
    assert (inputs[first].track, inputs[second].track) == ("long", "short")
    cf = inputs[first].counterfactual_actions
    np.testing.assert_array_equal(cf.motion_id, inputs[first].actions.motion_id + 1000)
    assert inputs[second].counterfactual_actions is None


def test_write_submission_encodes_checks_and_ties_the_videos_to_the_split(bench, inputs_dir, tmp_path):
    inputs = load_inputs(inputs_dir)
    videos = _frozen(inputs)
    videos[inputs.case_ids[0]] = (frame for frame in videos[inputs.case_ids[0]])  # a generator works too
    sub = tmp_path / "sub"
    report = write_submission(sub, videos, inputs=inputs, model="still", version="1.0", conditioning=["first_frame"])
    assert report.ok and report.target == str(sub) and report.samples == len(inputs)
    assert json.loads((sub / "submission.json").read_text())["split_checksum"] == bench["split"].checksum
    assert check_submission(sub, bench["split"]).ok  # the answer key's own split agrees
    decoded = np.stack(list(iter_frames(sub / f"{inputs.case_ids[0]}.mp4")))
    assert decoded.shape == (inputs[0].horizon, 180, 320, 3)
    assert np.abs(decoded[-1].astype(int) - inputs[0].first_frame).mean() < 3  # H.264 at crf 18
    assert sorted(p.name for p in tmp_path.iterdir()) == ["sub"]  # no staging directory left


def test_write_submission_never_replaces_a_different_submission_without_overwrite(inputs_dir, tmp_path):
    inputs = load_inputs(inputs_dir)
    sub = tmp_path / "sub"
    options = dict(inputs=inputs, version="1.0", conditioning=["first_frame"])
    write_submission(sub, _frozen(inputs), model="still", **options)
    before = {p.name: p.read_bytes() for p in sub.iterdir()}
    with pytest.raises(SubmissionError, match="holds another submission"):
        write_submission(sub, _frozen(inputs), model="other", **options)
    dark = {case.case_id: np.zeros((case.horizon, 180, 320, 3), np.uint8) for case in inputs}
    with pytest.raises(SubmissionError, match="same model and version with other files"):
        write_submission(sub, dark, model="still", **options)
    assert {p.name: p.read_bytes() for p in sub.iterdir()} == before
    assert write_submission(sub, _frozen(inputs), model="still", **options).ok  # the same again: left as it is
    write_submission(sub, dark, model="still", overwrite=True, **options)
    assert (sub / f"{inputs.case_ids[0]}.mp4").read_bytes() != before[f"{inputs.case_ids[0]}.mp4"]
    assert sorted(p.name for p in tmp_path.iterdir()) == ["sub"]


def test_write_submission_refuses_bad_frames_before_or_at_the_check_and_leaves_nothing(inputs_dir, tmp_path):
    inputs = load_inputs(inputs_dir)
    sub = tmp_path / "sub"
    options = dict(inputs=inputs, model="m", version="1", conditioning=["first_frame"])
    first = inputs.case_ids[0]
    cases = [
        ({**_frozen(inputs), first: np.zeros((81, 180, 320, 3), np.float32)}, f"case {first}: frame 0 is float32"),
        ({**_frozen(inputs), first: np.zeros((10, 180, 320, 3), np.uint8)}, f"case {first}: 10 frames, the case needs 81"),
        ({k: v for k, v in _frozen(inputs).items() if k != first}, "videos: 1 of .* cases have none"),
        ({**_frozen(inputs), "wb9999": []}, "videos: no case 'wb9999'"),
    ]
    for videos, message in cases:
        with pytest.raises(SubmissionError, match=message):
            write_submission(sub, videos, **options)
    narrow = {case.case_id: np.zeros((case.horizon, 100, 320, 3), np.uint8) for case in inputs}
    with pytest.raises(InvalidSubmissionError, match="fails the checks") as raised:
        write_submission(sub, narrow, **options)
    assert {f.code for f in raised.value.report.errors} == {"bad-size"}
    assert all(f.path.startswith(str(sub)) for f in raised.value.report.errors)
    assert list(tmp_path.iterdir()) == []


def test_counterfactual_videos_and_state_predictions_are_written_and_checked(bench, inputs_dir, tmp_path):
    inputs = load_inputs(inputs_dir)
    split = bench["split"]
    first, second = inputs.case_ids[:2]
    case = split.cases[0]
    state = read_state_csv(bench["root"] / "part" / case.sample_id / "state.csv").slice(case.start, case.horizon)
    sub = tmp_path / "sub"
    report = write_submission(sub, _frozen(inputs), inputs=inputs, model="m", version="1", conditioning=["first_frame"],
                              counterfactual={first: _frozen(inputs)[first]}, states={first: state})
    assert report.ok and (sub / f"{first}.cf.mp4").exists()
    written = read_state_csv(sub / f"{first}.state.csv")  # the table round-trips
    assert written.column_names == state.column_names
    for name in state.column_names:
        if pa.types.is_string(state.column(name).type):
            assert written.column(name).to_pylist() == state.column(name).to_pylist(), name
        else:
            np.testing.assert_array_equal(column_array(written, name), column_array(state, name), err_msg=name)
    shutil.copyfile(sub / f"{first}.state.csv", sub / f"{second}.state.csv")  # by path works as well
    rows = list(csv.reader(io.StringIO((sub / f"{first}.state.csv").read_text())))
    short = rows[:11]  # 10 rows
    rows = [list(row) for row in rows]
    rows[2][rows[0].index("npc.count")] = "many"  # data row 2 (0-based frame 1)
    for target, kept in ((first, rows), (second, short)):
        text = io.StringIO()
        csv.writer(text, lineterminator="\n").writerows(kept)
        (sub / f"{target}.state.csv").write_text(text.getvalue())
    (sub / f"{second}.cf.mp4").write_bytes(b"\x00" * 100)
    (sub / f"{first}.mp4").unlink()  # a counterfactual does not stand in for the main video
    found = {(f.code, f.key): f for f in check_submission(sub, inputs).errors}
    assert set(found) == {("bad-state", first), ("too-few-rows", second), ("undecodable", second), ("missing-case", first)}
    assert found[("bad-state", first)].column == "npc.count" and found[("bad-state", first)].row is not None
    assert found[("undecodable", second)].path.endswith(f"{second}.cf.mp4")
    assert "10 rows" in found[("too-few-rows", second)].message


def test_conditioning_names_are_the_submission_schemas(bench):
    from wildworld.schemas import load_format_schema

    enum = load_format_schema("wildbench_submission")["properties"]["conditioning"]["items"]["enum"]
    assert list(wildbench.CONDITIONING) == enum and all(wildbench.CONDITIONING.values())
