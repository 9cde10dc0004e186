"""Frame-accurate decoding by index, of a file, of bytes in memory or of a readable stream.

Decoders share one small interface (:class:`VideoReader`) and one registry (:data:`DECODERS`):

* ``pyav``: always available; builds a packet index once (demux only), seeks to the keyframe
  before each requested run of frames and decodes forward. It is the exact decoder: the only
  one that returns the exact luma plane, which lossless depth needs (``color="gray"``);
* ``decord``: fast batched RGB decoding (x86-64 wheels only, unmaintained upstream).

``backend="auto"`` picks decord for RGB when it is installed and opens the file, else PyAV.
:func:`decoder_for` is the rule the loaders use: the chosen decoder where it can return the
colour asked for, else the exact one. To add a decoder, subclass :class:`VideoReader` and
:func:`register_decoder` a :class:`DecoderSpec` for it.
"""

from __future__ import annotations

import bisect
import importlib.util
import io
import os
from dataclasses import dataclass
from pathlib import Path
from typing import BinaryIO, Callable, Iterator, Literal, Sequence, Union

import numpy as np

from .._checks import check_choice
from ..errors import FormatError, MissingFileError, OptionError

__all__ = [
    "Backend",
    "Color",
    "VideoSource",
    "VideoReader",
    "DecoderSpec",
    "DECODERS",
    "register_decoder",
    "decoder_for",
    "open_video",
    "read_frames",
    "iter_frames",
    "luma_plane",
    "frame_to_rgb",
    "frame_to_gray",
]

Backend = Literal["auto", "decord", "pyav"]
Color = Literal["rgb", "gray"]
_COLORS = ("rgb", "gray")
#: A file path, the bytes of a whole video, or a readable binary stream (e.g. an fsspec file).
VideoSource = Union[str, os.PathLike, bytes, BinaryIO]


# AVColorSpace values OpenCV's I420 conversion (BT.601, limited range) is right for.
_BT601 = {2, 5, 6}  # unspecified, BT.470BG, SMPTE 170M


def frame_to_rgb(frame, out: np.ndarray | None = None) -> np.ndarray:
    """A PyAV frame as ``(H, W, 3)`` RGB uint8 (into ``out`` when given).

    BT.601 limited-range yuv420p (what H.264 at these sizes carries) is converted by OpenCV,
    about a third cheaper than FFmpeg's own conversion; anything else by FFmpeg."""
    import cv2

    if frame.format.name == "yuv420p" and getattr(frame, "colorspace", 2) in _BT601 and getattr(frame, "color_range", 1) != 2:
        if frame.width % 2 or frame.height % 2:  # to_ndarray() needs even sizes: pad, convert, crop
            rgb = cv2.cvtColor(_padded_i420(frame), cv2.COLOR_YUV2RGB_I420)[: frame.height, : frame.width]
        else:
            rgb = cv2.cvtColor(frame.to_ndarray(), cv2.COLOR_YUV2RGB_I420, dst=out)
        if out is not None and rgb is not out:
            out[...] = rgb
            return out
        return rgb
    rgb = frame.to_ndarray(format="rgb24")
    if out is None:
        return rgb
    out[...] = rgb
    return out


