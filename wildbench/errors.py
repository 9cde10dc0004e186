"""One exception family for the benchmark library."""

from __future__ import annotations

from wildworld.errors import WildWorldError

__all__ = ["WildBenchError", "SplitError", "SubmissionError"]


class WildBenchError(WildWorldError):
    """Base class of every error raised on purpose by ``wildbench``.

    It derives from ``WildWorldError`` so the command-line front ends treat both alike
    (one line, exit code 2).
    """


class SplitError(WildBenchError):
    """A split (or its answer key) is missing, altered or of another version."""


class SubmissionError(WildBenchError):
    """A submission cannot be evaluated."""
