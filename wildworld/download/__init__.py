"""Download the WildWorld release from the hub or a mirror: selective, resumable, verified.

The pipeline (see :func:`download`)::

    listing = source.list_files(parts=...)           # HubSource or MirrorSource
    plan    = plan_download(listing, selection, ...)  # what to fetch; unsafe names refused
    results = fetch_all(source, plan.files, dest)     # temp name, resume, sha256, rename
    report  = validate_downloaded(dest, plan, results)

Checksum manifests for mirrors: :mod:`wildworld.download.checksums`. Library code takes its
configuration as arguments (the CLI reads the token from the environment, not this package)
and reports progress through a callback.
"""

from __future__ import annotations

from ._errors import AccessError, SourceError, TransferError, UnsafePathError
from ._events import ProgressCallback, ProgressEvent
from .checksums import (
    MANIFEST_NAME,
    ChecksumEntry,
    ChecksumManifest,
    ChecksumProblem,
    make_checksum_manifest,
    read_manifest,
    verify_manifest,
    write_manifest,
)
from .plan import STREAMS, DownloadPlan, LocalFile, RemoteFile, Selection, Stream, check_remote_name, inspect_local, plan_download
from .runner import DownloadReport, download, validate_downloaded
from .sources import DEFAULT_REPO, HubSource, MirrorSource, Source
from .transfer import FileResult, TransferOptions, fetch_all, fetch_file

__all__ = [
    "AccessError",
    "ChecksumEntry",
    "ChecksumManifest",
    "ChecksumProblem",
    "DEFAULT_REPO",
    "DownloadPlan",
    "DownloadReport",
    "FileResult",
    "HubSource",
    "LocalFile",
    "MANIFEST_NAME",
    "MirrorSource",
    "ProgressCallback",
    "ProgressEvent",
    "RemoteFile",
    "STREAMS",
    "Selection",
    "Source",
    "SourceError",
    "Stream",
    "TransferError",
    "TransferOptions",
    "UnsafePathError",
    "check_remote_name",
    "download",
    "fetch_all",
    "fetch_file",
    "inspect_local",
    "make_checksum_manifest",
    "plan_download",
    "read_manifest",
    "validate_downloaded",
    "verify_manifest",
    "write_manifest",
]
