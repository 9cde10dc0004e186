"""Camera trajectory of a video with known intrinsics: pycolmap SfM, PnP / essential-matrix fill-in.

Pipeline (``estimate_trajectory``), every step deterministic (one thread, fixed seeds):

1. repeats: a frame whose image has not moved from an earlier frame's (median KLT motion of
   corners below ``repeat_max_px``) repeats it and gets its pose: a frozen stretch is a camera
   that stood still, not a degenerate reconstruction (a video that never moves is a static
   camera without any SfM);
2. keyframes: every ``stride``-th distinct frame and the last one, written as grey BMP files
   into the case's scratch directory (COLMAP reads images from files);
3. SIFT features (pycolmap), one PINHOLE camera per keyframe whose parameters are then set to
   that frame's **true** (fx, fy, cx, cy) and never refined;
4. sequential matching (``overlap`` neighbours plus the quadratic ones) with geometric
   verification;
5. incremental mapping with the intrinsics held fixed; the largest model is kept. If it holds
   fewer than ``global_below`` of the keyframes, the global mapper (GLOMAP) runs on the same
   matches and the model that registers more keyframes is kept (incremental on a tie);
6. every other distinct frame (those between keyframes, and keyframes SfM did not register)
   gets a pose from the nearest registered keyframe: its model points tracked into the frame
   by KLT and PnP (RANSAC, then Levenberg-Marquardt) when at least 12 survive, else
   essential-matrix visual odometry (``cv2.findEssentialMat`` with the true K of both frames,
   ``cv2.recoverPose``; translation length from the SfM trajectory's median speed), else the
   keyframe's pose when the tracks barely move or the decomposition is ambiguous.

The estimate fails (``EstimationFailed``) when SfM registers fewer than ``min_registered``
of the keyframes (and never fewer than 3): a video without a consistent scene has no trajectory.

cv2 is imported before pycolmap on purpose: both wheels bundle their own zlib/libpng, and with
pycolmap loaded first, ``cv2.imwrite(".png")`` aborts the process (free(): invalid pointer,
seen with pycolmap 4.2.1 and opencv-python-headless 5.0). Keyframes are BMP files for the same
reason and because BMP needs no compression.
"""

from __future__ import annotations

import shutil
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

import cv2  # noqa: I001  (before pycolmap, see the module docstring)
import numpy as np

from .base import EstimationFailed
from ..errors import WildBenchError

__all__ = ["SfmOptions", "EstimatedTrajectory", "estimate_trajectory", "pycolmap_version"]


def pycolmap_version() -> str:
    import pycolmap

    return pycolmap.__version__


@dataclass(frozen=True)
class SfmOptions:
    """SfM settings (docs/metrics-camera-and-quality.md#camera-control explains the choices)."""

    stride: int = 2
    max_features: int = 1024
    peak_threshold: float = 0.0015  # SIFT contrast threshold: lower than COLMAP's 0.0067 for low-texture game scenes
    first_octave: int = -1  # -1: SIFT on the 2x upsampled image (COLMAP's default), finds more features on small frames
    overlap: int = 5
    init_min_tri_angle: float = 4.0  # degrees (COLMAP: 16): small-baseline third-person cameras
    filter_min_tri_angle: float = 0.5  # degrees (COLMAP: 1.5)
    min_registered: float = 0.2  # of the keyframes; fewer is a failed estimate
    global_below: float = 0.9  # try the global mapper when incremental registers fewer keyframes
    mapper: str = "auto"  # "auto" (incremental, then global when it registers too little), "incremental", "global"
    vo_min_flow_px: float = 0.3  # median track motion below which a frame keeps its keyframe's pose
    repeat_max_px: float = 0.2  # a frame whose image moved less than this from an earlier one repeats it
    seed: int = 0

    def __post_init__(self) -> None:
        if self.stride < 1 or self.max_features < 64 or self.overlap < 1:
            raise WildBenchError(f"SfmOptions: stride={self.stride}, max_features={self.max_features}, overlap={self.overlap}: "
                                 "need stride >= 1, max_features >= 64, overlap >= 1")
        if self.mapper not in ("auto", "incremental", "global"):
            raise WildBenchError(f"SfmOptions: mapper={self.mapper!r}: choose auto, incremental or global")
        if not (0.0 < self.min_registered <= 1.0 and 0.0 <= self.global_below <= 1.0):
            raise WildBenchError(f"SfmOptions: min_registered={self.min_registered}, global_below={self.global_below} must be fractions")


