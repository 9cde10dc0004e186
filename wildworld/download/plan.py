"""What to fetch: remote listings, the user's selection, and the plan that joins them.

Everything here is pure: a listing (from the hub or a mirror) and a :class:`Selection` go in,
a :class:`DownloadPlan` comes out. Remote names are checked here, before anything is
written: a name with ``..``, an absolute path, a drive letter or a backslash makes the whole
listing refused, because a source that lists such names cannot be trusted with the rest.
"""

from __future__ import annotations

import os
import re
from dataclasses import dataclass
from pathlib import Path
from typing import Iterable, Literal, Sequence, get_args

from .. import layout
from ..errors import OptionError
from ..files import TEMP_MARK, is_plain_relative
from ._errors import SourceError, UnsafePathError

__all__ = [
    "Stream",
    "STREAMS",
    "Check",
    "RemoteFile",
    "Selection",
    "DownloadPlan",
    "LocalFile",
    "check_remote_name",
    "plan_download",
    "inspect_local",
    "partial_path",
]

Stream = Literal["rgb", "depth", "state", "skeleton"]
#: Every stream of a sample, in release order.
STREAMS: tuple[Stream, ...] = get_args(Stream)
#: How a file is verified: its sha256 (hub LFS metadata or a checksum manifest), the git blob
#: id the hub gives for small non-LFS files, or its size alone when nothing else is known.
Check = Literal["sha256", "git-sha1", "size"]

_HEX64 = re.compile(r"^[0-9a-f]{64}$")
_HEX40 = re.compile(r"^[0-9a-f]{40}$")
_FILE_STREAMS = {name: stream for stream, name in layout.STREAM_FILES.items()}
_PARTIAL_SUFFIX = "partial"


def check_remote_name(name: str, *, source: str) -> str:
    """Return ``name`` if it is a plain relative path; raise :class:`UnsafePathError` if not.

    Refuses empty names and components, ``.`` and ``..``, absolute paths, drive letters,
    backslashes and control characters: whatever a source lists, nothing lands outside DEST.
    """
    if not is_plain_relative(name):
        raise UnsafePathError(
            f"{source}: refusing remote name {name!r}: it is not a plain relative path "
            "(absolute, '..', backslash or empty component); nothing was downloaded from this source"
        )
    return name


@dataclass(frozen=True)
class RemoteFile:
    """One file a source offers: its path in the release layout, size and checksum."""

    path: str
    size: int
    sha256: str | None = None
    git_sha1: str | None = None
    #: Where the source reads it from (hub URL at a pinned commit, or an fsspec path).
    location: str = ""

    def __post_init__(self) -> None:
        if not isinstance(self.size, int) or isinstance(self.size, bool) or self.size < 0:
            raise SourceError(f"{self.path}: remote size {self.size!r} is not a non-negative integer")
        if self.sha256 is not None and not _HEX64.match(self.sha256):
            raise SourceError(f"{self.path}: remote sha256 {self.sha256!r} is not 64 lowercase hex digits")
        if self.git_sha1 is not None and not _HEX40.match(self.git_sha1):
            raise SourceError(f"{self.path}: remote git blob id {self.git_sha1!r} is not 40 hex digits")

    @property
    def check(self) -> Check:
        if self.sha256 is not None:
            return "sha256"
        if self.git_sha1 is not None:
            return "git-sha1"
        return "size"

    def to_dict(self) -> dict:
        return {"path": self.path, "size": self.size, "sha256": self.sha256, "check": self.check}


def _positive_ints(values: Iterable[int] | None, what: str) -> tuple[int, ...] | None:
    if values is None:
        return None
    out = tuple(dict.fromkeys(values))
    for value in out:
        if not isinstance(value, int) or isinstance(value, bool) or value < 1:
            raise OptionError(f"{what}: {value!r} is not a positive integer")
    if not out:
        raise OptionError(f"{what}: an empty list selects nothing; leave it out to select everything")
    return out


@dataclass(frozen=True)
class Selection:
    """Which parts, samples and streams to fetch (``None`` means all).

    ``samples`` (ids) and ``limit`` (the first N samples by part and id) are exclusive.
    ``skeleton_edges.json`` of every part with a selected sample is always included.
    """

    parts: tuple[int, ...] | None = None
    samples: tuple[str, ...] | None = None
    limit: int | None = None
    streams: tuple[Stream, ...] = STREAMS

    def __post_init__(self) -> None:
        object.__setattr__(self, "parts", _positive_ints(self.parts, "parts"))
        if self.samples is not None:
            samples = tuple(dict.fromkeys(self.samples))
            if not samples:
                raise OptionError("samples: an empty list selects nothing; leave it out to select every sample")
            for sample in samples:
                if not isinstance(sample, str) or not sample or "/" in sample or "\\" in sample or sample in (".", ".."):
                    raise OptionError(f"samples: {sample!r} is not a sample id (a directory name such as 000000)")
            object.__setattr__(self, "samples", samples)
        if self.limit is not None:
            if not isinstance(self.limit, int) or isinstance(self.limit, bool) or self.limit < 1:
                raise OptionError(f"limit: {self.limit!r} is not a positive integer")
            if self.samples is not None:
                raise OptionError("select samples by id or by limit, not both")
        streams = tuple(dict.fromkeys(self.streams))
        unknown = [s for s in streams if s not in STREAMS]
        if unknown or not streams:
            found = f"unknown {', '.join(map(repr, unknown))}" if unknown else "none given"
            raise OptionError(f"streams: {found}; expected some of {', '.join(STREAMS)}")
        object.__setattr__(self, "streams", streams)

    def to_dict(self) -> dict:
        return {
            "parts": None if self.parts is None else list(self.parts),
            "samples": None if self.samples is None else list(self.samples),
            "limit": self.limit,
            "streams": list(self.streams),
        }


