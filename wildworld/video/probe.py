"""Read a video's frame count, rate, size and codec without decoding it."""

from __future__ import annotations

import os
from dataclasses import dataclass
from fractions import Fraction
from pathlib import Path

from ..errors import FormatError, MissingFileError

__all__ = ["VideoProbe", "probe_video", "count_packets"]


@dataclass(frozen=True)
class VideoProbe:
    """What a container says about its first video stream.

    ``frames_exact`` is False when the count was estimated from the container's duration
    (Matroska stores no frame count); ``probe_video(..., exact=True)`` counts packets instead.
    """

    path: str
    frames: int
    fps: float
    width: int
    height: int
    codec: str
    pix_fmt: str
    frames_exact: bool

    @property
    def size(self) -> tuple[int, int]:
        return (self.width, self.height)

    @property
    def duration_s(self) -> float:
        return self.frames / self.fps if self.fps else 0.0


def _open(path: Path):
    import av

    if not path.exists():
        raise MissingFileError(f"{path}: video not found")
    try:
        container = av.open(str(path))
    except (av.error.FFmpegError, OSError, ValueError) as exc:
        raise FormatError(f"cannot open video ({exc})", path=path) from None
    if not container.streams.video:
        container.close()
        raise FormatError("no video stream in the file", path=path)
    return container


def count_packets(path: str | os.PathLike[str]) -> int:
    """Count the video packets (= frames for these codecs) by demuxing, without decoding."""
    import av

    path = Path(path)
    container = _open(path)
    try:
        stream = container.streams.video[0]
        count = 0
        for packet in container.demux(stream):
            if packet.size:
                count += 1
        return count
    except av.error.FFmpegError as exc:
        raise FormatError(f"demuxing failed after {count} packets ({exc})", path=path) from None
    finally:
        container.close()


def probe_video(path: str | os.PathLike[str], *, exact: bool = False) -> VideoProbe:
    """Probe ``path``. With ``exact`` the frame count comes from counting packets."""
    path = Path(path)
    container = _open(path)
    try:
        stream = container.streams.video[0]
        rate = stream.average_rate or stream.guessed_rate or stream.base_rate
        fps = float(rate) if rate else 0.0
        frames = int(stream.frames or 0)
        frames_exact = frames > 0
        if not frames_exact:
            duration = None
            if stream.duration is not None and stream.time_base is not None:
                duration = float(stream.duration * stream.time_base)
            elif container.duration is not None:
                duration = container.duration / 1_000_000
            frames = int(round(duration * fps)) if duration and fps else 0
        ctx = stream.codec_context
        probe = VideoProbe(
            path=str(path),
            frames=frames,
            fps=fps,
            width=int(ctx.width),
            height=int(ctx.height),
            codec=str(ctx.name),
            pix_fmt=str(ctx.pix_fmt or ""),
            frames_exact=frames_exact,
        )
    finally:
        container.close()
    if exact and not probe.frames_exact:
        probe = VideoProbe(**{**probe.__dict__, "frames": count_packets(path), "frames_exact": True})
    return probe


def fraction_rate(fps: float) -> Fraction:
    """A rational frame rate for encoders (30 -> 30/1, 29.97 -> 30000/1001)."""
    return Fraction(fps).limit_denominator(1001)
