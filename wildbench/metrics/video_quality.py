"""Video Quality v1 (weight-free core): fidelity to the true future, and VBench's classical dimensions.

Definition (docs/metrics-camera-and-quality.md#video-quality), on frames 1..T-1 (frame 0 is
the given conditioning frame):

* **PSNR** and **SSIM** against the true video of the window, per frame, the case value the
  mean of the per-frame values; per horizon bucket of ``BUCKET`` frames. These two are the
  headline: they measure fidelity to what really happened.
* **Motion Smoothness** (VBench's rule, classical flow interpolator instead of AMT-S),
  **Temporal Flickering** (VBench's formula), **Dynamic Degree** (VBench's rule on DIS flow)
  and its **rotation-compensated** variant (the flow the true camera's rotation explains is
  removed first). Reported, not in the family score: they need no truth, so a frozen video
  scores perfectly on smoothness and flicker, and camera motion alone makes nearly every
  game video "dynamic" (the WildWorld paper's DD is 95-99 for every model).

The helpers live in ``_image_quality``; the learned plug-ins (aesthetic, imaging quality,
LPIPS, FVD) in ``learned_quality``.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

from wildworld.geometry import opengl_c2w_to_opencv_w2c

from ._image_quality import dynamic_pairs, motion_smoothness, psnr_per_frame, ssim_per_frame, temporal_flickering
from ._curves import summarise_with_curves
from .base import CaseData, Measure, MetricBase, SplitFacts, frame_buckets, register
from ..errors import WildBenchError

__all__ = ["VideoQuality", "BUCKET"]

BUCKET = 20

PSNR = Measure(key="psnr", label="PSNR", direction="higher", best=40.0, worst=15.0, unit="dB",
               text="mean per-frame PSNR against the true future; 100 at 40 dB, 0 at 15 dB")
SSIM = Measure(key="ssim", label="SSIM", direction="higher", best=1.0, worst=0.3,
               text="mean per-frame SSIM (11x11 Gaussian window, sigma 1.5) against the true future; 0 at 0.3")
MOTION_SMOOTHNESS = Measure(key="motion_smoothness", label="motion smoothness", direction="higher", best=0.9975, worst=0.706,
                            headline=False, text="VBench Motion Smoothness (classical interpolator); VBench's normalisation bounds")
FLICKER = Measure(key="temporal_flickering", label="temporal flickering", direction="higher", best=1.0, worst=0.6293,
                  headline=False, text="VBench Temporal Flickering, (255 - mean frame-to-frame MAE) / 255; VBench's bounds")
DYNAMIC = Measure(key="dynamic_degree", label="dynamic degree", direction="higher", best=1.0, worst=0.0, headline=False,
                  text="fraction of videos VBench's rule calls dynamic (DIS flow); saturates under camera motion")
DYNAMIC_COMPENSATED = Measure(key="dynamic_degree_compensated", label="dynamic degree (camera rotation removed)",
                              direction="higher", best=1.0, worst=0.0, headline=False,
                              text="the same rule on flow minus the flow the true camera's rotation explains")


@dataclass(frozen=True)
class VideoQuality(MetricBase):
    name: str = "video_quality"
    version: str = "1.0"
    family: str = "Video Quality"
    description: str = "PSNR / SSIM against the true future; VBench motion smoothness, flicker, dynamic degree (weight-free)"
    requires: frozenset[str] = field(default=frozenset({"video", "true_video", "answer.camera"}))
    measures: tuple[Measure, ...] = (PSNR, SSIM, MOTION_SMOOTHNESS, FLICKER, DYNAMIC, DYNAMIC_COMPENSATED)

    @property
    def full_version(self) -> str:
        import cv2

        return f"{self.version}+opencv-{cv2.__version__}"

    def failed_result(self, reason: str) -> dict:
        worst = {m.key: m.worst for m in self.measures}
        return {**worst, "per_horizon": {}, "failed": True, "failure": reason}

    def score(self, case: CaseData) -> dict:
        if case.true_video is None:
            raise WildBenchError(f"case {case.case_id}: video_quality needs the true video (requires 'true_video')")
        if case.video.shape[1:] != case.true_video.shape[1:]:
            raise WildBenchError(f"case {case.case_id}: submitted frames {case.video.shape[1:3]} and true frames "
                                 f"{case.true_video.shape[1:3]} differ in size")
        frames = min(len(case.video), len(case.true_video), case.answer.horizon if case.answer is not None else len(case.video))
        if frames < 3:
            raise WildBenchError(f"case {case.case_id}: video_quality needs at least 3 frames, got {frames}")
        video, truth = case.video[:frames], case.true_video[:frames]
        psnr = psnr_per_frame(video[1:], truth[1:])
        ssim = ssim_per_frame(video[1:], truth[1:])
        scored = np.arange(1, frames)
        buckets = frame_buckets(frames, case.fps, frames=BUCKET)
        per_horizon = {PSNR.key: [], SSIM.key: []}
        for bucket in buckets:
            inside = (scored >= bucket["start"]) & (scored < bucket["stop"])
            per_horizon[PSNR.key].append(float(psnr[inside].mean()))
            per_horizon[SSIM.key].append(float(ssim[inside].mean()))
        plain = dynamic_pairs(video, case.fps)
        result = {
            PSNR.key: float(psnr.mean()),
            SSIM.key: float(ssim.mean()),
            MOTION_SMOOTHNESS.key: motion_smoothness(video),
            FLICKER.key: temporal_flickering(video),
            DYNAMIC.key: float(plain.dynamic),
            "per_horizon": per_horizon,
            "dynamic_pairs": {"above": plain.above, "needed": plain.needed, "threshold_px": plain.threshold,
                              "top5_flow_px": [round(m, 4) for m in plain.magnitudes]},
            "failed": False,
        }
        camera = None if case.answer is None else np.asarray(case.answer.camera[:frames], dtype=np.float64)
        if camera is not None and np.isfinite(camera).all():
            rotations, _ = opengl_c2w_to_opencv_w2c(camera[:, 4:7], camera[:, 7:11])
            compensated = dynamic_pairs(video, case.fps, rotations=rotations, intrinsics=camera[:, 0:4])
            result[DYNAMIC_COMPENSATED.key] = float(compensated.dynamic)
            result["dynamic_pairs_compensated"] = {"above": compensated.above,
                                                   "top5_flow_px": [round(m, 4) for m in compensated.magnitudes]}
        else:
            result[DYNAMIC_COMPENSATED.key] = None
            result["note"] = "dynamic_degree_compensated: the true camera is invalid on some frame of the window"
        return result

    def aggregate(self, per_case: list[dict], split: SplitFacts) -> dict:
        buckets = frame_buckets(split.horizon, split.fps, frames=BUCKET)
        return summarise_with_curves(per_case, self.measures, (PSNR, SSIM), buckets)


register(VideoQuality())
