"""Camera Control v1: does the generated video's camera move as the true camera did?

Definition (docs/metrics-camera-and-quality.md#camera-control):

1. The submitted video's camera trajectory is estimated by SfM (pycolmap: SIFT, sequential
   matching, incremental mapping; the global mapper when incremental registers too little)
   with the intrinsics **fixed to the case's true K** from the answer key, one camera per
   frame. Frames SfM leaves without a pose are filled from the nearest registered keyframe:
   PnP on its model points tracked by KLT, else essential-matrix VO; frames whose image does
   not move keep the pose of the frame they repeat (``_sfm``).
2. The true poses (release: OpenGL camera-to-world) are converted to OpenCV camera-to-world,
   the frame SfM estimates in.
3. The estimated camera centres are aligned to the true ones by a similarity (Umeyama, with
   scale) and compared with ``evo``: ATE (RMSE of the aligned centres, and as a fraction of
   the true path length), RPE over pairs of frames ``RPE_SECONDS`` apart (rotation in degrees;
   translation as a fraction of the true motion over those frames), the fraction of keyframes
   SfM registered; overall and per horizon bucket of ``BUCKET`` frames.
4. A case whose true camera moves less than ``MIN_PATH`` (world units, metres) is scored by
   rotation only (ATE and RPE translation are None and the case says why): its centres carry no
   shape to align. A failed estimate (SfM registers too few keyframes: frozen or featureless
   videos) scores the worst value of every measure and is flagged, never dropped.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

from ._curves import summarise_with_curves
from .base import CaseData, EstimationFailed, Measure, MetricBase, MetricEnv, SplitFacts, failed_case, frame_buckets, register
from ._sfm import SfmOptions, estimate_trajectory
from ._trajectory import path_length, release_c2w, trajectory_errors
from ..errors import WildBenchError

__all__ = ["CameraControl", "MIN_PATH", "RPE_SECONDS", "rpe_delta", "BUCKET"]

#: Shorter true paths (world units: metres) are scored by rotation only.
MIN_PATH = 0.5
#: RPE compares motions over pairs of frames this many seconds apart (one step: 15 frames at
#: 30 fps). Not one frame: a game camera that follows its player turns a fraction of a degree per
#: frame, less than SfM's own per-frame noise, so at one frame a frozen video (no motion at all)
#: scores better than the truth (measured: 0.06 vs 0.10 deg on a synthetic case); over half a
#: second the true motion dominates the noise (frozen 0.94 vs truth 0.33 deg on that case).
RPE_SECONDS = 0.5


def rpe_delta(fps: float, frames: int) -> int:
    """RPE's step in frames: ``RPE_SECONDS`` at ``fps``, at least 1, less than ``frames``."""
    return int(max(1, min(round(RPE_SECONDS * fps), frames - 1)))

#: Horizon buckets (frames), as State Alignment's.
BUCKET = 20

ATE_FRACTION = Measure(
    key="ate_fraction", label="ATE / path", direction="lower", best=0.0, worst=0.2,
    text="ATE (RMSE of the Sim(3)-aligned camera centres) as a fraction of the true path length; 0 at 20% of the path",
)
RPE_ROTATION = Measure(
    key="rpe_rotation_deg", label="RPE rotation", direction="lower", best=0.0, worst=15.0, unit="deg",
    text="mean rotation error of the relative camera motion over 0.5 s steps, degrees; 0 at 15 degrees per step",
)
RPE_TRANSLATION = Measure(
    key="rpe_translation", label="RPE translation / step", direction="lower", best=0.0, worst=1.0, headline=False,
    text="mean translation error of the relative motion over 0.5 s steps (scale from the alignment) over the mean true step length",
)
ATE_METRES = Measure(
    key="ate_m", label="ATE", direction="lower", best=0.0, worst=2.0, unit="m", headline=False,
    text="ATE RMSE in world units (metres) after the similarity alignment",
)
REGISTERED = Measure(
    key="registered_fraction", label="SfM registered", direction="higher", best=1.0, worst=0.0, headline=False,
    text="fraction of keyframes with an SfM pose (the others are filled by PnP / essential-matrix VO)",
)


def _versions() -> str:
    import cv2

    try:
        from ._sfm import pycolmap_version

        colmap = pycolmap_version()
    except ImportError:
        colmap = "absent"
    try:
        from ._trajectory import evo_version

        evo = evo_version()
    except ImportError:
        evo = "absent"
    return f"pycolmap-{colmap}+evo-{evo}+opencv-{cv2.__version__}"


def _bucket_means(values: np.ndarray, frames: np.ndarray, buckets: list[dict], *, rms: bool = False) -> list[float | None]:
    out: list[float | None] = []
    for bucket in buckets:
        chosen = values[(frames >= bucket["start"]) & (frames < bucket["stop"])]
        if chosen.size == 0:
            out.append(None)
        else:
            out.append(float(np.sqrt(np.mean(chosen**2))) if rms else float(np.mean(chosen)))
    return out


