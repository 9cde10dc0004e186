"""Where the bytes come from: the Hugging Face hub or an fsspec mirror, behind one interface.

A source does two things: list the files it offers (with sizes and checksums) and write the
bytes of one file, from an offset, into a sink. Everything else (temporary names, resuming,
verification, renaming, parallelism) belongs to :mod:`wildworld.download.transfer`, so both
sources get the same guarantees.

- :class:`HubSource`: the gated dataset repo through ``huggingface_hub``. Access is checked
  first (``auth_check``), the revision is pinned to one commit, the listing comes from
  ``list_repo_tree`` (size, LFS sha256, git blob id) and bytes from ``http_get``, the hub
  client's own resumable transfer (``Range`` requests, retries, redirects to the CDN).
- :class:`MirrorSource`: any fsspec URL (``https://``, ``s3://``, a local path) laid out like
  the release, serving a checksum manifest (``checksums.json``) at its root.
"""

from __future__ import annotations

import contextlib
from dataclasses import dataclass, field
from typing import Any, BinaryIO, Iterator, Mapping, Protocol, runtime_checkable
from urllib.parse import urlsplit, urlunsplit

from .. import layout
from ..errors import OptionError, WildWorldError
from ..version import __version__
from ._errors import AccessError, SourceError
from .checksums import MANIFEST_NAME, parse_manifest
from .plan import RemoteFile, check_remote_name

__all__ = ["Source", "HubSource", "MirrorSource", "DEFAULT_REPO"]

#: The official release.
DEFAULT_REPO = "AlayaLab/WildWorld"
_DEFAULT_CHUNK = 8 << 20


@runtime_checkable
class Source(Protocol):
    """What the planner and the transfer engine need from a place that serves the release."""

    @property
    def name(self) -> str:
        """Names the source in messages (never holds a credential)."""

    def list_files(self, *, parts: tuple[int, ...] | None = None) -> list[RemoteFile]:
        """Every file of the requested parts (all parts when ``None``), with size and checksum."""

    def read_into(self, remote: RemoteFile, sink: BinaryIO, *, offset: int) -> None:
        """Write bytes ``[offset, remote.size)`` of ``remote`` to ``sink`` (positioned at ``offset``).

        Raise :class:`AccessError` when refused (ends the whole run); any other exception is
        a transfer failure that the engine retries, resuming from what the sink holds.
        """


# ----------------------------------------------------------------------------- hub


