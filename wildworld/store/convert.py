"""``convert``: release samples -> a store (Zarr v3 + videos + WebDataset + Parquet).

The whole pipeline is :func:`convert`, one line per stage:

    samples  = discover_samples(sources)                  # sample dirs, ids, edges files
    check_store_destination(store, sources)               # never into a source, a part, a split...
    results  = _convert_samples(samples, ...)             # A: per sample, in parallel (videos, intermediates)
    layout   = build_layout(profiles)                     # B: store-wide columns, slots, vocabulary
    write_annotations(...); write_table(...)              # B: Zarr shards in frame order; Parquet
    shards   = _write_shards(plan_shards(...), ...)       # C: clip shards, in parallel
    write_stats(compute_stats(...))                       # D: exact global statistics
    write_manifest(_manifest(...))                        # last: checksums of every file

Resumable and idempotent: finished samples and shards are recorded under ``_work`` and skipped
on the next run; everything else is rewritten from scratch and comes out byte-identical, so a
killed and resumed conversion produces the same manifest as an uninterrupted one.
"""

from __future__ import annotations

import json
import os
import shutil
from dataclasses import dataclass
from itertools import accumulate
from pathlib import Path
from typing import Callable, Sequence

from .. import layout as release_layout
from ..classify import check_destination, describe_kind, enclosing_dataset, expect_kind
from ..errors import ConversionError, WildWorldError
from ..files import TEMP_MARK, atomic_path, sha256_file
from ..parallel import Executor, run_tasks
from ..schemas import load_record_schema, load_state_schema
from ..version import __version__
from .assemble import build_layout, build_vocabulary, write_annotations, write_table
from .extract import ConvertOptions, SampleProfile, SampleResult, SampleTask, convert_sample, load_result
from .layout import (
    ANNOTATIONS,
    FRAMES_ARRAY,
    MANIFEST_FILE,
    SHARD_DIR,
    SKELETON_ARRAY,
    STATS_FILE,
    TABLE_FILE,
    WORK_DIR,
    Layout,
    shard_index,
    work_options_path,
)
from .manifest import FORMAT, FORMAT_VERSION, ShardRecord, SlotEntity, StoreSample, read_manifest, write_manifest
from .shards import ClipRef, ShardTask, load_shard_record, plan_shards, write_shard
from .stats import compute_stats, write_stats

__all__ = ["ConversionError", "ConvertReport", "convert", "discover_samples", "check_store_destination"]

Progress = Callable[[str, int, int], None]


@dataclass(frozen=True)
class ConvertReport:
    store: Path
    samples: int
    frames: int
    skipped: tuple[dict, ...]
    shards: int
    already_complete: bool = False


@dataclass(frozen=True)
class _Parallel:
    """Where the parallel stages run (the same pure functions on either executor)."""

    executor: Executor
    workers: int | None
    address: str | None

    def run(self, function, tasks):
        return run_tasks(function, tasks, executor=self.executor, workers=self.workers, address=self.address)


def discover_samples(sources: Sequence[str | os.PathLike[str]]) -> list[tuple[str, Path, Path | None]]:
    """``(sample_id, sample_dir, edges_file)`` for sample directories, part directories and data
    roots of parts (as ``validate`` takes them); anything else is refused, saying what it is."""
    found: list[tuple[Path, Path | None]] = []
    for source in sources:
        path = Path(source)
        kind = expect_kind(path, "sample", "part", "root", purpose="to convert")
        if kind == "sample":
            found.append((path, release_layout.find_edges_file(path)))
            continue
        for part in [path] if kind == "part" else release_layout.list_part_dirs(path):
            edges = part / release_layout.EDGES_FILE
            found += [(sample, edges if edges.exists() else None) for sample in release_layout.list_sample_dirs(part)]
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


