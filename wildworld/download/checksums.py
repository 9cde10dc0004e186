"""Checksum manifests: how a mirror says what it serves (sizes and sha256), and how to make one.

A mirror (any fsspec URL with the release layout) serves ``checksums.json`` at its root::

    {"format": "wildworld-checksums", "format_version": "1.0", "algorithm": "sha256",
     "created_by": "wildworld 0.1.0",
     "files": [{"path": "data_part1/000000/rgb.mp4", "size": 365340, "sha256": "9f2c..."}, ...]}

Paths are relative to the mirror root, ``/``-separated, sorted, unique. The JSON Schema is
``schemas/checksums.schema.json``; docs/download.md describes the format.
"""

from __future__ import annotations

import json
import os
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path
from typing import Iterable, Literal

from .. import layout
from ..errors import FormatError, MissingFileError, OptionError, WildWorldError
from ..files import TEMP_MARK, atomic_path, sha256_file
from ..schemas import check_version, validate_document
from ..version import __version__
from ._events import ProgressCallback, ProgressEvent
from .plan import check_remote_name

__all__ = [
    "MANIFEST_NAME",
    "FORMAT",
    "FORMAT_VERSION",
    "ChecksumEntry",
    "ChecksumManifest",
    "ChecksumProblem",
    "parse_manifest",
    "read_manifest",
    "write_manifest",
    "make_checksum_manifest",
    "verify_manifest",
]

#: File name of the manifest at the root of a mirror (or of any release copy).
MANIFEST_NAME = "checksums.json"
FORMAT = "wildworld-checksums"
#: Version this code writes; it reads any 1.x (unknown extra keys are ignored).
FORMAT_VERSION = "1.0"


@dataclass(frozen=True)
class ChecksumEntry:
    path: str
    size: int
    sha256: str

    def to_dict(self) -> dict:
        return {"path": self.path, "size": self.size, "sha256": self.sha256}


@dataclass(frozen=True)
class ChecksumManifest:
    """Sizes and sha256 of every file of a release copy, keyed by relative path."""

    files: tuple[ChecksumEntry, ...]
    created_by: str = ""

    def __post_init__(self) -> None:
        seen: set[str] = set()
        for entry in self.files:
            if entry.path in seen:
                raise FormatError("the same path is listed twice", key=entry.path)
            seen.add(entry.path)
        object.__setattr__(self, "_index", {entry.path: entry for entry in self.files})

    def get(self, path: str) -> ChecksumEntry | None:
        return self._index.get(path)  # type: ignore[attr-defined]

    @property
    def total_bytes(self) -> int:
        return sum(entry.size for entry in self.files)

    def to_dict(self) -> dict:
        return {
            "format": FORMAT,
            "format_version": FORMAT_VERSION,
            "algorithm": "sha256",
            "created_by": self.created_by,
            "files": [entry.to_dict() for entry in sorted(self.files, key=lambda e: e.path)],
        }

    @classmethod
    def from_dict(cls, doc: object, *, where: str) -> "ChecksumManifest":
        """Check a parsed manifest (safety of names first, then version, then the schema)."""
        if not isinstance(doc, dict) or doc.get("format") != FORMAT:
            raise FormatError(f"not a {FORMAT} manifest (its 'format' key must be {FORMAT!r})", path=where)
        for entry in doc.get("files") or ():
            if isinstance(entry, dict) and "path" in entry:
                check_remote_name(entry["path"], source=where)
        check_version(doc.get("format_version", "?"), what=f"checksum manifest {where}")
        validate_document(doc, "checksums", path=where)
        files = tuple(ChecksumEntry(e["path"], e["size"], e["sha256"]) for e in doc["files"])
        return cls(files=files, created_by=doc.get("created_by", ""))


def parse_manifest(data: bytes | str, *, where: str) -> ChecksumManifest:
    """Parse manifest bytes (as read from a mirror); ``where`` names it in errors."""
    try:
        doc = json.loads(data)
    except (json.JSONDecodeError, UnicodeDecodeError) as exc:
        raise FormatError(f"not valid JSON ({exc})", path=where) from None
    return ChecksumManifest.from_dict(doc, where=where)


def read_manifest(path: str | os.PathLike[str]) -> ChecksumManifest:
    path = Path(path)
    try:
        data = path.read_bytes()
    except FileNotFoundError:
        raise MissingFileError(f"{path}: no checksum manifest (make one with `wildworld checksum DIR`)") from None
    return parse_manifest(data, where=str(path))


def write_manifest(manifest: ChecksumManifest, path: str | os.PathLike[str]) -> Path:
    """Write atomically (a reader never sees half a manifest)."""
    path = Path(path)
    doc = manifest.to_dict()
    validate_document(doc, "checksums", path=path)
    with atomic_path(path, durable=True) as tmp:
        tmp.write_text(json.dumps(doc, indent=1) + "\n", encoding="utf-8")
    return path


