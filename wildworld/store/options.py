"""The options of a conversion: recorded in the manifest, checked on creation.

    ConvertOptions(width=320, height=180, clip_len=32, gop=8)

A store is only resumed or reused with the same options (``convert`` compares them).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import asdict, dataclass, fields
from typing import Any

from .._checks import check_positive
from ..errors import FormatError, OptionError
from .layout import ANNOTATION_STREAMS, VIDEO_STREAMS

__all__ = ["ALL_STREAMS", "ConvertOptions"]

#: Every stream a store can hold, in the order the manifest lists them.
ALL_STREAMS = VIDEO_STREAMS + ANNOTATION_STREAMS


@dataclass(frozen=True)
class ConvertOptions:
    """Conversion settings. They are recorded in the manifest; a store is only resumed with
    the same settings."""

    width: int | None = None  # None: keep the source resolution
    height: int | None = None
    clip_len: int = 32
    gop: int = 8
    crf: int = 20
    streams: tuple[str, ...] = ALL_STREAMS
    shard_bytes: int = 256 * 1024 * 1024
    chunk_frames: int = 256
    shard_frames: int = 16384
    seed: int = 0  # order of clips in the WebDataset shards

    def __post_init__(self) -> None:
        check_positive("clip_len", self.clip_len)
        check_positive("gop", self.gop)
        check_positive("chunk_frames", self.chunk_frames)
        check_positive("shard_frames", self.shard_frames)
        if self.clip_len % self.gop:
            raise OptionError(f"clip_len={self.clip_len} must be a multiple of gop={self.gop}: clips start on keyframes")
        if self.shard_frames % self.chunk_frames:
            raise OptionError(f"shard_frames={self.shard_frames} must be a multiple of chunk_frames={self.chunk_frames}")
        unknown = set(self.streams) - set(ALL_STREAMS)
        if unknown or not self.streams:
            raise OptionError(f"streams {sorted(unknown) or '(none)'} not allowed; choose from {', '.join(ALL_STREAMS)}")
        if (self.width is None) != (self.height is None):
            raise OptionError("give both width and height, or neither")
        if self.width is not None and (self.width % 2 or self.height % 2 or self.width < 16 or self.height < 16):
            raise OptionError(f"resolution {self.width}x{self.height} must be even and at least 16x16")
        if not 0 <= self.crf <= 51:
            raise OptionError(f"crf={self.crf} must be in 0..51")

    def to_json(self) -> dict[str, Any]:
        data = asdict(self)
        data["streams"] = list(self.streams)
        return data

    @classmethod
    def from_json(cls, data: Mapping[str, Any]) -> "ConvertOptions":
        """The options recorded in a manifest; unknown names (a newer wildworld) are refused."""
        unknown = sorted(set(data) - {f.name for f in fields(cls)})
        if unknown:
            raise FormatError(f"unknown conversion options {', '.join(unknown)} (written by a newer wildworld?)", key="options")
        return cls(**{**data, "streams": tuple(data["streams"])})
