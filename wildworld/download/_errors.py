"""Errors of the download package (all subclass :class:`wildworld.errors.WildWorldError`)."""

from __future__ import annotations

from ..errors import WildWorldError

__all__ = ["AccessError", "SourceError", "UnsafePathError", "TransferError"]


class AccessError(WildWorldError, PermissionError):
    """The source refused us (HTTP 401/403, a gated dataset whose licence is not accepted)."""


class SourceError(WildWorldError, OSError):
    """The source cannot be listed or read: unreachable, not found, no checksum manifest."""


class UnsafePathError(WildWorldError, ValueError):
    """A remote name would land outside the destination (``..``, absolute, backslash)."""


class TransferError(WildWorldError, OSError):
    """One file could not be transferred (after retries); the partial file is kept to resume."""
