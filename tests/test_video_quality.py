"""Video Quality validity: fidelity ranks the truth first and falls monotonically under growing
blur, noise and compression; the VBench dimensions move as their definitions say."""

from __future__ import annotations

import json
import subprocess
import sys

import cv2
import numpy as np
import pytest

from wildbench.metrics import CaseData, get_metric
from wildbench.metrics._image_quality import (PSNR_CAP, dynamic_pairs, interpolate_middle, motion_smoothness, psnr_per_frame,
                                              rotation_flow, ssim_per_frame, temporal_flickering)
from wildbench.metrics.base import MetricEnv, SplitFacts
from wildbench.runner import decode_submission
from wildworld.geometry import OPENGL_TO_OPENCV, quaternion_to_matrix
from wildworld.video import VideoWriter, open_video

CASES = 4  # enough cases for stable means; each costs ~2 s


@pytest.fixture(scope="module")
def windows(bench):
    """(case, answer, true video, oracle video) of the first CASES cases."""
    split = bench["split"]
    store = split.open_store()
    out = []
    for case in list(split.cases)[:CASES]:
        with open_video(store.video(case.sample_id, "rgb")) as reader:
            truth = reader.get(range(case.start, case.start + case.horizon))
        oracle = decode_submission(bench["subs"]["oracle"] / f"{case.case_id}.mp4", case.horizon, split.resolution)
        out.append((case, split.answer(case.case_id), truth, oracle))
    return out


@pytest.fixture(scope="module")
def scorer():
    return get_metric("video_quality").setup(MetricEnv())


def _scores(bench, windows, scorer, videos) -> list[dict]:
    fps = bench["split"].fps
    return [scorer.score(CaseData(case.case_id, video, answer, fps, true_video=truth))
            for (case, answer, truth, _), video in zip(windows, videos)]


def _mean(results: list[dict], key: str) -> float:
    return float(np.mean([r[key] for r in results]))


def _submission(bench, windows, name):
    split = bench["split"]
    return [decode_submission(bench["subs"][name] / f"{case.case_id}.mp4", case.horizon, split.resolution) for case, *_ in windows]


def test_the_truth_is_most_faithful_and_every_reference_reads_lower(bench, windows, scorer):
    results = {name: _scores(bench, windows, scorer, _submission(bench, windows, name)) for name in bench["subs"]}
    metric = get_metric("video_quality")
    for key in ("psnr", "ssim"):
        oracle = _mean(results["oracle"], key)
        for name in ("frozen", "shuffled", "resim"):
            assert _mean(results[name], key) < oracle - (5.0 if key == "psnr" else 0.1), (key, name, oracle, _mean(results[name], key))
        assert metric.measure(key).to_score(oracle) > 90  # the ceiling reads near the top
        assert all(metric.measure(key).to_score(_mean(results[n], key)) < 60 for n in ("frozen", "shuffled", "resim"))
    assert all(r["dynamic_degree"] == 0.0 for r in results["frozen"])  # nothing moves
    assert all(r["dynamic_pairs"]["above"] == 0 for r in results["frozen"])
    assert _mean(results["oracle"], "dynamic_degree") == 1.0  # camera motion alone makes game video "dynamic"
    # No-reference dimensions reward a frozen video: why they are not in the family score.
    assert _mean(results["frozen"], "motion_smoothness") > _mean(results["oracle"], "motion_smoothness")
    assert _mean(results["frozen"], "temporal_flickering") > _mean(results["oracle"], "temporal_flickering")


def _blur(video, sigma):
    return video if sigma == 0 else np.stack([cv2.GaussianBlur(f, (0, 0), sigma) for f in video])


def _noise(video, sigma, seed):
    rng = np.random.default_rng(seed)
    return np.clip(video + rng.normal(0.0, sigma, video.shape), 0, 255).astype(np.uint8) if sigma else video


def _reencode(video, crf, path):
    height, width = video.shape[1:3]
    with VideoWriter(path, fps=30.0, width=width, height=height, crf=crf) as writer:
        writer.write_many(video)
    return decode_submission(path, len(video), (width, height))


