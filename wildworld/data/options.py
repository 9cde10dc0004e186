"""The options both loaders take, in one frozen record checked on creation.

    options = LoaderOptions(streams=("rgb", "action"), window=16, normalize="mean_std")
    streams = options.choose_streams(store.streams, location=store.location, skeleton_slots=2)

``WildWorldDataset`` and ``WildWorldStream`` build one from their keyword arguments, so an
option means the same and is refused with the same message in both.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal, Sequence

from .._checks import check_choice, check_positive
from ..errors import OptionError
from ..store.options import ALL_STREAMS
from ..video.decode import DECODERS, decoder_for
from .index import PAD_MODES, PadMode, WindowSpec

__all__ = ["Decoder", "Normalize", "NORMALIZE", "STREAMS", "LoaderOptions"]

#: RGB decoders of the registry (``wildworld.video.decode.DECODERS``); depth always uses PyAV.
Decoder = Literal["pyav", "decord"]
Normalize = Literal["none", "mean_std", "min_max"]
NORMALIZE = ("none", "mean_std", "min_max")
#: Streams a loader can hand out, in the order a ``Window`` holds them.
STREAMS = ALL_STREAMS


def _tuple(name: str, value: str | Sequence[str] | None) -> tuple[str, ...] | None:
    if value is None:
        return None
    if isinstance(value, str):
        return (value,)
    try:
        return tuple(value)
    except TypeError:
        raise OptionError(f"{name}={value!r} must be a sequence of names") from None


@dataclass(frozen=True)
class LoaderOptions:
    """Which streams, the window shape, normalisation and decoding (see the loaders' docs).

    ``streams=None`` means every stream the store has; ``window=None`` (the stream only) one
    window per clip."""

    streams: tuple[str, ...] | None = None
    window: int | None = None
    frame_step: int = 1
    pad: PadMode = "none"
    normalize: Normalize = "none"
    decoder: Decoder = "pyav"
    state_fields: tuple[str, ...] | None = None
    resolution: tuple[int, int] | None = None
    fill_missing: float | None = None

    def __post_init__(self) -> None:
        streams = _tuple("streams", self.streams)
        object.__setattr__(self, "streams", streams)
        object.__setattr__(self, "state_fields", _tuple("state_fields", self.state_fields))
        if streams is not None:
            unknown = [s for s in streams if s not in STREAMS]
            if unknown:
                raise OptionError(f"streams {unknown} not known; choose from {', '.join(STREAMS)}")
            if not streams:
                raise OptionError("streams is empty; ask for at least one of " + ", ".join(STREAMS))
        if self.window is not None:
            check_positive("window", self.window)
        check_positive("frame_step", self.frame_step)
        check_choice("pad", self.pad, PAD_MODES)
        check_choice("normalize", self.normalize, NORMALIZE)
        check_choice("decoder", self.decoder, DECODERS)
        if self.resolution is not None:
            if len(self.resolution) != 2 or any(not isinstance(v, int) or isinstance(v, bool) or v < 1 for v in self.resolution):
                raise OptionError(f"resolution={self.resolution!r} must be (width, height) in pixels")
            object.__setattr__(self, "resolution", tuple(self.resolution))
        if self.fill_missing is not None and not isinstance(self.fill_missing, (int, float)):
            raise OptionError(f"fill_missing={self.fill_missing!r} must be a number or None")

    def window_spec(self, *, default_window: int | None = None, stride: int = 1) -> WindowSpec:
        """The window shape (``default_window`` when ``window`` is None)."""
        window = self.window if self.window is not None else default_window
        if window is None:
            raise OptionError("window= is required (frames per window)")
        return WindowSpec(window, frame_step=self.frame_step, stride=stride, pad=self.pad)

    def choose_streams(self, store_streams: Sequence[str], *, location: str, skeleton_slots: int) -> frozenset[str]:
        """The streams to load from a store that has ``store_streams``: all of them by default."""
        available = tuple(s for s in STREAMS if s in store_streams)
        if self.streams is None:
            chosen = available
        else:
            missing = [s for s in self.streams if s not in available]
            if missing:
                raise OptionError(f"{location}: the store has no {', '.join(missing)} stream "
                                  f"(it has {', '.join(available)}); convert with --streams including it")
            chosen = self.streams
            if "skeleton" in chosen and not skeleton_slots:
                raise OptionError(f"{location}: the store has no skeleton slots (no entity has a skeleton); "
                                  "drop 'skeleton' from streams")
        if "rgb" in chosen and decoder_for(self.decoder, "rgb") == self.decoder and not DECODERS[self.decoder].available:
            raise OptionError(f"decoder={self.decoder!r} but {self.decoder} is not installed on this platform; use decoder='pyav'")
        return frozenset(chosen)
