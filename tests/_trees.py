"""What a directory holds, byte for byte: to show that a refused command changed nothing."""

from __future__ import annotations

import hashlib
from pathlib import Path


def tree_snapshot(root: Path) -> dict[str, str]:
    """Relative path -> sha256 of every file (and "dir" for every directory) under ``root``;
    an absent ``root`` is an empty snapshot."""
    root = Path(root)
    if not root.exists():
        return {}
    out = {}
    for path in sorted(root.rglob("*")):
        relative = path.relative_to(root).as_posix()
        out[relative] = "dir" if path.is_dir() else hashlib.sha256(path.read_bytes()).hexdigest()
    return out