@pytest.mark.parametrize("kind, levels", [("blur", [0, 0.8, 1.5, 3.0]), ("noise", [0, 6, 12, 24]), ("crf", [18, 30, 40, 51])])
def test_fidelity_falls_monotonically_with_degradation(bench, windows, scorer, tmp_path, kind, levels):
    def degrade(video, level, index):
        if kind == "blur":
            return _blur(video, level)
        if kind == "noise":
            return _noise(video, level, index)
        return _reencode(video, level, tmp_path / f"{index}_{level}.mp4")

    results = [_scores(bench, windows, scorer, [degrade(w[3], level, i) for i, w in enumerate(windows)]) for level in levels]
    for key in ("psnr", "ssim"):
        means = [_mean(r, key) for r in results]
        assert all(a > b for a, b in zip(means, means[1:])), (kind, key, means)
    smooth = [_mean(r, "motion_smoothness") for r in results]
    flicker = [_mean(r, "temporal_flickering") for r in results]
    if kind == "noise":  # independent noise per frame: harder to interpolate, more frame-to-frame change
        assert all(a > b for a, b in zip(smooth, smooth[1:])), smooth
        assert all(a > b for a, b in zip(flicker, flicker[1:])), flicker
    if kind == "blur":  # both definitions reward blur (less detail to mispredict or to change): documented
        assert smooth[-1] > smooth[0] and flicker[-1] > flicker[0], (smooth, flicker)


def test_motion_smoothness_falls_when_frames_are_out_of_order(bench, windows, scorer):
    """Temporal jitter (frames swapped with a neighbour) breaks the smooth motion the
    interpolator expects; the truth is smoother."""
    rng = np.random.default_rng(0)
    jittered = []
    for *_, oracle in windows:
        order = np.arange(len(oracle))
        for t in range(1, len(order) - 1, 2):
            if rng.uniform() < 0.5:
                order[t], order[t + 1] = order[t + 1], order[t]
        jittered.append(oracle[order])
    truth = _scores(bench, windows, scorer, [w[3] for w in windows])
    bad = _scores(bench, windows, scorer, jittered)
    assert _mean(bad, "motion_smoothness") < _mean(truth, "motion_smoothness") - 0.002


def _texture(height=96, width=128, seed=0):
    rng = np.random.default_rng(seed)
    return cv2.GaussianBlur(rng.integers(0, 255, (height * 2, width * 2, 3)).astype(np.uint8), (0, 0), 2.0)


def test_psnr_and_ssim_definitions():
    a = np.full((2, 16, 16, 3), 100, np.uint8)
    b = a.copy()
    b[1] += 10  # MSE 100 on frame 1
    np.testing.assert_allclose(psnr_per_frame(b, a), [PSNR_CAP, 10 * np.log10(255**2 / 100)])
    texture = _texture()[:64, :64][None]
    assert ssim_per_frame(texture, texture)[0] == pytest.approx(1.0)
    assert ssim_per_frame(np.clip(texture.astype(int) + 40, 0, 255).astype(np.uint8), texture)[0] < 1.0


def test_ssim_agrees_with_scikit_image():
    skimage = pytest.importorskip("skimage.metrics")
    texture = _texture()
    a = texture[:90, :120]
    b = np.clip(a + np.random.default_rng(1).normal(0, 20, a.shape), 0, 255).astype(np.uint8)
    reference = skimage.structural_similarity(a, b, channel_axis=-1, gaussian_weights=True, sigma=1.5,
                                              use_sample_covariance=False, data_range=255)
    assert ssim_per_frame(b[None], a[None])[0] == pytest.approx(reference, abs=1e-6)


def test_interpolator_recreates_a_linear_pan():
    base = _texture()
    frames = np.stack([base[20:116, 8 + 3 * t: 136 + 3 * t] for t in range(7)])  # 3 px per frame to the left
    middle = interpolate_middle(frames[2], frames[4])
    error = np.abs(middle.astype(float) - frames[3].astype(float))[8:-8, 8:-8].mean()
    assert error < 2.0
    assert motion_smoothness(frames) > 0.99
    assert temporal_flickering(frames) < temporal_flickering(np.repeat(frames[:1], 7, axis=0)) == 1.0


def test_dynamic_degree_follows_vbench_rule():
    base = _texture(96, 128)
    fps = 30.0  # every 4th frame sampled: 21 of 81, 20 pairs, round(4 * 21 / 16) = 5 needed
    threshold = 6 * 96 / 256  # 2.25 px between sampled frames
    still = np.stack([base[:96, :128]] * 81)
    assert not dynamic_pairs(still, fps).dynamic
    moving = np.stack([base[:96, t:128 + t] for t in range(81)])  # 1 px per frame: 4 px per sampled pair
    evidence = dynamic_pairs(moving, fps)
    assert evidence.needed == 5 and evidence.threshold == pytest.approx(threshold)
    assert evidence.dynamic and evidence.above == 20
    # moves in exactly 5 sampled pairs (then stops): still "dynamic" (at least round(4N/16))
    offsets = np.minimum(np.arange(81), 20)
    burst = np.stack([base[:96, o: 128 + o] for o in offsets])
    assert dynamic_pairs(burst, fps).above == 5 and dynamic_pairs(burst, fps).dynamic
    offsets = np.minimum(np.arange(81), 16)
    assert not dynamic_pairs(np.stack([base[:96, o: 128 + o] for o in offsets]), fps).dynamic