@dataclass(frozen=True)
class EstimatedTrajectory:
    """OpenCV camera-to-world poses (T, 4, 4) of every frame, in the reconstruction's own frame
    and scale, and where each came from: ``source`` is ``"sfm"`` or ``"vo"`` per frame."""

    poses: np.ndarray
    source: tuple[str, ...]
    keyframes: tuple[int, ...]
    registered: tuple[int, ...]  # keyframes with an SfM pose
    mapper: str  # "incremental" or "global"

    @property
    def registered_fraction(self) -> float:
        return len(self.registered) / len(self.keyframes)

    @property
    def vo_keyframes(self) -> tuple[int, ...]:
        """Keyframes SfM did not register (their poses are VO fill-ins)."""
        done = set(self.registered)
        return tuple(k for k in self.keyframes if k not in done)


@contextmanager
def _quiet_colmap():
    """COLMAP logs hundreds of INFO lines per case, and its solvers dozens of warnings that are
    part of normal work ("Linear solver failure" on degenerate steps, "Discarding
    reconstruction"): show only errors while we run it. What matters reaches the per-case result
    (registered fraction, mapper, pose sources, failure)."""
    import pycolmap

    before = pycolmap.logging.minloglevel
    pycolmap.logging.minloglevel = max(before, 2)
    try:
        yield
    finally:
        pycolmap.logging.minloglevel = before


def _keyframes(frames: list[int], stride: int) -> list[int]:
    """Every ``stride``-th of ``frames`` and the last one."""
    keys = frames[::stride]
    if keys[-1] != frames[-1]:
        keys.append(frames[-1])
    return keys


def _gray(frame: np.ndarray) -> np.ndarray:
    return cv2.cvtColor(frame, cv2.COLOR_RGB2GRAY)


def _name(frame: int) -> str:
    return f"{frame:05d}.bmp"


def _extract_and_match(database: Path, images: Path, intrinsics: np.ndarray, options: SfmOptions) -> None:
    import pycolmap

    extraction = pycolmap.FeatureExtractionOptions()
    extraction.num_threads = 1
    extraction.sift.max_num_features = options.max_features
    extraction.sift.peak_threshold = options.peak_threshold
    extraction.sift.first_octave = options.first_octave
    reader = pycolmap.ImageReaderOptions()
    reader.camera_model = "PINHOLE"
    pycolmap.extract_features(database, images, camera_mode=pycolmap.CameraMode.PER_IMAGE, reader_options=reader,
                              extraction_options=extraction, device=pycolmap.Device.cpu)
    db = pycolmap.Database.open(database)
    try:
        for image in db.read_all_images():
            camera = db.read_camera(image.camera_id)
            camera.params = np.asarray(intrinsics[int(image.name[:5])], dtype=np.float64)
            camera.has_prior_focal_length = True
            db.update_camera(camera)
    finally:
        db.close()
    matching = pycolmap.FeatureMatchingOptions()
    matching.num_threads = 1
    pairing = pycolmap.SequentialPairingOptions()
    pairing.num_threads = 1
    pairing.overlap = options.overlap
    pairing.quadratic_overlap = True
    verification = pycolmap.TwoViewGeometryOptions()
    verification.ransac.random_seed = options.seed
    pycolmap.match_sequential(database, matching_options=matching, pairing_options=pairing,
                              verification_options=verification, device=pycolmap.Device.cpu)


def _incremental(database: Path, images: Path, out: Path, options: SfmOptions) -> dict:
    import pycolmap

    pipeline = pycolmap.IncrementalPipelineOptions()
    pipeline.num_threads = 1
    pipeline.random_seed = options.seed
    pipeline.extract_colors = False
    pipeline.ba_refine_focal_length = False
    pipeline.ba_refine_principal_point = False
    pipeline.ba_refine_extra_params = False
    mapper = pipeline.mapper
    mapper.num_threads = 1
    mapper.random_seed = options.seed
    mapper.abs_pose_refine_focal_length = False
    mapper.abs_pose_refine_extra_params = False
    mapper.init_min_tri_angle = options.init_min_tri_angle
    mapper.filter_min_tri_angle = options.filter_min_tri_angle
    pipeline.triangulation.random_seed = options.seed
    out.mkdir(parents=True, exist_ok=True)
    return pycolmap.incremental_mapping(database, images, out, pipeline)


