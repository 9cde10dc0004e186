"""Summaries of release samples, parts, data roots and stores: what ``wildworld info`` prints.

    path_info("sample_data/data_part1")   # the kind is decided by classify_path
"""

from __future__ import annotations

import os
from collections import Counter
from pathlib import Path

import numpy as np

from . import layout
from .classify import expect_kind
from .errors import MissingFileError, WildWorldError
from .release.sample import Sample, open_sample
from .store.info import store_info

__all__ = ["path_info", "sample_info", "part_info", "root_info"]

_NOT_A_DATASET = layout.NOT_A_DATASET


def path_info(path: str | os.PathLike[str], *, top: int = 5) -> dict:
    """The summary of whatever ``path`` is: a sample, a part, a data root or a store."""
    kind = expect_kind(path, "sample", "part", "root", "store", purpose="to summarise")
    if kind == "store":
        return store_info(path)
    return {"sample": sample_info, "part": part_info, "root": root_info}[kind](path, top=top)


def sample_info(sample: Sample | str | os.PathLike[str], *, top: int = 5) -> dict:
    """Frames, duration, size, entities, invalid-camera count and the most played actions."""
    if not isinstance(sample, Sample):
        sample = open_sample(sample)
    actions = sample.actions
    segments = actions.segments()
    frames_per_key = Counter()
    segments_per_key = Counter()
    for segment in segments:
        if segment.motion_id < 0:
            continue
        frames_per_key[segment.key] += segment.length
        segments_per_key[segment.key] += 1
    monsters = []
    for index in sample.entity_indices("monster"):
        species = sample.column(f"monster.list.{index}.type_id")
        present = species >= 0
        monsters.append(
            {"index": index, "species": sorted({int(s) for s in species[present]}), "frames_present": int(present.sum())}
        )
    players = []
    for index in sample.entity_indices("player"):
        players.append(
            {
                "index": index,
                "type_id": sorted({int(v) for v in sample.column(f"npc.list.{index}.type_id") if v >= 0}),
                "weapon_id": sorted({int(v) for v in sample.column(f"npc.list.{index}.weapon_id") if v >= 0}),
                "tracked_frames": int((actions.tracked_index == index).sum()),
            }
        )
    probe = sample.rgb_probe
    return {
        "sample": sample.id,
        "path": str(sample.path),
        "frames": sample.num_frames,
        "fps": probe.fps,
        "duration_s": round(sample.num_frames / probe.fps, 3) if probe.fps else None,
        "size": [probe.width, probe.height],
        "codec": probe.codec,
        "players": players,
        "monsters": monsters,
        "skeletons": list(sample.skeleton),
        "invalid_camera_frames": int((~sample.camera.valid).sum()),
        "untracked_frames": int((actions.tracked_index < 0).sum()),
        "action_segments": len(segments),
        "distinct_actions": len(frames_per_key),
        "top_actions": [
            {"motion_bank_id": k[0], "motion_id": k[1], "frames": f, "segments": segments_per_key[k]}
            for k, f in frames_per_key.most_common(top)
        ],
    }


def part_info(part_dir: str | os.PathLike[str], *, top: int = 5) -> dict:
    """Per-sample summaries plus totals for a part directory."""
    part = Path(part_dir)
    if not part.exists():
        raise MissingFileError(f"{part}: no such file or directory")
    if not part.is_dir():
        raise WildWorldError(f"{part}: not a directory; {_NOT_A_DATASET}")
    sample_dirs = layout.list_sample_dirs(part)
    if not sample_dirs:
        raise WildWorldError(f"{part}: no sample directories found; {_NOT_A_DATASET}")
    samples = [sample_info(path, top=top) for path in sample_dirs]
    frames = int(np.sum([s["frames"] for s in samples])) if samples else 0
    return {
        "part": str(part),
        "samples": len(samples),
        "frames": frames,
        "invalid_camera_frames": int(sum(s["invalid_camera_frames"] for s in samples)),
        "per_sample": samples,
    }


def root_info(root: str | os.PathLike[str], *, top: int = 5) -> dict:
    """Totals plus :func:`part_info` of each part directory under a data root (``data_part1/`` ...)."""
    root = Path(root)
    part_dirs = layout.list_part_dirs(root) if root.is_dir() else []
    if not part_dirs:
        raise WildWorldError(f"{root}: no part directories found; {_NOT_A_DATASET}")
    parts = [part_info(part, top=top) for part in part_dirs]
    return {
        "root": str(root),
        "parts": len(parts),
        "samples": sum(p["samples"] for p in parts),
        "frames": sum(p["frames"] for p in parts),
        "invalid_camera_frames": sum(p["invalid_camera_frames"] for p in parts),
        "per_part": parts,
    }
