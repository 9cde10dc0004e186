"""Fetch planned files into DEST: resumable, verified, atomic, in parallel.

For each file:

1. its destination is ``safe_join(DEST, path)``: a name that would land outside DEST is refused;
2. a finished file of the listed size is kept (``recheck=True`` re-hashes it first);
3. bytes go to ``<name>.wwtmp-partial`` beside it, appended from where a previous run
   stopped, hashed as they arrive; transient failures are retried with back-off, resuming
   from the bytes already written;
4. size and sha256 (or the hub's git blob id) are compared with the listing; on a mismatch
   the partial file is dropped and fetched once more from byte 0, then reported;
5. only a verified file is flushed to disk and renamed to its final name.

A crash or Ctrl-C leaves only ``*.wwtmp-partial`` files, which the next run resumes.
"""

from __future__ import annotations

import hashlib
import io
import os
import threading
from concurrent.futures import ThreadPoolExecutor, as_completed
from dataclasses import dataclass
from pathlib import Path
from typing import Literal, Sequence

from ..errors import OptionError, WildWorldError
from ..files import fsync_dir, safe_join
from ._errors import AccessError, TransferError, UnsafePathError
from ._events import ProgressCallback, ProgressEvent
from .plan import Check, RemoteFile, partial_path
from .sources import Source

__all__ = ["FileStatus", "FileResult", "TransferOptions", "fetch_file", "fetch_all"]

FileStatus = Literal["downloaded", "present", "failed"]
_BLOCK = 1 << 20


@dataclass(frozen=True)
class TransferOptions:
    """How to transfer: parallel files, retries per file, back-off, re-hashing finished files."""

    jobs: int = 4
    retries: int = 3  # failed transfers of one file retried (resuming) before it is reported
    retry_wait: float = 1.0  # seconds before the first retry, doubled each time
    recheck: bool = False  # re-hash files already complete in DEST instead of trusting their size
    durable: bool = True  # fsync each file before its rename

    def __post_init__(self) -> None:
        if not isinstance(self.jobs, int) or self.jobs < 1:
            raise OptionError(f"jobs: {self.jobs!r} must be a positive integer")
        if not isinstance(self.retries, int) or self.retries < 0:
            raise OptionError(f"retries: {self.retries!r} must be a non-negative integer")
        if self.retry_wait < 0:
            raise OptionError(f"retry_wait: {self.retry_wait!r} must not be negative")


@dataclass(frozen=True)
class FileResult:
    """What happened to one file."""

    path: str
    size: int
    status: FileStatus
    check: Check
    transferred: int = 0  # bytes received in this run
    resumed_from: int = 0  # bytes a previous run had left in the partial file
    attempts: int = 0  # transfers started (0 for a file already present)
    error: str | None = None

    @property
    def ok(self) -> bool:
        return self.status != "failed"

    def to_dict(self) -> dict:
        out = {
            "path": self.path,
            "size": self.size,
            "status": self.status,
            "check": self.check,
            "transferred": self.transferred,
            "resumed_from": self.resumed_from,
            "attempts": self.attempts,
        }
        if self.error is not None:
            out["error"] = self.error
        return out


class _Cancelled(Exception):
    """Raised inside a worker when the run is being stopped (Ctrl-C, a fatal error elsewhere)."""


def _hashers(remote: RemoteFile) -> list:
    if remote.sha256 is not None:
        return [hashlib.sha256()]
    if remote.git_sha1 is not None:
        digest = hashlib.sha1()  # noqa: S324 - git's blob id, compared with what the hub lists
        digest.update(b"blob %d\0" % remote.size)
        return [digest]
    return []


