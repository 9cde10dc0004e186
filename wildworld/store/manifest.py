"""The store manifest: read (with version and schema checks) and write (atomically, last)."""

from __future__ import annotations

import json
import os
from pathlib import Path
from typing import Any

from ..errors import FormatError, MissingFileError
from ..files import atomic_path
from ..schemas import check_version, validate_document
from .layout import MANIFEST_FILE

__all__ = ["FORMAT", "FORMAT_VERSION", "read_manifest", "write_manifest"]

FORMAT = "wildworld-store"
#: Version of the store layout this code writes and reads (major must match).
FORMAT_VERSION = "1.0"


_REQUIRED = ("format", "format_version", "schemas", "options", "streams", "frames", "layout", "vocabulary", "samples", "shards", "files")


def read_manifest(store: str | os.PathLike[str], *, full_check: bool = False) -> dict[str, Any]:
    """Read and check ``manifest.json``; raise a clear error for a missing or foreign manifest.

    Readers check the format, version and top-level keys (cheap at any scale);
    ``full_check`` validates the whole document against its JSON Schema (``wildworld validate``
    does; it costs about a second for a manifest of the size of part 1).
    """
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
    if full_check:
        validate_document(doc, "store_manifest", path=path)
    else:
        missing = [key for key in _REQUIRED if key not in doc]
        if missing:
            raise FormatError(f"the manifest lacks {', '.join(missing)}; run `wildworld validate` on the store", path=path)
    return doc


def write_manifest(store: str | os.PathLike[str], manifest: dict[str, Any]) -> Path:
    validate_document(manifest, "store_manifest", path=Path(store) / MANIFEST_FILE)
    path = Path(store) / MANIFEST_FILE
    with atomic_path(path, durable=True) as tmp:
        tmp.write_text(json.dumps(manifest, indent=1, sort_keys=True) + "\n", encoding="utf-8")
    return path
