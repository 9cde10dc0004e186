"""Phase B of conversion: store-wide layout, action vocabulary, Zarr arrays, Parquet table.

Runs in the driver once every sample is converted. It writes whole Zarr shards in frame
order (never a partial shard twice), so the bytes depend only on the inputs.
"""

from __future__ import annotations

import os
import shutil
from pathlib import Path
from typing import Any, Callable, Sequence

import numpy as np
import pyarrow as pa
import pyarrow.parquet as pq

from ..errors import ConversionError
from ..files import atomic_path, temp_name
from ..release.state_csv import state_column_spec
from ..schemas import load_state_schema
from .extract import SampleProfile, StateColumn
from .layout import (
    ANNOTATIONS,
    FRAMES_ARRAY,
    SKELETON_ARRAY,
    TABLE_FILE,
    FieldLayout,
    Layout,
    action_fields,
    camera_fields,
    record_field,
    work_sample_file,
)

__all__ = ["build_layout", "build_vocabulary", "vocabulary_lookup", "write_annotations", "write_table"]


def build_vocabulary(profiles: Sequence[SampleProfile]) -> list[tuple[int, int]]:
    """Sorted distinct (motion_bank_id, motion_id) of the tracked player over all samples."""
    keys = {tuple(key) for profile in profiles for key in profile.action_keys}
    return sorted(keys)


def vocabulary_lookup(vocabulary: Sequence[tuple[int, int]], banks: np.ndarray, motions: np.ndarray) -> np.ndarray:
    """Vocabulary index of each (bank, motion) pair; -1 where it is not in the vocabulary."""
    codes = np.array([b * 2**32 + m for b, m in vocabulary], dtype=np.int64)
    banks = np.nan_to_num(np.asarray(banks, dtype=np.float64), nan=-1).astype(np.int64)
    motions = np.nan_to_num(np.asarray(motions, dtype=np.float64), nan=-1).astype(np.int64)
    query = banks * 2**32 + motions
    position = np.clip(np.searchsorted(codes, query), 0, max(len(codes) - 1, 0))
    found = (len(codes) > 0) & (banks >= 0) & (motions >= 0)
    found = found & (codes[position] == query) if len(codes) else np.zeros(len(query), bool)
    return np.where(found, position, -1)


def _state_order(name: str) -> tuple:
    """Sort key: schema globals, then entities by kind, index and schema field order, then extras."""
    schema = load_state_schema()
    for position, spec in enumerate(schema.globals):
        if spec.name == name:
            return (0, 0, 0, position, name)
    for kind_position, (kind, entity) in enumerate(schema.entities.items()):
        match = entity.column_regex.match(name)
        if match:
            names = [spec.name for spec in entity.fields]
            field_position = names.index(match["field"]) if match["field"] in names else len(names)
            return (1, kind_position, int(match["index"]), field_position, name)
    return (2, 0, 0, 0, name)


def build_layout(profiles: Sequence[SampleProfile]) -> Layout:
    """The union of every sample's columns and skeleton slots, in a deterministic order: the
    action and camera fields of their schemas, then the state columns in schema order."""
    fields: list[FieldLayout] = []
    start = 0
    for stream, record_fields in (("action", action_fields()), ("camera", camera_fields())):
        for name, width, kind in record_fields:
            fields.append(FieldLayout(name, stream, start, width, kind))
            start += width
    columns: dict[str, StateColumn] = {}
    categories: dict[str, set] = {}
    for profile in profiles:
        for name, column in profile.state_columns.items():
            previous = columns.setdefault(name, column)
            if previous.width != column.width:
                raise ConversionError(f"sample {profile.id}: state column {name!r} has width {column.width}, but "
                                      f"{previous.width} in an earlier sample; convert such samples into separate stores")
            if column.kind == "float":
                columns[name] = column  # float wins over id if samples disagree
        for name, values in profile.categories.items():
            categories.setdefault(name, set()).update(values)
    for name in sorted(columns, key=_state_order):
        column = columns[name]
        cats: tuple[str, ...] = ()
        if column.kind == "category":
            spec = state_column_spec(name)
            known = list(spec.categories) if spec is not None else []
            cats = tuple(known + sorted(categories.get(name, set()) - set(known)))
        fields.append(FieldLayout(name, "state", start, column.width, column.kind, cats))
        start += column.width
    slot_names = {slot for profile in profiles for slot in profile.skeleton}
    max_joints = max((entry.joints for profile in profiles for entry in profile.skeleton.values()), default=0)
    return Layout(fields=tuple(fields), skeleton_slots=tuple(Layout.sort_slots(slot_names)), max_joints=max_joints)


