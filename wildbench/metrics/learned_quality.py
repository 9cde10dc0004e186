"""Learned Video Quality plug-ins: aesthetic, imaging quality, LPIPS, FVD.

They run only when ``--weights DIR`` holds their TorchScript files with the pinned sha256
(``_weights``); otherwise ``unavailable`` says "not computed: ..." and why, and the runner
reports no number at all. They are not headline measures: the Video Quality family score
(PSNR, SSIM) is the same whether or not weights were given.

Each file is a TorchScript module with a fixed contract (docs/metrics-camera-and-quality.md#learned-plug-ins
lists the files, their sources, how to export them and their checksums):

* ``aesthetic_quality``: ``aesthetic_clip_vit_l14_laion.ts``, (N, 3, 224, 224) CLIP-normalised
  RGB -> (N,) LAION aesthetic score (1-10). Frames: shorter side resized to 224 (bicubic),
  centre crop. Case value: mean over frames / 10 (VBench).
* ``imaging_quality``: ``musiq_spaq.ts``, (1, 3, H, W) RGB in [0, 1] with the longer side at
  most 512 -> (1,) MOS 0-100. Case value: mean over frames / 100 (VBench).
* ``lpips``: ``lpips_alex.ts``, two (N, 3, H, W) RGB in [-1, 1] -> (N,) distances; case value:
  mean over frames 1..T-1 against the true video.
* ``fvd``: ``i3d_kinetics400.ts``, (N, 3, 16, 224, 224) RGB in [-1, 1] -> (N, D) features of 16
  frames evenly spaced over frames 1..T-1; the Frechet distance between the feature sets of the
  submitted and the true videos is computed over the whole split in ``aggregate`` (set-level).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import cv2
import numpy as np

from ._weights import WeightFile, load_module, weights_problem
from .base import CaseData, Measure, MetricBase, MetricEnv, SplitFacts, register, summarise
from ..errors import WildBenchError

__all__ = ["LearnedPlugin", "AestheticQuality", "ImagingQuality", "Lpips", "Fvd", "frechet_distance", "PINNED"]

#: The pinned files. No checksum is pinned yet: nobody could export and hash these files where
#: this code was written (no network); a maintainer pins them (docs) and bumps the versions.
PINNED: dict[str, WeightFile] = {
    "aesthetic": WeightFile("aesthetic_clip_vit_l14_laion.ts", None,
                            "OpenAI CLIP ViT-L/14 visual tower + LAION aesthetic linear head, exported with torch.jit.script"),
    "imaging": WeightFile("musiq_spaq.ts", None, "MUSIQ trained on SPAQ (pyiqa 'musiq-spaq'), exported with torch.jit.trace"),
    "lpips": WeightFile("lpips_alex.ts", None, "LPIPS v0.1 with the AlexNet backbone (richzhang/PerceptualSimilarity), exported"),
    "fvd": WeightFile("i3d_kinetics400.ts", None, "I3D trained on Kinetics-400, the TorchScript file StyleGAN-V's FVD uses"),
}

_CLIP_MEAN = np.array([0.48145466, 0.4578275, 0.40821073], dtype=np.float32)
_CLIP_STD = np.array([0.26862954, 0.26130258, 0.27577711], dtype=np.float32)


def _tensor(array: np.ndarray, device: str):
    import torch

    return torch.from_numpy(np.ascontiguousarray(array)).to(device)


def _clip_frames(video: np.ndarray) -> np.ndarray:
    """(T, 3, 224, 224) CLIP input: shorter side to 224 (bicubic), centre crop, normalised."""
    height, width = video.shape[1:3]
    scale = 224.0 / min(height, width)
    size = (max(224, round(width * scale)), max(224, round(height * scale)))
    out = []
    for frame in video:
        resized = cv2.resize(frame, size, interpolation=cv2.INTER_CUBIC)
        top, left = (size[1] - 224) // 2, (size[0] - 224) // 2
        crop = resized[top:top + 224, left:left + 224].astype(np.float32) / 255.0
        out.append(((crop - _CLIP_MEAN) / _CLIP_STD).transpose(2, 0, 1))
    return np.stack(out)


def _at_most_512(frame: np.ndarray) -> np.ndarray:
    height, width = frame.shape[:2]
    if max(height, width) <= 512:
        return frame
    scale = 512.0 / max(height, width)
    return cv2.resize(frame, (round(width * scale), round(height * scale)), interpolation=cv2.INTER_AREA)


def _signed(video: np.ndarray) -> np.ndarray:
    return video.astype(np.float32).transpose(0, 3, 1, 2) / 127.5 - 1.0


def _i3d_clip(video: np.ndarray) -> np.ndarray:
    """(1, 3, 16, 224, 224) in [-1, 1]: 16 frames evenly spaced over frames 1..T-1, resized."""
    index = np.linspace(1, len(video) - 1, 16).round().astype(int)
    frames = np.stack([cv2.resize(video[i], (224, 224), interpolation=cv2.INTER_AREA) for i in index])
    return _signed(frames).transpose(1, 0, 2, 3)[None]


def frechet_distance(a: np.ndarray, b: np.ndarray) -> float:
    """Frechet distance of two Gaussians fitted to the feature rows of ``a`` and ``b``."""
    from scipy import linalg

    mu_a, mu_b = a.mean(axis=0), b.mean(axis=0)
    cov_a, cov_b = np.cov(a, rowvar=False), np.cov(b, rowvar=False)
    root, _ = linalg.sqrtm(cov_a @ cov_b, disp=False)
    root = np.real(root)
    return float(np.sum((mu_a - mu_b) ** 2) + np.trace(cov_a + cov_b - 2.0 * root))


@dataclass
class _Scorer:
    metric: "LearnedPlugin"
    modules: dict[str, Any]
    device: str

    def score(self, case: CaseData) -> dict:
        import torch

        with torch.no_grad():
            return self.metric.score_with(self.modules, self.device, case)


@dataclass(frozen=True)
class LearnedPlugin(MetricBase):
    """A metric that needs local weights; subclasses define ``score_with``."""

    name: str = ""
    version: str = "1.0"
    family: str = "Video Quality"
    description: str = ""
    requires: frozenset[str] = field(default=frozenset({"video"}))
    measures: tuple[Measure, ...] = ()
    weights: tuple[WeightFile, ...] = ()

    def version_for(self, env: MetricEnv) -> str:
        pinned = "+".join(f"{w.name}@{(w.sha256 or 'unpinned')[:16]}" for w in self.weights)
        return f"{self.version}+{pinned}"

    @property
    def full_version(self) -> str:
        return self.version_for(MetricEnv())

    def unavailable(self, env: MetricEnv) -> str | None:
        import importlib.util

        problem = weights_problem(env.weights, self.weights)  # first: no weights given is the common case
        if problem is None and importlib.util.find_spec("torch") is None:  # found, not imported (2 s)
            return "not computed: torch is not installed"
        return problem

    def setup(self, env: MetricEnv) -> _Scorer:
        problem = self.unavailable(env)
        if problem is not None:
            raise WildBenchError(f"metric {self.name}: {problem}")
        modules = {w.name: load_module(env.weights / w.name, env.device) for w in self.weights}
        return _Scorer(self, modules, env.device)

    def score(self, case: CaseData) -> dict:
        raise WildBenchError(f"metric {self.name} needs weights: call setup(env) with --weights and score with its scorer")

    def score_with(self, modules: dict, device: str, case: CaseData) -> dict:
        raise NotImplementedError

    def _module(self, modules: dict):
        return modules[self.weights[0].name]

    def aggregate(self, per_case: list[dict], split: SplitFacts) -> dict:
        return summarise(per_case, self.measures)


@dataclass(frozen=True)
class AestheticQuality(LearnedPlugin):
    name: str = "aesthetic_quality"
    description: str = "LAION aesthetic predictor on CLIP ViT-L/14 (VBench), mean over frames / 10"
    measures: tuple[Measure, ...] = (Measure("aesthetic_quality", "aesthetic quality", "higher", 1.0, 0.0, headline=False,
                                             text="VBench aesthetic quality (LAION predictor / 10)"),)
    weights: tuple[WeightFile, ...] = (PINNED["aesthetic"],)

    def score_with(self, modules: dict, device: str, case: CaseData) -> dict:
        scores = self._module(modules)(_tensor(_clip_frames(case.video), device))
        return {"aesthetic_quality": float(scores.float().mean()) / 10.0}


@dataclass(frozen=True)
class ImagingQuality(LearnedPlugin):
    name: str = "imaging_quality"
    description: str = "MUSIQ (SPAQ) image quality (VBench), mean over frames / 100"
    measures: tuple[Measure, ...] = (Measure("imaging_quality", "imaging quality", "higher", 1.0, 0.0, headline=False,
                                             text="VBench imaging quality (MUSIQ-SPAQ MOS / 100)"),)
    weights: tuple[WeightFile, ...] = (PINNED["imaging"],)

    def score_with(self, modules: dict, device: str, case: CaseData) -> dict:
        module = self._module(modules)
        values = [float(module(_tensor(_at_most_512(f).astype(np.float32).transpose(2, 0, 1)[None] / 255.0, device)).float().mean())
                  for f in case.video]
        return {"imaging_quality": float(np.mean(values)) / 100.0}


@dataclass(frozen=True)
class Lpips(LearnedPlugin):
    name: str = "lpips"
    description: str = "LPIPS (AlexNet) against the true future, mean over frames"
    requires: frozenset[str] = field(default=frozenset({"video", "true_video"}))
    measures: tuple[Measure, ...] = (Measure("lpips", "LPIPS", "lower", 0.0, 0.7, headline=False,
                                             text="mean per-frame LPIPS (AlexNet) against the true future; 0 at 0.7"),)
    weights: tuple[WeightFile, ...] = (PINNED["lpips"],)

    def score_with(self, modules: dict, device: str, case: CaseData) -> dict:
        frames = min(len(case.video), len(case.true_video))
        distances = self._module(modules)(_tensor(_signed(case.video[1:frames]), device),
                                          _tensor(_signed(case.true_video[1:frames]), device))
        return {"lpips": float(distances.float().mean())}


@dataclass(frozen=True)
class Fvd(LearnedPlugin):
    name: str = "fvd"
    description: str = "Frechet Video Distance (I3D features of 16-frame clips) over the split"
    requires: frozenset[str] = field(default=frozenset({"video", "true_video"}))
    measures: tuple[Measure, ...] = (Measure("fvd", "FVD", "lower", 0.0, 1000.0, headline=False,
                                             text="Frechet distance of I3D features, submitted vs true videos, whole split"),)
    weights: tuple[WeightFile, ...] = (PINNED["fvd"],)

    def score_with(self, modules: dict, device: str, case: CaseData) -> dict:
        module = self._module(modules)
        features = [module(_tensor(_i3d_clip(v), device)).float().cpu().numpy().reshape(-1).tolist()
                    for v in (case.video, case.true_video)]
        return {"features": features[0], "true_features": features[1]}

    def aggregate(self, per_case: list[dict], split: SplitFacts) -> dict:
        usable = [c for c in per_case if not c.get("failed") and c.get("features")]
        out = summarise(per_case, ())
        value = None
        if len(usable) >= 2:
            value = frechet_distance(np.array([c["features"] for c in usable]), np.array([c["true_features"] for c in usable]))
        out["measures"] = {"fvd": {"mean": value, "ci95": None, "cases": len(usable)}}
        return out


for _plugin in (AestheticQuality(), ImagingQuality(), Lpips(), Fvd()):
    register(_plugin)
