"""Old private home of :mod:`wildworld.files`, kept only for modules not yet moved to it.

New code imports :mod:`wildworld.files`; this module re-exports it and will go once nothing
imports it (the synthetic world's writer and wildbench's runner and leaderboard still do).
"""

from .files import TEMP_MARK, atomic_path, fsync_dir, safe_join, sha256_file, temp_name

__all__ = ["TEMP_MARK", "atomic_path", "fsync_dir", "safe_join", "sha256_file", "temp_name"]
