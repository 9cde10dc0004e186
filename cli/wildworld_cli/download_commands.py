"""``wildworld download`` and ``wildworld checksum`` (registered onto the main app).

Thin: parse options, make one library call (:func:`wildworld.download.download`,
:func:`~wildworld.download.make_checksum_manifest`, :func:`~wildworld.download.verify_manifest`),
render the result with rich. The hub token is read here (``--token`` or ``HF_TOKEN``) and
handed to the library; it is never printed.
"""

from __future__ import annotations

import os
import threading
from pathlib import Path
from typing import List, Optional

import typer
from rich.filesize import decimal
from rich.markup import escape
from rich.progress import (
    BarColumn,
    DownloadColumn,
    Progress,
    TaskID,
    TextColumn,
    TimeRemainingColumn,
    TransferSpeedColumn,
)

from ._common import EXIT_OK, EXIT_PROBLEMS, console, err_console, fail, friendly, print_json

__all__ = ["register"]

_MAX_FILE_BARS = 8  # per-file bars shown at once; the overall bar always shows


def _byte_bars() -> Progress:
    """Bytes, rate and ETA (stderr)."""
    return Progress(
        TextColumn("[progress.description]{task.description}"),
        BarColumn(),
        DownloadColumn(),
        TransferSpeedColumn(),
        TimeRemainingColumn(),
        console=err_console,
        transient=False,
    )


class _Bars:
    """Turns library progress events into one overall bar and a bar per active file.

    The display starts with the first event (an error before it prints nothing but itself).
    """

    def __init__(self, label: str) -> None:
        self.progress, self.label = _byte_bars(), label
        self.overall: TaskID | None = None
        self.files: dict[str, TaskID] = {}
        self.lock = threading.Lock()

    def __enter__(self) -> "_Bars":
        return self

    def __exit__(self, *exc: object) -> None:
        self.progress.stop()

    def __call__(self, event) -> None:
        bars = self.progress
        if event.kind == "plan":
            bars.start()
            self.overall = bars.add_task(self.label, total=event.total, completed=event.completed)
        elif event.kind == "start":
            with self.lock:
                if len(self.files) < _MAX_FILE_BARS:
                    name = event.path if len(event.path) <= 40 else "…" + event.path[-39:]
                    self.files[event.path] = bars.add_task(f"  {escape(name)}", total=event.total, completed=event.completed)
        elif event.kind == "advance":
            task = self.files.get(event.path)
            if task is not None:
                bars.advance(task, event.advance)
            if self.overall is not None:
                bars.advance(self.overall, event.advance)
        elif event.kind == "retry":
            bars.console.print(f"[yellow]retry[/] {escape(str(event.path))}: {escape(str(event.message))}", highlight=False)
        elif event.kind == "finish":
            with self.lock:
                task = self.files.pop(event.path, None)
            if task is not None:
                bars.remove_task(task)


def _split(values: Optional[List[str]]) -> Optional[tuple[str, ...]]:
    """``--samples a,b --samples c`` -> ("a", "b", "c")."""
    if not values:
        return None
    return tuple(item.strip() for value in values for item in value.split(",") if item.strip())


def _render_dry_run(report) -> None:
    for item in report.local:
        state = {"present": "[green]present[/]", "partial": f"[yellow]partial {decimal(item.have)}[/]"}.get(item.state, item.state)
        console.print(f"{decimal(item.size):>10}  {state:<9}  {escape(str(item.path))}", highlight=False)
    plan = report.plan
    console.print(
        f"{len(plan.files)} files of {len(plan.samples)} samples, {decimal(plan.total_bytes)} in all; "
        f"{decimal(report.to_fetch_bytes)} to fetch into {escape(str(report.dest))} (dry run: nothing written)",
        highlight=False,
    )


def _render_result(report) -> None:
    from ._render import validation_table

    counts = {status: sum(1 for f in report.files if f.status == status) for status in ("downloaded", "present", "failed")}
    for result in report.failed:
        console.print(f"[red]failed[/] {escape(str(result.path))}: {escape(str(result.error))}", highlight=False)
    console.print(
        f"{counts['downloaded']} downloaded ({decimal(report.transferred_bytes)}), {counts['present']} already present, "
        f"{counts['failed']} failed -> {escape(str(report.dest))}",
        highlight=False,
    )
    if report.validation is not None:
        console.print(validation_table(report.validation))


