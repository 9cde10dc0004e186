"""The action recognizer: vocabulary, exclusion maths, weights, resume, training, API, CLI."""

from __future__ import annotations

import hashlib
import json
import shutil
from collections import Counter
from pathlib import Path

import numpy as np
import pytest
import torch
from hypothesis import given, settings
from hypothesis import strategies as st
from typer.testing import CliRunner

from wildbench.recognizer import (
    Recognizer,
    RecognizerError,
    TrainConfig,
    Vocabulary,
    build_vocabulary,
    crop_frames,
    crop_track,
    train_recognizer,
)
from wildbench.recognizer.clips import candidate_clips, excluded_clips
from wildbench.recognizer.data import body_radius, read_frames, split_samples
from wildbench.recognizer.exclusion import excluded_intervals, load_exclusions, merge_intervals, overlapping
from wildbench.recognizer.io import load_tensors, save_tensors
from wildbench.recognizer.model import ModelConfig, build_network
from wildworld import look_at_opengl
from wildworld.store import open_store
from wildworld_cli.wildbench_app import app

runner = CliRunner()

#: A quick training run (seconds): enough to write a complete model directory, not to be accurate.
TINY = TrainConfig(epochs=2, steps_per_epoch=4, batch_size=8, min_count=3, seed=0)


# -- vocabulary ----------------------------------------------------------------------------------

def _long_tail(seed: int = 0, keys: int = 460, banks: int = 24) -> dict[tuple[int, int], int]:
    """A count table shaped like the real release: 460 clips in 24 banks, Zipf-like counts."""
    rng = np.random.default_rng(seed)
    counts = np.maximum(1, (4000 / np.arange(1, keys + 1) ** 1.1).astype(int))
    bank_of = rng.integers(0, banks, size=keys)
    return {(int(bank_of[i]), 1000 + i): int(counts[rng.permutation(keys)[i]]) for i in range(keys)}


def test_vocabulary_keeps_common_keys_and_folds_rare_ones_into_their_bank():
    counts = _long_tail()
    vocabulary = build_vocabulary(counts, min_count=20)
    exact = {key for key, n in counts.items() if n >= 20}
    assert {c.key for c in vocabulary.classes if c.key is not None} == exact
    assert 40 < len(exact) < len(counts) - 100, "the table has a head and a long tail"
    rare_by_bank = Counter()
    for (bank, _), n in counts.items():
        if n < 20:
            rare_by_bank[bank] += n
    for key, n in counts.items():
        index = vocabulary.class_of(key)
        if n >= 20:
            assert vocabulary.classes[index].key == key
        elif rare_by_bank[key[0]] >= 20:
            assert vocabulary.classes[index].motion_id is None and vocabulary.classes[index].bank == key[0]
            assert key in vocabulary.classes[index].folded
        else:
            assert index is None and key in vocabulary.dropped
        if index is not None:
            assert vocabulary.group_of(index) == key[0]
    folded = [c for c in vocabulary.classes if c.motion_id is None]
    assert folded and all(c.count == rare_by_bank[c.bank] for c in folded)
    # a key never seen in training falls into its bank's folded class, or has no class
    for item in folded:
        assert vocabulary.class_of((item.bank, 999_999)) == vocabulary.classes.index(item)
    assert vocabulary.class_of((10_000, 1)) is None
    assert Vocabulary.from_json(json.loads(json.dumps(vocabulary.to_json()))) == vocabulary
    assert sum(c.count for c in vocabulary.classes) + sum(counts[k] for k in vocabulary.dropped) == sum(counts.values())


@settings(max_examples=60, deadline=None)
@given(st.dictionaries(st.tuples(st.integers(0, 5), st.integers(0, 30)), st.integers(0, 40), max_size=40),
       st.integers(1, 30))
def test_every_key_lands_in_exactly_one_place(counts, min_count):
    vocabulary = build_vocabulary(counts, min_count=min_count)
    for key, n in counts.items():
        if n <= 0:
            continue
        index = vocabulary.class_of(key)
        owners = [i for i, c in enumerate(vocabulary.classes) if c.key == key or key in c.folded]
        assert (index is None) == (key in vocabulary.dropped)
        assert owners == ([] if index is None else [index])
    assert all(c.count >= min_count for c in vocabulary.classes)


