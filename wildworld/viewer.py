"""Scrub one sample in 3-D with Rerun: RGB, depth, skeletons, the camera frustum, actions and state.

    view_sample("sample_data/data_part1/000000", out="000000.rrd")     # a release sample
    view_sample("STORE", sample_id="000000", out="000000.rrd")         # a converted store
    # then: rerun 000000.rrd   (the viewer ships with rerun-sdk: pip install "wildworld[view]")

What is logged, on the timelines ``frame`` (index) and ``time`` (seconds):

=====================================  ==========================================================
``world``                              the world frame, y up (right-handed)
``world/camera``                       the camera pose (position, camera-to-world rotation)
``world/camera/image``                 pinhole with the true K per frame; OpenGL camera frame
                                       (x right, y up, looking down -z: Rerun's ``RUB``)
``world/camera/image/rgb``             the RGB frame (JPEG at ``jpeg_quality``, or raw)
``world/camera/image/depth``           the depth map in metres, where the scale is known (the
                                       synthetic world's, or ``depth_scale``): Rerun back-
                                       projects it into 3-D; else ``depth`` (codes, 2-D only)
``world/skeletons/<key>/joints``       the joints of every entity (``n0_1``, ``w0_3``, ``m1_53``)
``world/skeletons/<key>/bones``        its bones from skeleton_edges.json, in the entity colour
``action/motion_bank_id`` ...          the tracked player's action key and phase (scalars);
``action/segment``                     a text line where each segment starts
``state/player/hp``, ``.../sp``        the tracked player's vitals; ``state/monster<i>/hp``
=====================================  ==========================================================

Frames with an invalid camera log no pose (the last one stays). Entities absent on a frame
(NaN joints) are cleared on that frame.
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path
from typing import Callable, Iterator

import numpy as np

from .classify import describe_kind, kind_of
from .errors import OptionError, WildWorldError
from .release.sample import Camera

__all__ = ["ViewResult", "view_sample"]


@dataclass(frozen=True)
class ViewResult:
    """What :func:`view_sample` logged: the file written (None when streamed to a viewer), the
    sample, the frames, every entity path, and what could not be shown (one line each).

    >>> result = view_sample("sample_data/data_part1", sample_id="000001", out="out/view/000001.rrd", max_frames=2)
    >>> result.sample_id, [e for e in result.entities if e.startswith("state/player")]
    ('000001', ['state/player/hp', 'state/player/sp'])
    """

    path: Path | None
    sample_id: str
    frames: int
    entities: tuple[str, ...]
    warnings: tuple[str, ...] = ()


@dataclass(frozen=True)
class _SampleData:
    """One sample's streams, from a release sample or a store, in the same form."""

    sample_id: str
    fps: float
    size: tuple[int, int]
    frames: int
    rgb: Callable[[], Iterator[np.ndarray]]
    depth: Callable[[], Iterator[np.ndarray]] | None
    camera: Camera
    action: dict[str, np.ndarray]  # motion_bank_id, motion_id, motion_frame, tracked_index
    column: Callable[[str], np.ndarray | None]
    columns: tuple[str, ...]
    skeletons: dict[str, np.ndarray]  # key -> (N, J, 3)
    edges: dict[str, np.ndarray]  # key -> (E, 2)
    metres_per_code: float | None
    warnings: tuple[str, ...]


def _synthetic_scale(part_dir: Path) -> float | None:
    from .synth.world import DEPTH_METRES_PER_CODE
    from .synth.writer import SIDECAR_FILE

    return DEPTH_METRES_PER_CODE if (part_dir / SIDECAR_FILE).exists() else None


def _edges_for(keys, edges_file: Path | None) -> tuple[dict[str, np.ndarray], list[str]]:
    from .release.skeleton import parse_skeleton_key, read_skeleton_edges

    if edges_file is None or not edges_file.exists():
        return {}, ["no skeleton_edges.json beside the sample: joints are shown without bones"]
    by_type = read_skeleton_edges(edges_file)
    return {key: by_type.get(parse_skeleton_key(key).edges_key, np.zeros((0, 2), np.int64)) for key in keys}, []


