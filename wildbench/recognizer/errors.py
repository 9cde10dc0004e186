"""The recognizer's one error type (a ``WildBenchError``: the CLI prints it as one line)."""

from __future__ import annotations

from ..errors import WildBenchError

__all__ = ["RecognizerError"]


class RecognizerError(WildBenchError):
    """A recognizer cannot be trained, loaded or applied as asked (the message says why)."""
