"""Weight-free video measures: fidelity (PSNR, SSIM) and VBench's classical dimensions.

All functions take (T, H, W, 3) uint8 RGB videos. Definitions (docs/metrics-camera-and-quality.md):

* ``psnr_per_frame``: 10 log10(255^2 / MSE) per frame over all pixels and channels, capped at
  ``PSNR_CAP`` dB (identical frames would be infinite);
* ``ssim_per_frame``: Wang et al.'s SSIM with an 11 x 11 Gaussian window (sigma 1.5),
  C1 = (0.01 L)^2, C2 = (0.03 L)^2, L = 255, per channel, the mean over the image without the
  5-pixel border the window cannot cover (as scikit-image does), then over channels;
* ``motion_smoothness``: VBench's rule with a classical interpolator in place of AMT-S: the
  odd frames are dropped and re-created at t = 0.5 from their even neighbours, score =
  (255 - mean absolute error of the re-created frames) / 255. The interpolator warps both
  neighbours with DIS optical flow, the flows to the middle approximated linearly from the
  two-way flows (Jiang et al., Super SloMo, eq. 4 at t = 0.5) and averages the two warps;
* ``temporal_flickering``: VBench's weight-free formula (255 - mean_t MAE(I_t, I_t+1)) / 255;
* ``dynamic_pairs``: VBench's Dynamic Degree on DIS flow: frames every round(fps / 8)-th,
  per consecutive pair the mean of the top 5% flow magnitudes (int(0.05 H W) pixels),
  threshold max(1, 8 / fps) * 6 * min(H, W) / 256; the video is dynamic when at least
  round(4 N / 16) pairs exceed it (N sampled frames; VBench's ``check_move``). With the true
  camera given, the rotation-compensated variant subtracts from each flow the flow that the
  true camera's rotation alone would cause (the homography K_b R_ba K_a^-1).
"""

from __future__ import annotations

import cv2
import numpy as np

__all__ = [
    "PSNR_CAP",
    "psnr_per_frame",
    "ssim_per_frame",
    "dis_flow",
    "interpolate_middle",
    "motion_smoothness",
    "temporal_flickering",
    "DynamicPairs",
    "dynamic_pairs",
    "rotation_flow",
]

#: PSNR of a frame identical to the truth (MSE 0) would be infinite; it is capped here (dB).
PSNR_CAP = 60.0
_SSIM_SIGMA = 1.5
_SSIM_RADIUS = 5  # 11 x 11 window: scikit-image's truncate=3.5 at sigma 1.5


def psnr_per_frame(video: np.ndarray, truth: np.ndarray) -> np.ndarray:
    # cv2.norm sums the squared uint8 differences exactly, without a float copy of the video
    mse = np.array([cv2.norm(a, b, cv2.NORM_L2SQR) for a, b in zip(video, truth)]) / video[0].size
    with np.errstate(divide="ignore"):
        psnr = 10.0 * np.log10(255.0**2 / mse)
    return np.minimum(psnr, PSNR_CAP)


def _blur(image: np.ndarray) -> np.ndarray:
    size = 2 * _SSIM_RADIUS + 1
    return cv2.GaussianBlur(image, (size, size), _SSIM_SIGMA, borderType=cv2.BORDER_REFLECT)


def _ssim(a: np.ndarray, b: np.ndarray) -> float:
    """SSIM of two (H, W, C) images in float64, mean over the valid interior and channels."""
    c1, c2 = (0.01 * 255.0) ** 2, (0.03 * 255.0) ** 2
    mu_a, mu_b = _blur(a), _blur(b)
    var_a = _blur(a * a) - mu_a * mu_a
    var_b = _blur(b * b) - mu_b * mu_b
    cov = _blur(a * b) - mu_a * mu_b
    ssim = ((2 * mu_a * mu_b + c1) * (2 * cov + c2)) / ((mu_a**2 + mu_b**2 + c1) * (var_a + var_b + c2))
    r = _SSIM_RADIUS
    return float(ssim[r:-r, r:-r].mean())


def ssim_per_frame(video: np.ndarray, truth: np.ndarray) -> np.ndarray:
    return np.array([_ssim(a.astype(np.float64), b.astype(np.float64)) for a, b in zip(video, truth)])


def _gray(frame: np.ndarray) -> np.ndarray:
    return cv2.cvtColor(frame, cv2.COLOR_RGB2GRAY)


def dis_flow(first: np.ndarray, second: np.ndarray) -> np.ndarray:
    """Dense optical flow (H, W, 2) from ``first`` to ``second`` (grey uint8), OpenCV DIS
    (MEDIUM preset): ``second(x + flow(x)) ~ first(x)``."""
    dis = cv2.DISOpticalFlow_create(cv2.DISOPTICAL_FLOW_PRESET_MEDIUM)
    return dis.calc(first, second, None)


