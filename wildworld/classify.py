"""What a path holds, decided in one place: every command that takes a directory asks here,
so "validate", "info" and every error about the wrong kind of directory agree.

    classify_path("sample_data/data_part1")          # -> "part"
    expect_kind("sample_data/data_part1", "store")   # NotADatasetError: it is a release part ...

| kind         | recognised by                                                              |
|--------------|----------------------------------------------------------------------------|
| `store`      | ``manifest.json`` (a finished conversion)                                  |
| `split`      | ``split.json`` (WildBench split and answer key; also the file itself)      |
| `inputs`     | ``cases.json`` (WildBench conditioning packages)                           |
| `submission` | ``submission.json``, or ``*.mp4`` files that are not sample streams        |
| `sample`     | at least one release stream file (``rgb.mp4``, ``depth.mkv``, ...)         |
| `part`       | sample directories directly inside                                         |
| `root`       | part directories directly inside                                           |

Markers are tested in this order, so a store converted into a part directory is a store.
Anything else raises :class:`~wildworld.errors.NotADatasetError` (a file, an empty directory,
an unfinished conversion...), with a message that says what was found; a missing path raises
:class:`~wildworld.errors.MissingFileError`. The WildBench file names are wildbench's; a test
checks that they agree with the ones here (wildworld never imports wildbench).

Commands that write a directory ask here too, before they write anything:
:func:`check_destination` accepts a new or empty directory or one of the kind being written
(the caller then compares contents), and :func:`enclosing_dataset` finds a release sample or
part, a store or a WildBench directory above a path (nothing is written inside one).
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import Literal, get_args

from . import layout
from .errors import MissingFileError, NotADatasetError, OptionError
from .store import layout as store_layout

__all__ = ["PathKind", "PATH_KINDS", "classify_path", "expect_kind", "describe_kind", "BENCH_MARKERS",
           "check_destination", "enclosing_dataset", "store_inside_part", "kind_of"]

PathKind = Literal["sample", "part", "root", "store", "split", "inputs", "submission"]
PATH_KINDS: tuple[str, ...] = get_args(PathKind)

#: The file that marks each WildBench directory (owned by wildbench.split, .inputs, .submission).
BENCH_MARKERS = {"split": "split.json", "inputs": "cases.json", "submission": "submission.json"}

_NAMES = {
    "sample": "a release sample directory",
    "part": "a release part directory",
    "root": "a data root of release part directories",
    "store": "a converted store",
    "split": "a WildBench split",
    "inputs": "a WildBench inputs directory",
    "submission": "a WildBench submission",
}

# How to get what a command wants from what it was given: (given, wanted) -> the next step.
_NEXT_STEP = {
    ("sample", "store"): "convert it first: wildworld convert {path} STORE",
    ("part", "store"): "convert it first: wildworld convert {path} STORE",
    ("root", "store"): "convert its parts first: wildworld convert {path}/data_part<N> STORE",
    ("store", "split"): "make a split of it first: wildbench split {path} --out SPLIT",
    ("inputs", "split"): "pass the split directory these inputs were written from",
    ("submission", "split"): "pass the split directory with --split and the submission as the argument",
    ("split", "store"): "pass the store the split was made from (its path is in split.json)",
    ("store", "sample"): "pass the release directories it was converted from (under \"source\" in its manifest.json)",
    ("store", "part"): "pass the release directories it was converted from (under \"source\" in its manifest.json)",
    ("part", "sample"): "pass one of its sample directories, e.g. {path}/<sample id>",
}


def describe_kind(kind: str) -> str:
    """``"a release part directory"`` for ``"part"`` (for messages)."""
    return _NAMES.get(kind, kind)


def classify_path(path: str | os.PathLike[str]) -> PathKind:
    """The kind of ``path`` (see the module docstring for the rules)."""
    target = Path(path)
    if not target.exists():
        raise MissingFileError(f"{target}: no such file or directory")
    if target.is_file():
        if target.name == BENCH_MARKERS["split"]:
            return "split"
        raise NotADatasetError(f"{target}: not a directory; {layout.NOT_A_DATASET}")
    if not target.is_dir():
        raise NotADatasetError(f"{target}: not a regular directory; {layout.NOT_A_DATASET}")
    if (target / store_layout.MANIFEST_FILE).is_file():
        return "store"
    for kind in ("split", "inputs", "submission"):
        if (target / BENCH_MARKERS[kind]).is_file():
            return kind  # type: ignore[return-value]
    if (target / store_layout.WORK_DIR).is_dir():  # before the release kinds: its videos/ look like a part
        raise NotADatasetError(f"{target}: not a dataset: an unfinished conversion (no {store_layout.MANIFEST_FILE} yet); "
                               "run `wildworld convert` again with the same arguments to finish it")
    if layout.is_sample_dir(target):
        return "sample"
    if layout.list_sample_dirs(target):
        return "part"
    if layout.list_part_dirs(target):
        return "root"
    children = list(target.iterdir())
    if any(child.suffix == ".mp4" and child.is_file() for child in children):
        return "submission"  # videos without submission.json: `wildbench check` says what is missing
    found = "an empty directory" if not children else "a directory without samples, parts or a store"
    raise NotADatasetError(f"{target}: not a dataset: {found}; {layout.NOT_A_DATASET}")


def kind_of(path: str | os.PathLike[str]) -> PathKind | None:
    """:func:`classify_path`, or ``None`` for a path that is nothing recognisable (missing,
    a file, empty...): for messages that say what a path is when they can."""
    try:
        return classify_path(path)
    except (NotADatasetError, MissingFileError):
        return None


def _check_kinds(kinds) -> None:
    for kind in kinds:
        if kind not in PATH_KINDS:
            raise OptionError(f"unknown path kind {kind!r}; kinds are {', '.join(PATH_KINDS)}")


def store_inside_part(path: str | os.PathLike[str]) -> bool:
    """A store converted into a release part directory (as ``convert`` did before it refused
    to): the directory has the store's manifest and sample directories of its own."""
    target = Path(path)
    return (target / store_layout.MANIFEST_FILE).is_file() and bool(layout.list_sample_dirs(target))