def _from_release(path: Path) -> _SampleData:
    from .release.sample import open_sample
    from .video import iter_frames

    sample = open_sample(path)
    columns = tuple(sample.state.column_names)
    skeletons = {key: entity.joints for key, entity in sample.skeleton.items()}
    edges, warnings = _edges_for(skeletons, sample.edges_path)
    depth_file = sample.file("depth")
    actions = sample.actions
    return _SampleData(
        sample_id=sample.id, fps=sample.fps or 30.0, size=sample.size, frames=sample.num_frames,
        rgb=lambda: iter_frames(sample.file("rgb")),
        depth=(lambda: iter_frames(depth_file, color="gray")) if depth_file.exists() else None,
        camera=sample.camera,
        action={"motion_bank_id": actions.motion_bank_id, "motion_id": actions.motion_id,
                "motion_frame": actions.motion_frame, "tracked_index": actions.tracked_index},
        column=lambda name: sample.column(name) if name in columns else None, columns=columns,
        skeletons=skeletons, edges=edges, metres_per_code=_synthetic_scale(sample.path.parent),
        warnings=tuple(warnings) + (() if depth_file.exists() else (f"{depth_file}: missing; no depth shown",)),
    )


def _from_store(path: Path, sample_id: str) -> _SampleData:
    from .release.skeleton import SkeletonKey
    from .store import open_store
    from .video import iter_frames

    store = open_store(path)
    entry = store.sample(sample_id)
    rows = store.rows(sample_id).astype(np.float64)
    names = {f.name for f in store.layout.fields}

    def column(name: str) -> np.ndarray | None:
        return store.field(rows, name) if name in names else None

    skeletons = {}
    if "skeleton" in store.streams:
        block = store.skeleton_array[entry.offset : entry.offset + entry.frames]
        for slot, info in entry.skeleton.items():
            key = str(SkeletonKey(slot[0], int(slot[1:]), int(info["type_id"])))
            skeletons[key] = np.asarray(block[:, store.layout.slot_index(slot), : info["joints"]], np.float64)
    source = next((Path(s["source"]) for s in store.manifest["samples"] if s["id"] == sample_id and s.get("source")), None)
    from .layout import EDGES_FILE

    edges, warnings = _edges_for(skeletons, source.parent / EDGES_FILE if source else None)
    if "camera" not in store.streams or "action" not in store.streams:
        raise WildWorldError(f"{path}: the store has no camera or action stream; the viewer needs both")
    camera = Camera(K=column("camera.K"), position=column("camera.pos"), rotation=column("camera.rot"),
                    valid=np.isfinite(rows[:, store.layout.field("camera.K").start : store.layout.field("camera.rot").stop]).all(1))
    action = {name: column(f"action.{name}") for name in ("motion_bank_id", "motion_id", "motion_frame", "tracked_index")}
    depth = (lambda: iter_frames(store.video(sample_id, "depth"), color="gray")) if "depth" in store.streams else None
    return _SampleData(
        sample_id=sample_id, fps=entry.fps or store.fps or 30.0, size=tuple(store.resolution or entry.size), frames=entry.frames,
        rgb=lambda: iter_frames(store.video(sample_id, "rgb")), depth=depth, camera=camera, action=action,
        column=column, columns=tuple(sorted(names)), skeletons=skeletons, edges=edges,
        metres_per_code=_synthetic_scale(source.parent) if source else None,
        warnings=tuple(warnings) + (() if depth else ("the store has no depth stream; no depth shown",)),
    )


def _open(source: Path, sample_id: str | None) -> _SampleData:
    from . import layout
    from .store.layout import MANIFEST_FILE

    if not source.exists():
        raise WildWorldError(f"{source}: no such file or directory")
    if (source / MANIFEST_FILE).exists():
        if sample_id is None:
            raise OptionError(f"{source}: a store; name the sample to view (--sample ID)")
        return _from_store(source, sample_id)
    if layout.is_sample_dir(source):
        if sample_id is not None and sample_id != source.name:
            raise OptionError(f"{source}: a sample directory of sample {source.name!r}, not {sample_id!r}")
        return _from_release(source)
    if sample_id is not None and layout.is_sample_dir(source / sample_id):
        return _from_release(source / sample_id)
    samples = layout.list_sample_dirs(source) if source.is_dir() else []
    if samples:
        named = "name the sample to view with --sample ID" if sample_id is None else f"it has no sample {sample_id!r}"
        raise OptionError(f"{source}: a release part directory, not a sample directory; {named} "
                          f"(its samples: {', '.join(s.name for s in samples[:4])}{', ...' if len(samples) > 4 else ''})")
    kind = kind_of(source)
    found = f"this is {describe_kind(kind)}" if kind else "not a sample directory"
    raise WildWorldError(f"{source}: {found}; view takes a release sample directory, a part directory with --sample ID, "
                         "or a store with --sample ID")


