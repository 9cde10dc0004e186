"""Read the clips of a WebDataset shard back: the one grouper of tar members into clips.

    with reader.open("shards/clips-000000.tar") as handle:
        for clip in iter_clips(handle, url="shards/clips-000000.tar"):
            clip["__key__"], clip["json"], clip["rgb.mp4"]      # members by name (layout.CLIP_MEMBERS)

The loaders' stream and ``wildworld validate`` read shards with it; ``shards.py`` writes them.
"""

from __future__ import annotations

import tarfile
from typing import BinaryIO, Iterator

from ..errors import FormatError

__all__ = ["iter_clips"]


def iter_clips(handle: BinaryIO, *, url: str, limit: int | None = None) -> Iterator[dict]:
    """The clips of one shard read as a stream: ``{"__key__", "__url__", member: bytes}``.

    Members are grouped by the name up to the first dot, consecutive members of one key
    forming one clip, as WebDataset does; at most ``limit`` clips. ``url`` names the shard in
    errors."""
    current: dict | None = None
    count = 0
    try:
        with tarfile.open(fileobj=handle, mode="r|") as tar:
            for member in tar:
                if not member.isfile():
                    continue
                key, _, suffix = member.name.rsplit("/", 1)[-1].partition(".")
                if current is None or current["__key__"] != key:
                    if current is not None:
                        yield current
                        count += 1
                    if limit is not None and count >= limit:
                        return
                    current = {"__key__": key, "__url__": url}
                current[suffix] = tar.extractfile(member).read()
    except tarfile.TarError as exc:
        raise FormatError(f"not a readable tar shard ({exc})", path=url) from None
    if current is not None:
        yield current