def test_rotation_compensation_removes_a_pure_camera_pan():
    """A video made by rotating the camera about its centre (a homography of the texture) is
    dynamic by VBench's rule, and not once the true rotation's flow is removed."""
    base = _texture(180, 240)
    k = np.array([120.0, 120.0, 60.0, 45.0])
    size = (120, 90)
    frames, rotations = [], []
    for t in range(33):
        yaw = np.radians(0.5 * t)
        gl = quaternion_to_matrix(np.array([0.0, np.sin(yaw / 2), 0.0, np.cos(yaw / 2)]))  # camera-to-world, OpenGL
        w2c = OPENGL_TO_OPENCV @ gl.T
        rotations.append(w2c)
        # frame t's pixel x shows what frame 0 shows at x + flow (K R_t->0 K^-1); frame 0 is base offset by (60, 45)
        to_first = rotation_flow(k, k, rotations[0] @ w2c.T, size)
        grid_x, grid_y = np.meshgrid(np.arange(size[0], dtype=np.float32), np.arange(size[1], dtype=np.float32))
        frames.append(cv2.remap(base, grid_x + to_first[..., 0] + 60, grid_y + to_first[..., 1] + 45, cv2.INTER_LINEAR))
    video = np.stack(frames)
    intrinsics = np.repeat(k[None], len(video), axis=0)
    plain = dynamic_pairs(video, 30.0)
    compensated = dynamic_pairs(video, 30.0, rotations=np.stack(rotations), intrinsics=intrinsics)
    assert plain.dynamic and not compensated.dynamic
    assert max(compensated.magnitudes) < 0.25 * min(plain.magnitudes)


def test_scores_repeat_exactly_and_in_another_process(bench, windows, scorer, tmp_path):
    case, answer, truth, oracle = windows[0]
    first = scorer.score(CaseData(case.case_id, oracle, answer, bench["split"].fps, true_video=truth))
    again = get_metric("video_quality").setup(MetricEnv()).score(CaseData(case.case_id, oracle, answer, bench["split"].fps, true_video=truth))
    assert json.dumps(first, sort_keys=True) == json.dumps(again, sort_keys=True)
    np.savez(tmp_path / "case.npz", video=oracle, truth=truth, **answer.to_npz())
    code = (
        "import json, sys, numpy as np\n"
        "from wildbench.answers import CaseAnswer\n"
        "from wildbench.metrics import CaseData, get_metric\n"
        "d = np.load(sys.argv[1], allow_pickle=False)\n"
        "case = CaseData('c', d['video'], CaseAnswer.from_npz(d), float(sys.argv[2]), true_video=d['truth'])\n"
        "print(json.dumps(get_metric('video_quality').score(case), sort_keys=True))\n"
    )
    out = subprocess.run([sys.executable, "-c", code, str(tmp_path / "case.npz"), str(bench["split"].fps)],
                         capture_output=True, text=True, check=True)
    assert out.stdout.strip() == json.dumps(first, sort_keys=True)


def test_aggregate_counts_failures_with_the_worst_values(bench, windows, scorer):
    metric = get_metric("video_quality")
    results = _scores(bench, windows[:2], scorer, [w[3] for w in windows[:2]])
    failed = metric.failed_result("decoder gave up")
    summary = metric.aggregate(results + [failed], SplitFacts(bench["split"].fps, 81))
    assert summary["cases"] == 3 and summary["failed_cases"] == 1
    psnr = summary["measures"]["psnr"]
    assert psnr["mean"] == pytest.approx(np.mean([r["psnr"] for r in results] + [metric.measure("psnr").worst]))
    assert len(psnr["per_horizon"]) == len(summary["buckets"]) == 4
    assert psnr["per_horizon"][0] == pytest.approx(np.mean([r["per_horizon"]["psnr"][0] for r in results] + [15.0]))


# Learned plug-ins: no weights, no number.

