"""``convert``: release samples -> a store (Zarr v3 + videos + WebDataset + Parquet).

The whole pipeline, one line per stage:

    samples  = discover(sources)                         # sample dirs, ids, edges files
    results  = run_tasks(convert_sample, ...)            # A: per sample, in parallel (videos, intermediates)
    layout   = build_layout(profiles)                    # B: store-wide columns, slots, vocabulary
    zarr     = write_annotations(...); write_table(...)  # B: Zarr shards in frame order; Parquet
    shards   = run_tasks(write_shard, plan_shards(...))  # C: clip shards, in parallel
    stats    = compute_stats(...)                        # D: exact global statistics
    manifest = write_manifest(...)                       # last: checksums of every file

Resumable and idempotent: finished samples and shards are recorded under ``_work`` and skipped
on the next run; everything else is rewritten from scratch and comes out byte-identical, so a
killed and resumed conversion produces the same manifest as an uninterrupted one.
"""

from __future__ import annotations

import json
import os
import shutil
from dataclasses import dataclass
from pathlib import Path
from typing import Callable, Sequence

from .. import layout as release_layout
from ..errors import MissingFileError, WildWorldError
from ..files import TEMP_MARK, atomic_path, sha256_file
from ..parallel import Executor, run_tasks
from ..schemas import load_record_schema, load_state_schema
from ..version import __version__
from .assemble import build_layout, build_vocabulary, write_annotations, write_table
from .extract import ConvertOptions, SampleResult, SampleTask, convert_sample, load_result
from .layout import ANNOTATIONS, MANIFEST_FILE, SKELETON_ARRAY, STATS_FILE, TABLE_FILE, WORK_DIR
from .manifest import FORMAT, FORMAT_VERSION, read_manifest, write_manifest
from .shards import ShardTask, load_shard_record, plan_shards, write_shard
from .stats import compute_stats, write_stats

__all__ = ["ConversionError", "ConvertReport", "convert", "discover_samples"]

Progress = Callable[[str, int, int], None]


class ConversionError(WildWorldError):
    """Conversion cannot proceed (bad samples under ``strict``, conflicting options...)."""


@dataclass(frozen=True)
class ConvertReport:
    store: Path
    samples: int
    frames: int
    skipped: tuple[dict, ...]
    shards: int
    already_complete: bool = False


def discover_samples(sources: Sequence[str | os.PathLike[str]]) -> list[tuple[str, Path, Path | None]]:
    """``(sample_id, sample_dir, edges_file)`` for part directories and sample directories."""
    found: list[tuple[Path, Path | None]] = []
    for source in sources:
        path = Path(source)
        if not path.exists():
            raise MissingFileError(f"{path}: no such file or directory")
        if release_layout.is_sample_dir(path):
            found.append((path, release_layout.find_edges_file(path)))
        elif path.is_dir():
            edges = path / release_layout.EDGES_FILE
            samples = release_layout.list_sample_dirs(path)
            if not samples:
                raise WildWorldError(f"{path}: no sample directories found (expected <id>/state.csv, rgb.mp4, ...)")
            found += [(sample, edges if edges.exists() else None) for sample in samples]
        else:
            raise WildWorldError(f"{path}: expected a part directory or a sample directory")
    names = [sample.name for sample, _ in found]
    unique = len(set(names)) == len(names)
    out = []
    for sample, edges in found:
        sample_id = sample.name if unique else f"{sample.parent.name}_{sample.name}"
        out.append((sample_id.replace("/", "_"), sample.resolve(), edges.resolve() if edges else None))
    ids = [i for i, _, _ in out]
    if len(set(ids)) != len(ids):
        raise WildWorldError("two sources hold samples with the same id; convert them into separate stores")
    return sorted(out)


def _clean_temporaries(store: Path) -> None:
    for path in list(store.rglob(f"*{TEMP_MARK}*")):
        if path.is_dir():
            shutil.rmtree(path, ignore_errors=True)
        else:
            path.unlink(missing_ok=True)


