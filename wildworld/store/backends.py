"""Read-only access to the members of a store, wherever it lies: one protocol, two readers.

    reader = open_reader("out/store")                      # LocalStoreReader
    reader = open_reader("s3://bucket/store")              # FsspecStoreReader (any fsspec URL)
    reader.read_bytes("manifest.json"); reader.open("shards/clips-000000.tar")
    zarr.open_group(store=reader.zarr_store("annotations.zarr"), mode="r")

Members are named by their ``/``-separated path relative to the store (the names of
``store/layout.py``); a name that is not a plain relative path is refused, so nothing read
from a manifest can reach outside the store. Every reader raises ``MissingFileError`` naming
the member's URL for a member that is not there. ``tests/test_store_backends.py`` holds the
suite every reader must pass (in the style of zarr's ``StoreTests``).

To add a reader (a database, an archive...), implement :class:`StoreReader`, make
``open_reader`` return it for its locations, and add a subclass of the shared suite.
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any, BinaryIO, Protocol, runtime_checkable

from ..errors import MissingFileError, OptionError
from ..files import is_plain_relative

__all__ = ["StoreReader", "LocalStoreReader", "FsspecStoreReader", "open_reader", "open_url", "is_url"]


@runtime_checkable
class StoreReader(Protocol):
    """What the library needs to read a store (see the module docstring)."""

    #: The store's location as given: a directory or a URL.
    location: str

    def url(self, relative: str) -> str:
        """Where the member lies: a path or a URL (for messages, and to open it elsewhere)."""
        ...

    def exists(self, relative: str) -> bool:
        """Whether the member (a file, or a directory such as ``annotations.zarr``) is there."""
        ...

    def read_bytes(self, relative: str) -> bytes:
        """The member's whole content; ``MissingFileError`` naming its URL when absent."""
        ...

    def open(self, relative: str) -> BinaryIO:
        """A readable binary stream of the member (seekable where the backend allows)."""
        ...

    def local_path(self, relative: str) -> Path | None:
        """The member's path on this machine, or None when the store is elsewhere."""
        ...

    def zarr_store(self, relative: str) -> Any:
        """A read-only ``zarr.abc.store.Store`` rooted at a member directory."""
        ...


def is_url(location: str | os.PathLike[str]) -> bool:
    """A location with a scheme other than ``file://`` (``s3://``, ``http://``, ``memory://``...)."""
    text = str(location)
    return "://" in text and not text.startswith("file://")


def _member(relative: str, location: str) -> str:
    if not is_plain_relative(relative):
        raise OptionError(f"{location}: refusing member name {relative!r}: not a plain relative path inside the store")
    return relative


class LocalStoreReader:
    """A store in a directory of this machine."""

    def __init__(self, root: str | os.PathLike[str]) -> None:
        self.root = Path(str(root).removeprefix("file://"))
        self.location = str(self.root)

    def _path(self, relative: str) -> Path:
        return self.root / _member(relative, self.location)

    def url(self, relative: str) -> str:
        return str(self._path(relative))

    def exists(self, relative: str) -> bool:
        return self._path(relative).exists()

    def read_bytes(self, relative: str) -> bytes:
        try:
            return self._path(relative).read_bytes()
        except FileNotFoundError:
            raise MissingFileError(f"{self.url(relative)}: not found") from None

    def open(self, relative: str) -> BinaryIO:
        try:
            return open(self._path(relative), "rb")
        except FileNotFoundError:
            raise MissingFileError(f"{self.url(relative)}: not found") from None

    def local_path(self, relative: str) -> Path | None:
        return self._path(relative)

    def zarr_store(self, relative: str) -> Any:
        from zarr.storage import LocalStore

        path = self._path(relative)
        if not path.is_dir():
            raise MissingFileError(f"{path}: not found")
        return LocalStore(path, read_only=True)

    def __repr__(self) -> str:
        return f"LocalStoreReader({self.location!r})"


class FsspecStoreReader:
    """A store behind any fsspec URL (``s3://``, ``gs://``, ``http(s)://``, ``memory://``...).

    ``storage_options`` go to the filesystem (credentials, endpoints, caching)."""

    def __init__(self, url: str, *, storage_options: dict | None = None) -> None:
        import fsspec.core

        self.location = str(url).rstrip("/")
        self.storage_options = dict(storage_options or {})
        self.fs, self._root = fsspec.core.url_to_fs(self.location, **self.storage_options)
        self._root = self._root.rstrip("/")

    def _path(self, relative: str) -> str:
        return f"{self._root}/{_member(relative, self.location)}"

    def url(self, relative: str) -> str:
        return f"{self.location}/{_member(relative, self.location)}"

    def exists(self, relative: str) -> bool:
        return bool(self.fs.exists(self._path(relative)))

    def read_bytes(self, relative: str) -> bytes:
        try:
            return self.fs.cat_file(self._path(relative))
        except FileNotFoundError:
            raise MissingFileError(f"{self.url(relative)}: not found") from None

    def open(self, relative: str) -> BinaryIO:
        try:
            return self.fs.open(self._path(relative), "rb")
        except FileNotFoundError:
            raise MissingFileError(f"{self.url(relative)}: not found") from None

    def local_path(self, relative: str) -> Path | None:
        return None

    def zarr_store(self, relative: str) -> Any:
        from zarr.storage import FsspecStore

        return FsspecStore.from_url(self.url(relative), storage_options=self.storage_options or None, read_only=True)

    def __repr__(self) -> str:
        return f"FsspecStoreReader({self.location!r})"


def open_reader(location: "str | os.PathLike[str] | StoreReader", *, storage_options: dict | None = None) -> StoreReader:
    """The reader for a store location: a reader is returned as it is, a URL gets an
    :class:`FsspecStoreReader`, anything else (a path, ``file://``) a :class:`LocalStoreReader`."""
    if not isinstance(location, (str, os.PathLike)) and isinstance(location, StoreReader):
        return location
    if is_url(location):
        return FsspecStoreReader(str(location), storage_options=storage_options)
    return LocalStoreReader(location)


def open_url(url: str | os.PathLike[str], *, storage_options: dict | None = None) -> BinaryIO:
    """A readable stream of one file given by path or URL (e.g. a shard listed on its own)."""
    text = str(url)
    try:
        if is_url(text):
            import fsspec

            return fsspec.open(text, "rb", **(storage_options or {})).open()
        return open(text.removeprefix("file://"), "rb")
    except FileNotFoundError:
        raise MissingFileError(f"{text}: not found") from None
