"""The store manifest: read (with version and schema checks) and write (atomically, last)."""

from __future__ import annotations

import json
import os
from pathlib import Path
from typing import Any

from .._atomic import atomic_path
from ..errors import FormatError, MissingFileError
from ..schemas import check_version, read_document, validate_document
from .layout import MANIFEST_FILE

__all__ = ["FORMAT", "FORMAT_VERSION", "read_manifest", "write_manifest"]

FORMAT = "wildworld-store"
#: Version of the store layout this code writes and reads (major must match).
FORMAT_VERSION = "1.0"


def read_manifest(store: str | os.PathLike[str]) -> dict[str, Any]:
    """Read and check ``manifest.json``; raise a clear error for a missing or foreign manifest."""
    path = Path(store) / MANIFEST_FILE
    if not path.exists():
        raise MissingFileError(
            f"{path}: no manifest - not a converted store, or a conversion that has not finished "
            "(run `wildworld convert` again to complete it)"
        )
    try:
        doc = json.loads(path.read_text(encoding="utf-8"))
    except (json.JSONDecodeError, UnicodeDecodeError) as exc:
        raise FormatError(f"not valid JSON ({exc})", path=path) from None
    if not isinstance(doc, dict) or doc.get("format") != FORMAT:
        raise FormatError(f"not a {FORMAT} manifest", path=path)
    check_version(doc.get("format_version", "?"), what=f"store {store}")
    return read_document(path, "store_manifest")


def write_manifest(store: str | os.PathLike[str], manifest: dict[str, Any]) -> Path:
    validate_document(manifest, "store_manifest", path=Path(store) / MANIFEST_FILE)
    path = Path(store) / MANIFEST_FILE
    with atomic_path(path, durable=True) as tmp:
        tmp.write_text(json.dumps(manifest, indent=1, sort_keys=True) + "\n", encoding="utf-8")
    return path