def test_learned_plugins_say_not_computed_without_weights(tmp_path):
    from wildbench.errors import WildBenchError

    for name in ("aesthetic_quality", "imaging_quality", "lpips", "fvd"):
        metric = get_metric(name)
        reason = metric.unavailable(MetricEnv())
        assert reason.startswith("not computed: no weights given (--weights DIR with ") and metric.weights[0].name in reason
        with pytest.raises(WildBenchError, match="not computed"):
            metric.setup(MetricEnv())
        assert "not computed" in metric.unavailable(MetricEnv(weights=tmp_path)) and "is missing" in metric.unavailable(MetricEnv(weights=tmp_path))
        assert not any(m.headline for m in metric.measures)  # the family score does not depend on having weights
        (tmp_path / metric.weights[0].name).write_bytes(b"anything")
        assert "no sha256 is pinned" in metric.unavailable(MetricEnv(weights=tmp_path))


def _stand_in(tmp_path, name, module):
    import torch

    from wildbench.metrics._weights import WeightFile, sha256_of

    path = tmp_path / name
    torch.jit.script(module).save(str(path))
    return WeightFile(name, sha256_of(path), "a test stand-in")


def test_a_learned_plugin_refuses_weights_whose_checksum_differs(tmp_path):
    import torch

    from wildbench.metrics.learned_quality import AestheticQuality

    class Score(torch.nn.Module):
        def forward(self, x: torch.Tensor) -> torch.Tensor:
            return x.mean(dim=(1, 2, 3))

    pinned = _stand_in(tmp_path, "aesthetic_clip_vit_l14_laion.ts", Score())
    metric = AestheticQuality(weights=(pinned,))
    assert metric.unavailable(MetricEnv(weights=tmp_path)) is None
    assert pinned.sha256[:16] in metric.version_for(MetricEnv(weights=tmp_path))
    with open(tmp_path / pinned.name, "ab") as handle:
        handle.write(b"\0")  # one byte more: other weights
    reason = metric.unavailable(MetricEnv(weights=tmp_path))
    assert reason.startswith("not computed: ") and f"expected {pinned.sha256}" in reason


def test_learned_plugins_score_with_loaded_stand_in_models(bench, windows, tmp_path):
    import torch

    from wildbench.metrics.learned_quality import AestheticQuality, Fvd, Lpips

    class Brightness(torch.nn.Module):  # a "aesthetic score" of 10 x mean input: depends on the frames
        def forward(self, x: torch.Tensor) -> torch.Tensor:
            return 10.0 * x.mean(dim=(1, 2, 3))

    class Distance(torch.nn.Module):
        def forward(self, a: torch.Tensor, b: torch.Tensor) -> torch.Tensor:
            return (a - b).abs().mean(dim=(1, 2, 3))

    class ChannelMeans(torch.nn.Module):
        def forward(self, x: torch.Tensor) -> torch.Tensor:
            return x.mean(dim=(2, 3, 4))

    env = MetricEnv(weights=tmp_path)
    fps = bench["split"].fps
    aesthetic = AestheticQuality(weights=(_stand_in(tmp_path, "aesthetic_clip_vit_l14_laion.ts", Brightness()),)).setup(env)
    lpips = Lpips(weights=(_stand_in(tmp_path, "lpips_alex.ts", Distance()),)).setup(env)
    fvd_metric = Fvd(weights=(_stand_in(tmp_path, "i3d_kinetics400.ts", ChannelMeans()),))
    fvd = fvd_metric.setup(env)
    bright = [aesthetic.score(CaseData(c.case_id, np.clip(o.astype(int) + shift, 0, 255).astype(np.uint8), a, fps))["aesthetic_quality"]
              for (c, a, _, o), shift in zip(windows[:2], (0, 60))]
    assert bright[1] > bright[0]
    case, answer, truth, oracle = windows[0]
    assert lpips.score(CaseData(case.case_id, truth, answer, fps, true_video=truth))["lpips"] == 0.0
    assert lpips.score(CaseData(case.case_id, oracle, answer, fps, true_video=truth))["lpips"] > 0.0
    same = [fvd.score(CaseData(c.case_id, t, a, fps, true_video=t)) for c, a, t, _ in windows]
    brighter = [fvd.score(CaseData(c.case_id, np.clip(t.astype(int) + 40, 0, 255).astype(np.uint8), a, fps, true_video=t))
                for c, a, t, _ in windows]
    split = SplitFacts(fps, 81)
    assert fvd_metric.aggregate(same, split)["measures"]["fvd"]["mean"] == pytest.approx(0.0, abs=1e-6)
    assert fvd_metric.aggregate(brighter, split)["measures"]["fvd"]["mean"] > 1e-3