def _warp(image: np.ndarray, flow: np.ndarray) -> np.ndarray:
    """Backward warp: out(x) = image(x + flow(x)), bilinear, border replicated."""
    height, width = flow.shape[:2]
    grid_x, grid_y = np.meshgrid(np.arange(width, dtype=np.float32), np.arange(height, dtype=np.float32))
    return cv2.remap(image, grid_x + flow[..., 0], grid_y + flow[..., 1], cv2.INTER_LINEAR, borderMode=cv2.BORDER_REPLICATE)


def interpolate_middle(first: np.ndarray, second: np.ndarray) -> np.ndarray:
    """The frame halfway between two RGB frames (see the module docstring)."""
    forward = dis_flow(_gray(first), _gray(second))
    backward = dis_flow(_gray(second), _gray(first))
    to_first = 0.25 * (backward - forward)  # Super SloMo: F_t0 = -(1-t) t F_01 + t^2 F_10 at t = 0.5
    to_second = 0.25 * (forward - backward)  # F_t1 = (1-t)^2 F_01 - t (1-t) F_10
    a = _warp(first.astype(np.float32), to_first)
    b = _warp(second.astype(np.float32), to_second)
    return np.clip(np.rint(0.5 * (a + b)), 0, 255).astype(np.uint8)


def motion_smoothness(video: np.ndarray) -> float:
    """VBench Motion Smoothness with the classical interpolator (needs at least 3 frames)."""
    errors = []
    for odd in range(1, len(video) - 1, 2):
        middle = interpolate_middle(video[odd - 1], video[odd + 1])
        errors.append(float(np.mean(cv2.absdiff(middle, video[odd]))))
    return (255.0 - float(np.mean(errors))) / 255.0


def temporal_flickering(video: np.ndarray) -> float:
    diffs = [cv2.norm(a, b, cv2.NORM_L1) / a.size for a, b in zip(video[:-1], video[1:])]
    return (255.0 - float(np.mean(diffs))) / 255.0


def rotation_flow(k_first: np.ndarray, k_second: np.ndarray, rotation: np.ndarray, size: tuple[int, int]) -> np.ndarray:
    """Flow (H, W, 2) that a camera rotation alone causes: pixels mapped by K_b R K_a^-1, with
    ``rotation`` taking first-camera to second-camera coordinates (OpenCV frames)."""
    width, height = size
    ka = np.array([[k_first[0], 0, k_first[2]], [0, k_first[1], k_first[3]], [0, 0, 1.0]])
    kb = np.array([[k_second[0], 0, k_second[2]], [0, k_second[1], k_second[3]], [0, 0, 1.0]])
    homography = kb @ rotation @ np.linalg.inv(ka)
    grid_x, grid_y = np.meshgrid(np.arange(width, dtype=np.float64), np.arange(height, dtype=np.float64))
    points = np.stack([grid_x, grid_y, np.ones_like(grid_x)], axis=-1) @ homography.T
    with np.errstate(divide="ignore", invalid="ignore"):
        moved = points[..., :2] / points[..., 2:3]
    flow = moved - np.stack([grid_x, grid_y], axis=-1)
    return np.nan_to_num(flow, nan=0.0, posinf=0.0, neginf=0.0).astype(np.float32)


class DynamicPairs:
    """Per sampled pair the mean of the top 5% flow magnitudes, the threshold and the verdict."""

    def __init__(self, magnitudes: list[float], threshold: float, needed: int):
        self.magnitudes = magnitudes
        self.threshold = threshold
        self.needed = needed

    @property
    def above(self) -> int:
        return sum(1 for m in self.magnitudes if m > self.threshold)

    @property
    def dynamic(self) -> bool:
        return self.above >= self.needed


def _top_mean(flow: np.ndarray) -> float:
    magnitude = np.linalg.norm(flow, axis=-1).ravel()
    count = max(1, int(magnitude.size * 0.05))
    return float(np.partition(magnitude, magnitude.size - count)[-count:].mean())


def dynamic_pairs(video: np.ndarray, fps: float, *, rotations: np.ndarray | None = None,
                  intrinsics: np.ndarray | None = None) -> DynamicPairs:
    """VBench's Dynamic Degree evidence; with ``rotations`` (T, 3, 3) world-to-camera OpenCV
    rotations and ``intrinsics`` (T, 4), the rotation-compensated variant."""
    interval = max(1, round(fps / 8.0))
    sampled = list(range(0, len(video), interval))
    height, width = video.shape[1:3]
    threshold = max(1.0, 8.0 / fps) * 6.0 * min(height, width) / 256.0
    needed = round(4 * len(sampled) / 16.0)
    gray = {i: _gray(video[i]) for i in sampled}
    magnitudes = []
    for a, b in zip(sampled, sampled[1:]):
        flow = dis_flow(gray[a], gray[b])
        if rotations is not None:
            relative = rotations[b] @ rotations[a].T
            flow = flow - rotation_flow(intrinsics[a], intrinsics[b], relative, (width, height))
        magnitudes.append(_top_mean(flow))
    return DynamicPairs(magnitudes, threshold, needed)