def test_vocabulary_refuses_bad_input():
    with pytest.raises(RecognizerError, match="min_count"):
        build_vocabulary({(1, 2): 3}, min_count=0)
    with pytest.raises(RecognizerError, match="vocabulary.json"):
        Vocabulary.from_json({"classes": [{"bank": "x"}]}, path="vocabulary.json")


def test_balanced_sampling_draws_every_class_alike():
    from wildbench.recognizer.train import clip_weights

    labels = np.array([0] * 90 + [1] * 9 + [2] * 1)
    per_class = lambda w: np.bincount(labels, weights=w)  # noqa: E731
    np.testing.assert_allclose(per_class(clip_weights(labels, 3, balance=1.0)), [1 / 3] * 3)
    np.testing.assert_allclose(per_class(clip_weights(labels, 3, balance=0.0)), [0.9, 0.09, 0.01])
    half = per_class(clip_weights(labels, 3, balance=0.5))
    assert half[0] > half[1] > half[2] and half[0] / half[2] == pytest.approx(np.sqrt(90))


def _assembled(erase: float = 0.0, seed: int = 1, **settings) -> np.ndarray:
    from wildbench.recognizer.clips import ClipTable
    from wildbench.recognizer.train import _assemble

    rng = np.random.default_rng(0)
    crops = [rng.integers(0, 256, (200, 72, 72, 3), dtype=np.uint8)]  # noise: no flat patch by chance
    n = 64
    clips = ClipTable(np.zeros(n, np.int64), rng.integers(20, 180, n), np.zeros((n, 2), np.int64), np.zeros(n, np.int64),
                      np.zeros(n, np.int64), np.full(n, 200), ("a",))
    model = ModelConfig(classes=3, body_radius=1.0)
    return _assemble(crops, clips, np.arange(n), np.random.default_rng(seed), TrainConfig(erase=erase, **settings),
                     model)


def _flat_rectangle(clip: np.ndarray) -> tuple[int, int] | None:
    """(height, width) of the one-colour rectangle that stays put on every frame of a clip of
    noise (nothing else in it is the same on all frames), else None."""
    still = (clip == clip[0]).all(axis=(0, 3))
    rows, cols = np.flatnonzero(still.any(axis=1)), np.flatnonzero(still.any(axis=0))
    if not len(rows):
        return None
    box = clip[0, rows[0] : rows[-1] + 1, cols[0] : cols[-1] + 1]
    assert still[rows[0] : rows[-1] + 1, cols[0] : cols[-1] + 1].all() and (box == box[0, 0]).all()  # one flat rectangle
    return len(rows), len(cols)


def test_occlusion_augmentation_puts_one_flat_rectangle_on_every_frame_of_a_clip():
    size = ModelConfig(classes=3, body_radius=1.0).input_size
    never, always = _assembled(erase=0.0), _assembled(erase=1.0)
    assert all(_flat_rectangle(clip) is None for clip in never)
    shapes = [_flat_rectangle(clip) for clip in always]
    assert all(shape is not None for shape in shapes)
    areas = np.array([h * w for h, w in shapes]) / size**2
    assert areas.min() >= 0.015 and areas.max() <= 0.16 and areas.std() > 0.01  # 2-15% of the picture, varied
    half = _assembled(erase=0.5)
    assert 16 < sum(_flat_rectangle(clip) is not None for clip in half) < 48
    with pytest.raises(RecognizerError, match="erase"):
        TrainConfig(erase=1.5)


def test_mirror_augmentation_flips_a_share_of_the_clips_left_right_and_nothing_else():
    plain, flipped = _assembled(mirror=0.0), _assembled(mirror=1.0)
    np.testing.assert_array_equal(flipped, plain[:, :, :, ::-1])  # the same clips, jitter and gain, mirrored
    half = _assembled(mirror=0.5)
    same = [(h == p).all() for h, p in zip(half, plain)]
    mirrored = [(h == p[:, :, ::-1]).all() for h, p in zip(half, plain)]
    assert all(a != b for a, b in zip(same, mirrored)) and 16 < sum(mirrored) < 48
    with pytest.raises(RecognizerError, match="mirror"):
        TrainConfig(mirror=-0.1)