def _global(database: Path, images: Path, out: Path, options: SfmOptions) -> dict:
    import pycolmap

    pipeline = pycolmap.GlobalPipelineOptions()
    pipeline.num_threads = 1
    pipeline.random_seed = options.seed
    mapper = pipeline.mapper
    mapper.num_threads = 1
    mapper.random_seed = options.seed
    mapper.rotation_averaging.random_seed = options.seed
    mapper.global_positioning.random_seed = options.seed
    mapper.global_positioning.use_gpu = False
    mapper.retriangulation.random_seed = options.seed
    adjust = mapper.bundle_adjustment
    adjust.refine_focal_length = False
    adjust.refine_principal_point = False
    adjust.refine_extra_params = False
    adjust.ceres.use_gpu = False
    adjust.ceres.solver_options.num_threads = 1
    out.mkdir(parents=True, exist_ok=True)
    return pycolmap.global_mapping(database, images, out, pipeline)


@dataclass(frozen=True)
class _Keyframe:
    pose: np.ndarray  # OpenCV camera-to-world (4, 4)
    pixels: np.ndarray  # (N, 2) where this keyframe observes model points
    points: np.ndarray  # (N, 3) those points, in the model's frame


def _registered(models: dict) -> dict[int, _Keyframe]:
    """Frame -> pose and observed points in the largest model (lowest model index on a tie)."""
    best: dict[int, _Keyframe] = {}
    for index in sorted(models):
        model = models[index]
        frames = {}
        for image in model.images.values():
            if not image.has_pose:
                continue
            seen = [p for p in image.points2D if p.has_point3D()]
            pixels = np.array([p.xy for p in seen], dtype=np.float64).reshape(-1, 2)
            points = np.array([model.points3D[p.point3D_id].xyz for p in seen], dtype=np.float64).reshape(-1, 3)
            pose = np.vstack([image.cam_from_world().inverse().matrix(), [0.0, 0.0, 0.0, 1.0]])
            frames[int(image.name[:5])] = _Keyframe(pose, pixels, points)
        if len(frames) > len(best):
            best = frames
    return best


_KLT = dict(winSize=(21, 21), maxLevel=3, criteria=(cv2.TERM_CRITERIA_EPS | cv2.TERM_CRITERIA_COUNT, 30, 0.01))
_MIN_POINTS = 12