def _mismatch(path, kind: str, wanted: tuple[str, ...], purpose: str) -> str:
    expected = " or ".join(describe_kind(k) for k in wanted)
    if kind == "store" and store_inside_part(path):
        return (f"this is a release part directory with a converted store written into it; move the store's files "
                f"({', '.join(store_layout.STORE_ENTRIES)}) to a directory of their own, then pass each where it belongs")
    steps = [_NEXT_STEP[(kind, k)].format(path=path) for k in wanted if (kind, k) in _NEXT_STEP]
    message = f"this is {describe_kind(kind)}, not {expected}{' ' + purpose if purpose else ''}"
    return message + (f"; {steps[0]}" if steps else "")


def expect_kind(path: str | os.PathLike[str], *wanted: PathKind, purpose: str = "") -> PathKind:
    """:func:`classify_path`, raising :class:`NotADatasetError` unless the kind is one of
    ``wanted``; the message says what ``path`` is, what was expected and the next step.

    ``purpose`` completes "expected ... {purpose}" (e.g. ``"to make a split from"``)."""
    _check_kinds(wanted)
    kind = classify_path(path)
    if kind in wanted:
        return kind
    raise NotADatasetError(f"{path}: {_mismatch(path, kind, wanted, purpose)}")


def _holds(directory: Path) -> str:
    """What an unrecognised directory holds, for a message: a few of its names."""
    names = sorted(child.name for child in directory.iterdir())
    return "it holds " + ", ".join(names[:3]) + (f" and {len(names) - 3} more" if len(names) > 3 else "")


def check_destination(path: str | os.PathLike[str], kind: PathKind, *, what: str) -> PathKind | None:
    """Where a command is about to write ``kind``: ``None`` when ``path`` does not exist or is
    an empty directory, ``kind`` when it already holds one (the caller compares it with what it
    would write, and refuses or replaces), and :class:`NotADatasetError` for anything else, so
    that nothing is written into a release part, a store, a split, a file... ``what`` names
    the output in the message (e.g. ``"the store"``, ``"--out"``)."""
    _check_kinds((kind,))
    target = Path(path)
    if not target.exists():
        return None
    if not target.is_dir():
        raise NotADatasetError(f"{target}: a file, not a directory; write {what} to a new or empty directory")
    if next(target.iterdir(), None) is None:
        return None
    if kind == "store" and (target / store_layout.WORK_DIR).is_dir():
        return "store"  # an unfinished conversion: the caller checks it is the same one
    found = kind_of(target)
    if found == kind:
        return kind
    holds = f"this is {describe_kind(found)}" if found else f"not empty and not {describe_kind(kind)} ({_holds(target)})"
    raise NotADatasetError(f"{target}: {holds}; write {what} to a new or empty directory")


def _complete_sample(directory: Path) -> bool:
    return all((directory / name).is_file() for name in layout.STREAM_FILES.values())


def _enclosing_kind(directory: Path) -> PathKind | None:
    """The kind of a directory above a destination, by marker files, or ``sample``/``part``
    for a complete sample (every stream file) and a directory holding one. Stricter than
    :func:`classify_path`: a scratch directory that happens to hold some ``rgb.mp4`` beside
    other things (``/tmp``, a test's directory) must not refuse every destination below it."""
    if (directory / store_layout.MANIFEST_FILE).is_file():
        return "store"
    for kind in ("split", "inputs", "submission"):
        if (directory / BENCH_MARKERS[kind]).is_file():
            return kind  # type: ignore[return-value]
    if _complete_sample(directory):
        return "sample"
    try:
        return "part" if any(child.is_dir() and _complete_sample(child) for child in directory.iterdir()) else None
    except OSError:  # a directory we may not list (e.g. another user's): it holds nothing of ours
        return None


def enclosing_dataset(path: str | os.PathLike[str]) -> tuple[Path, PathKind] | None:
    """The nearest directory above ``path`` (``path`` itself excluded) that is a release sample
    (every stream file) or a part holding one, a store or a WildBench directory, with its
    kind; ``None`` when there is none."""
    for parent in Path(path).resolve().parents:
        kind = _enclosing_kind(parent) if parent.is_dir() else None
        if kind is not None:
            return parent, kind
    return None
