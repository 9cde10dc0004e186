"""The training settings (no torch here: the command line reads its defaults from this)."""

from __future__ import annotations

import math
from dataclasses import asdict, dataclass

from .errors import RecognizerError

__all__ = ["TrainConfig", "DEFAULT_MARGIN"]

#: Crop side in units of the body radius is ``2 * margin``: room for a swung weapon.
DEFAULT_MARGIN = 1.25


@dataclass(frozen=True)
class TrainConfig:
    """What a training run does (saved in ``config.json``; a resumed run must match it)."""

    epochs: int = 20
    steps_per_epoch: int = 200  # 20 x 200 x 32 clips: docs/recognizer.md#measured
    batch_size: int = 32
    learning_rate: float = 1e-2
    weight_decay: float = 1e-4
    label_smoothing: float = 0.05
    min_count: int = 8  # training segments a key needs to be a class of its own
    balance: float = 1.0  # a class is drawn with weight count ** (1 - balance): 1 every class alike, 0 as they come
    holdout_fraction: float = 0.2
    segment_clamp: float = 0.5  # share of clips shown as predict() sees a segment (edges repeated)
    erase: float = 0.0  # share of training clips with one occluding rectangle (0.5 measured worse: docs/recognizer.md#measured)
    mirror: float = 0.0  # share of clips flipped left-right: only where no action is another's mirror image (0.5 on synthetic stores)
    min_segment_frames: int = 8  # held-out segments shorter than this are not scored
    seed: int = 0
    clip_frames: int = 8
    frame_step: int = 2
    input_size: int = 64  # 48 px: 80.9% top-1, 64 px: 87.8% (earlier widths, docs/recognizer.md#measured); 32 loses the arm poses
    crop_size: int = 72
    crop_margin: float = DEFAULT_MARGIN
    widths: tuple[int, ...] = (32, 64, 128)  # (48, 64, 128) costs 1.5x a step: docs/recognizer.md#measured-mirror

    def __post_init__(self) -> None:
        for name in ("epochs", "steps_per_epoch", "batch_size", "min_count", "min_segment_frames", "clip_frames",
                     "frame_step", "input_size", "crop_size"):
            value = getattr(self, name)
            if not isinstance(value, int) or isinstance(value, bool) or value < 1:
                raise RecognizerError(f"{name}={value!r} must be an integer >= 1")
        for name, low, high in (("learning_rate", 0, None), ("weight_decay", 0, None), ("label_smoothing", 0, 1),
                                ("balance", 0, 1), ("holdout_fraction", 0, 1), ("segment_clamp", 0, 1),
                                ("erase", 0, 1), ("mirror", 0, 1)):
            value = getattr(self, name)
            if not isinstance(value, (int, float)) or not math.isfinite(value) or value < low or (high is not None and value > high):
                raise RecognizerError(f"{name}={value!r} must be a number in [{low}, {high if high is not None else 'inf'}]")

    def to_json(self) -> dict:
        data = asdict(self)
        data["widths"] = list(self.widths)
        return data
