"""Shared CLI plumbing: the apps' command class, consoles, one-line errors, JSON output,
rich progress bars."""

from __future__ import annotations

import functools
import json
import os
import sys
from typing import Any, Callable, TypeVar

import typer
from rich.console import Console, ConsoleDimensions
from rich.markup import escape
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn, TimeRemainingColumn
from typer.core import TyperCommand, TyperGroup, TyperOption

from wildworld.errors import WildWorldError

F = TypeVar("F", bound=Callable[..., Any])

#: Exit codes shared by every command.
EXIT_OK, EXIT_PROBLEMS, EXIT_USAGE = 0, 1, 2

#: Columns of output to a file or a pipe: wide enough that no table is ever cut or folded.
UNBOUNDED_WIDTH = 10_000


class _Console(Console):
    """A rich Console that fits a terminal, and never cuts output to a file or a pipe to 80
    columns (rich's width there; ``wildworld stats > log`` keeps every column whole). An
    explicit ``COLUMNS`` still sets the width."""

    @property
    def size(self) -> ConsoleDimensions:
        size = Console.size.fget(self)
        if self._width is None and not self.is_terminal and not os.environ.get("COLUMNS", "").isdigit():
            return ConsoleDimensions(UNBOUNDED_WIDTH, size.height)
        return size

    @size.setter
    def size(self, new_size: tuple[int, int]) -> None:
        Console.size.fset(self, new_size)


console = _Console(soft_wrap=True)  # messages stay on one line (greppable), tables fit a terminal
err_console = _Console(stderr=True, soft_wrap=True)


def _flags_without_placeholder(params: list[Any]) -> list[Any]:
    """Boolean flags take no value: in ``--help`` they show no ``<bool>`` type placeholder."""
    for param in params:
        if isinstance(param, TyperOption) and param.is_flag and param.metavar is None:
            param.metavar = ""  # typer shows the metavar in place of the type
    return params


class Command(TyperCommand):
    """Every command of both apps (see :class:`App`)."""

    def get_params(self, ctx: Any) -> list[Any]:
        return _flags_without_placeholder(super().get_params(ctx))


class Group(TyperGroup):
    """Both apps themselves (see :class:`App`)."""

    def get_params(self, ctx: Any) -> list[Any]:
        return _flags_without_placeholder(super().get_params(ctx))


class App(typer.Typer):
    """``typer.Typer`` whose help shows no ``<bool>`` after flags: one place for both apps
    and every command registered on them."""

    def __init__(self, **kwargs: Any) -> None:
        kwargs.setdefault("cls", Group)
        super().__init__(**kwargs)

    def command(self, *args: Any, cls: type[TyperCommand] | None = None, **kwargs: Any):  # type: ignore[override]
        return super().command(*args, cls=cls or Command, **kwargs)


def fail(message: str, code: int = EXIT_USAGE) -> "typer.Exit":
    """Print one line to stderr and return the Exit to raise (``message`` is plain text, not markup)."""
    err_console.print(f"[bold red]error:[/] {escape(message)}", highlight=False, soft_wrap=True)
    return typer.Exit(code)


def warn(message: str) -> None:
    """Print one warning line to stderr (``message`` is plain text, not markup)."""
    err_console.print(f"[yellow]warning:[/] {escape(message)}", highlight=False, soft_wrap=True)


def _os_error_message(exc: OSError) -> str:
    """``path: strerror`` on one line (for a rename or link, the path written to)."""
    name = exc.filename2 if exc.filename2 is not None else exc.filename  # a rename's or link's target
    name = os.fsdecode(name) if isinstance(name, bytes) else name
    reason = exc.strerror or str(exc)
    return reason if name is None else f"{name}: {reason}"


def friendly(function: F) -> F:
    """Turn library errors (bad input) into one line on stderr and exit code 2, never a traceback."""

    @functools.wraps(function)
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        try:
            return function(*args, **kwargs)
        except WildWorldError as exc:
            raise fail(str(exc)) from None
        except OSError as exc:  # a user's path: missing, a directory, not a directory, no permission...
            if exc.filename is None and not isinstance(exc, FileNotFoundError):
                raise  # not about a path (e.g. a network error): keep the traceback
            raise fail(_os_error_message(exc)) from None
        except KeyboardInterrupt:
            raise fail("interrupted; run the same command again to resume", 130) from None

    return wrapper  # type: ignore[return-value]


def print_json(data: Any) -> None:
    sys.stdout.write(json.dumps(data, indent=2, default=str) + "\n")
    sys.stdout.flush()


class _Progress(Progress):
    def stop(self) -> None:
        if self.tasks:
            return super().stop()
        # nothing was shown (e.g. an error came first): leave no blank line before the error
        self.live.transient = True
        self.live.stop()


def progress_bar(*, transient: bool = False) -> Progress:
    """A rich progress bar with count, rate-friendly columns and ETA (stderr)."""
    return _Progress(
        TextColumn("[progress.description]{task.description}"),
        BarColumn(),
        MofNCompleteColumn(),
        TimeElapsedColumn(),
        TimeRemainingColumn(),
        console=err_console,
        transient=transient,
    )