def test_network_input_is_rgb_and_frame_differences_in_channels_last_layout():
    from wildbench.recognizer.model import prepare_clips

    config = ModelConfig(classes=3, body_radius=1.0)
    crops = torch.randint(0, 256, (2, config.clip_frames, config.input_size, config.input_size, 3), dtype=torch.uint8)
    x = prepare_clips(crops, config)
    rgb = crops.permute(0, 4, 1, 2, 3).float() / 255.0 - 0.5
    assert x.shape == (2, 6, config.clip_frames, config.input_size, config.input_size)
    assert x.is_contiguous(memory_format=torch.channels_last_3d)
    assert torch.equal(x[:, :3], rgb)
    assert torch.equal(x[:, 3:, 0], torch.zeros_like(x[:, 3:, 0]))
    assert torch.equal(x[:, 3:, 1:], rgb[:, :, 1:] - rgb[:, :, :-1])


# -- exclusion maths -------------------------------------------------------------------------------

@settings(max_examples=200, deadline=None)
@given(st.lists(st.tuples(st.integers(0, 300), st.integers(0, 60)), max_size=8),
       st.lists(st.integers(-20, 320), max_size=40), st.integers(1, 40))
def test_clip_overlap_matches_brute_force(cases, firsts, span):
    intervals = [(a, a + length) for a, length in cases]
    got = overlapping(np.array(firsts, dtype=np.int64), span, merge_intervals(intervals))
    expected = [any(a < b and f < b and a < f + span for a, b in intervals) for f in firsts]  # empty cases hold no frame
    assert got.tolist() == expected
    frames = {f for a, b in intervals for f in range(a, b)}
    merged = merge_intervals(intervals)
    assert {f for a, b in merged for f in range(a, b)} == frames
    assert (np.diff(merged.ravel()) > 0).all() if len(merged) else True


def test_excluded_split_drops_exactly_the_clips_that_touch_a_case(bench):
    store = open_store(bench["store"])
    exclusions = load_exclusions([bench["split_dir"]], store)
    ids = [s.id for s in store.samples]
    frames = read_frames(store, ids)
    config = ModelConfig(classes=2, body_radius=body_radius(list(frames.values())))
    shown_everywhere = {s: np.ones(f.frames, np.float32) for s, f in frames.items()}
    clips, _ = candidate_clips([frames[s] for s in ids], shown_everywhere, span=config.span)
    dropped = excluded_clips(clips, config.span, excluded_intervals(exclusions))
    cases = [(c.sample_id, c.start, c.start + c.horizon) for c in bench["split"].cases]
    half = config.span // 2
    for sample, centre, out in zip(clips.sample.tolist(), clips.centre.tolist(), dropped.tolist()):
        first, last = centre - half, centre - half + config.span - 1
        touches = any(s == ids[sample] and first < b and a <= last for s, a, b in cases)
        assert out == touches
    assert 0 < dropped.sum() < len(clips)


def test_a_split_of_another_store_is_refused_in_one_line(bench, tmp_path):
    from wildbench.split import _checksum

    split_dir = tmp_path / "split"
    shutil.copytree(bench["split_dir"], split_dir)
    doc = json.loads((split_dir / "split.json").read_text())
    doc["store_identity"] = "0" * 64
    doc["checksum"] = _checksum(doc)
    (split_dir / "split.json").write_text(json.dumps(doc))
    with pytest.raises(RecognizerError, match="another store") as caught:
        load_exclusions([split_dir], open_store(bench["store"]))
    assert "\n" not in str(caught.value)
    with pytest.raises(RecognizerError, match="no split here"):
        load_exclusions([tmp_path / "nothing"], open_store(bench["store"]))