class _SilentBar:
    """A tqdm stand-in for ``http_get``: progress is counted by the sink instead."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        pass

    def update(self, n: int = 1) -> None:
        pass

    def close(self) -> None:
        pass

    def __enter__(self) -> "_SilentBar":
        return self

    def __exit__(self, *exc: object) -> None:
        pass


def _transport_errors() -> tuple[type[BaseException], ...]:
    """Network error classes of the HTTP client huggingface_hub uses (httpx2, httpx or requests)."""
    found: list[type[BaseException]] = [OSError]
    for module, name in (("httpx2", "HTTPError"), ("httpx", "HTTPError"), ("requests", "RequestException")):
        with contextlib.suppress(ImportError, AttributeError):
            found.append(getattr(__import__(module), name))
    return tuple(found)


@dataclass(frozen=True)
class HubSource:
    """The dataset repo on the Hugging Face hub (``AlayaLab/WildWorld`` by default).

    ``token``: a string, ``False`` for anonymous access, or ``None`` for huggingface_hub's
    own default (``HF_TOKEN``, then the token saved by ``hf auth login``). It is never
    printed: it is left out of ``repr`` and of every message. ``endpoint``: another hub (a
    mirror of the hub, or a stand-in in tests); ``None`` is huggingface_hub's default.
    """

    repo_id: str = DEFAULT_REPO
    revision: str | None = None
    token: str | bool | None = field(default=None, repr=False)
    endpoint: str | None = None

    def __post_init__(self) -> None:
        if not isinstance(self.repo_id, str) or self.repo_id.count("/") != 1 or not all(self.repo_id.split("/")):
            raise OptionError(f"repo: {self.repo_id!r} is not a hub repo id of the form owner/name")

    @property
    def name(self) -> str:
        return f"hf://datasets/{self.repo_id}" + (f"@{self.revision}" if self.revision else "")

    def _endpoint(self) -> str:
        from huggingface_hub import constants

        return (self.endpoint or constants.ENDPOINT).rstrip("/")

    def _api(self):
        from huggingface_hub import HfApi

        return HfApi(endpoint=self.endpoint, token=self.token, library_name="wildworld", library_version=__version__)

    def _access_error(self, status: int | None) -> AccessError:
        page = f"{self._endpoint()}/datasets/{self.repo_id}"
        code = f" (HTTP {status})" if status else ""
        refused = " The token given was refused (wrong or expired?)." if isinstance(self.token, str) and status == 401 else ""
        return AccessError(
            f"{self.repo_id}: access denied{code}.{refused} WildWorld is a gated dataset: log in at {page}, "
            f"accept its licence, create a read token at {self._endpoint()}/settings/tokens, then pass it "
            "(wildworld download --token, the HF_TOKEN environment variable, or `hf auth login`)"
        )

    @contextlib.contextmanager
    def _translate(self, what: str) -> Iterator[None]:
        """Turn huggingface_hub's HTTP errors into one-line wildworld errors (no token, ever)."""
        from huggingface_hub.errors import (
            GatedRepoError,
            HfHubHTTPError,
            RemoteEntryNotFoundError,
            RepositoryNotFoundError,
            RevisionNotFoundError,
        )

        try:
            yield
        except WildWorldError:
            raise
        except HfHubHTTPError as exc:
            status = getattr(getattr(exc, "response", None), "status_code", None)
            if isinstance(exc, GatedRepoError) or status in (401, 403):
                raise self._access_error(status) from None
            if isinstance(exc, RevisionNotFoundError):
                raise SourceError(f"{self.repo_id}: revision {self.revision!r} not found on {self._endpoint()}") from None
            if isinstance(exc, RepositoryNotFoundError):
                raise SourceError(f"{self.repo_id}: no such dataset repo on {self._endpoint()}") from None
            if isinstance(exc, RemoteEntryNotFoundError):
                raise SourceError(f"{self.name}: {what} not found") from None
            raise SourceError(f"{self.name}: {what}: the hub answered HTTP {status}") from None

    def list_files(self, *, parts: tuple[int, ...] | None = None) -> list[RemoteFile]:
        from huggingface_hub import hf_hub_url
        from huggingface_hub.hf_api import RepoFile, RepoFolder

        api = self._api()
        try:
            with self._translate("the repo"):
                api.auth_check(self.repo_id, repo_type="dataset")  # a gated repo says so here, before any transfer
                info = api.dataset_info(self.repo_id, revision=self.revision)
                commit = info.sha or self.revision or "main"  # every file comes from this one commit
                top = list(api.list_repo_tree(self.repo_id, repo_type="dataset", revision=commit))
            available = sorted(
                int(match["part"])
                for entry in top
                if isinstance(entry, RepoFolder) and (match := layout.PART_DIR_PATTERN.match(entry.path))
            )
            wanted = tuple(available) if parts is None else parts
            absent = [p for p in wanted if p not in available]
            if absent:
                have = ", ".join(map(str, available)) or "none"
                raise SourceError(f"{self.name}: no data_part{absent[0]} (parts available: {have})")
            files: list[RemoteFile] = []
            for part in wanted:
                folder = f"data_part{part}"
                with self._translate(folder):
                    entries = list(
                        api.list_repo_tree(
                            self.repo_id, path_in_repo=folder, recursive=True, repo_type="dataset", revision=commit
                        )
                    )
                for entry in entries:
                    if not isinstance(entry, RepoFile):
                        continue
                    path = check_remote_name(entry.path, source=self.name)
                    lfs = entry.lfs
                    files.append(
                        RemoteFile(
                            path=path,
                            size=int(entry.size),
                            sha256=lfs.sha256 if lfs is not None else None,
                            # A non-LFS file's blob id is git's sha1 of its bytes; for a Xet file
                            # without LFS metadata it is not, so only the size is checked then.
                            git_sha1=entry.blob_id if lfs is None and not entry.xet_hash else None,
                            location=hf_hub_url(
                                self.repo_id, path, repo_type="dataset", revision=commit, endpoint=self._endpoint()
                            ),
                        )
                    )
        except _transport_errors() as exc:
            if isinstance(exc, WildWorldError):
                raise
            raise SourceError(f"cannot reach {self._endpoint()}: {type(exc).__name__}: {exc}") from None
        return files

    def read_into(self, remote: RemoteFile, sink: BinaryIO, *, offset: int) -> None:
        from huggingface_hub.file_download import http_get
        from huggingface_hub.utils import build_hf_headers

        headers = build_hf_headers(token=self.token, library_name="wildworld", library_version=__version__)
        headers["Accept-Encoding"] = "identity"  # byte ranges of the file itself, not of a compressed body
        with self._translate(remote.path):
            http_get(
                remote.location,
                sink,
                resume_size=offset,
                headers=headers,
                expected_size=remote.size,
                displayed_filename=remote.path,
                tqdm_class=_SilentBar,
            )