def check_store_destination(store: str | os.PathLike[str], sources: Sequence[str | os.PathLike[str]]) -> None:
    """Refuse, before anything is written, a store that would land in a source, inside a
    release sample or part (it would hide the part's samples from ``validate``), a store or a
    WildBench directory, or in a non-empty directory that is not a store (an existing store is
    then compared with this conversion by :func:`convert`)."""
    target = Path(store).resolve()
    for source in sources:
        where = Path(source).resolve()
        if target == where or where in target.parents:
            inside = f"the source {source} itself" if target == where else f"inside the source {source}"
            raise ConversionError(f"{store}: this is {inside}; write the store outside the sources, "
                                  f"e.g. {where.parent / (where.name + '_store')}")
    enclosing = enclosing_dataset(target)
    if enclosing is not None:
        parent, kind = enclosing
        raise ConversionError(f"{store}: the store would be inside {parent}, {describe_kind(kind)}; "
                              "write it to a directory of its own outside it")
    check_destination(store, "store", what="the store")


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
    record = store / work_options_path()
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


def _convert_samples(samples, store: Path, options: ConvertOptions, parallel: _Parallel, report: Progress,
                     *, strict: bool) -> tuple[list[SampleResult], list[SampleResult]]:
    """Phase A: every sample not finished by an earlier run, in parallel; ``(good, failed)``
    in sample order. Raises when nothing (or, under ``strict``, not everything) converts."""
    results: dict[str, SampleResult] = {}
    tasks = []
    for sample_id, directory, edges in samples:
        previous = load_result(store, sample_id)
        if previous is not None and previous.ok:
            results[sample_id] = previous
        else:
            tasks.append(SampleTask(str(directory), sample_id, str(store), options, str(edges) if edges else None))
    report("samples", len(results), len(samples))
    for _, result in parallel.run(convert_sample, tasks):
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
    return good, failed


def _write_shards(plan: list[list[ClipRef]], store: Path, options: ConvertOptions, layout: Layout, parallel: _Parallel,
                  report: Progress) -> list[ShardRecord]:
    """Phase C: every shard not finished by an earlier run, in parallel; stale shards of an
    earlier plan are removed. Returns the records in shard order."""
    records: dict[int, ShardRecord] = {}
    tasks = []
    for index, clips in enumerate(plan):
        record = load_shard_record(store, index)
        if record is not None and record.clips == len(clips):
            records[index] = record
        else:
            tasks.append(ShardTask(str(store), index, tuple(clips), options.clip_len, options.streams, layout))
    report("shards", len(records), len(plan))
    for _, record in parallel.run(write_shard, tasks):
        records[record.index] = record
        report("shards", len(records), len(plan))
    for stale in sorted((store / SHARD_DIR).glob("clips-*.tar")):
        if shard_index(stale.relative_to(store).as_posix()) >= len(plan):
            stale.unlink()
    return [records[i] for i in range(len(plan))]


def _checksums(store: Path, relative_dirs: Sequence[str]) -> dict[str, dict]:
    files = {}
    for relative in relative_dirs:
        root = store / relative
        paths = [root] if root.is_file() else sorted(p for p in root.rglob("*") if p.is_file())
        for path in paths:
            files[path.relative_to(store).as_posix()] = {"sha256": sha256_file(path), "bytes": path.stat().st_size}
    return files