def _per_frame(data: _SampleData, field: str) -> np.ndarray | None:
    """A tracked-player field per frame (its npc.list index changes with npc.tracking)."""
    tracked = data.action["tracked_index"]
    out = np.full(data.frames, np.nan)
    found = False
    for index in np.unique(tracked[tracked >= 0]).astype(int):
        values = data.column(f"npc.list.{index}.{field}")
        if values is not None:
            out[tracked == index] = values[tracked == index]
            found = True
    return out if found else None


def _timelines(data: _SampleData) -> dict[str, np.ndarray]:
    """Entity path -> per-frame scalar values (NaN = not logged on that frame)."""
    from .schemas import load_state_schema

    series = {f"action/{name}": np.asarray(data.action[name], np.float64) for name in ("motion_bank_id", "motion_id", "motion_frame")}
    for name in ("hp", "sp"):
        values = _per_frame(data, name)
        if values is not None:
            series[f"state/player/{name}"] = values
    for index in load_state_schema().entity_indices(data.columns, "monster"):
        values = data.column(f"monster.list.{index}.hp")
        if values is not None:
            series[f"state/monster{index}/hp"] = np.asarray(values, np.float64)
    return series


def view_sample(
    source: str | os.PathLike[str],
    *,
    sample_id: str | None = None,
    out: str | os.PathLike[str] | None = None,
    spawn: bool = False,
    max_frames: int | None = None,
    depth_scale: float | None = None,
    jpeg_quality: int | None = 90,
) -> ViewResult:
    """Log one sample to Rerun: to the ``.rrd`` file ``out`` (written atomically), or to a
    viewer it spawns (``spawn=True``; needs a display). ``source`` is a release sample
    directory, a part directory (with ``sample_id``) or a store (with ``sample_id``).

    ``depth_scale`` is metres per depth code (known for the synthetic world; the release does
    not document it): with it, the depth is back-projected into 3-D. ``jpeg_quality`` None logs
    raw RGB (larger files).

    >>> result = view_sample("sample_data/data_part1/000000", out="out/view/000000.rrd", max_frames=5)
    >>> result.frames, "world/camera/image" in result.entities, result.path.name
    (5, True, '000000.rrd')
    """
    try:
        import rerun as rr
    except ImportError:
        raise WildWorldError('the viewer needs rerun-sdk: pip install "wildworld[view]"') from None
    if (out is None) == (not spawn):
        raise OptionError("give exactly one of out=FILE.rrd (write a file) or spawn=True (open a viewer)")
    if jpeg_quality is not None and not 1 <= jpeg_quality <= 100:
        raise OptionError(f"jpeg_quality={jpeg_quality!r} must be 1..100 or None")
    if depth_scale is not None and not depth_scale > 0:
        raise OptionError(f"depth_scale={depth_scale!r} must be positive (metres per depth code)")
    data = _open(Path(source), sample_id)
    frames = data.frames if max_frames is None else min(data.frames, max_frames)
    metres_per_code = depth_scale or data.metres_per_code
    recording = rr.RecordingStream("wildworld", recording_id=f"wildworld-{data.sample_id}")
    rr.set_log_time_enabled(False, recording=recording)  # the data's own timelines only: frame and time
    tmp = None
    if out is not None:
        from .files import temp_name

        out = Path(out)
        if out.suffix != ".rrd":
            raise OptionError(f"{out}: the recording file must end in .rrd")
        out.parent.mkdir(parents=True, exist_ok=True)
        tmp = temp_name(out)
        recording.save(tmp, default_blueprint=_blueprint())
    else:
        recording.spawn(default_blueprint=_blueprint())
    try:
        entities = _log(recording, data, frames, metres_per_code, jpeg_quality)
        recording.flush()
        recording.disconnect()  # closes the file sink: the footer is written before the rename
        if tmp is not None:
            os.replace(tmp, out)
    finally:
        if tmp is not None and tmp.exists():
            tmp.unlink()
    warnings = list(data.warnings)
    if data.depth is not None and metres_per_code is None:
        warnings.append("depth scale unknown (the release does not document it): depth shown as codes in 2-D; "
                        "give depth_scale (metres per code) to see it in 3-D")
    return ViewResult(path=out, sample_id=data.sample_id, frames=frames, entities=tuple(sorted(entities)), warnings=tuple(warnings))