def test_held_out_samples_are_chosen_by_sample_id():
    ids = [f"{i:06d}" for i in range(10)]
    train, held = split_samples(ids, holdout_fraction=0.2)
    assert len(held) == 2 and sorted(train + held) == ids
    assert split_samples(list(reversed(ids)), holdout_fraction=0.2)[1] == sorted(held, reverse=True)
    assert set(split_samples(ids + ["extra1", "extra2"], holdout_fraction=0.2)[1]) <= set(held) | {"extra1", "extra2"}
    with pytest.raises(RecognizerError, match="at least 2"):
        split_samples(["only"], holdout_fraction=0.2)


# -- crops -----------------------------------------------------------------------------------------

def test_crop_track_centres_on_the_projected_player_and_scales_with_distance():
    target = np.array([0.0, 1.0, 0.0])
    joints = target + np.array([[0, 0.9, 0], [0, -0.9, 0], [0.3, 0, 0], [-0.3, 0, 0], [np.nan] * 3])
    rows = []
    for distance in (4.0, 8.0):
        eye = np.array([0.0, 2.0, distance])
        rows.append(np.concatenate([[200.0, 200.0, 160.0, 90.0], eye, look_at_opengl(eye, target)]))
    camera = np.array(rows + [[np.nan] * 11])
    track = crop_track(camera, np.stack([joints] * 3), (320, 180), body_radius=0.9, margin=1.5)
    assert track.found.tolist() == [True, True, False]
    np.testing.assert_allclose(track.centres[:2], [[160, 90], [160, 90]], atol=1e-6)
    for row, distance in enumerate((4.0, 8.0)):  # the side shrinks with the distance (the depth of the centroid)
        assert track.sides[row] == pytest.approx(2 * 1.5 * 0.9 * 200 / np.linalg.norm([0, 1, distance]), rel=1e-6)
    np.testing.assert_allclose(track.centres[2], track.centres[1])  # unfound frames take the nearest found one
    with pytest.raises(RecognizerError, match=r"\(T, 11\)"):
        crop_track(camera[:, :7], joints[None], (320, 180), body_radius=1.0)


def test_crops_outside_the_image_are_black_and_inside_they_are_the_picture():
    frames = np.zeros((2, 40, 60, 3), np.uint8)
    frames[:, 10:30, 20:40] = 200
    from wildbench.recognizer.crops import CropTrack

    track = CropTrack(np.array([[30.0, 20.0], [500.0, 500.0]]), np.array([20.0, 20.0]), np.ones(2, bool))
    crops = crop_frames(frames, track, out_size=16, context=1.0)
    assert (crops[0] == 200).all() and (crops[1] == 0).all()


# -- weights and the model directory ---------------------------------------------------------------

def test_weights_round_trip_through_safetensors(tmp_path):
    config = ModelConfig(classes=5, body_radius=1.0)
    network = build_network(config, seed=3)
    save_tensors(tmp_path / "w.safetensors", network.state_dict(), {"note": "x"})
    tensors, metadata = load_tensors(tmp_path / "w.safetensors")
    assert metadata == {"note": "x"}
    again = build_network(config, seed=4)
    again.load_state_dict(tensors)
    for name, value in network.state_dict().items():
        assert torch.equal(value, again.state_dict()[name]), name
    assert not (tmp_path / "w.safetensors").read_bytes().startswith(b"\x80")  # not a pickle
    (tmp_path / "bad.safetensors").write_bytes(b"\x80\x04garbage")
    with pytest.raises(RecognizerError, match="not a readable safetensors file"):
        load_tensors(tmp_path / "bad.safetensors")


