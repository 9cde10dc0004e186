"""The network: a small factorised (2+1)-D convolutional net over a short clip of crops.

Input: ``clip_frames`` crops (every ``frame_step``-th frame around a centre frame) of
``input_size`` pixels, RGB in [-0.5, 0.5], plus the frame-to-frame differences as three more
channels (motion is what tells walk from run and a slash from a thrust; handing it over
explicitly lets a small net learn from little data). A patchifying stem (4 x 4 pixels per
step, as ConvNeXt and ViT do: it shrinks the activations 16-fold at once, and on a CPU the
memory traffic of large activations, not the multiply-adds, is what costs), then three blocks
of a temporal convolution (3 x 1 x 1) and a strided spatial one (1 x 3 x 3), each with batch
norm and ReLU, global average pooling and one linear layer. With the default widths (32, 64,
128) and 14 classes: 0.16 M parameters, 31 M multiply-adds per clip of 8 x 64 x 64 (the earlier
widths (48, 64, 128): 47 M; two thirds of it in the stem and the two layers after it, which run at
16 x 16, so the first width sets the cost).

``ARCHITECTURE_VERSION`` changes whenever the same weights would give other numbers (layers,
input preparation, crop geometry); a recognizer's ``version`` joins it with its weights'
checksum.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass
from typing import Any

import torch
from torch import nn

from .config import DEFAULT_MARGIN
from .errors import RecognizerError

__all__ = ["ARCHITECTURE", "ARCHITECTURE_VERSION", "ModelConfig", "ClipNet", "build_network", "prepare_clips"]

ARCHITECTURE = "clipnet-r2plus1d"
ARCHITECTURE_VERSION = "1"


@dataclass(frozen=True)
class ModelConfig:
    """Everything that fixes what the weights compute (saved in ``config.json``)."""

    classes: int
    body_radius: float  # world units; see crops.py
    crop_margin: float = DEFAULT_MARGIN
    clip_frames: int = 8
    frame_step: int = 2
    input_size: int = 64  # pixels the network sees
    crop_size: int = 72  # pixels cut per frame (the input plus room for jitter)
    widths: tuple[int, ...] = (32, 64, 128)
    architecture: str = ARCHITECTURE
    architecture_version: str = ARCHITECTURE_VERSION

    def __post_init__(self) -> None:
        if self.classes < 2:
            raise RecognizerError(f"a recognizer needs at least 2 classes, got {self.classes}")
        if not (self.body_radius > 0 and self.crop_margin > 0):
            raise RecognizerError(f"body_radius={self.body_radius} and crop_margin={self.crop_margin} must be > 0")
        if self.clip_frames < 2 or self.frame_step < 1:
            raise RecognizerError(f"clip_frames={self.clip_frames} (>= 2) and frame_step={self.frame_step} (>= 1)")
        if not (16 <= self.input_size <= self.crop_size and self.input_size % 16 == 0):
            raise RecognizerError(f"input_size={self.input_size} must be a multiple of 16 between 16 and "
                                  f"crop_size={self.crop_size}")
        if len(self.widths) != 3 or min(self.widths) < 1:
            raise RecognizerError(f"widths={self.widths} must be three positive channel counts")
        if (self.architecture, self.architecture_version) != (ARCHITECTURE, ARCHITECTURE_VERSION):
            raise RecognizerError(f"weights of architecture {self.architecture} v{self.architecture_version}; this code "
                                  f"runs {ARCHITECTURE} v{ARCHITECTURE_VERSION} (retrain, or use the matching wildworld)")

    @property
    def span(self) -> int:
        """Frames from the first to the last frame of a clip."""
        return (self.clip_frames - 1) * self.frame_step + 1

    @property
    def offsets(self) -> list[int]:
        """Frame offsets of a clip's frames from its centre frame (centred: -7..7 for 8 x 2)."""
        return [k * self.frame_step - self.span // 2 for k in range(self.clip_frames)]

    @property
    def context(self) -> float:
        return self.crop_size / self.input_size

    def to_json(self) -> dict[str, Any]:
        data = asdict(self)
        data["widths"] = list(self.widths)
        return data

    @classmethod
    def from_json(cls, data: Any, *, path: object = "config") -> "ModelConfig":
        try:
            fields = dict(data)
            fields["widths"] = tuple(int(w) for w in fields["widths"])
            return cls(**fields)
        except RecognizerError as exc:
            raise RecognizerError(f"{path}: {exc}") from None
        except (KeyError, TypeError, ValueError) as exc:
            raise RecognizerError(f"{path}: not a recognizer model config ({type(exc).__name__}: {exc})") from None


def _unit(channels_in: int, channels_out: int, kernel: tuple, stride: tuple) -> nn.Sequential:
    padding = tuple(k // 2 if k % 2 else 0 for k in kernel)
    return nn.Sequential(nn.Conv3d(channels_in, channels_out, kernel, stride, padding, bias=False),
                         nn.BatchNorm3d(channels_out), nn.ReLU(inplace=True))


class ClipNet(nn.Module):
    def __init__(self, config: ModelConfig) -> None:
        super().__init__()
        w0, w1, w2 = config.widths
        self.features = nn.Sequential(
            _unit(6, w0, (1, 4, 4), (1, 4, 4)),  # patchify: 64 -> 16 (48 -> 12)
            _unit(w0, w0, (3, 1, 1), (1, 1, 1)), _unit(w0, w1, (1, 3, 3), (1, 2, 2)),  # 16 -> 8
            _unit(w1, w1, (3, 1, 1), (2, 1, 1)), _unit(w1, w2, (1, 3, 3), (1, 2, 2)),  # T/2, 8 -> 4
            _unit(w2, w2, (3, 1, 1), (2, 1, 1)),  # T/4
        )
        self.head = nn.Linear(w2, config.classes)
        # channels-last memory: the layout oneDNN's CPU convolutions and batch norm run fastest on
        self.to(memory_format=torch.channels_last_3d)

    def forward(self, clips: torch.Tensor) -> torch.Tensor:
        """(B, 6, T, S, S) float -> (B, classes) logits."""
        return self.head(self.features(clips).mean(dim=(2, 3, 4)))


def build_network(config: ModelConfig, *, seed: int = 0) -> ClipNet:
    """A freshly initialised network; the same seed gives the same weights (global RNG untouched)."""
    with torch.random.fork_rng(devices=[]):
        torch.manual_seed(seed)
        return ClipNet(config)


def prepare_clips(crops: torch.Tensor, config: ModelConfig) -> torch.Tensor:
    """(B, T, S, S, 3) uint8 crops of ``input_size`` -> (B, 6, T, S, S) float network input:
    RGB in [-0.5, 0.5] and the difference to the previous frame (zero for the first)."""
    if crops.ndim != 5 or crops.shape[-1] != 3 or crops.shape[1] != config.clip_frames:
        raise RecognizerError(f"clips have shape {tuple(crops.shape)}; expected (B, {config.clip_frames}, S, S, 3)")
    # Built channels-last (B, T, S, S, 6) in one buffer and returned as a permuted view, which is
    # the channels_last_3d layout the network runs in: the same numbers as concatenating
    # (B, 3, T, S, S) halves and converting, without the three full copies (3.6x faster on a CPU).
    rgb = crops.float().div_(255.0).sub_(0.5)
    out = torch.empty(rgb.shape[:-1] + (6,), dtype=rgb.dtype, device=rgb.device)
    out[..., :3] = rgb
    out[:, :1, ..., 3:] = 0
    out[:, 1:, ..., 3:].copy_(rgb[:, 1:] - rgb[:, :-1])
    return out.permute(0, 4, 1, 2, 3)
