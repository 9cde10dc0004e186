"""One exception family for the library.

Every error says what was found, what was expected and, where it helps, how to fix it, and
names the file and the row, column or key involved. Built-in bases are kept where natural so
callers can also catch ``FileNotFoundError`` or ``ValueError``.
"""

from __future__ import annotations

__all__ = [
    "WildWorldError",
    "MissingFileError",
    "FormatError",
    "SchemaVersionError",
    "OptionError",
]


class WildWorldError(Exception):
    """Base class of every error raised on purpose by ``wildworld``."""


class MissingFileError(WildWorldError, FileNotFoundError):
    """A file the format requires is not there."""


class FormatError(WildWorldError, ValueError):
    """A file exists but its content does not follow the format.

    ``path``, ``row`` (1-based data row, header excluded), ``column`` and ``key`` locate the
    problem when known; ``str(error)`` is a complete one-line message.
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
        where = []
        if self.path is not None:
            where.append(self.path)
        if row is not None:
            where.append(f"row {row}")
        if column is not None:
            where.append(f"column {column!r}")
        if key is not None:
            where.append(f"key {key!r}")
        self.reason = message
        super().__init__(f"{', '.join(where)}: {message}" if where else message)


class SchemaVersionError(WildWorldError):
    """A file was written with a schema version this code cannot read."""


class OptionError(WildWorldError, ValueError):
    """An argument is outside its allowed values."""
