"""On-disk names of the release layout, in one place.

```
data_part<x>/
  <id>/rgb.mp4  depth.mkv  state.csv  skeleton.npz
  skeleton_edges.json
```
"""

from __future__ import annotations

import os
import re
from pathlib import Path

__all__ = [
    "NOT_A_DATASET",
    "STREAM_FILES",
    "EDGES_FILE",
    "PART_DIR_PATTERN",
    "sample_file",
    "is_sample_dir",
    "list_sample_dirs",
    "list_part_dirs",
    "find_edges_file",
]

#: Stream name -> file name inside a sample directory.
STREAM_FILES = {"rgb": "rgb.mp4", "depth": "depth.mkv", "state": "state.csv", "skeleton": "skeleton.npz"}
#: Bone connectivity, one per part directory.
EDGES_FILE = "skeleton_edges.json"
#: How the release names its parts.
PART_DIR_PATTERN = re.compile(r"^data_part(?P<part>\d+)$")


def sample_file(sample_dir: str | os.PathLike[str], stream: str) -> Path:
    """Path of ``stream`` (rgb, depth, state, skeleton) inside a sample directory."""
    return Path(sample_dir) / STREAM_FILES[stream]


def is_sample_dir(path: str | os.PathLike[str]) -> bool:
    """A directory holding at least one of the per-sample stream files."""
    path = Path(path)
    return path.is_dir() and any((path / name).exists() for name in STREAM_FILES.values())


def list_sample_dirs(part_dir: str | os.PathLike[str]) -> list[Path]:
    """Sample directories directly under a part directory, sorted by name."""
    part = Path(part_dir)
    return sorted(child for child in part.iterdir() if is_sample_dir(child))


def list_part_dirs(root: str | os.PathLike[str]) -> list[Path]:
    """Part directories (directories holding sample directories) directly under a data root."""
    return sorted(child for child in Path(root).iterdir() if child.is_dir() and list_sample_dirs(child))


def find_edges_file(sample_dir: str | os.PathLike[str]) -> Path | None:
    """``skeleton_edges.json`` of a sample: in its part directory (or, failing that, beside it)."""
    sample = Path(sample_dir)
    for candidate in (sample.parent / EDGES_FILE, sample / EDGES_FILE):
        if candidate.is_file():
            return candidate
    return None


#: The end of the one-line error for a path that holds no data (validate, info).
NOT_A_DATASET = (
    "expected a sample directory, a part directory (holding sample directories), "
    "a data root holding part directories, or a store"
)
