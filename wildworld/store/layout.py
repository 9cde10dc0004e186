"""On-disk names inside a converted store, in one place."""

from __future__ import annotations

__all__ = ["MANIFEST_FILE"]

#: Written last: its presence means the store is complete.
MANIFEST_FILE = "manifest.json"
