"""Frame-accurate decoding by index.

Two backends share one small interface (:class:`VideoReader`):

* ``decord``: fast batched RGB decoding (x86-64 wheels only, unmaintained upstream);
* ``pyav``: always available; builds a packet index once (demux only), seeks to the keyframe
  before each requested run of frames and decodes forward. It is the only backend that returns
  the exact luma plane, which lossless depth needs (``color="gray"``).

``backend="auto"`` picks decord for RGB when it is installed and opens the file, else PyAV.
"""

from __future__ import annotations

import bisect
import os
from pathlib import Path
from typing import Iterator, Literal, Sequence

import numpy as np

from .._checks import check_choice
from ..errors import FormatError, MissingFileError

__all__ = ["Backend", "Color", "VideoReader", "open_video", "read_frames", "iter_frames", "luma_plane"]

Backend = Literal["auto", "decord", "pyav"]
Color = Literal["rgb", "gray"]
_BACKENDS = ("auto", "decord", "pyav")
_COLORS = ("rgb", "gray")


def luma_plane(frame) -> np.ndarray:
    """The first plane of a PyAV frame (gray, or Y of YUV) as ``(H, W)`` uint8, bit-exact."""
    plane = frame.planes[0]
    raw = np.frombuffer(plane, dtype=np.uint8)
    return raw.reshape(frame.height, plane.line_size)[:, : frame.width].copy()


def _to_array(frame, color: str) -> np.ndarray:
    if color == "gray":
        return luma_plane(frame)
    return frame.to_ndarray(format="rgb24")


class VideoReader:
    """Random access to the frames of one video by index (see :func:`open_video`)."""

    backend: str = ""
    path: Path
    color: str
    num_frames: int
    fps: float
    width: int
    height: int

    def get(self, indices: Sequence[int]) -> np.ndarray:
        """Frames at ``indices`` (any order, repeats allowed): ``(T, H, W, 3)`` or ``(T, H, W)``."""
        raise NotImplementedError

    def close(self) -> None:
        """Release the decoder."""

    def __len__(self) -> int:
        return self.num_frames

    def __enter__(self) -> "VideoReader":
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def _check(self, indices: Sequence[int]) -> np.ndarray:
        idx = np.asarray(indices, dtype=np.int64).reshape(-1)
        if idx.size and (idx.min() < 0 or idx.max() >= self.num_frames):
            bad = int(idx[(idx < 0) | (idx >= self.num_frames)][0])
            raise IndexError(f"{self.path}: frame {bad} is outside 0..{self.num_frames - 1}")
        return idx


class _DecordReader(VideoReader):
    backend = "decord"

    def __init__(self, path: Path, *, threads: int) -> None:
        import decord

        self.path = path
        self.color = "rgb"
        try:
            self._reader = decord.VideoReader(str(path), ctx=decord.cpu(0), num_threads=threads)
        except (decord.DECORDError, RuntimeError) as exc:
            raise FormatError(f"decord cannot open the video ({exc})", path=path) from None
        self.num_frames = len(self._reader)
        self.fps = float(self._reader.get_avg_fps())
        first = self._reader[0].shape if self.num_frames else (0, 0, 3)
        self.height, self.width = int(first[0]), int(first[1])
        self._reader.seek(0)

    def get(self, indices: Sequence[int]) -> np.ndarray:
        idx = self._check(indices)
        if idx.size == 0:
            return np.zeros((0, self.height, self.width, 3), dtype=np.uint8)
        return self._reader.get_batch(idx.tolist()).asnumpy()

    def close(self) -> None:
        self._reader = None