def test_a_checkpoint_restores_the_network_and_the_optimiser_exactly(tmp_path):
    from wildbench.recognizer.checkpoints import latest_checkpoint, restore_checkpoint, save_checkpoint
    from wildbench.recognizer.model import prepare_clips

    config = ModelConfig(classes=4, body_radius=1.0)
    clips = torch.randint(0, 255, (6, config.clip_frames, config.input_size, config.input_size, 3), dtype=torch.uint8)
    labels = torch.tensor([0, 1, 2, 3, 0, 1])

    def step(network, optimizer):
        loss = torch.nn.functional.cross_entropy(network(prepare_clips(clips, config)), labels)
        optimizer.zero_grad()
        loss.backward()
        optimizer.step()

    network = build_network(config, seed=1)
    optimizer = torch.optim.AdamW(network.parameters(), lr=1e-2)
    step(network, optimizer)
    for epoch in (1, 2, 3):
        save_checkpoint(tmp_path, epoch, network, optimizer, {"fingerprint": "f", "loss": [1.0]})
    assert sorted(p.name for p in (tmp_path / "checkpoints").iterdir()) == ["epoch-0002.safetensors", "epoch-0003.safetensors"]
    again = build_network(config, seed=2)
    again_optimizer = torch.optim.AdamW(again.parameters(), lr=1e-2)
    metadata = restore_checkpoint(latest_checkpoint(tmp_path), again, again_optimizer, fingerprint="f", device=torch.device("cpu"))
    assert metadata["epoch"] == 3 and metadata["loss"] == [1.0]
    step(network, optimizer)
    step(again, again_optimizer)
    for name, value in network.state_dict().items():
        assert torch.equal(value, again.state_dict()[name]), name
    with pytest.raises(RecognizerError, match="another training run"):
        restore_checkpoint(latest_checkpoint(tmp_path), again, again_optimizer, fingerprint="g", device=torch.device("cpu"))


def _no_pickle_in(directory: Path) -> None:
    for path in directory.rglob("*"):
        if path.is_file():
            head = path.read_bytes()[:4]
            assert path.suffix not in (".pt", ".pth", ".pkl", ".pickle", ".bin"), path
            assert not head.startswith(b"\x80") and not head.startswith(b"PK"), f"{path} looks like a pickle or torch zip"


@pytest.fixture(scope="session")
def trained(bench, tmp_path_factory):
    """A recognizer trained briefly on the bench store, with the bench split excluded."""
    out = tmp_path_factory.mktemp("recognizer") / "model"
    result = train_recognizer(bench["store"], out, TINY, exclude_splits=[bench["split_dir"]])
    return {"dir": out, "result": result}


def test_training_writes_a_complete_model_directory_without_pickles(trained, bench):
    out = trained["dir"]
    names = {p.name for p in out.iterdir()}
    assert {"config.json", "vocabulary.json", "weights.safetensors", "model_card.json", "model_card.md",
            "confusion.png", "checkpoints"} <= names
    assert not [p for p in out.rglob("*") if ".wwtmp-" in p.name], "no temporary file is left"
    _no_pickle_in(out)
    card = json.loads((out / "model_card.json").read_text())
    assert card["recognizer"]["checksum"] == hashlib.sha256((out / "weights.safetensors").read_bytes()).hexdigest()
    exclusion = card["data"]["exclusions"][0]
    assert exclusion["checksum"] == bench["split"].checksum and exclusion["cases"] == len(bench["split"].cases)
    assert exclusion["training_clips_dropped"] > 0
    assert card["data"]["clips"]["overlapping excluded cases"] >= exclusion["training_clips_dropped"]
    import cv2

    image = cv2.imread(str(out / "confusion.png"))
    assert image is not None and image.shape[0] > 50
    assert "Held-out segments" in (out / "model_card.md").read_text()


# That training learns is asserted on another store's split, by the recognizer the Action
# Following tests train (tests/test_action_following.py::
# test_the_recognizer_sees_the_truth_well_above_chance): one training run serves both.


def test_the_same_run_again_is_a_no_op_and_other_settings_are_refused(trained, bench):
    before = (trained["dir"] / "weights.safetensors").read_bytes()
    again = train_recognizer(bench["store"], trained["dir"], TINY, exclude_splits=[bench["split_dir"]])
    assert again.resumed_from_epoch == -1 and (trained["dir"] / "weights.safetensors").read_bytes() == before
    with pytest.raises(RecognizerError, match="other settings") as caught:
        train_recognizer(bench["store"], trained["dir"], TrainConfig(epochs=4, steps_per_epoch=12, batch_size=16, min_count=3),
                         exclude_splits=[bench["split_dir"]])
    assert "training" in str(caught.value) and "\n" not in str(caught.value)