def _tree(root: Path, skip: Iterable[Path]) -> list[tuple[str, int]]:
    """Regular files under ``root`` (relative, sorted), without hidden entries or temp files."""
    skip = {p.resolve() for p in skip}
    out = []
    for directory, dirs, files in os.walk(root):
        dirs[:] = sorted(d for d in dirs if not d.startswith("."))
        for name in files:
            if name.startswith(".") or TEMP_MARK in name:
                continue
            full = Path(directory) / name
            if full.resolve() in skip or not full.is_file():
                continue
            out.append((full.relative_to(root).as_posix(), full.stat().st_size))
    return sorted(out)


def _root(directory: str | os.PathLike[str]) -> Path:
    root = Path(directory)
    if not root.exists():
        raise MissingFileError(f"{root}: no such directory")
    if not root.is_dir():
        raise WildWorldError(f"{root}: expected the directory that holds data_part<N>/")
    return root


def make_checksum_manifest(
    directory: str | os.PathLike[str],
    *,
    output: str | os.PathLike[str] | None = None,
    jobs: int = 1,
    created_by: str | None = None,
    progress: ProgressCallback | None = None,
) -> tuple[ChecksumManifest, Path]:
    """Hash every file under ``directory`` and write ``checksums.json`` (default: at its root).

    ``directory`` is the release root, the one that holds ``data_part<N>/``, so that the paths
    in the manifest are those a mirror serving it lists. Hidden entries and unfinished
    temporary files are left out, and so is the manifest itself.
    """
    if jobs < 1:
        raise OptionError(f"jobs: {jobs!r} must be at least 1")
    root = _root(directory)
    if layout.PART_DIR_PATTERN.match(root.resolve().name):
        raise WildWorldError(
            f"{root}: this is a part directory; run the checksum on its parent (the directory that holds "
            f"{root.resolve().name}/) so the manifest's paths match the release layout"
        )
    target = Path(output) if output is not None else root / MANIFEST_NAME
    tree = _tree(root, skip=[target])
    if progress is not None:
        progress(ProgressEvent("plan", total=sum(size for _, size in tree)))

    def one(item: tuple[str, int]) -> ChecksumEntry:
        relative, size = item
        report = (lambda n: progress(ProgressEvent("advance", path=relative, advance=n))) if progress else None
        digest = sha256_file(root / relative, on_bytes=report)
        return ChecksumEntry(relative, size, digest)

    with ThreadPoolExecutor(max_workers=jobs, thread_name_prefix="wildworld-checksum") as pool:
        entries = tuple(pool.map(one, tree))
    manifest = ChecksumManifest(files=entries, created_by=created_by or f"wildworld {__version__}")
    return manifest, write_manifest(manifest, target)


@dataclass(frozen=True)
class ChecksumProblem:
    path: str
    problem: Literal["missing", "size", "sha256"]
    expected: str
    found: str

    def __str__(self) -> str:
        if self.problem == "missing":
            return f"{self.path}: missing"
        return f"{self.path}: {self.problem} is {self.found}, the manifest says {self.expected}"

    def to_dict(self) -> dict:
        return {"path": self.path, "problem": self.problem, "expected": self.expected, "found": self.found}


def verify_manifest(
    directory: str | os.PathLike[str],
    manifest: ChecksumManifest | None = None,
    *,
    jobs: int = 1,
    progress: ProgressCallback | None = None,
) -> tuple[ChecksumProblem, ...]:
    """Check every file a manifest lists (default: ``directory/checksums.json``); no problems: ()."""
    if jobs < 1:
        raise OptionError(f"jobs: {jobs!r} must be at least 1")
    root = _root(directory)
    manifest = manifest if manifest is not None else read_manifest(root / MANIFEST_NAME)
    if progress is not None:
        progress(ProgressEvent("plan", total=manifest.total_bytes))

    def one(entry: ChecksumEntry) -> ChecksumProblem | None:
        path = root / check_remote_name(entry.path, source=str(root))
        if not path.is_file():
            return ChecksumProblem(entry.path, "missing", str(entry.size), "")
        size = path.stat().st_size
        if size != entry.size:
            return ChecksumProblem(entry.path, "size", str(entry.size), str(size))
        report = (lambda n: progress(ProgressEvent("advance", path=entry.path, advance=n))) if progress else None
        digest = sha256_file(path, on_bytes=report)
        if digest != entry.sha256:
            return ChecksumProblem(entry.path, "sha256", entry.sha256, digest)
        return None

    with ThreadPoolExecutor(max_workers=jobs, thread_name_prefix="wildworld-checksum") as pool:
        found = [p for p in pool.map(one, manifest.files) if p is not None]
    return tuple(found)
