"""Summary of a converted store: what ``wildworld info STORE`` prints."""

from __future__ import annotations

import os
from collections import defaultdict
from pathlib import Path

from .manifest import read_manifest

__all__ = ["store_info"]


def store_info(store: str | os.PathLike[str]) -> dict:
    manifest = read_manifest(store)
    frames = manifest["frames"]
    by_stream: dict[str, int] = defaultdict(int)
    for relative, info in manifest["files"].items():
        if relative.startswith("videos/"):
            by_stream["rgb" if relative.endswith(".mp4") else "depth"] += info["bytes"]
        elif relative.startswith("annotations.zarr/skeleton"):
            by_stream["skeleton (zarr)"] += info["bytes"]
        elif relative.startswith("annotations.zarr"):
            by_stream["action+camera+state (zarr)"] += info["bytes"]
        elif relative.startswith("shards/"):
            by_stream["webdataset shards"] += info["bytes"]
        elif relative.startswith("tables/"):
            by_stream["parquet table"] += info["bytes"]
    fields = defaultdict(int)
    for field in manifest["layout"]["fields"]:
        fields[field["stream"]] += 1
    fps = manifest.get("fps")
    return {
        "title": f"store {Path(store)}",
        "format": f"{manifest['format']} {manifest['format_version']} ({manifest['created_by']})",
        "samples": len(manifest["samples"]),
        "skipped samples": len(manifest["skipped"]),
        "frames": frames,
        "duration_s": round(frames / fps, 2) if fps else None,
        "fps": fps,
        "resolution": manifest.get("resolution"),
        "streams": ", ".join(manifest["streams"]),
        "fields per stream": dict(fields),
        "skeleton slots": ", ".join(s["name"] for s in manifest["layout"]["skeleton_slots"]),
        "action vocabulary": len(manifest["vocabulary"]),
        "clip length": manifest["options"]["clip_len"],
        "gop": manifest["options"]["gop"],
        "shards": len(manifest["shards"]),
        "clips": sum(s["clips"] for s in manifest["shards"]),
        "bytes per frame": {k: round(v / max(frames, 1), 1) for k, v in sorted(by_stream.items())},
    }
