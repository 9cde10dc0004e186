"""One exception family for the library.

Every error says what was found, what was expected and, where it helps, how to fix it, and
names the file and the row, column or key involved. Built-in bases are kept where natural so
callers can also catch ``FileNotFoundError`` or ``ValueError``. The CLI prints any of them as
one line and exits 2.

Rows are stated one way everywhere (errors, validation findings, messages): **row N is the
0-based frame index N**, i.e. the N-th data row of a ``state.csv`` with the header not
counted (row 0 is the file's second line), or row N of a store's frame axis.
"""

from __future__ import annotations

__all__ = [
    "WildWorldError",
    "MissingFileError",
    "FormatError",
    "SchemaVersionError",
    "OptionError",
    "ConversionError",
    "NotADatasetError",
    "describe_location",
]


class WildWorldError(Exception):
    """Base class of every error raised on purpose by ``wildworld``."""


class MissingFileError(WildWorldError, FileNotFoundError):
    """A file the format requires is not there."""


class FormatError(WildWorldError, ValueError):
    """A file exists but its content does not follow the format.

    ``path``, ``row`` (0-based frame index, see the module docstring), ``column`` and ``key``
    locate the problem when known; ``str(error)`` is a complete one-line message.
    """

    def __init__(
        self,
        message: str,
        *,
        path: object = None,
        row: int | None = None,
        column: str | None = None,
        key: str | None = None,
    ) -> None:
        self.path = None if path is None else str(path)
        self.row = row
        self.column = column
        self.key = key
        where = ([] if self.path is None else [self.path]) + describe_location(row=row, column=column, key=key)
        self.reason = message
        super().__init__(f"{', '.join(where)}: {message}" if where else message)


class SchemaVersionError(WildWorldError):
    """A file was written with a schema version this code cannot read."""


class OptionError(WildWorldError, ValueError):
    """An argument is outside its allowed values."""


class ConversionError(WildWorldError):
    """Conversion cannot proceed (bad samples under ``strict``, samples that disagree on a
    column's width, values the store cannot hold, conflicting options...)."""


class NotADatasetError(WildWorldError):
    """A path holds nothing this library recognises (see :func:`wildworld.classify_path`)."""


def describe_location(*, row: int | None = None, column: str | None = None, key: str | None = None) -> list[str]:
    """``["row 5", "column 'camera.K'", "key 'n0_1'"]`` for the parts that are known."""
    parts = []
    if row is not None:
        parts.append(f"row {row}")
    if column is not None:
        parts.append(f"column {column!r}")
    if key is not None:
        parts.append(f"key {key!r}")
    return parts