@dataclass(frozen=True)
class DownloadPlan:
    """The files to fetch, in order, and what the selection asked for that the source lacks."""

    source: str
    selection: Selection
    files: tuple[RemoteFile, ...]
    samples: tuple[str, ...]  # "data_part<N>/<id>" of every selected sample
    missing: tuple[str, ...] = ()  # selected paths the source does not list

    @property
    def total_bytes(self) -> int:
        return sum(f.size for f in self.files)

    def to_dict(self) -> dict:
        return {
            "source": self.source,
            "selection": self.selection.to_dict(),
            "files": [f.to_dict() for f in self.files],
            "samples": list(self.samples),
            "missing": list(self.missing),
            "total_bytes": self.total_bytes,
        }


@dataclass(frozen=True)
class _Entry:
    part: int
    sample: str | None  # None: the part's skeleton_edges.json
    stream: Stream | None
    remote: RemoteFile


def _classify(remote: RemoteFile) -> _Entry | None:
    """Place a remote path in the release layout; ``None`` for files outside it (README ...)."""
    parts = remote.path.split("/")
    match = layout.PART_DIR_PATTERN.match(parts[0])
    if match is None:
        return None
    part = int(match["part"])
    if len(parts) == 2 and parts[1] == layout.EDGES_FILE:
        return _Entry(part, None, None, remote)
    if len(parts) == 3 and parts[2] in _FILE_STREAMS:
        return _Entry(part, parts[1], _FILE_STREAMS[parts[2]], remote)
    return None


def plan_download(listing: Iterable[RemoteFile], selection: Selection, *, source: str) -> DownloadPlan:
    """Choose the files of ``selection`` from a source's ``listing``.

    Raises :class:`UnsafePathError` if any listed name is unsafe, and :class:`SourceError`
    when a requested part or sample is not there (naming what is available).
    """
    files = list(listing)
    for remote in files:
        check_remote_name(remote.path, source=source)
    entries = [e for e in map(_classify, files) if e is not None]
    present_parts = sorted({e.part for e in entries})
    if selection.parts is not None:
        absent = [p for p in selection.parts if p not in present_parts]
        if absent:
            have = ", ".join(map(str, present_parts)) or "none"
            raise SourceError(f"{source}: no data_part{absent[0]} (parts available: {have})")
        entries = [e for e in entries if e.part in selection.parts]

    samples = sorted({(e.part, e.sample) for e in entries if e.sample is not None})
    if selection.samples is not None:
        wanted = set(selection.samples)
        found = {sample for _, sample in samples}
        absent = [s for s in selection.samples if s not in found]
        if absent:
            raise SourceError(
                f"{source}: sample {absent[0]!r} not found"
                + (f" (and {len(absent) - 1} more)" if len(absent) > 1 else "")
                + f" in {_parts_text(selection.parts)}; {len(found)} samples are available"
            )
        samples = [(p, s) for p, s in samples if s in wanted]
    elif selection.limit is not None:
        samples = samples[: selection.limit]

    by_path = {e.remote.path: e for e in entries}
    wanted_paths: list[str] = []
    for part in sorted({p for p, _ in samples}):
        wanted_paths.append(f"data_part{part}/{layout.EDGES_FILE}")
    for part, sample in samples:
        for stream in selection.streams:
            wanted_paths.append(f"data_part{part}/{sample}/{layout.STREAM_FILES[stream]}")
    picked = [by_path[p].remote for p in wanted_paths if p in by_path]
    missing = tuple(p for p in wanted_paths if p not in by_path)
    return DownloadPlan(
        source=source,
        selection=selection,
        files=tuple(picked),
        samples=tuple(f"data_part{p}/{s}" for p, s in samples),
        missing=missing,
    )


def _parts_text(parts: Sequence[int] | None) -> str:
    if parts is None:
        return "any part"
    return ", ".join(f"data_part{p}" for p in parts)


# ----------------------------------------------------------------------------- local state


def partial_path(final: Path) -> Path:
    """The one name a file is written under until it is complete and verified (resumable)."""
    return final.with_name(f"{final.name}{TEMP_MARK}{_PARTIAL_SUFFIX}")


LocalState = Literal["missing", "partial", "present", "different"]


@dataclass(frozen=True)
class LocalFile:
    """What DEST already holds of one planned file (read-only inspection)."""

    path: str
    size: int
    state: LocalState  # present: right size; different: wrong size (will be replaced)
    have: int  # bytes that need not be transferred again

    @property
    def to_fetch(self) -> int:
        return self.size - self.have

    def to_dict(self) -> dict:
        return {"path": self.path, "size": self.size, "state": self.state, "have": self.have}


def inspect_local(plan: DownloadPlan, dest: str | os.PathLike[str]) -> tuple[LocalFile, ...]:
    """Compare DEST with the plan without writing anything (used by dry runs and progress)."""
    root = Path(dest)
    out = []
    for remote in plan.files:
        final = root / remote.path
        partial = partial_path(final)
        if final.is_file() and final.stat().st_size == remote.size:
            out.append(LocalFile(remote.path, remote.size, "present", remote.size))
        elif partial.is_file() and partial.stat().st_size <= remote.size:
            out.append(LocalFile(remote.path, remote.size, "partial", partial.stat().st_size))
        elif final.exists():
            out.append(LocalFile(remote.path, remote.size, "different", 0))
        else:
            out.append(LocalFile(remote.path, remote.size, "missing", 0))
    return tuple(out)