def _frames_rows(layout: Layout, profile: SampleProfile, data: dict[str, np.ndarray], vocabulary: Sequence[tuple[int, int]]) -> np.ndarray:
    """All ``frames`` columns of one sample, float32 ``(N, C)``: the vocabulary index, then the
    release's action columns (the intermediates hold them in layout order), camera, state."""
    n = profile.frames
    rows = np.full((n, layout.width), np.nan, dtype=np.float32)
    action = data["action"]  # bank, motion, phase, tracked
    action_start, action_stop = layout.stream_range("action")
    rows[:, action_start] = vocabulary_lookup(vocabulary, action[:, 0], action[:, 1])
    rows[:, action_start + 1 : action_stop] = action
    camera = data["camera"]  # K, position, rotation
    valid = np.isfinite(camera).all(axis=1)
    camera_start = layout.field("camera.K").start
    rows[:, camera_start : camera_start + camera.shape[1]] = camera
    rows[:, layout.field("camera.valid").start] = valid
    for field in layout.stream_fields("state"):
        key = f"state/{field.name}"
        if key not in data:
            if field.kind == "category":
                rows[:, field.start] = -1
            continue
        values = data[key]
        if field.kind == "id" and np.nanmax(np.abs(values), initial=0) >= 2**24:
            raise ConversionError(f"sample {profile.id}: column {field.name!r} holds ids >= 2**24, which the store's "
                                  "float32 columns cannot hold exactly")
        if field.kind == "category":
            local = profile.categories.get(field.name, ())
            mapping = np.array([field.categories.index(v) for v in local] + [-1], dtype=np.float32)
            rows[:, field.start] = mapping[np.where(values < 0, len(local), values)]
        else:
            rows[:, field.start : field.stop] = values.reshape(n, field.width)
    return rows


def _skeleton_rows(layout: Layout, profile: SampleProfile, data: dict[str, np.ndarray]) -> np.ndarray:
    n = profile.frames
    rows = np.full((n, len(layout.skeleton_slots), layout.max_joints, 3), np.nan, dtype=np.float32)
    for slot_name, entry in profile.skeleton.items():
        joints = data[f"skeleton/{entry.key}"]
        rows[:, layout.slot_index(slot_name), : joints.shape[1]] = joints
    return rows


def _annotation_codec():
    from zarr.codecs import BloscCodec

    return BloscCodec(cname="lz4", clevel=5, shuffle="shuffle", typesize=4)


