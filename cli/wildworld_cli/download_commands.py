"""``wildworld download`` and ``wildworld checksum`` (registered onto the main app)."""

from __future__ import annotations

import typer


def register(app: typer.Typer) -> None:
    """Add the download commands to ``app``."""
