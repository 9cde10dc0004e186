"""Shared CLI plumbing: one-line errors, JSON output, rich progress bars."""

from __future__ import annotations

import functools
import json
import sys
from typing import Any, Callable, TypeVar

import typer
from rich.console import Console
from rich.markup import escape
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn, TimeRemainingColumn

from wildworld.errors import WildWorldError

F = TypeVar("F", bound=Callable[..., Any])

#: Exit codes shared by every command.
EXIT_OK, EXIT_PROBLEMS, EXIT_USAGE = 0, 1, 2

console = Console(soft_wrap=True)  # messages stay on one line (greppable), tables still fit
err_console = Console(stderr=True, soft_wrap=True)


def fail(message: str, code: int = EXIT_USAGE) -> "typer.Exit":
    """Print one line to stderr and return the Exit to raise (``message`` is plain text, not markup)."""
    err_console.print(f"[bold red]error:[/] {escape(message)}", highlight=False, soft_wrap=True)
    return typer.Exit(code)


def warn(message: str) -> None:
    """Print one warning line to stderr (``message`` is plain text, not markup)."""
    err_console.print(f"[yellow]warning:[/] {escape(message)}", highlight=False, soft_wrap=True)


def friendly(function: F) -> F:
    """Turn library errors (bad input) into one line on stderr and exit code 2, never a traceback."""

    @functools.wraps(function)
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        try:
            return function(*args, **kwargs)
        except WildWorldError as exc:
            raise fail(str(exc)) from None
        except FileNotFoundError as exc:
            raise fail(f"{exc.filename or ''}: {exc.strerror or exc}".lstrip(": ")) from None
        except KeyboardInterrupt:
            raise fail("interrupted; run the same command again to resume", 130) from None

    return wrapper  # type: ignore[return-value]


def print_json(data: Any) -> None:
    sys.stdout.write(json.dumps(data, indent=2, default=str) + "\n")
    sys.stdout.flush()


def progress_bar(*, transient: bool = False) -> Progress:
    """A rich progress bar with count, rate-friendly columns and ETA (stderr)."""
    return Progress(
        TextColumn("[progress.description]{task.description}"),
        BarColumn(),
        MofNCompleteColumn(),
        TimeElapsedColumn(),
        TimeRemainingColumn(),
        console=err_console,
        transient=transient,
    )