def _manifest(store: Path, options: ConvertOptions, sources: list[str], layout: Layout, vocabulary, good: list[SampleResult],
              skipped: list[dict], offsets: list[int], shards: list[ShardRecord]) -> dict:
    """The manifest document: what the store holds, and the size and checksum of every file."""
    profiles: list[SampleProfile] = [r.profile for r in good]
    samples = [
        StoreSample(p.id, p.frames, offset, p.fps, p.size, p.frames // options.clip_len,
                    {slot: SlotEntity(entry.type_id, entry.joints) for slot, entry in p.skeleton.items()}, p.source)
        for p, offset in zip(profiles, offsets)
    ]
    files = {}
    for result in good:
        files.update(result.files)
    files.update(_checksums(store, [ANNOTATIONS, TABLE_FILE, STATS_FILE]))
    files.update({s.path: {"sha256": s.sha256, "bytes": s.bytes} for s in shards})
    sizes = {tuple(p.size) for p in profiles}
    rates = {p.fps for p in profiles}
    with_skeleton = "skeleton" in options.streams
    return {
        "format": FORMAT,
        "format_version": FORMAT_VERSION,
        "created_by": f"wildworld {__version__}",
        "schemas": {name: load_record_schema(name).version for name in ("action", "camera", "skeleton", "observation")}
        | {"state": load_state_schema().version},
        "source": sources,
        "options": options.to_json(),
        "fps": rates.pop() if len(rates) == 1 else None,
        "resolution": list(sizes.pop()) if len(sizes) == 1 else None,
        "streams": list(options.streams),
        "frames": sum(p.frames for p in profiles),
        "layout": layout.to_json(),
        "vocabulary": [list(k) for k in vocabulary],
        "samples": [sample.to_json() for sample in samples],
        "skipped": skipped,
        "zarr": {"path": ANNOTATIONS, "chunk_frames": options.chunk_frames, "shard_frames": options.shard_frames,
                 "codec": "blosc-lz4", "arrays": ["frames"] + ([SKELETON_ARRAY] if with_skeleton and layout.skeleton_slots else [])},
        "shards": [shard.to_json() for shard in shards],
        "files": dict(sorted(files.items())),
    }


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
    check_store_destination(store, sources)  # nothing is written into a source, a part, a split...
    source_names = sorted({str(Path(s).resolve()) for s in sources})
    store.mkdir(parents=True, exist_ok=True)
    if _check_options(store, options, source_names):
        manifest = read_manifest(store)
        return ConvertReport(store, len(manifest.samples), manifest.frames, tuple(manifest["skipped"]), len(manifest.shards), True)
    _clean_temporaries(store)
    report = progress or (lambda stage, done, total: None)
    parallel = _Parallel(executor, workers, ray_address)
    with_skeleton = "skeleton" in options.streams

    good, failed = _convert_samples(samples, store, options, parallel, report, strict=strict)  # A: per sample
    profiles = [result.profile for result in good]
    layout = build_layout(profiles)  # B: store-wide columns and slots
    vocabulary = build_vocabulary(profiles)  # B: the tracked player's (bank, motion) keys
    write_annotations(store, profiles, layout, vocabulary, chunk_frames=options.chunk_frames, shard_frames=options.shard_frames,
                      with_skeleton=with_skeleton, on_block=lambda done, total: report("annotations", done, total))
    write_table(store, profiles, vocabulary)  # B: one Parquet table of every frame
    offsets = list(accumulate((p.frames for p in profiles[:-1]), initial=0))  # each sample's first row
    skeleton_floats = len(layout.skeleton_slots) * layout.max_joints * 3 if with_skeleton else 0
    plan = plan_shards(profiles, offsets, clip_len=options.clip_len, shard_bytes=options.shard_bytes, seed=options.seed,
                       annotation_bytes_per_frame=4 * (layout.width + skeleton_floats))
    shards = _write_shards(plan, store, options, layout, parallel, report)  # C: clip shards
    write_stats(store, compute_stats(_frames_array(store), layout, scratch=store / WORK_DIR))  # D: global statistics
    skipped = [{"id": r.sample_id, "findings": list(r.findings)} for r in failed]
    write_manifest(store, _manifest(store, options, source_names, layout, vocabulary, good, skipped, offsets, shards))  # last
    shutil.rmtree(store / WORK_DIR, ignore_errors=True)
    return ConvertReport(store, len(good), sum(p.frames for p in profiles), tuple(skipped), len(shards))


def _frames_array(store: Path):
    import zarr

    return zarr.open_group(store / ANNOTATIONS, mode="r")[FRAMES_ARRAY]
