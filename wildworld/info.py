"""Summaries of release samples and part directories: what ``wildworld info`` prints."""

from __future__ import annotations

import os
from collections import Counter
from pathlib import Path

import numpy as np

from . import layout
from .release.sample import Sample, open_sample

__all__ = ["sample_info", "part_info"]


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
    samples = [sample_info(path, top=top) for path in layout.list_sample_dirs(part_dir)]
    frames = int(np.sum([s["frames"] for s in samples])) if samples else 0
    return {
        "part": str(Path(part_dir)),
        "samples": len(samples),
        "frames": frames,
        "invalid_camera_frames": int(sum(s["invalid_camera_frames"] for s in samples)),
        "per_sample": samples,
    }