def _check_options(store: Path, options: ConvertOptions, sources: list[str]) -> bool:
    """True if the store is already complete with these options; raise if it conflicts."""
    wanted = {"options": options.to_json(), "source": sources}
    if (store / MANIFEST_FILE).exists():
        manifest = read_manifest(store)
        if manifest["options"] == wanted["options"] and manifest.get("source") == sources:
            return True
        raise ConversionError(f"{store} already holds a store converted with other options or sources; choose another STORE")
    record = store / WORK_DIR / "options.json"
    if record.exists():
        previous = json.loads(record.read_text())
        if previous != wanted:
            raise ConversionError(
                f"{store} holds an unfinished conversion with other options or sources; run it with the same "
                f"options to finish it, or delete {store / WORK_DIR} to start over"
            )
    else:
        with atomic_path(record) as tmp:
            tmp.write_text(json.dumps(wanted, sort_keys=True))
    return False


def _checksums(store: Path, relative_dirs: Sequence[str]) -> dict[str, dict]:
    files = {}
    for relative in relative_dirs:
        root = store / relative
        paths = [root] if root.is_file() else sorted(p for p in root.rglob("*") if p.is_file())
        for path in paths:
            files[path.relative_to(store).as_posix()] = {"sha256": sha256_file(path), "bytes": path.stat().st_size}
    return files


