"""Small argument checks shared by the frozen dataclasses and keyword-only APIs."""

from __future__ import annotations

from typing import Any, Iterable

from .errors import OptionError


def check_choice(name: str, value: Any, choices: Iterable[Any]) -> None:
    """Raise ``OptionError`` unless ``value`` is one of ``choices``."""
    allowed = tuple(choices)
    if value not in allowed:
        raise OptionError(f"{name}={value!r} is not allowed; choose one of {', '.join(map(repr, allowed))}")


def check_positive(name: str, value: Any, *, allow_zero: bool = False) -> None:
    """Raise ``OptionError`` unless ``value`` is a positive (or non-negative) integer."""
    if not isinstance(value, int) or isinstance(value, bool) or value < (0 if allow_zero else 1):
        bound = ">= 0" if allow_zero else ">= 1"
        raise OptionError(f"{name}={value!r} must be an integer {bound}")