# ----------------------------------------------------------------------------- mirrors


def _status(exc: BaseException) -> int | None:
    status = getattr(exc, "status", None) or getattr(exc, "status_code", None)
    return status if isinstance(status, int) else None


@dataclass(frozen=True)
class MirrorSource:
    """A copy of the release at any fsspec URL, with ``checksums.json`` at its root.

    ``storage_options`` go to fsspec (credentials, headers) and are kept out of ``repr``.
    ``chunk_size`` bytes are requested at a time; a transfer cut mid-file keeps every whole
    chunk received and resumes after it.
    """

    url: str
    storage_options: Mapping[str, Any] | None = field(default=None, repr=False)
    chunk_size: int = _DEFAULT_CHUNK

    def __post_init__(self) -> None:
        if not isinstance(self.url, str) or not self.url:
            raise OptionError("source: give a URL or path of a mirror")
        if not isinstance(self.chunk_size, int) or self.chunk_size < 1:
            raise OptionError(f"chunk_size: {self.chunk_size!r} must be a positive integer")

    @property
    def name(self) -> str:
        """The URL without any ``user:password@`` part (credentials belong in storage_options)."""
        parts = urlsplit(self.url)
        if parts.scheme and "@" in parts.netloc:
            return urlunsplit(parts._replace(netloc=parts.netloc.rsplit("@", 1)[1]))
        return self.url

    def _fs(self):
        import fsspec.core

        try:
            fs, root = fsspec.core.url_to_fs(self.url, **dict(self.storage_options or {}))
        except (ImportError, ValueError) as exc:  # e.g. s3:// without s3fs, an unknown protocol
            raise SourceError(f"{self.name}: cannot open this source: {exc}") from None
        return fs, root.rstrip("/")

    def _refused(self, exc: BaseException) -> bool:
        return isinstance(exc, PermissionError) or _status(exc) in (401, 403)

    def list_files(self, *, parts: tuple[int, ...] | None = None) -> list[RemoteFile]:
        fs, root = self._fs()
        where = f"{self.name.rstrip('/')}/{MANIFEST_NAME}"
        try:
            data = fs.cat_file(f"{root}/{MANIFEST_NAME}")
        except FileNotFoundError:
            raise SourceError(
                f"{where}: not found. A mirror serves a checksum manifest at its root: run "
                "`wildworld checksum DIR` on the copy it serves (DIR holds data_part<N>/), or check the URL"
            ) from None
        except Exception as exc:  # noqa: BLE001 - any transport failure becomes one clear line
            if self._refused(exc):
                raise AccessError(f"{where}: the mirror refused access ({type(exc).__name__}); check its credentials") from None
            raise SourceError(f"{where}: cannot read it: {type(exc).__name__}: {exc}") from None
        manifest = parse_manifest(data, where=where)  # refuses unsafe names before anything else
        # The whole manifest is returned: the planner picks the parts and names any that are absent.
        return [RemoteFile(path=e.path, size=e.size, sha256=e.sha256, location=f"{root}/{e.path}") for e in manifest.files]

    def read_into(self, remote: RemoteFile, sink: BinaryIO, *, offset: int) -> None:
        fs, _ = self._fs()
        where = f"{self.name.rstrip('/')}/{remote.path}"
        position = offset
        while position < remote.size:
            end = min(position + self.chunk_size, remote.size)
            try:
                data = fs.cat_file(remote.location, start=position, end=end)
            except Exception as exc:
                if self._refused(exc):
                    raise AccessError(f"{where}: the mirror refused access; check its credentials") from None
                raise
            if len(data) != end - position:
                if position or end != remote.size:
                    if len(data) == remote.size:
                        raise SourceError(
                            f"{where}: the server ignored the byte-range request; serve the mirror with a "
                            "server that supports HTTP Range (python -m http.server does not)"
                        )
                raise SourceError(
                    f"{where}: asked for bytes {position}-{end - 1}, received {len(data)} bytes"
                )
            sink.write(data)
            position = end