class _PartialFile(io.RawIOBase):
    """An append-only sink over the partial file that hashes, counts and caps what it gets.

    ``seek``/``truncate`` backwards (a source restarting a file whose server ignored the
    byte range) cut the file there and re-hash the kept prefix.
    """

    def __init__(self, path: Path, remote: RemoteFile, *, cancel: threading.Event, progress: ProgressCallback | None, durable: bool) -> None:
        super().__init__()
        flags = os.O_WRONLY | os.O_CREAT | os.O_APPEND | getattr(os, "O_NOFOLLOW", 0) | getattr(os, "O_BINARY", 0)
        self._fd = os.open(path, flags, 0o644)
        self._path, self._remote, self._cancel, self._progress, self._durable = path, remote, cancel, progress, durable
        self.position = os.fstat(self._fd).st_size
        self.transferred = 0
        self._digests = _hashers(remote)
        self._rehash()

    def _rehash(self) -> None:
        self._digests = _hashers(self._remote)
        if not self._digests or self.position == 0:
            return
        remaining = self.position
        with open(self._path, "rb") as handle:
            while remaining and (block := handle.read(min(_BLOCK, remaining))):
                for digest in self._digests:
                    digest.update(block)
                remaining -= len(block)

    def writable(self) -> bool:
        return True

    def write(self, data) -> int:  # type: ignore[override]
        if self._cancel.is_set():
            raise _Cancelled()
        view = memoryview(data).cast("B")
        if self.position + len(view) > self._remote.size:
            raise TransferError(
                f"{self._remote.path}: the source sent more than the {self._remote.size} bytes it lists"
            )
        written = 0
        while written < len(view):
            written += os.write(self._fd, view[written:])
        for digest in self._digests:
            digest.update(view)
        self.position += len(view)
        self.transferred += len(view)
        if self._progress is not None:
            self._progress(ProgressEvent("advance", path=self._remote.path, advance=len(view)))
        return len(view)

    def tell(self) -> int:
        return self.position

    def seek(self, offset: int, whence: int = 0) -> int:
        if whence != 0 or offset > self.position or offset < 0:
            raise io.UnsupportedOperation("the partial file is append-only: only seeking back is allowed")
        if offset < self.position:
            self._cut(offset)
        return self.position

    def truncate(self, size: int | None = None) -> int:
        size = self.position if size is None else size
        if size < self.position:
            self._cut(size)
        return self.position

    def _cut(self, size: int) -> None:
        os.ftruncate(self._fd, size)
        lost = self.position - size
        self.position = size
        self.transferred = max(0, self.transferred - lost)
        self._rehash()
        if self._progress is not None:
            self._progress(ProgressEvent("advance", path=self._remote.path, advance=-lost))

    def close(self) -> None:
        if not self.closed:
            try:
                if self._durable:
                    os.fsync(self._fd)
            finally:
                os.close(self._fd)
        super().close()

    def problem(self) -> str | None:
        """Why the bytes received are not the listed file, or ``None`` if they are."""
        remote = self._remote
        if self.position != remote.size:
            return f"size is {self.position} bytes, the source lists {remote.size}"
        if self._digests:
            found = self._digests[0].hexdigest()
            expected = remote.sha256 if remote.sha256 is not None else remote.git_sha1
            if found != expected:
                return f"{remote.check} is {found}, the source lists {expected}"
        return None


def _matches(final: Path, remote: RemoteFile) -> bool:
    """Re-hash a finished file (``recheck``)."""
    digests = _hashers(remote)
    if not digests:
        return final.stat().st_size == remote.size
    with open(final, "rb") as handle:
        while block := handle.read(_BLOCK):
            for digest in digests:
                digest.update(block)
    return digests[0].hexdigest() == (remote.sha256 if remote.sha256 is not None else remote.git_sha1)


def fetch_file(
    source: Source,
    remote: RemoteFile,
    dest: str | os.PathLike[str],
    *,
    options: TransferOptions = TransferOptions(),
    cancel: threading.Event | None = None,
    progress: ProgressCallback | None = None,
) -> FileResult:
    """Fetch one file into ``dest`` (see the module docstring for the guarantees).

    Returns a failed result for a file that cannot be transferred or written (the run goes
    on); raises only what must stop the whole run: :class:`AccessError`, an unsafe name.
    """
    cancel = cancel if cancel is not None else threading.Event()
    try:
        final = safe_join(dest, remote.path)  # whatever the source lists, nothing lands outside DEST
    except WildWorldError as exc:
        raise UnsafePathError(str(exc)) from None
    try:
        return _fetch(source, remote, final, options=options, cancel=cancel, progress=progress)
    except (WildWorldError, _Cancelled):
        raise
    except OSError as exc:  # DEST itself: a directory where a file goes, disk full at the rename...
        if progress is not None:
            progress(ProgressEvent("finish", path=remote.path, total=remote.size, message="failed"))
        return FileResult(remote.path, remote.size, "failed", remote.check, error=f"cannot write {final}: {exc}")