def test_an_interrupted_run_resumes_to_the_same_model(bench, tmp_path):
    config = TrainConfig(epochs=2, steps_per_epoch=3, batch_size=8, min_count=3, seed=1)
    train_recognizer(bench["store"], tmp_path / "whole", config)

    def interrupt(stage, done, total):
        if stage == "training" and done == 4:  # the first step of the second epoch
            raise KeyboardInterrupt

    with pytest.raises(KeyboardInterrupt):
        train_recognizer(bench["store"], tmp_path / "resumed", config, progress=interrupt)
    assert (tmp_path / "resumed" / "checkpoints" / "epoch-0001.safetensors").exists()
    assert not (tmp_path / "resumed" / "weights.safetensors").exists()
    result = train_recognizer(bench["store"], tmp_path / "resumed", config)
    assert result.resumed_from_epoch == 1
    whole = (tmp_path / "whole" / "weights.safetensors").read_bytes()
    assert (tmp_path / "resumed" / "weights.safetensors").read_bytes() == whole
    cards = [json.loads((tmp_path / d / "model_card.json").read_text()) for d in ("whole", "resumed")]
    assert cards[0]["held_out"] == cards[1]["held_out"]
    assert cards[0]["training"]["loss"] == cards[1]["training"]["loss"]


# -- the inference API -----------------------------------------------------------------------------

def test_the_inference_api(trained, bench):
    recognizer = Recognizer.load(trained["dir"])
    weights = trained["dir"] / "weights.safetensors"
    assert recognizer.checksum == hashlib.sha256(weights.read_bytes()).hexdigest()
    assert recognizer.checksum[:16] in recognizer.version and "v1" in recognizer.version
    vocabulary = recognizer.vocabulary
    for index, item in enumerate(vocabulary.classes):
        assert recognizer.group_of(index) == item.bank
        if item.key is not None:
            assert recognizer.class_of(item.key) == index
    case = bench["split"].cases[0]
    answer = bench["split"].answer(case.case_id)
    store = open_store(bench["store"])
    from wildworld.video import open_video

    with open_video(store.video(case.sample_id, "rgb")) as reader:
        video = reader.get(range(case.start, case.start + case.horizon))
    entry = store.sample(case.sample_id)
    joints = store.skeleton_array[entry.offset + case.start : entry.offset + case.start + case.horizon]
    player = joints[:, store.layout.slot_index(case.player_slot)]
    track = recognizer.crop_track(answer.camera, player, (video.shape[2], video.shape[1]))
    assert track.found.all()
    probabilities = recognizer.predict(video[:20], track.centres[:20], sides=track.sides[:20])
    assert probabilities.shape == (len(vocabulary),) and probabilities.sum() == pytest.approx(1.0)
    per_frame = recognizer.per_frame(video, track.centres, sides=track.sides)
    assert per_frame.shape == (case.horizon, len(vocabulary))
    np.testing.assert_allclose(per_frame.sum(axis=1), 1.0, rtol=1e-5)
    np.testing.assert_array_equal(per_frame, recognizer.per_frame(video, track.centres, sides=track.sides))
    assert recognizer.predict(video[: recognizer.min_frames], track.centres[: recognizer.min_frames],
                              sides=track.sides[: recognizer.min_frames]).shape == (len(vocabulary),)
    with pytest.raises(RecognizerError, match="at least"):
        recognizer.predict(video[:3], track.centres[:3], sides=track.sides[:3])
    with pytest.raises(RecognizerError, match=r"centres have shape"):
        recognizer.predict(video[:20], track.centres[:10])
    with pytest.raises(RecognizerError, match="uint8"):
        recognizer.per_frame(video.astype(np.float32))
    with pytest.raises(RecognizerError, match="no such model directory"):
        Recognizer.load(trained["dir"] / "missing")


@pytest.mark.gpu
@pytest.mark.skipif(not torch.cuda.is_available(), reason="needs a CUDA device")
def test_cuda_training_and_inference_agree_with_the_cpu(bench, trained, tmp_path):
    config = TrainConfig(epochs=1, steps_per_epoch=3, batch_size=8, min_count=3)
    result = train_recognizer(bench["store"], tmp_path / "cuda", config, device="cuda")
    assert result.card["training"]["device"].startswith("cuda")
    frames = np.random.default_rng(0).integers(0, 255, (24, 96, 160, 3), dtype=np.uint8)
    centres = np.tile([80.0, 48.0], (24, 1))
    cpu = Recognizer.load(trained["dir"], device="cpu").per_frame(frames, centres, sides=40.0)
    gpu = Recognizer.load(trained["dir"], device="cuda").per_frame(frames, centres, sides=40.0)
    np.testing.assert_allclose(gpu, cpu, atol=1e-3)