def _blueprint():
    import rerun.blueprint as rrb

    return rrb.Blueprint(rrb.Horizontal(
        rrb.Spatial3DView(origin="world", name="3-D"),
        rrb.Vertical(rrb.Spatial2DView(origin="world/camera/image", name="camera"),
                     rrb.TimeSeriesView(origin="state", name="state"),
                     rrb.TimeSeriesView(origin="action", name="action")),
        column_shares=[3, 2]))


def _log(rec, data: _SampleData, frames: int, metres_per_code: float | None, jpeg_quality: int | None) -> set[str]:
    import cv2
    import rerun as rr

    from .release.skeleton import parse_skeleton_key
    from .render import colorize_depth, entity_color

    width, height = data.size
    logged: set[str] = set()

    def log(path: str, item, *, static: bool = False) -> None:
        rec.log(path, item, static=static)
        logged.add(path)

    log("world", rr.ViewCoordinates.RIGHT_HAND_Y_UP, static=True)
    colors = {key: entity_color(parse_skeleton_key(key).kind, parse_skeleton_key(key).index) for key in data.skeletons}
    series = _timelines(data)
    segment_starts = _segment_starts(data.action)
    rgb = data.rgb()
    depth = data.depth() if data.depth is not None else None
    camera = data.camera
    for t in range(frames):
        rec.set_time("frame", sequence=t)
        rec.set_time("time", duration=t / data.fps)
        if camera.valid[t]:
            log("world/camera", rr.Transform3D(translation=camera.position[t], quaternion=rr.Quaternion(xyzw=camera.rotation[t])))
            fx, fy, cx, cy = camera.K[t]
            log("world/camera/image", rr.Pinhole(focal_length=[fx, fy], principal_point=[cx, cy], resolution=[width, height],
                                                 camera_xyz=rr.ViewCoordinates.RUB, image_plane_distance=1.0))
        frame = next(rgb, None)
        if frame is not None:
            if jpeg_quality is None:
                log("world/camera/image/rgb", rr.Image(frame))
            else:
                ok, jpeg = cv2.imencode(".jpg", cv2.cvtColor(frame, cv2.COLOR_RGB2BGR), [cv2.IMWRITE_JPEG_QUALITY, jpeg_quality])
                log("world/camera/image/rgb", rr.EncodedImage(contents=jpeg.tobytes(), media_type="image/jpeg"))
        codes = next(depth, None) if depth is not None else None
        if codes is not None:
            if metres_per_code is not None:
                log("world/camera/image/depth", rr.DepthImage(codes, meter=1.0 / metres_per_code, colormap="turbo"))
            else:
                log("depth", rr.Image(colorize_depth(codes)))
        for key, joints in data.skeletons.items():
            points = joints[t] if t < len(joints) else np.full((1, 3), np.nan)
            present = np.isfinite(points).all(axis=1)
            if not present.any():
                log(f"world/skeletons/{key}", rr.Clear(recursive=True))
                continue
            log(f"world/skeletons/{key}/joints", rr.Points3D(points[present], colors=colors[key], radii=0.04))
            pairs = data.edges.get(key, np.zeros((0, 2), np.int64))
            pairs = pairs[((pairs >= 0) & (pairs < len(points))).all(axis=1)]
            pairs = pairs[present[pairs[:, 0]] & present[pairs[:, 1]]]
            if len(pairs):
                log(f"world/skeletons/{key}/bones", rr.LineStrips3D(points[pairs], colors=colors[key], radii=0.02))
        for path, values in series.items():
            if np.isfinite(values[t]):
                log(path, rr.Scalars(float(values[t])))
        if t in segment_starts:
            log("action/segment", rr.TextLog(segment_starts[t]))
    return logged


def _segment_starts(action: dict[str, np.ndarray]) -> dict[int, str]:
    """Frame -> a line describing the action segment that starts there."""
    from .release.sample import PlayerActions

    segments = PlayerActions(motion_bank_id=np.nan_to_num(action["motion_bank_id"], nan=-1).astype(np.int64),
                             motion_id=np.nan_to_num(action["motion_id"], nan=-1).astype(np.int64),
                             motion_frame=np.asarray(action["motion_frame"], np.float64),
                             tracked_index=np.nan_to_num(action["tracked_index"], nan=-1).astype(np.int64)).segments()
    return {s.start: f"frames {s.start}-{s.end - 1}: action (motion_bank_id={s.motion_bank_id}, motion_id={s.motion_id})"
            for s in segments}