def _fetch(
    source: Source,
    remote: RemoteFile,
    final: Path,
    *,
    options: TransferOptions,
    cancel: threading.Event,
    progress: ProgressCallback | None,
) -> FileResult:
    """The steps of the module docstring for one file whose destination is already safe."""

    def emit(kind, **fields) -> None:
        if progress is not None:
            progress(ProgressEvent(kind, path=remote.path, **fields))

    def result(status: FileStatus, **fields) -> FileResult:
        emit("finish", total=remote.size, message=status)
        return FileResult(remote.path, remote.size, status, remote.check, **fields)

    if final.is_file() and not final.is_symlink() and final.stat().st_size == remote.size:
        if not options.recheck or _matches(final, remote):
            return result("present")
    final.parent.mkdir(parents=True, exist_ok=True)
    partial = partial_path(final)
    if partial.is_symlink() or (partial.is_file() and partial.stat().st_size > remote.size):
        partial.unlink()  # not ours, or not a prefix of this file: start again
    resumed_from = partial.stat().st_size if partial.is_file() else 0
    emit("start", total=remote.size, completed=resumed_from)

    attempts, transferred, problem = 0, 0, None
    for round_ in range(2):  # a checksum mismatch is fetched once more from byte 0, then reported
        with _PartialFile(partial, remote, cancel=cancel, progress=progress, durable=options.durable) as sink:
            failures = 0
            while True:
                attempts += 1
                try:
                    source.read_into(remote, sink, offset=sink.position)
                    if sink.position >= remote.size:
                        break
                    error: BaseException = TransferError(f"the source stopped at byte {sink.position}")
                except (AccessError, UnsafePathError, _Cancelled):
                    transferred += sink.transferred
                    raise
                except Exception as exc:  # noqa: BLE001 - network and server failures are retried
                    error = exc
                failures += 1
                if failures > options.retries:
                    transferred += sink.transferred
                    return result(
                        "failed",
                        transferred=transferred,
                        resumed_from=resumed_from,
                        attempts=attempts,
                        error=(
                            f"interrupted at byte {sink.position} of {remote.size} after {attempts} attempts "
                            f"({type(error).__name__}: {error}); run again to resume"
                        ),
                    )
                emit("retry", message=f"{type(error).__name__}: {error}")
                if cancel.wait(options.retry_wait * 2 ** (failures - 1)):
                    raise _Cancelled()
            transferred += sink.transferred
            problem = sink.problem()
            received = sink.position
        if problem is None:
            os.replace(partial, final)  # complete and verified: only now does it get its name
            if options.durable:
                fsync_dir(final.parent)
            return result("downloaded", transferred=transferred, resumed_from=resumed_from, attempts=attempts)
        partial.unlink()
        emit("advance", advance=-received)
        if round_ == 0:
            emit("retry", message=f"{problem}; fetching it again")
    return result(
        "failed",
        transferred=transferred,
        resumed_from=resumed_from,
        attempts=attempts,
        error=f"corrupt twice: {problem}",
    )


def fetch_all(
    source: Source,
    files: Sequence[RemoteFile],
    dest: str | os.PathLike[str],
    *,
    options: TransferOptions = TransferOptions(),
    progress: ProgressCallback | None = None,
) -> tuple[FileResult, ...]:
    """Fetch ``files`` with ``options.jobs`` parallel transfers; results in the order of ``files``.

    An :class:`AccessError` (or Ctrl-C) stops every transfer, keeping their partial files.
    """
    Path(dest).mkdir(parents=True, exist_ok=True)
    cancel = threading.Event()
    results: dict[str, FileResult] = {}
    pool = ThreadPoolExecutor(max_workers=options.jobs, thread_name_prefix="wildworld-download")
    try:
        futures = {
            pool.submit(fetch_file, source, remote, dest, options=options, cancel=cancel, progress=progress): remote.path
            for remote in files
        }
        for future in as_completed(futures):
            results[futures[future]] = future.result()
    except BaseException:
        cancel.set()
        pool.shutdown(wait=True, cancel_futures=True)
        raise
    pool.shutdown(wait=True)
    return tuple(results[remote.path] for remote in files)
