"""``download()``: the whole download pipeline, one stage per line."""

from __future__ import annotations

import contextlib
import os
from dataclasses import dataclass
from pathlib import Path
from typing import Iterator

from .. import layout
from ..errors import WildWorldError
from ..findings import ValidationReport
from ..validate import validate_sample
from ._events import ProgressCallback, ProgressEvent
from .plan import DownloadPlan, LocalFile, Selection, inspect_local, plan_download
from .sources import Source
from .transfer import FileResult, TransferOptions, fetch_all

__all__ = ["DownloadReport", "download", "validate_downloaded", "LOCK_FILE"]

#: Held (flock) in DEST while a download writes there; removed afterwards.
LOCK_FILE = ".wildworld-download.lock"


@contextlib.contextmanager
def dest_lock(dest: Path) -> Iterator[None]:
    """One download at a time per DEST: two writing the same partial files would corrupt them.
    (Advisory, POSIX only: where ``fcntl`` is missing, nothing is locked.)"""
    try:
        import fcntl
    except ImportError:  # Windows
        yield
        return
    dest.mkdir(parents=True, exist_ok=True)
    path = dest / LOCK_FILE
    handle = open(path, "a+b")
    try:
        try:
            fcntl.flock(handle.fileno(), fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            raise WildWorldError(f"{dest}: another download is writing here (it holds {path}); "
                                 "wait for it to finish or choose another --dest") from None
        try:
            yield
        finally:
            path.unlink(missing_ok=True)
            fcntl.flock(handle.fileno(), fcntl.LOCK_UN)
    finally:
        handle.close()


@dataclass(frozen=True)
class DownloadReport:
    """The plan, what DEST held before, what happened to each file, and the validation."""

    dest: str
    plan: DownloadPlan
    local: tuple[LocalFile, ...]  # DEST before the run
    files: tuple[FileResult, ...] = ()  # empty for a dry run
    validation: ValidationReport | None = None
    dry_run: bool = False

    @property
    def failed(self) -> tuple[FileResult, ...]:
        return tuple(f for f in self.files if f.status == "failed")

    @property
    def to_fetch_bytes(self) -> int:
        return sum(item.to_fetch for item in self.local)

    @property
    def transferred_bytes(self) -> int:
        return sum(f.transferred for f in self.files)

    @property
    def ok(self) -> bool:
        """No file failed and (when validated) every fetched sample is valid."""
        return not self.failed and (self.validation is None or self.validation.ok)

    def to_dict(self) -> dict:
        return {
            "dest": self.dest,
            "dry_run": self.dry_run,
            "ok": self.ok,
            "plan": self.plan.to_dict(),
            "local": [item.to_dict() for item in self.local],
            "to_fetch_bytes": self.to_fetch_bytes,
            "files": [f.to_dict() for f in self.files],
            "transferred_bytes": self.transferred_bytes,
            "validation": None if self.validation is None else self.validation.to_dict(),
        }


def download(
    source: Source,
    dest: str | os.PathLike[str],
    *,
    selection: Selection = Selection(),
    options: TransferOptions = TransferOptions(),
    dry_run: bool = False,
    validate: bool = True,
    decode_ends: bool = True,
    progress: ProgressCallback | None = None,
) -> DownloadReport:
    """Fetch the selected parts, samples and streams of ``source`` into ``dest``.

    A dry run lists and plans only: nothing is written, DEST is not even created. Otherwise
    files are fetched (resumable, verified, renamed only when complete) and, unless
    ``validate=False``, every sample whose files all arrived is validated.
    """
    dest = Path(dest)
    listing = source.list_files(parts=selection.parts)  # names, sizes, checksums
    plan = plan_download(listing, selection, source=source.name)  # refuses unsafe names; picks files
    local = inspect_local(plan, dest)  # what DEST already holds (read only)
    if dry_run:
        return DownloadReport(str(dest), plan, local, dry_run=True)
    if progress is not None:
        progress(ProgressEvent("plan", total=plan.total_bytes, completed=sum(item.have for item in local)))
    with dest_lock(dest):  # one download at a time per DEST
        results = fetch_all(source, plan.files, dest, options=options, progress=progress)  # resumable, verified
        report = validate_downloaded(dest, plan, results, decode_ends=decode_ends) if validate else None
    return DownloadReport(str(dest), plan, local, results, report)


def validate_downloaded(
    dest: str | os.PathLike[str], plan: DownloadPlan, results: tuple[FileResult, ...], *, decode_ends: bool = True
) -> ValidationReport:
    """Validate every planned sample whose files all arrived; streams not selected are not missing."""
    dest = Path(dest)
    failed = {r.path for r in results if r.status == "failed"}
    skipped = {layout.STREAM_FILES[s] for s in layout.STREAM_FILES if s not in plan.selection.streams}
    findings = []
    checked = 0
    for sample in plan.samples:
        part = sample.split("/")[0]
        if any(path == f"{part}/{layout.EDGES_FILE}" or path.startswith(f"{sample}/") for path in failed):
            continue  # its failure is already reported
        report = validate_sample(dest / sample, decode_ends=decode_ends)
        checked += 1
        findings.extend(
            f for f in report.findings
            if not (f.code == "missing-file" and Path(f.path).name in skipped and Path(f.path).parent == dest / sample)
        )
    return ValidationReport(target=str(dest), kind="download", findings=findings, samples=checked)
