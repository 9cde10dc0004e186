"""Encode frames with PyAV (there is no ffmpeg binary): atomic, two profiles.

* ``rgb``: H.264 (libx264), yuv420p, constant quality ``crf``, a keyframe exactly every
  ``gop`` frames (no scene-cut keyframes), no B-frames (decode order = presentation order, so
  seeking is simple and exact);
* ``depth``: lossless 8-bit HEVC (libx265, gray), the release's depth format.

The file is written under a temporary name and renamed on :meth:`VideoWriter.close`; an
exception inside ``with VideoWriter(...)`` leaves nothing behind.
"""

from __future__ import annotations

import contextlib
import os
from pathlib import Path
from typing import Iterable, Literal

import numpy as np

from .._checks import check_choice, check_positive
from ..errors import FormatError
from ..files import temp_name
from .probe import fraction_rate

__all__ = ["Profile", "VideoWriter", "write_video"]

Profile = Literal["rgb", "depth"]
_FORMATS = {".mp4": "mp4", ".mkv": "matroska", ".mov": "mov"}


class VideoWriter:
    """Write ``(H, W, 3)`` RGB or ``(H, W)`` gray uint8 frames to ``path``."""

    def __init__(
        self,
        path: str | os.PathLike[str],
        *,
        fps: float,
        width: int,
        height: int,
        profile: Profile = "rgb",
        crf: int = 18,
        gop: int | None = None,
        preset: str = "veryfast",
        threads: int = 0,
    ) -> None:
        import av

        check_choice("profile", profile, ("rgb", "depth"))
        check_positive("width", width)
        check_positive("height", height)
        if profile == "rgb" and (width % 2 or height % 2):
            raise FormatError(f"H.264 yuv420p needs an even size, got {width}x{height}")
        self.path = Path(path)
        container_format = _FORMATS.get(self.path.suffix.lower())
        if container_format is None:
            raise FormatError(f"unsupported video extension {self.path.suffix!r}; use one of {sorted(_FORMATS)}")
        self.profile = profile
        self.width, self.height = width, height
        self.frames_written = 0
        gop = gop or max(1, int(round(fps)) * 2)
        self.path.parent.mkdir(parents=True, exist_ok=True)
        self._tmp = temp_name(self.path)
        # bitexact: no random segment UIDs or dates, so the same frames give the same bytes.
        self._container = av.open(str(self._tmp), mode="w", format=container_format, options={"fflags": "+bitexact"})
        rate = fraction_rate(fps)
        if profile == "rgb":
            stream = self._container.add_stream("libx264", rate=rate)
            stream.pix_fmt = "yuv420p"
            # Scene-cut keyframes are off so that keyframes fall exactly every `gop` frames.
            # mbtree off: x264's macroblock-tree pass (its SIMD code) gave different bytes for
            # the same frames from run to run within one process (1 run in 4 with a libx265
            # encoder busy beside it, as the synthetic world writes; never with mbtree=0, nor
            # with asm=0): the same frames must give the same bytes (tests/test_video.py).
            stream.options = {"crf": str(crf), "preset": preset, "g": str(gop), "bf": "0", "keyint_min": str(gop), "sc_threshold": "0",
                              "x264-params": "mbtree=0"}
        else:
            stream = self._container.add_stream("libx265", rate=rate)
            stream.pix_fmt = "gray"
            stream.options = {
                "x265-params": f"lossless=1:keyint={gop}:min-keyint={gop}:scenecut=0:open-gop=0:bframes=0:log-level=error",
                "preset": "ultrafast",
            }
        stream.width, stream.height = width, height
        if threads:
            stream.codec_context.thread_count = threads
        self._stream = stream

    def write(self, frame: np.ndarray) -> None:
        import av

        array = np.ascontiguousarray(frame, dtype=np.uint8)
        expected = (self.height, self.width) if self.profile == "depth" else (self.height, self.width, 3)
        if array.shape != expected:
            raise FormatError(f"{self.path}: frame {self.frames_written} has shape {array.shape}, expected {expected}")
        video_frame = av.VideoFrame.from_ndarray(array, format="gray" if self.profile == "depth" else "rgb24")
        for packet in self._stream.encode(video_frame):
            self._container.mux(packet)
        self.frames_written += 1

    def write_many(self, frames: Iterable[np.ndarray]) -> None:
        for frame in frames:
            self.write(frame)

    def close(self) -> Path:
        """Flush the encoder and publish the file under its final name."""
        if self._container is None:
            return self.path
        for packet in self._stream.encode():
            self._container.mux(packet)
        self._container.close()
        self._container = None
        os.replace(self._tmp, self.path)
        return self.path

    def abort(self) -> None:
        """Drop the partial file."""
        if self._container is not None:
            with contextlib.suppress(Exception):
                self._container.close()
            self._container = None
        with contextlib.suppress(FileNotFoundError):
            self._tmp.unlink()

    def __enter__(self) -> "VideoWriter":
        return self

    def __exit__(self, exc_type, exc, tb) -> None:
        if exc_type is None:
            self.close()
        else:
            self.abort()


def write_video(
    path: str | os.PathLike[str],
    frames: Iterable[np.ndarray] | np.ndarray,
    *,
    fps: float,
    profile: Profile = "rgb",
    **options,
) -> Path:
    """Encode a whole sequence of frames (array ``(T, H, W[, 3])`` or an iterable) to ``path``."""
    iterator = iter(frames)
    try:
        first = np.asarray(next(iterator))
    except StopIteration:
        raise FormatError(f"{path}: no frames to write") from None
    height, width = first.shape[:2]
    with VideoWriter(path, fps=fps, width=width, height=height, profile=profile, **options) as writer:
        writer.write(first)
        writer.write_many(iterator)
    return Path(path)