@pytest.mark.skipif(torch.cuda.is_available(), reason="checks the no-CUDA answer")
def test_the_cuda_benchmarks_exit_0_without_cuda_and_the_gpu_one_runs_its_code_on_the_cpu():
    import subprocess
    import sys

    root = Path(__file__).resolve().parent.parent
    for script in ("recognizer_gpu.py", "recognizer_train.py"):
        done = subprocess.run([sys.executable, str(root / "benchmarks" / script), "--device", "cuda"],
                              capture_output=True, text=True, timeout=300, cwd=root / "benchmarks")
        assert done.returncode == 0 and "CUDA is absent" in done.stdout, (script, done.stdout, done.stderr)
    dry = subprocess.run([sys.executable, str(root / "benchmarks" / "recognizer_gpu.py"), "--device", "cpu", "--steps", "1",
                          "--repeats", "1", "--batch", "4"], capture_output=True, text=True, timeout=300, cwd=root / "benchmarks")
    assert dry.returncode == 0 and "per_frame frames/s" in dry.stdout, dry.stderr
    rates = [float(v) for v in dry.stdout.splitlines()[-1].split()[-2:]]
    assert all(r > 0 for r in rates), dry.stdout


# -- the command line ------------------------------------------------------------------------------

def test_cli_trains_and_evaluates(bench, trained, tmp_path):
    out = tmp_path / "cli_model"
    result = runner.invoke(app, ["recognizer", "train", str(bench["store"]), "--out", str(out), "--epochs", "1",
                                 "--steps-per-epoch", "2", "--min-count", "3", "--workers", "0", "--input-size", "32"])
    assert result.exit_code == 0, result.output
    assert "wrote" in result.output and (out / "model_card.json").exists()
    model = json.loads((out / "config.json").read_text())["model"]
    assert (model["input_size"], model["crop_size"]) == (32, 36)  # the crop: the input + 1/8 for the jitter
    result = runner.invoke(app, ["recognizer", "eval", str(trained["dir"]), str(bench["store"]), "--workers", "0", "--json"])
    assert result.exit_code == 0, result.output
    report = json.loads(result.stdout)
    card = json.loads((trained["dir"] / "model_card.json").read_text())
    assert report["segments"]["top1"] == card["held_out"]["segments"]["top1"]
    assert report["samples"] == card["data"]["held_out_samples"]


@pytest.mark.parametrize("arguments, message", [
    (["train", "{missing}", "--out", "{tmp}/m"], "manifest"),
    (["train", "{store}", "--out", "{tmp}/m", "--device", "cuda"], "cuda"),
    (["train", "{store}", "--out", "{tmp}/m", "--device", "tpu"], "device"),
    (["train", "{store}", "--out", "{tmp}/m", "--exclude-split", "{tmp}"], "no split here"),
    (["eval", "{tmp}", "{store}"], "config.json"),
    (["train", "{store}", "--out", "{tmp}/m", "--input-size", "40"], "multiple of 16"),
    (["train", "{store}", "--out", "{tmp}/m", "--input-size", "48", "--crop-size", "40"], "smaller than --input-size"),
])
def test_cli_bad_input_is_one_line(bench, tmp_path, arguments, message):
    if message == "cuda" and torch.cuda.is_available():
        pytest.skip("this machine has CUDA")
    values = {"missing": str(tmp_path / "nope"), "tmp": str(tmp_path), "store": str(bench["store"])}
    result = runner.invoke(app, ["recognizer", *[a.format(**values) for a in arguments]])
    assert result.exit_code == 2, result.output
    lines = [line for line in result.output.strip().splitlines() if line.strip()]
    assert len(lines) == 1 and message in lines[0], result.output
