"""The model directory's JSON and bytes, written atomically (``wildworld.files``) and read
with one clear error per missing or broken file."""

from __future__ import annotations

import json
import os
from pathlib import Path
from typing import Any

from wildworld.files import atomic_path
from wildworld.schemas import loads_strict

from .errors import RecognizerError

__all__ = ["write_json", "read_json", "write_bytes"]


def write_json(path: str | os.PathLike[str], data: Any) -> None:
    """Write ``data`` as indented JSON, atomically (NaN and Infinity refused)."""
    text = json.dumps(data, indent=1, sort_keys=True, allow_nan=False) + "\n"
    with atomic_path(path) as tmp:
        tmp.write_text(text, encoding="utf-8")


def write_bytes(path: str | os.PathLike[str], data: bytes) -> None:
    with atomic_path(path) as tmp:
        tmp.write_bytes(data)


def read_json(path: str | os.PathLike[str], *, what: str) -> Any:
    """Read a JSON file of a model directory; a missing or broken file is one clear error."""
    path = Path(path)
    try:
        return loads_strict(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise RecognizerError(f"{path}: no {what} here (is this a model directory written by "
                              "`wildbench recognizer train`?)") from None
    except IsADirectoryError:
        raise RecognizerError(f"{path}: is a directory, expected the {what} (a JSON file)") from None
    except (ValueError, UnicodeDecodeError, RecursionError) as exc:
        raise RecognizerError(f"{path}: the {what} is not valid JSON ({exc})") from None
