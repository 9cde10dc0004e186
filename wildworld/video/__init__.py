"""Video probing, decoding (decord, with PyAV as the fallback) and encoding (PyAV)."""

from .decode import Backend, VideoReader, iter_frames, open_video, read_frames
from .encode import VideoWriter, write_video
from .probe import VideoProbe, count_packets, probe_video

__all__ = [
    "Backend",
    "VideoProbe",
    "VideoReader",
    "VideoWriter",
    "count_packets",
    "iter_frames",
    "open_video",
    "probe_video",
    "read_frames",
    "write_video",
]
