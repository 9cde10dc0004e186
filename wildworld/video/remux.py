"""Cut a run of frames out of a video without re-encoding (keyframe-aligned remux)."""

from __future__ import annotations

import io
import os
from fractions import Fraction
from pathlib import Path

from ..errors import FormatError

__all__ = ["remux_clip"]

_FORMATS = {".mp4": "mp4", ".mkv": "matroska"}


def remux_clip(path: str | os.PathLike[str], start: int, length: int, *, fps: float) -> bytes:
    """Frames ``[start, start + length)`` of ``path`` as a standalone file of the same format.

    ``start`` must be a keyframe and the stream must have no B-frames (true of store videos,
    whose GOP divides the clip length); anything else raises ``FormatError``.
    """
    import av

    path = Path(path)
    container_format = _FORMATS.get(path.suffix.lower())
    if container_format is None:
        raise FormatError(f"cannot remux {path.suffix!r} files", path=path)
    with av.open(str(path)) as source:
        stream = source.streams.video[0]
        time_base = stream.time_base
        first_pts = stream.start_time or 0
        frame_ticks = Fraction(1) / Fraction(fps).limit_denominator(1001) / time_base
        target = first_pts + int(round(start * frame_ticks))
        source.seek(target, stream=stream, backward=True, any_frame=False)
        output = io.BytesIO()
        with av.open(output, mode="w", format=container_format, options={"fflags": "+bitexact"}) as sink:
            out_stream = sink.add_stream_from_template(stream)
            taken = 0
            base = None
            for packet in source.demux(stream):
                if packet.pts is None or not packet.size:
                    continue
                if packet.pts < target - frame_ticks / 2:
                    continue
                if base is None:
                    if not packet.is_keyframe:
                        raise FormatError(f"frame {start} is not a keyframe; clips must start on keyframes", path=path)
                    base = packet.pts
                packet.pts -= base
                packet.dts = packet.pts
                packet.stream = out_stream
                sink.mux(packet)
                taken += 1
                if taken == length:
                    break
        if taken != length:
            raise FormatError(f"only {taken} of {length} frames from frame {start}", path=path)
    return output.getvalue()
