"""Validate release samples and part directories: every problem at once, as findings.

A finding has a severity (``error`` makes the target invalid, ``warning`` does not), a stable
``code``, the file, and where known the row (0-based frame), column or key. The validator
never raises on bad content: an unreadable file is a finding, not a traceback.

Checks per sample: the four stream files exist; state.csv parses (row and column of a bad
cell) and has the schema's required columns; quaternions are unit (within ``QUAT_TOLERANCE``);
intrinsics are positive; invalid-camera rows are counted (warning); skeleton keys parse, the
archive holds at least one array, arrays are float (N, J, 3), every key has an edges entry whose
indices are < J; videos open, their frames are counted by demuxing (which catches truncation),
the first and last frames decode; rgb/depth/state/skeleton frame counts agree; rgb and depth
agree on fps and size.
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path
from typing import Callable

import numpy as np

from . import layout
from .classify import classify_path, describe_kind, store_inside_part
from .errors import FormatError, NotADatasetError
from .findings import Finding, FindingCollector, ValidationReport
from .release.sample import column_array
from .release.skeleton import SkeletonFile, read_skeleton_edges
from .release.state_csv import read_state_csv, state_column_spec
from .schemas import load_record_schema, load_state_schema
from .store.layout import STORE_ENTRIES
from .store.validate import validate_store
from .video.decode import open_video

__all__ = [
    "validate_sample",
    "validate_part",
    "validate_path",
    "QUAT_TOLERANCE",
]

#: |norm - 1| above this makes a quaternion row an error.
QUAT_TOLERANCE = 1e-2


# ----------------------------------------------------------------------------- state


def _required_state_columns(columns: list[str]) -> list[str]:
    state = load_state_schema()
    required = [spec.csv for spec in load_record_schema("camera").fields if spec.csv and spec.required]
    required += [spec.name for spec in state.globals if spec.required]
    for kind, entity in state.entities.items():
        indices = state.entity_indices(columns, kind)
        if kind == "player" and not indices:
            indices = [0]  # at least one player is required
        for index in indices:
            required += [entity.column(index, spec.name) for spec in entity.fields if spec.required]
    return required


def _check_state(table, path: Path, out: FindingCollector) -> None:
    columns = table.column_names
    for name in _required_state_columns(columns):
        if name not in columns:
            out.add("error", "missing-column", path, "required column is missing", column=name)
    state = load_state_schema()
    quaternion_columns = ["camera.rot"] + [
        state.entities[kind].column(i, "rot") for kind in state.entities for i in state.entity_indices(columns, kind)
    ]
    for name in quaternion_columns:
        if name not in columns:
            continue
        q = column_array(table, name)
        if q.ndim != 2 or q.shape[1] != 4:
            out.add("error", "bad-quaternion", path, f"expected 4 components, found shape {q.shape}", column=name)
            continue
        finite = np.isfinite(q).all(axis=1)
        norm = np.linalg.norm(np.where(finite[:, None], q, 0.0), axis=1)
        bad = np.flatnonzero(finite & (np.abs(norm - 1.0) > QUAT_TOLERANCE))
        if bad.size:
            out.add(
                "error", "bad-quaternion", path,
                f"{bad.size} rows are not unit quaternions (first has norm {norm[bad[0]]:.4f}, tolerance {QUAT_TOLERANCE})",
                row=int(bad[0]), column=name,
            )
    _check_categories_and_ids(table, path, out)
    if {"camera.K", "camera.pos", "camera.rot"} <= set(columns):
        K = column_array(table, "camera.K")
        pos = column_array(table, "camera.pos")
        rot = column_array(table, "camera.rot")
        valid = np.isfinite(K).all(1) & np.isfinite(pos).all(1) & np.isfinite(rot).all(1)
        invalid = int((~valid).sum())
        if invalid:
            first = int(np.flatnonzero(~valid)[0])
            out.add("warning", "invalid-camera", path, f"{invalid} of {len(valid)} rows have an invalid (NaN) camera", row=first, column="camera.K")
        bad_k = np.flatnonzero(valid & ((K[:, 0] <= 0) | (K[:, 1] <= 0)))
        if bad_k.size:
            out.add("error", "bad-intrinsics", path, f"{bad_k.size} rows have non-positive focal lengths", row=int(bad_k[0]), column="camera.K")


def _check_categories_and_ids(table, path: Path, out: FindingCollector) -> None:
    """Category columns hold their documented values; id columns hold whole numbers."""
    import pyarrow as pa
    import pyarrow.compute as pc

    for name in table.column_names:
        spec = state_column_spec(name)
        if spec is None:
            continue
        column = table.column(name)
        if spec.categories and pa.types.is_string(column.type):
            unknown = pc.and_(pc.is_valid(column), pc.invert(pc.is_in(column, value_set=pa.array(list(spec.categories)))))
            count = pc.sum(unknown.cast(pa.int64())).as_py() or 0
            if count:
                row = int(np.flatnonzero(unknown.to_numpy(zero_copy_only=False))[0])
                out.add("warning", "unknown-category", path,
                        f"{count} rows hold a value outside {', '.join(spec.categories)} (first: {column[row].as_py()!r})",
                        row=row, column=name)
        elif spec.is_id and pa.types.is_floating(column.type):
            values = column.to_numpy(zero_copy_only=False)
            fractional = np.flatnonzero(np.isfinite(values) & (values != np.round(values)))
            if fractional.size:
                out.add("error", "non-integral-id", path,
                        f"{fractional.size} rows hold an id that is not a whole number (first: {values[fractional[0]]!r})",
                        row=int(fractional[0]), column=name)


# ----------------------------------------------------------------------------- skeleton


def _check_skeleton(path: Path, edges: dict[str, np.ndarray] | None, out: FindingCollector) -> dict[str, int]:
    """Check every array and its edges; return ``{key: frames}`` of readable arrays."""
    frames: dict[str, int] = {}
    handle = out.guard("skeleton-unreadable", path, lambda: SkeletonFile(path))
    if handle is None:
        return frames
    with handle:
        if len(handle) == 0:
            out.add("error", "skeleton-empty", path, "the archive holds no arrays (expected at least the player's n<index>_<type_id>)")
        for name in handle:
            entity = out.guard("skeleton-unreadable", path, lambda name=name: handle[name])
            if entity is None:
                continue
            frames[name] = entity.num_frames
            if edges is None:
                continue
            edges_key = entity.key.edges_key
            if edges_key not in edges:
                out.add("error", "missing-edges", path, f"no entry {edges_key!r} in {layout.EDGES_FILE}", key=name)
                continue
            pairs = edges[edges_key]
            if pairs.size and pairs.max() >= entity.num_joints:
                out.add(
                    "error", "edge-out-of-range", path,
                    f"edges of {edges_key!r} reach joint {int(pairs.max())} but the array has J={entity.num_joints}",
                    key=name,
                )
    return frames


# ----------------------------------------------------------------------------- video


@dataclass(frozen=True)
class _VideoFacts:
    frames: int
    fps: float
    width: int
    height: int


def _check_video(path: Path, color: str, out: FindingCollector, *, decode_ends: bool) -> _VideoFacts | None:
    reader = out.guard("video-unreadable", path, lambda: open_video(path, backend="pyav", color=color))
    if reader is None:
        return None
    with reader:
        facts = _VideoFacts(reader.num_frames, reader.fps, reader.width, reader.height)
        if facts.frames == 0:
            out.add("error", "video-empty", path, "the video holds no frames")
            return facts
        if decode_ends:
            for label, index in (("first", 0), ("last", facts.frames - 1)):
                try:
                    reader.get([index])
                except Exception as exc:  # noqa: BLE001 - a corrupted stream is a finding
                    reason = exc.reason if isinstance(exc, FormatError) else f"{type(exc).__name__}: {exc}"
                    out.add("error", f"{label}-frame-undecodable", path, f"frame {index} does not decode ({reason})")
    return facts


# ----------------------------------------------------------------------------- sample / part


def _missing(path: Path, what: str) -> str:
    """Why ``path`` is not a usable file: absent, or something else (a directory) by that name."""
    if path.is_dir():
        return f"{what} is a directory, not a file"
    if path.exists() or path.is_symlink():
        return f"{what} is not a regular file (or a broken link)"
    return f"{what} is missing"


def validate_sample(
    sample_dir: str | os.PathLike[str],
    *,
    edges: dict[str, np.ndarray] | None = None,
    decode_ends: bool = True,
    check_edges: bool = True,
) -> ValidationReport:
    """Validate one sample directory (``edges`` defaults to the part's skeleton_edges.json).

    ``check_edges=False`` skips the edge checks (the caller has reported the edges file).
    """
    sample = Path(sample_dir)
    out = FindingCollector()
    files = {stream: layout.sample_file(sample, stream) for stream in layout.STREAM_FILES}
    for stream, file in files.items():
        if not file.is_file():
            out.add("error", "missing-file", file, _missing(file, f"the {stream} file"))
    if edges is None and check_edges:
        edges_path = layout.find_edges_file(sample)
        if edges_path is None:
            out.add("error", "missing-file", sample.parent / layout.EDGES_FILE, "skeleton_edges.json is missing")
        else:
            edges = out.guard("edges-unreadable", edges_path, lambda: read_skeleton_edges(edges_path))

    counts: dict[str, int] = {}
    if files["state"].is_file():
        table = out.guard("state-unreadable", files["state"], lambda: read_state_csv(files["state"]))
        if table is not None:
            counts["state.csv rows"] = table.num_rows
            out.guard("state-unreadable", files["state"], lambda: _check_state(table, files["state"], out))
    if files["skeleton"].is_file():
        skeleton_frames = _check_skeleton(files["skeleton"], edges if check_edges else None, out)
        for name, n in skeleton_frames.items():
            counts[f"skeleton {name}"] = n
    videos = {}
    for stream, color in (("rgb", "rgb"), ("depth", "gray")):
        if files[stream].is_file():
            facts = _check_video(files[stream], color, out, decode_ends=decode_ends)
            if facts is not None:
                videos[stream] = facts
                counts[f"{stream} frames"] = facts.frames
    if len(set(counts.values())) > 1:
        listing = ", ".join(f"{k}={v}" for k, v in counts.items())
        out.add("error", "frame-count-mismatch", sample, f"streams disagree on the number of frames: {listing}")
    if "rgb" in videos and "depth" in videos:
        rgb, depth = videos["rgb"], videos["depth"]
        if abs(rgb.fps - depth.fps) > 1e-3:
            out.add("error", "fps-mismatch", sample, f"rgb.mp4 runs at {rgb.fps:g} fps but depth.mkv at {depth.fps:g} fps")
        if (rgb.width, rgb.height) != (depth.width, depth.height):
            out.add(
                "error", "size-mismatch", sample,
                f"rgb.mp4 is {rgb.width}x{rgb.height} but depth.mkv is {depth.width}x{depth.height}",
            )
    return out.report(target=str(sample), kind="sample", samples=1)


def validate_part(part_dir: str | os.PathLike[str], *, decode_ends: bool = True, progress: Callable[[str], None] | None = None) -> ValidationReport:
    """Validate every sample of a part directory and its skeleton_edges.json."""
    part = Path(part_dir)
    out = FindingCollector()
    edges_path = part / layout.EDGES_FILE
    edges = None
    if not edges_path.is_file():
        out.add("error", "missing-file", edges_path, _missing(edges_path, "skeleton_edges.json of the part directory"))
    else:
        edges = out.guard("edges-unreadable", edges_path, lambda: read_skeleton_edges(edges_path))
    samples = layout.list_sample_dirs(part)
    if not samples:
        out.add("error", "no-samples", part, "no sample directories (with rgb.mp4, depth.mkv, state.csv, skeleton.npz) found")
    for sample in samples:
        if progress is not None:
            progress(sample.name)
        # An edges file that is missing or unreadable is reported once above, not once per skeleton key.
        report = validate_sample(sample, edges=edges, decode_ends=decode_ends, check_edges=edges is not None)
        out.extend(report.findings)
    return out.report(target=str(part), kind="part", samples=len(samples))


def validate_path(
    path: str | os.PathLike[str], *, decode_ends: bool = True, progress: Callable[[str], None] | None = None
) -> ValidationReport:
    """Validate what :func:`~wildworld.classify_path` finds at ``path``: a sample, a part, a
    data root (each part validated, one report of kind ``root``) or a store.

    A directory holding nothing recognisable is validated as a part (its report says there are
    no samples); a WildBench directory raises ``NotADatasetError`` (``wildbench check``
    checks submissions)."""
    target = Path(path)
    try:
        kind = classify_path(target)
    except NotADatasetError:
        if not target.is_dir():
            raise
        kind = "part"  # an empty or foreign directory: reported as a part without samples
    if kind == "store" and store_inside_part(target):
        # A store converted into a part (before convert refused to): its samples are checked
        # still, and the report says how to separate the two.
        report = validate_part(target, decode_ends=decode_ends, progress=progress)
        moved = Finding("warning", "store-inside-part", str(target),
                        f"a converted store was written into this part directory ({', '.join(STORE_ENTRIES)}); move "
                        "those files to a directory of their own and validate it there: wildworld validate STORE")
        return ValidationReport(target=report.target, kind="part", findings=(moved, *report.findings), samples=report.samples)
    if kind == "store":
        return validate_store(target, progress=progress)
    if kind == "sample":
        return validate_sample(target, decode_ends=decode_ends)
    if kind == "part":
        return validate_part(target, decode_ends=decode_ends, progress=progress)
    if kind == "root":
        reports = [validate_part(part, decode_ends=decode_ends, progress=progress) for part in layout.list_part_dirs(target)]
        findings = [finding for report in reports for finding in report.findings]
        return ValidationReport(target=str(target), kind="root", findings=findings, samples=sum(r.samples for r in reports))
    raise NotADatasetError(f"{target}: this is {describe_kind(kind)}; `wildworld validate` checks release samples, parts, "
                           "data roots and stores (check a submission with `wildbench check SUB --split SPLIT`)")