def write_annotations(
    store: Path,
    profiles: Sequence[SampleProfile],
    layout: Layout,
    vocabulary: Sequence[tuple[int, int]],
    *,
    chunk_frames: int,
    shard_frames: int,
    with_skeleton: bool,
    on_block: Callable[[int, int], None] | None = None,
) -> Path:
    """Write ``annotations.zarr`` (frames, skeleton) shard by shard; rename into place at the end."""
    import zarr

    total = sum(p.frames for p in profiles)
    final = store / ANNOTATIONS
    tmp = temp_name(final)
    group = zarr.open_group(tmp, mode="w", zarr_format=3)
    frames = group.create_array(
        FRAMES_ARRAY, shape=(total, layout.width), dtype="float32",
        chunks=(chunk_frames, layout.width), shards=(shard_frames, layout.width),
        compressors=[_annotation_codec()], fill_value=np.nan,
        attributes={"layout": layout.to_json()},
    )
    skeleton = None
    if with_skeleton and layout.skeleton_slots:
        shape = (len(layout.skeleton_slots), layout.max_joints, 3)
        skeleton = group.create_array(
            SKELETON_ARRAY, shape=(total,) + shape, dtype="float32",
            chunks=(chunk_frames,) + shape, shards=(shard_frames,) + shape,
            compressors=[_annotation_codec()], fill_value=np.nan,
            attributes={"slots": [s.to_json() for s in layout.skeleton_slots]},
        )
    offsets = np.cumsum([0] + [p.frames for p in profiles])
    cache: dict[str, Any] = {}

    def sample_rows(i: int) -> tuple[np.ndarray, np.ndarray | None]:
        sample_id = profiles[i].id
        if cache.get("id") != sample_id:
            with np.load(store / work_sample_file(sample_id, "annotations.npz"), allow_pickle=False) as npz:
                data = {key: npz[key] for key in npz.files}
            cache.update(id=sample_id, frames=_frames_rows(layout, profiles[i], data, vocabulary),
                         skeleton=_skeleton_rows(layout, profiles[i], data) if skeleton is not None else None)
        return cache["frames"], cache["skeleton"]

    for block_start in range(0, total, shard_frames):
        block_stop = min(total, block_start + shard_frames)
        frames_block = np.empty((block_stop - block_start, layout.width), np.float32)
        skeleton_block = np.empty((block_stop - block_start,) + skeleton.shape[1:], np.float32) if skeleton is not None else None
        first = int(np.searchsorted(offsets, block_start, side="right") - 1)
        for i in range(first, len(profiles)):
            lo, hi = max(offsets[i], block_start), min(offsets[i + 1], block_stop)
            if lo >= hi:
                if offsets[i] >= block_stop:
                    break
                continue
            rows, skel = sample_rows(i)
            frames_block[lo - block_start : hi - block_start] = rows[lo - offsets[i] : hi - offsets[i]]
            if skeleton_block is not None:
                skeleton_block[lo - block_start : hi - block_start] = skel[lo - offsets[i] : hi - offsets[i]]
        frames[block_start:block_stop] = frames_block
        if skeleton is not None:
            skeleton[block_start:block_stop] = skeleton_block
        if on_block is not None:
            on_block(block_stop, total)
    if final.exists():
        shutil.rmtree(final)
    os.replace(tmp, final)
    return final


def write_table(store: Path, profiles: Sequence[SampleProfile], vocabulary: Sequence[tuple[int, int]]) -> Path:
    """``tables/frames.parquet``: every sample's per-frame table under one unified schema."""
    parts = [store / work_sample_file(p.id, "frames.parquet") for p in profiles]
    schema = pa.unify_schemas([pq.read_schema(part) for part in parts], promote_options="permissive")
    index_field, bank, motion = (record_field("action", name) for name in ("action_index", "motion_bank_id", "motion_id"))
    schema = schema.insert(schema.get_field_index(bank), pa.field(index_field, pa.int32()))
    final = store / TABLE_FILE
    with atomic_path(final) as tmp:
        with pq.ParquetWriter(tmp, schema) as writer:
            for part in parts:
                table = pq.read_table(part)
                index = vocabulary_lookup(vocabulary, table.column(bank).to_numpy(), table.column(motion).to_numpy())
                table = table.append_column(index_field, pa.array(index.astype(np.int32)))
                columns = [table.column(f.name) if f.name in table.column_names else pa.nulls(table.num_rows, f.type) for f in schema]
                writer.write_table(pa.Table.from_arrays([c.cast(f.type) for c, f in zip(columns, schema)], schema=schema))
    return final