def _padded_i420(frame) -> np.ndarray:
    """An odd-size yuv420p frame as an even-size I420 buffer (edge pixels repeated); its chroma
    planes already cover the rounded-up size, so cropping the converted frame gives the same
    colours as the even-size path."""
    height, width = frame.height + frame.height % 2, frame.width + frame.width % 2
    planes = []
    for plane, (h, w) in zip(frame.planes, ((frame.height, frame.width), (height // 2, width // 2), (height // 2, width // 2))):
        planes.append(np.frombuffer(plane, dtype=np.uint8).reshape(-1, plane.line_size)[:h, :w])
    luma = np.pad(planes[0], ((0, height - frame.height), (0, width - frame.width)), mode="edge")
    return np.concatenate([luma.reshape(-1), planes[1].reshape(-1), planes[2].reshape(-1)]).reshape(height * 3 // 2, width)


def frame_to_gray(frame, out: np.ndarray | None = None) -> np.ndarray:
    """The first plane of a PyAV frame (gray, or Y of YUV) as ``(H, W)`` uint8, bit-exact."""
    plane = frame.planes[0]
    raw = np.frombuffer(plane, dtype=np.uint8).reshape(frame.height, plane.line_size)[:, : frame.width]
    if out is None:
        return raw.copy()
    out[...] = raw
    return out


luma_plane = frame_to_gray


def _to_array(frame, color: str) -> np.ndarray:
    return frame_to_gray(frame) if color == "gray" else frame_to_rgb(frame)


class VideoReader:
    """Random access to the frames of one video by index (see :func:`open_video`)."""

    backend: str = ""
    path: Path | str  # the file, or what messages call an in-memory video
    color: str
    num_frames: int
    fps: float
    width: int
    height: int

    def get(self, indices: Sequence[int], out: np.ndarray | None = None) -> np.ndarray:
        """Frames at ``indices`` (any order, repeats allowed): ``(T, H, W, 3)`` or ``(T, H, W)``,
        written into ``out`` when given."""
        raise NotImplementedError

    @property
    def frame_shape(self) -> tuple[int, ...]:
        return (self.height, self.width, 3) if self.color == "rgb" else (self.height, self.width)

    def _output(self, count: int, out: np.ndarray | None) -> np.ndarray:
        shape = (count, *self.frame_shape)
        if out is None:
            return np.empty(shape, dtype=np.uint8)
        if out.shape != shape or out.dtype != np.uint8:
            raise ValueError(f"{self.path}: out has shape {out.shape} {out.dtype}, expected {shape} uint8")
        return out

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

    def __init__(self, source: Path | BinaryIO, *, name: Path | str, threads: int) -> None:
        import decord

        self.path = name
        self.color = "rgb"
        try:
            self._reader = decord.VideoReader(str(source) if isinstance(source, Path) else source, ctx=decord.cpu(0), num_threads=threads)
        except (decord.DECORDError, RuntimeError) as exc:
            raise FormatError(f"decord cannot open the video ({exc})", path=name) from None
        self.num_frames = len(self._reader)
        self.fps = float(self._reader.get_avg_fps())
        first = self._reader[0].shape if self.num_frames else (0, 0, 3)
        self.height, self.width = int(first[0]), int(first[1])
        self._reader.seek(0)

    def get(self, indices: Sequence[int], out: np.ndarray | None = None) -> np.ndarray:
        idx = self._check(indices)
        result = self._output(idx.size, out)
        if idx.size:
            result[...] = self._reader.get_batch(idx.tolist()).asnumpy()
        return result

    def close(self) -> None:
        self._reader = None


class _PyAVReader(VideoReader):
    """PyAV decoding by index. A packet index (demux only) maps presentation order to frames;
    a read seeks to the keyframe at or before the first wanted frame and decodes forward, and
    keeps decoding forward across calls while the next wanted frame lies in the current run of
    frames (consecutive windows cost no seek)."""

    backend = "pyav"

    def __init__(self, source: Path | BinaryIO, *, name: Path | str, color: str, threads: int) -> None:
        import av

        self.path = path = name
        self.color = color
        try:
            self._container = av.open(str(source) if isinstance(source, Path) else source)
        except (av.error.FFmpegError, OSError) as exc:
            raise FormatError(f"cannot open video ({exc})", path=path) from None
        if not self._container.streams.video:
            self._container.close()
            raise FormatError("no video stream in the file", path=path)
        self._stream = self._container.streams.video[0]
        # threads=0 lets FFmpeg decide; an explicit count (1 in DataLoader workers) keeps the
        # codec from fighting the workers for cores, and a thread pool inherited by a forked
        # worker deadlocks when the codec is freed there.
        if threads != 1:
            self._stream.thread_type = "AUTO"
        self._stream.codec_context.thread_count = threads
        rate = self._stream.average_rate or self._stream.guessed_rate
        self.fps = float(rate) if rate else 0.0
        self.width = int(self._stream.codec_context.width)
        self.height = int(self._stream.codec_context.height)
        pts, keys = [], []
        try:
            for packet in self._container.demux(self._stream):
                if packet.pts is not None and packet.size:
                    pts.append(int(packet.pts))
                    keys.append(bool(packet.is_keyframe))
        except av.error.FFmpegError as exc:
            raise FormatError(f"demuxing failed ({exc})", path=path) from None
        order = np.argsort(pts, kind="stable")
        self._pts = np.asarray(pts, dtype=np.int64)[order]
        self._index_of = {int(p): i for i, p in enumerate(self._pts)}
        self._keyframes = [int(i) for i, k in enumerate(np.asarray(keys, dtype=bool)[order]) if k] or [0]
        self.num_frames = len(self._pts)
        self._decoder: Iterator | None = None
        self._next: int | None = None  # the frame the open decoder yields next

    def get(self, indices: Sequence[int], out: np.ndarray | None = None) -> np.ndarray:
        idx = self._check(indices)
        result = self._output(idx.size, out)
        if idx.size == 0:
            return result
        if np.any(np.diff(idx) < 0):  # out of order: decode each distinct frame once, in order
            unique, inverse = np.unique(idx, return_inverse=True)
            result[...] = self.get(unique)[inverse]
            return result
        slot = 0
        while slot < idx.size:
            target = int(idx[slot])
            if self._decoder is None or self._next is None or target < self._next or self._keyframe_before(target) > self._next:
                self._seek(target)
            self._convert(self._decode_until(target), result[slot])
            slot += 1
            while slot < idx.size and idx[slot] == target:  # repeated (e.g. padded) slots
                result[slot] = result[slot - 1]
                slot += 1
        return result

    def _seek(self, target: int) -> None:
        key = self._keyframe_before(target)
        self._container.seek(int(self._pts[key]), stream=self._stream, backward=True, any_frame=False)
        self._decoder = self._container.decode(self._stream)
        self._next = None

    def _decode_until(self, target: int):
        import av

        try:
            for frame in self._decoder:
                index = self._index_of.get(int(frame.pts)) if frame.pts is not None else None
                if index is None:
                    continue
                self._next = index + 1
                if index == target:
                    return frame
                if index > target:  # the seek landed past the target
                    break
        except av.error.FFmpegError as exc:
            raise FormatError(f"decoding failed near frame {target} ({exc})", path=self.path) from None
        self._decoder = None
        raise FormatError(f"frame {target} could not be decoded", path=self.path)

    def _convert(self, frame, out: np.ndarray) -> None:
        if self.color == "gray":
            frame_to_gray(frame, out)
        else:
            frame_to_rgb(frame, out)

    def _keyframe_before(self, target: int) -> int:
        return self._keyframes[max(bisect.bisect_right(self._keyframes, target) - 1, 0)]

    def close(self) -> None:
        if getattr(self, "_container", None) is not None:
            self._container.close()
            self._container = None
            self._decoder = None


@dataclass(frozen=True)
class DecoderSpec:
    """A decoder of the registry: what it can return and how to open it."""

    name: str
    colors: tuple[str, ...]  # the colours it returns exactly
    open: Callable[..., VideoReader]  # open(source, *, name, color, threads)
    module: str  # the import it needs (available when importable)

    @property
    def available(self) -> bool:
        return importlib.util.find_spec(self.module) is not None


#: Decoders by name; ``pyav`` is the exact one every colour falls back to.
DECODERS: dict[str, DecoderSpec] = {}
EXACT_DECODER = "pyav"


def register_decoder(spec: DecoderSpec) -> DecoderSpec:
    if spec.name in DECODERS or spec.name == "auto":
        raise OptionError(f"decoder {spec.name!r} is registered twice (or is the reserved 'auto')")
    DECODERS[spec.name] = spec
    return spec


def _open_pyav(source, *, name, color, threads) -> VideoReader:
    return _PyAVReader(source, name=name, color=color, threads=threads)


def _open_decord(source, *, name, color, threads) -> VideoReader:
    return _DecordReader(source, name=name, threads=threads)


register_decoder(DecoderSpec("pyav", ("rgb", "gray"), _open_pyav, "av"))
register_decoder(DecoderSpec("decord", ("rgb",), _open_decord, "decord"))


def decoder_for(choice: str, color: Color) -> str:
    """The decoder that serves ``color`` when ``choice`` is asked for: ``choice`` where it
    returns that colour exactly, else the exact decoder (depth always decodes with PyAV)."""
    check_choice("decoder", choice, DECODERS)
    return choice if color in DECODERS[choice].colors else EXACT_DECODER


def _source(source: VideoSource, name: str | None) -> tuple[Path | BinaryIO, Path | str]:
    """``(what the decoder opens, what messages call it)``; a missing file raises."""
    if isinstance(source, (bytes, bytearray, memoryview)):
        return io.BytesIO(bytes(source)), name or "<in-memory video>"
    if isinstance(source, (str, os.PathLike)):
        path = Path(source)
        if not path.exists():
            raise MissingFileError(f"{path}: video not found")
        return path, name or path
    return source, name or getattr(source, "path", None) or getattr(source, "name", None) or "<video stream>"


def open_video(
    source: VideoSource,
    *,
    backend: Backend = "auto",
    color: Color = "rgb",
    threads: int = 0,
    name: str | None = None,
) -> VideoReader:
    """Open a video (a path, its bytes or a readable stream) for frame access by index.

    ``color="gray"`` always uses PyAV (exact luma); ``name`` is what error messages call a
    video that is not a file."""
    check_choice("backend", backend, ("auto", *DECODERS))
    check_choice("color", color, _COLORS)
    opened, label = _source(source, name)
    if backend != "auto" and color not in DECODERS[backend].colors:
        raise FormatError(f"{backend} returns converted {', '.join(DECODERS[backend].colors)} only; "
                          f"use backend={EXACT_DECODER!r} for exact {color} frames")
    if backend == "auto":
        candidates = [d for d in DECODERS.values() if d.name != EXACT_DECODER and color in d.colors and d.available]
        for spec in candidates:  # a faster decoder where it opens the file; else the exact one
            try:
                return spec.open(opened, name=label, color=color, threads=threads)
            except (ImportError, FormatError):
                if not isinstance(opened, Path):
                    opened.seek(0)
        backend = EXACT_DECODER
    spec = DECODERS[backend]
    if not spec.available:
        raise FormatError(f"{spec.name} is not installed on this platform; use backend={EXACT_DECODER!r}")
    return spec.open(opened, name=label, color=color, threads=threads)


def read_frames(
    source: VideoSource, indices: Sequence[int], *, backend: Backend = "auto", color: Color = "rgb"
) -> np.ndarray:
    """Decode the frames at ``indices`` of one video (opens and closes it)."""
    with open_video(source, backend=backend, color=color) as reader:
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