def convert(
    sources: Sequence[str | os.PathLike[str]],
    store: str | os.PathLike[str],
    options: ConvertOptions = ConvertOptions(),
    *,
    workers: int | None = None,
    executor: Executor = "local",
    ray_address: str | None = None,
    strict: bool = False,
    progress: Progress | None = None,
) -> ConvertReport:
    """Convert release samples into a store at ``store`` (see the module docstring)."""
    store = Path(store)
    samples = discover_samples(sources)
    source_names = sorted({str(Path(s).resolve()) for s in sources})
    store.mkdir(parents=True, exist_ok=True)
    if _check_options(store, options, source_names):
        manifest = read_manifest(store)
        return ConvertReport(store, len(manifest["samples"]), manifest["frames"], tuple(manifest["skipped"]), len(manifest["shards"]), True)
    _clean_temporaries(store)
    report = progress or (lambda stage, done, total: None)

    # A: samples, in parallel; finished ones are kept from earlier runs.
    results: dict[str, SampleResult] = {}
    tasks = []
    for sample_id, directory, edges in samples:
        previous = load_result(store, sample_id)
        if previous is not None and previous.ok:
            results[sample_id] = previous
        else:
            tasks.append(SampleTask(str(directory), sample_id, str(store), options, str(edges) if edges else None))
    report("samples", len(results), len(samples))
    for _, result in run_tasks(convert_sample, tasks, executor=executor, workers=workers, address=ray_address):
        results[result.sample_id] = result
        report("samples", len(results), len(samples))
    failed = [results[i] for i, _, _ in samples if not results[i].ok]
    if failed and strict:
        first = failed[0]
        message = first.findings[0]["message"] if first.findings else "unknown problem"
        raise ConversionError(f"{len(failed)} of {len(samples)} samples are bad (first: {first.sample_id}: {message}); fix them or run without --strict to skip them")
    good = [results[i] for i, _, _ in samples if results[i].ok]
    if not good:
        raise ConversionError("no sample could be converted: " + "; ".join(f"{r.sample_id}: {r.findings[0]['message']}" for r in failed[:3]))

    # B: layout, vocabulary, Zarr arrays, Parquet table.
    profiles = [r.profile for r in good]
    layout = build_layout(profiles)
    vocabulary = build_vocabulary(profiles)
    with_skeleton = "skeleton" in options.streams
    write_annotations(store, profiles, layout, vocabulary, chunk_frames=options.chunk_frames, shard_frames=options.shard_frames,
                      with_skeleton=with_skeleton, on_block=lambda done, total: report("annotations", done, total))
    write_table(store, profiles, vocabulary)

    # C: clip shards, in parallel.
    offsets, entries = 0, []
    for profile in profiles:
        entries.append({**profile, "offset": offsets})
        offsets += profile["frames"]
    skeleton_floats = len(layout.skeleton_slots) * layout.max_joints * 3 if with_skeleton else 0
    plan = plan_shards(entries, clip_len=options.clip_len, shard_bytes=options.shard_bytes, seed=options.seed,
                       annotation_bytes_per_frame=4 * (layout.width + skeleton_floats))
    shard_records: dict[int, dict] = {}
    shard_tasks = []
    for index, clips in enumerate(plan):
        record = load_shard_record(store, index)
        if record is not None and record["clips"] == len(clips):
            shard_records[index] = record
        else:
            shard_tasks.append(ShardTask(str(store), index, tuple(clips), options.clip_len, options.streams, layout.to_json()))
    report("shards", len(shard_records), len(plan))
    for _, record in run_tasks(write_shard, shard_tasks, executor=executor, workers=workers, address=ray_address):
        shard_records[int(Path(record["path"]).stem.split("-")[-1])] = record
        report("shards", len(shard_records), len(plan))
    for stale in sorted((store / "shards").glob("clips-*.tar")):
        if int(stale.stem.split("-")[-1]) >= len(plan):
            stale.unlink()

    # D: statistics, then the manifest (last).
    import zarr

    frames_array = zarr.open_group(store / ANNOTATIONS, mode="r")["frames"]
    write_stats(store, compute_stats(frames_array, layout, scratch=store / WORK_DIR))
    files = {}
    for result in good:
        files.update(result.files)
    files.update(_checksums(store, [ANNOTATIONS, TABLE_FILE, STATS_FILE]))
    shards = [shard_records[i] for i in range(len(plan))]
    files.update({s["path"]: {"sha256": s["sha256"], "bytes": s["bytes"]} for s in shards})
    sizes = {tuple(p["size"]) for p in profiles}
    rates = {p["fps"] for p in profiles}
    manifest = {
        "format": FORMAT,
        "format_version": FORMAT_VERSION,
        "created_by": f"wildworld {__version__}",
        "schemas": {name: load_record_schema(name).version for name in ("action", "camera", "skeleton", "observation")}
        | {"state": load_state_schema().version},
        "source": source_names,
        "options": options.to_json(),
        "fps": rates.pop() if len(rates) == 1 else None,
        "resolution": list(sizes.pop()) if len(sizes) == 1 else None,
        "streams": list(options.streams),
        "frames": offsets,
        "layout": layout.to_json(),
        "vocabulary": [list(k) for k in vocabulary],
        "samples": [
            {"id": e["id"], "frames": e["frames"], "offset": e["offset"], "fps": e["fps"], "size": e["size"],
             "source": e["source"], "clips": e["frames"] // options.clip_len,
             "skeleton": {slot: {"type_id": v["type_id"], "joints": v["joints"]} for slot, v in e["skeleton"].items()}}
            for e in entries
        ],
        "skipped": [{"id": r.sample_id, "findings": list(r.findings)} for r in failed],
        "zarr": {"path": ANNOTATIONS, "chunk_frames": options.chunk_frames, "shard_frames": options.shard_frames,
                 "codec": "blosc-lz4", "arrays": ["frames"] + ([SKELETON_ARRAY] if with_skeleton and layout.skeleton_slots else [])},
        "shards": shards,
        "files": dict(sorted(files.items())),
    }
    write_manifest(store, manifest)
    shutil.rmtree(store / WORK_DIR, ignore_errors=True)
    return ConvertReport(store, len(good), offsets, tuple(manifest["skipped"]), len(shards))