@dataclass(frozen=True)
class CameraControl(MetricBase):
    name: str = "camera_control"
    version: str = "1.1"
    family: str = "Camera Control"
    description: str = "SfM (pycolmap, true intrinsics) camera trajectory vs the true camera: ATE / path, RPE rotation"
    requires: frozenset[str] = field(default=frozenset({"video", "answer.camera", "answer.camera_valid", "scratch"}))
    sfm: SfmOptions = SfmOptions()
    measures: tuple[Measure, ...] = (ATE_FRACTION, RPE_ROTATION, RPE_TRANSLATION, ATE_METRES, REGISTERED)

    @property
    def full_version(self) -> str:
        return f"{self.version}+{_versions()}"

    def unavailable(self, env: MetricEnv) -> str | None:
        missing = []
        for module, extra in (("pycolmap", "sfm"), ("evo", "sfm")):
            try:
                __import__(module)
            except ImportError:
                missing.append(f"{module} (pip install 'wildworld[{extra}]')")
        return f"not computed: {', '.join(missing)} not installed" if missing else None

    def failed_result(self, reason: str) -> dict:
        worst = {m.key: m.worst for m in self.measures}
        return {**worst, "per_horizon": {}, "rotation_only": False, **failed_case(reason)}

    def score(self, case: CaseData) -> dict:
        if case.scratch is None:
            raise WildBenchError(f"case {case.case_id}: camera_control needs a scratch directory (requires 'scratch')")
        answer = case.answer
        frames = min(len(case.video), answer.horizon)
        valid = np.asarray(answer.camera_valid[:frames], bool) & np.isfinite(answer.camera[:frames]).all(axis=1)
        if valid.sum() < 3:
            raise WildBenchError(f"case {case.case_id}: the answer key has {int(valid.sum())} valid camera rows; at least 3 are needed")
        camera = np.asarray(answer.camera[:frames], dtype=np.float64)
        keep = np.flatnonzero(valid)
        # Frames with an invalid true camera still need a K for SfM: the nearest valid one's.
        nearest = keep[np.abs(np.arange(frames)[:, None] - keep[None, :]).argmin(axis=1)]
        intrinsics = camera[nearest, 0:4]
        height, width = case.video.shape[1:3]
        cx, cy = intrinsics[:, 2], intrinsics[:, 3]
        if not ((cx > 0) & (cx < width) & (cy > 0) & (cy < height)).all():
            raise WildBenchError(f"case {case.case_id}: the answer key's principal point ({cx[0]:.1f}, {cy[0]:.1f}) lies outside "
                                 f"the {width}x{height} video: its intrinsics are for another resolution")
        try:
            estimate = estimate_trajectory(case.video[:frames], intrinsics, case.scratch, options=self.sfm)
        except EstimationFailed as error:
            return self.failed_result(str(error))
        truth = release_c2w(camera)[keep]
        delta = rpe_delta(case.fps, len(keep))
        errors = trajectory_errors(estimate.poses[keep], truth, delta=delta)
        pair_frames = keep[errors.rpe_start]
        buckets = frame_buckets(frames, case.fps, frames=BUCKET)
        path = path_length(truth)
        rotation_only = path < MIN_PATH
        true_steps = np.linalg.norm(truth[delta:, :3, 3] - truth[:-delta, :3, 3], axis=1)
        keyframes = np.array(estimate.keyframes)
        registered = np.isin(keyframes, estimate.registered).astype(np.float64)
        result = {
            RPE_ROTATION.key: float(errors.rpe_rotation_deg.mean()),
            ATE_FRACTION.key: None if rotation_only else errors.ate_rmse / path,
            RPE_TRANSLATION.key: None if rotation_only else float(errors.rpe_translation.mean() / true_steps.mean()),
            ATE_METRES.key: None if rotation_only else errors.ate_rmse,
            REGISTERED.key: estimate.registered_fraction,
            "per_horizon": {
                ATE_FRACTION.key: [None if rotation_only or v is None else v / path
                                   for v in _bucket_means(errors.position_error, keep, buckets, rms=True)],
                RPE_ROTATION.key: _bucket_means(errors.rpe_rotation_deg, pair_frames, buckets),
                REGISTERED.key: _bucket_means(registered, keyframes, buckets),
            },
            "path_length": path,
            "rotation_only": rotation_only,
            "sim3_scale": errors.scale,
            "rpe_delta_frames": delta,
            "mapper": estimate.mapper,
            "keyframes": len(estimate.keyframes),
            "vo_keyframes": list(estimate.vo_keyframes),
            "pose_sources": {kind: estimate.source.count(kind) for kind in ("sfm", "pnp", "essential", "repeat")},
            "failed": False,
        }
        if rotation_only:
            result["note"] = f"rotation only: the true camera moved {path:.3f} m (< {MIN_PATH} m), too little for ATE"
        return result

    def aggregate(self, per_case: list[dict], split: SplitFacts) -> dict:
        buckets = frame_buckets(split.horizon, split.fps, frames=BUCKET)
        out = summarise_with_curves(per_case, self.measures, (ATE_FRACTION, RPE_ROTATION, REGISTERED), buckets)
        out["rotation_only_cases"] = sum(1 for case in per_case if case.get("rotation_only"))
        out["vo_filled_keyframes"] = sum(len(case.get("vo_keyframes") or []) for case in per_case)
        return out


register(CameraControl())