class _PyAVReader(VideoReader):
    backend = "pyav"

    def __init__(self, path: Path, *, color: str, threads: int) -> None:
        import av

        self.path = path
        self.color = color
        try:
            self._container = av.open(str(path))
        except (av.error.FFmpegError, OSError) as exc:
            raise FormatError(f"cannot open video ({exc})", path=path) from None
        if not self._container.streams.video:
            raise FormatError("no video stream in the file", path=path)
        self._stream = self._container.streams.video[0]
        self._stream.thread_type = "AUTO"
        if threads:
            self._stream.codec_context.thread_count = threads
        rate = self._stream.average_rate or self._stream.guessed_rate
        self.fps = float(rate) if rate else 0.0
        self.width = int(self._stream.codec_context.width)
        self.height = int(self._stream.codec_context.height)
        # Packet index (demux only): presentation order of pts, and keyframe positions.
        pts, keys = [], []
        try:
            for packet in self._container.demux(self._stream):
                if packet.pts is None or not packet.size:
                    continue
                pts.append(int(packet.pts))
                keys.append(bool(packet.is_keyframe))
        except av.error.FFmpegError as exc:
            raise FormatError(f"demuxing failed ({exc})", path=path) from None
        order = np.argsort(pts, kind="stable")
        self._pts = np.asarray(pts, dtype=np.int64)[order]
        self._index_of = {int(p): i for i, p in enumerate(self._pts)}
        self._keyframes = [int(i) for i, k in enumerate(np.asarray(keys)[order]) if k] or [0]
        self.num_frames = len(self._pts)
        self._decoder: Iterator | None = None
        self._next = None  # index of the next frame the open decoder will yield

    def _restart(self, target: int) -> None:
        key = self._keyframe_before(target)
        self._container.seek(int(self._pts[key]), stream=self._stream, backward=True, any_frame=False)
        self._decoder = self._container.decode(self._stream)
        self._next = None

    def _frames_from(self, target: int) -> Iterator[tuple[int, object]]:
        import av

        need_seek = (
            self._decoder is None
            or self._next is None
            or target < self._next
            or self._keyframe_before(target) > self._next
        )
        if need_seek:
            self._restart(target)
        try:
            for frame in self._decoder:
                index = self._index_of.get(int(frame.pts)) if frame.pts is not None else None
                if index is None:
                    continue
                self._next = index + 1
                yield index, frame
        except av.error.FFmpegError as exc:
            raise FormatError(f"decoding failed near frame {self._next} ({exc})", path=self.path) from None
        self._decoder = None

    def get(self, indices: Sequence[int]) -> np.ndarray:
        idx = self._check(indices)
        wanted = sorted(set(idx.tolist()))
        got: dict[int, np.ndarray] = {}
        position = 0
        while position < len(wanted):
            captured = False
            for index, frame in self._frames_from(wanted[position]):
                if index == wanted[position]:
                    got[index] = _to_array(frame, self.color)
                    position += 1
                    captured = True
                if position == len(wanted):
                    break
                # Once this pass has delivered a frame, seek rather than decode forward when a
                # keyframe lies between here and the next target. (Never before: a seek may
                # land on an earlier keyframe than asked, and must then decode forward.)
                if captured and self._keyframe_before(wanted[position]) > index + 1:
                    break
            else:
                if position < len(wanted):
                    raise FormatError(f"frame {wanted[position]} could not be decoded", path=self.path)
        shape = (self.height, self.width) if self.color == "gray" else (self.height, self.width, 3)
        out = np.empty((idx.size,) + shape, dtype=np.uint8)
        for slot, index in enumerate(idx.tolist()):
            out[slot] = got[index]
        return out

    def _keyframe_before(self, target: int) -> int:
        return self._keyframes[max(bisect.bisect_right(self._keyframes, target) - 1, 0)]

    def close(self) -> None:
        if self._container is not None:
            self._container.close()
            self._container = None


def open_video(
    path: str | os.PathLike[str],
    *,
    backend: Backend = "auto",
    color: Color = "rgb",
    threads: int = 0,
) -> VideoReader:
    """Open a video for frame access by index. ``color="gray"`` always uses PyAV (exact luma)."""
    check_choice("backend", backend, _BACKENDS)
    check_choice("color", color, _COLORS)
    path = Path(path)
    if not path.exists():
        raise MissingFileError(f"{path}: video not found")
    if backend == "decord" and color == "gray":
        raise FormatError("decord returns converted RGB only; use backend='pyav' for exact gray frames")
    if backend in ("auto", "decord") and color == "rgb":
        try:
            return _DecordReader(path, threads=threads)
        except ImportError:
            if backend == "decord":
                raise FormatError("decord is not installed on this platform; use backend='pyav'") from None
        except FormatError:
            if backend == "decord":
                raise
    return _PyAVReader(path, color=color, threads=threads)


def read_frames(
    path: str | os.PathLike[str], indices: Sequence[int], *, backend: Backend = "auto", color: Color = "rgb"
) -> np.ndarray:
    """Decode the frames at ``indices`` of one file (opens and closes it)."""
    with open_video(path, backend=backend, color=color) as reader:
        return reader.get(indices)


def iter_frames(path: str | os.PathLike[str], *, color: Color = "rgb", start: int = 0) -> Iterator[np.ndarray]:
    """Decode a whole file in order with PyAV (threaded), yielding ``(H, W[, 3])`` arrays."""
    import av

    check_choice("color", color, _COLORS)
    path = Path(path)
    if not path.exists():
        raise MissingFileError(f"{path}: video not found")
    try:
        container = av.open(str(path))
    except (av.error.FFmpegError, OSError) as exc:
        raise FormatError(f"cannot open video ({exc})", path=path) from None
    try:
        stream = container.streams.video[0]
        stream.thread_type = "AUTO"
        for position, frame in enumerate(container.decode(stream)):
            if position >= start:
                yield _to_array(frame, color)
    except av.error.FFmpegError as exc:
        raise FormatError(f"decoding failed ({exc})", path=path) from None
    finally:
        container.close()
