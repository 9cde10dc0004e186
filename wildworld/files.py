"""Files on disk: atomic writes, safe joins, checksums. A crash never leaves a file that looks
complete, and no path from a file or a server lands outside its destination.

    with atomic_path(out / "split.json") as tmp:   # write tmp; renamed over the target on success
        tmp.write_text(text)
    safe_join(dest, "data_part1/000000/rgb.mp4")    # refuses "..", absolute paths, backslashes
    sha256_file(path)                               # hex digest, read in 1 MiB blocks
    publish_directory(out, build, same=..., force=False, refuse=...)  # a whole directory, or nothing

Every module that writes or hashes a file uses these (one implementation each).
"""

from __future__ import annotations

import contextlib
import filecmp
import hashlib
import os
import shutil
import uuid
from pathlib import Path
from typing import Callable, Iterator, Literal

from .errors import WildWorldError

__all__ = ["TEMP_MARK", "atomic_path", "temp_name", "is_plain_relative", "safe_join", "fsync_dir", "sha256_file",
           "publish_directory", "same_tree"]

#: Bytes read per block when hashing.
_BLOCK = 1 << 20

#: Marker inside temporary names; anything carrying it is never a finished file.
TEMP_MARK = ".wwtmp-"


def temp_name(path: Path) -> Path:
    """A sibling temporary path that cannot be mistaken for the final file."""
    return path.with_name(f"{path.name}{TEMP_MARK}{uuid.uuid4().hex[:12]}")


def fsync_dir(directory: Path) -> None:
    """Flush a directory entry (after a rename) where the platform allows it."""
    try:
        fd = os.open(directory, os.O_RDONLY)
    except OSError:  # pragma: no cover - e.g. Windows
        return
    try:
        os.fsync(fd)
    except OSError:  # pragma: no cover
        pass
    finally:
        os.close(fd)


@contextlib.contextmanager
def atomic_path(path: str | os.PathLike[str], *, durable: bool = False) -> Iterator[Path]:
    """Yield a temporary path next to ``path``; rename it over ``path`` only on success.

    The caller writes the temporary file (or directory) completely inside the ``with`` block.
    On an exception the temporary file is removed and ``path`` is untouched.
    """
    final = Path(path)
    final.parent.mkdir(parents=True, exist_ok=True)
    tmp = temp_name(final)
    try:
        yield tmp
        if durable and tmp.is_file():
            with open(tmp, "rb+") as handle:
                os.fsync(handle.fileno())
        os.replace(tmp, final)
        if durable:
            fsync_dir(final.parent)
    except BaseException:
        with contextlib.suppress(FileNotFoundError, IsADirectoryError, NotADirectoryError):
            tmp.unlink()
        if tmp.is_dir():
            shutil.rmtree(tmp, ignore_errors=True)
        raise


def is_plain_relative(name: object) -> bool:
    """Whether ``name`` is a ``/``-separated relative path that stays under whatever it is
    joined to: not empty, not absolute, no drive letter, backslash, control character, or
    empty, ``.`` or ``..`` component."""
    if not isinstance(name, str) or not name:
        return False
    return not (
        name.startswith("/")
        or "\\" in name
        or (len(name) > 1 and name[1] == ":")  # a drive letter
        or any(ord(ch) < 32 for ch in name)
        or any(part in ("", ".", "..") for part in name.split("/"))
    )


def safe_join(root: str | os.PathLike[str], relative: str) -> Path:
    """Join ``relative`` under ``root``, refusing anything that would land outside it: names
    that are not :func:`is_plain_relative`, and links that resolve outside ``root``."""
    if not is_plain_relative(relative):
        raise WildWorldError(f"refusing unsafe relative path {relative!r}: it must stay inside {root}")
    base = Path(root).resolve()
    candidate = (base / relative).resolve()
    if candidate != base and base not in candidate.parents:
        raise WildWorldError(f"refusing path {relative!r}: it resolves outside {root}")
    return base / relative


def sha256_file(path: str | os.PathLike[str], *, on_bytes: Callable[[int], None] | None = None) -> str:
    """Hex sha256 of a file's bytes; ``on_bytes(n)`` is called after each block (progress)."""
    digest = hashlib.sha256()
    with open(path, "rb") as handle:
        while block := handle.read(_BLOCK):
            digest.update(block)
            if on_bytes is not None:
                on_bytes(len(block))
    return digest.hexdigest()


def same_tree(a: str | os.PathLike[str], b: str | os.PathLike[str]) -> bool:
    """Whether two directories hold the same relative file names with the same bytes."""
    def files(root: Path) -> list[str]:
        return sorted(p.relative_to(root).as_posix() for p in root.rglob("*") if p.is_file())

    a, b = Path(a), Path(b)
    names = files(a)
    return names == files(b) and all(filecmp.cmp(a / name, b / name, shallow=False) for name in names)


Published = Literal["written", "unchanged", "replaced"]


def publish_directory(
    path: str | os.PathLike[str],
    build: Callable[[Path], object],
    *,
    same: Callable[[Path, Path], bool],
    force: bool,
    refuse: Callable[[Path], BaseException],
) -> Published:
    """Write a whole directory at ``path``, or nothing.

    ``build(tmp)`` writes the directory completely at a temporary sibling ``tmp``. Where
    ``path`` is new or empty, ``tmp`` is renamed to it (``"written"``). Where it holds a
    directory already, ``same(path, tmp)`` decides: the same content is kept untouched
    (``"unchanged"``: not a byte rewritten); other content is replaced only when ``force``
    (``"replaced"``), else ``refuse(path)`` is raised and ``path`` is left as it was. A
    replacement moves the old directory aside, renames the new one in and then removes the
    old: ``path`` holds the old directory or the new one, never a mix of both (a crash between
    the two renames leaves the old one at a temporary name beside it, ````*.wwtmp-*````).
    On any error the temporary directory is removed.
    """
    final = Path(path)
    final.parent.mkdir(parents=True, exist_ok=True)
    tmp = temp_name(final)
    try:
        build(tmp)
        if not final.exists() or (final.is_dir() and next(final.iterdir(), None) is None):
            os.replace(tmp, final)  # onto an empty directory too (POSIX rename)
            fsync_dir(final.parent)
            return "written"
        if same(final, tmp):
            return "unchanged"
        if not force:
            raise refuse(final)
        aside = temp_name(final)
        os.replace(final, aside)
        try:
            os.replace(tmp, final)
        except BaseException:
            os.replace(aside, final)  # the old directory back where it was
            raise
        fsync_dir(final.parent)
        shutil.rmtree(aside, ignore_errors=True)
        return "replaced"
    finally:
        if tmp.exists():
            shutil.rmtree(tmp, ignore_errors=True)