def _track(first: np.ndarray, second: np.ndarray, pixels: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """KLT from ``first`` to ``second`` with a forward-backward check: (kept mask, new pixels)."""
    start = pixels.astype(np.float32).reshape(-1, 1, 2)
    forward, status, _ = cv2.calcOpticalFlowPyrLK(first, second, start, None, **_KLT)
    backward, back_status, _ = cv2.calcOpticalFlowPyrLK(second, first, forward, None, **_KLT)
    error = np.linalg.norm((backward - start)[:, 0], axis=1)
    kept = (status[:, 0] == 1) & (back_status[:, 0] == 1) & (error < 1.0)
    return kept, forward[:, 0].astype(np.float64)


def _matrix(k: np.ndarray) -> np.ndarray:
    return np.array([[k[0], 0.0, k[2]], [0.0, k[1], k[3]], [0.0, 0.0, 1.0]])


def _pose_by_pnp(anchor: _Keyframe, first: np.ndarray, second: np.ndarray, k_second: np.ndarray) -> np.ndarray | None:
    """Pose of ``second`` from the anchor keyframe's model points tracked into it (PnP RANSAC,
    then Levenberg-Marquardt on the inliers); None with too few points."""
    if len(anchor.pixels) < _MIN_POINTS:
        return None
    kept, pixels = _track(first, second, anchor.pixels)
    if kept.sum() < _MIN_POINTS:
        return None
    points, pixels = anchor.points[kept], pixels[kept]
    matrix = _matrix(k_second)
    w2c = np.linalg.inv(anchor.pose)
    rvec, _ = cv2.Rodrigues(w2c[:3, :3])
    ok, rvec, tvec, inliers = cv2.solvePnPRansac(points, pixels, matrix, None, rvec=rvec.copy(), tvec=w2c[:3, 3:4].copy(),
                                                 useExtrinsicGuess=True, iterationsCount=200, reprojectionError=2.0,
                                                 confidence=0.999, flags=cv2.SOLVEPNP_ITERATIVE)
    if not ok or inliers is None or len(inliers) < _MIN_POINTS:
        return None
    index = inliers[:, 0]
    rvec, tvec = cv2.solvePnPRefineLM(points[index], pixels[index], matrix, None, rvec, tvec)
    rotation, _ = cv2.Rodrigues(rvec)
    pose = np.eye(4)
    pose[:3, :3] = rotation.T
    pose[:3, 3] = -rotation.T @ tvec[:, 0]
    return pose


def _pose_by_essential(anchor: _Keyframe, first: np.ndarray, second: np.ndarray, k_first: np.ndarray,
                       k_second: np.ndarray, step: float, min_flow: float) -> np.ndarray:
    """Pose of ``second`` by the essential matrix relative to the anchor: rotation from
    ``recoverPose``, translation along its direction, ``step`` long. The anchor's pose when the
    tracks barely move or too few points lie in front of both cameras (no parallax to tell the
    four decompositions apart)."""
    corners = cv2.goodFeaturesToTrack(first, maxCorners=600, qualityLevel=0.005, minDistance=5)
    if corners is None or len(corners) < _MIN_POINTS:
        return anchor.pose.copy()
    kept, moved = _track(first, second, corners[:, 0])
    a, b = corners[kept, 0].astype(np.float64), moved[kept]
    if len(a) < _MIN_POINTS or np.median(np.linalg.norm(b - a, axis=1)) < min_flow:
        return anchor.pose.copy()
    na = (a - k_first[2:4]) / k_first[0:2]
    nb = (b - k_second[2:4]) / k_second[0:2]
    threshold = 1.0 / float(np.mean([k_first[0], k_second[0]]))  # one pixel in normalised units
    essential, mask = cv2.findEssentialMat(na, nb, np.eye(3), method=cv2.RANSAC, prob=0.999, threshold=threshold)
    if essential is None or essential.shape != (3, 3):
        return anchor.pose.copy()
    in_front, rotation, direction, _ = cv2.recoverPose(essential, na, nb, np.eye(3), mask=mask)
    if in_front < max(_MIN_POINTS, 0.5 * int(mask.sum())):
        return anchor.pose.copy()
    pose = anchor.pose.copy()
    pose[:3, :3] = anchor.pose[:3, :3] @ rotation.T
    pose[:3, 3] = anchor.pose[:3, 3] + anchor.pose[:3, :3] @ (-rotation.T @ direction[:, 0]) * step
    return pose


def _repeat_sources(gray: list[np.ndarray], max_px: float) -> list[int]:
    """For every frame, the frame it repeats: itself, or the first frame of the run it belongs
    to when the image has not moved from that frame's (median KLT displacement of corners
    below ``max_px``). A repeated frame's camera has not moved: it gets that frame's pose."""
    sources = [0]
    corners = None
    for frame in range(1, len(gray)):
        source = sources[-1]
        if corners is None or corners[0] != source:
            found = cv2.goodFeaturesToTrack(gray[source], maxCorners=300, qualityLevel=0.005, minDistance=7)
            corners = (source, None if found is None else found[:, 0])
        moved = True
        if corners[1] is not None and len(corners[1]) >= _MIN_POINTS:
            kept, pixels = _track(gray[source], gray[frame], corners[1])
            if kept.sum() >= max(_MIN_POINTS, 0.5 * len(kept)):
                moved = float(np.median(np.linalg.norm(pixels[kept] - corners[1][kept], axis=1))) >= max_px
        elif not np.any(cv2.absdiff(gray[source], gray[frame]) > 8):
            moved = False  # featureless and (nearly) unchanged
        sources.append(frame if moved else source)
    return sources


def _fill(gray: list[np.ndarray], intrinsics: np.ndarray, sfm: dict[int, _Keyframe], unique: list[int],
          options: SfmOptions) -> dict[int, tuple[np.ndarray, str]]:
    """Poses of the distinct frames: SfM's where it has one, else PnP on the nearest
    registered keyframe's model points, else essential-matrix VO from that keyframe."""
    registered = np.array(sorted(sfm))
    centres = np.stack([sfm[f].pose[:3, 3] for f in registered])
    speed = float(np.median(np.linalg.norm(np.diff(centres, axis=0), axis=1) / np.diff(registered)))
    out: dict[int, tuple[np.ndarray, str]] = {}
    for frame in unique:
        if frame in sfm:
            out[frame] = (sfm[frame].pose, "sfm")
            continue
        anchor_frame = int(registered[np.argmin(np.abs(registered - frame))])  # the earlier one on a tie
        anchor = sfm[anchor_frame]
        pose = _pose_by_pnp(anchor, gray[anchor_frame], gray[frame], intrinsics[frame])
        if pose is not None:
            out[frame] = (pose, "pnp")
        else:
            out[frame] = (_pose_by_essential(anchor, gray[anchor_frame], gray[frame], intrinsics[anchor_frame],
                                             intrinsics[frame], speed * abs(frame - anchor_frame), options.vo_min_flow_px),
                          "essential")
    return out


def _sfm(gray: list[np.ndarray], intrinsics: np.ndarray, keys: list[int], work: Path,
         options: SfmOptions) -> tuple[dict[int, _Keyframe], str]:
    import pycolmap

    pycolmap.set_random_seed(options.seed)
    images = work / "images"
    images.mkdir(parents=True)
    for frame in keys:
        if not cv2.imwrite(str(images / _name(frame)), gray[frame]):
            raise WildBenchError(f"{images / _name(frame)}: cannot write the keyframe")
    database = work / "database.db"
    with _quiet_colmap():
        _extract_and_match(database, images, intrinsics, options)
        if options.mapper == "global":
            return _registered(_global(database, images, work / "global", options)), "global"
        sfm = _registered(_incremental(database, images, work / "incremental", options))
        mapper = "incremental"
        if options.mapper == "auto" and len(sfm) < options.global_below * len(keys):
            alternative = _registered(_global(database, images, work / "global", options))
            if len(alternative) > len(sfm):
                sfm, mapper = alternative, "global"
    return sfm, mapper


def estimate_trajectory(video: np.ndarray, intrinsics: np.ndarray, scratch: Path, *,
                        options: SfmOptions = SfmOptions()) -> EstimatedTrajectory:
    """The camera trajectory of ``video`` (T, H, W, 3) uint8 whose frames have the pinhole
    ``intrinsics`` (T, 4) = (fx, fy, cx, cy); COLMAP's files go under ``scratch``."""
    if video.ndim != 4 or len(video) < 3:
        raise WildBenchError(f"estimate_trajectory: need a (T >= 3, H, W, 3) video, got {video.shape}")
    if intrinsics.shape != (len(video), 4) or not np.isfinite(intrinsics).all():
        raise WildBenchError(f"estimate_trajectory: need finite (T, 4) intrinsics for T={len(video)}, got {intrinsics.shape}")
    gray = [_gray(frame) for frame in video]
    sources = _repeat_sources(gray, options.repeat_max_px)
    unique = sorted(set(sources))
    if len(unique) == 1:  # nothing moves: the camera stood still, exactly
        poses = np.repeat(np.eye(4)[None], len(video), axis=0)
        return EstimatedTrajectory(poses=poses, source=("repeat",) * len(video), keyframes=(0,), registered=(0,), mapper="none")
    keys = _keyframes(unique, options.stride)
    work = Path(scratch) / "sfm"
    if work.exists():
        shutil.rmtree(work)
    sfm, mapper = _sfm(gray, intrinsics, keys, work, options)
    needed = max(3, int(np.ceil(options.min_registered * len(keys))))
    if len(sfm) < needed:
        raise EstimationFailed(f"SfM registered {len(sfm)} of {len(keys)} keyframes (at least {needed} needed)")
    filled = _fill(gray, intrinsics, sfm, unique, options)
    poses = np.stack([filled[s][0] for s in sources])
    source = tuple(filled[s][1] if s == frame else "repeat" for frame, s in enumerate(sources))
    return EstimatedTrajectory(poses=poses, source=source, keyframes=tuple(keys), registered=tuple(sorted(sfm)), mapper=mapper)