def download(
    dest: Path = typer.Option(..., "--dest", help="Directory to download into (created if needed); data_part<N>/ go inside."),
    repo: Optional[str] = typer.Option(None, "--repo", help="Hub dataset repo (default AlayaLab/WildWorld)."),
    revision: Optional[str] = typer.Option(None, "--revision", help="Hub branch, tag or commit (default main)."),
    part: Optional[List[int]] = typer.Option(None, "--part", min=1, help="Part number, repeatable (default: every part)."),
    samples: Optional[List[str]] = typer.Option(None, "--samples", help="Sample ids, comma-separated or repeated."),
    limit: Optional[int] = typer.Option(None, "--limit", min=1, help="Only the first N samples (by part and id)."),
    streams: str = typer.Option("rgb,depth,state,skeleton", "--streams", help="Streams to fetch, comma-separated."),
    source: Optional[str] = typer.Option(None, "--source", help="A mirror instead of the hub: any fsspec URL or path serving checksums.json."),
    endpoint: Optional[str] = typer.Option(None, "--endpoint", help="Another hub endpoint, e.g. a mirror of the hub (default: huggingface_hub's, HF_ENDPOINT)."),
    token: Optional[str] = typer.Option(
        None, "--token", show_default=False,
        help="Hugging Face token for the gated dataset (default: $HF_TOKEN, then the one saved by `hf auth login`). Never printed.",
    ),
    jobs: int = typer.Option(4, "--jobs", min=1, max=64, help="Parallel transfers."),
    dry_run: bool = typer.Option(False, "--dry-run", help="List what would be fetched and its size; write nothing."),
    validate: bool = typer.Option(True, "--validate/--no-validate", help="Validate the fetched samples afterwards."),
    recheck: bool = typer.Option(False, "--recheck", help="Re-hash files already complete in DEST instead of trusting their size."),
    json_output: bool = typer.Option(False, "--json", help="Print the plan and results as JSON."),
) -> None:
    """Fetch the release (or some parts, samples, streams) from the hub or a mirror: resumable and verified.

    Examples:

      wildworld download --dest data --part 1 --limit 4 --dry-run

      wildworld download --dest data --source /mnt/mirror --streams state,skeleton
    """
    from wildworld.download import HubSource, MirrorSource, Selection, TransferOptions
    from wildworld.download import download as run_download
    from wildworld.download.sources import DEFAULT_REPO

    if source is not None:
        hub_only = [name for name, value in (("--repo", repo), ("--revision", revision), ("--endpoint", endpoint), ("--token", token)) if value]
        if hub_only:
            raise fail(f"{hub_only[0]} is for the hub; a mirror (--source) serves one copy and needs no token")
        origin = MirrorSource(source)
    else:
        token = token or os.environ.get("HF_TOKEN") or None  # None: huggingface_hub's own lookup
        origin = HubSource(repo_id=repo or DEFAULT_REPO, revision=revision, token=token, endpoint=endpoint)
    selection = Selection(
        parts=tuple(part) if part else None,
        samples=_split(samples),
        limit=limit,
        streams=_split([streams]) or (),
    )
    options = TransferOptions(jobs=jobs, recheck=recheck)
    with _Bars("total") as bars:
        report = run_download(
            origin, dest, selection=selection, options=options, dry_run=dry_run, validate=validate,
            progress=None if json_output else bars,
        )
    if json_output:
        print_json(report.to_dict())
    elif dry_run:
        _render_dry_run(report)
    else:
        _render_result(report)
    for path in report.plan.missing:
        err_console.print(f"[yellow]warning:[/] {escape(str(path))}: selected but not on {escape(str(report.plan.source))}", highlight=False)
    raise typer.Exit(EXIT_OK if report.ok else EXIT_PROBLEMS)


def checksum(
    directory: Path = typer.Argument(..., help="The release root (the directory that holds data_part<N>/)."),
    verify: bool = typer.Option(False, "--verify", help="Check the files against an existing manifest instead of writing one."),
    output: Optional[Path] = typer.Option(None, "--output", "-o", help="Manifest path (default DIR/checksums.json)."),
    jobs: int = typer.Option(4, "--jobs", min=1, max=64, help="Files hashed in parallel."),
    json_output: bool = typer.Option(False, "--json", help="Print the result as JSON."),
) -> None:
    """Write DIR/checksums.json (sizes and sha256 of every file) for a mirror, or --verify against it.

    Examples:

      wildworld checksum data

      wildworld checksum data --verify --json
    """
    from wildworld.download import MANIFEST_NAME, make_checksum_manifest, read_manifest, verify_manifest

    if not directory.is_dir():
        raise fail(f"{directory}: no such directory")
    with _Bars("verifying" if verify else "hashing") as bars:
        callback = None if json_output else bars
        if verify:
            manifest = read_manifest(output or directory / MANIFEST_NAME)
            problems = verify_manifest(directory, manifest, jobs=jobs, progress=callback)
        else:
            manifest, written = make_checksum_manifest(directory, output=output, jobs=jobs, progress=callback)
    if verify:
        if json_output:
            print_json({"valid": not problems, "files": len(manifest.files), "problems": [p.to_dict() for p in problems]})
        else:
            for problem in problems:
                console.print(f"[red]{escape(str(problem.problem))}[/] {escape(str(problem))}", highlight=False)
            console.print(f"{len(manifest.files)} files checked, {len(problems)} problems", highlight=False)
        raise typer.Exit(EXIT_PROBLEMS if problems else EXIT_OK)
    if json_output:
        print_json({"manifest": str(written), "files": len(manifest.files), "bytes": manifest.total_bytes})
    else:
        console.print(f"wrote {escape(str(written))}: {len(manifest.files)} files, {decimal(manifest.total_bytes)}", highlight=False)


def register(app: typer.Typer) -> None:
    """Add the download commands to ``app``."""
    app.command("download")(friendly(download))
    app.command("checksum")(friendly(checksum))
