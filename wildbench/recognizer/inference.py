"""``Recognizer``: a trained model directory, loaded for inference (pixels in, probabilities out).

Every prediction goes through the same two steps as training: crops cut around given centres
(:func:`.crops.crop_frames`), then clips of ``clip_frames`` crops every ``frame_step`` frames
around a centre frame, the central ``input_size`` pixels of each crop, batched through the
network in eval mode. Frames a clip needs beyond the given ones repeat the edge frames.
"""

from __future__ import annotations

import os
from pathlib import Path

import numpy as np
import torch

from wildworld.files import sha256_file

from ._files import read_json
from .crops import CropTrack, crop_frames, crop_track
from .errors import RecognizerError
from .io import CONFIG_FILE, VOCABULARY_FILE, WEIGHTS_FILE, load_tensors
from .model import ARCHITECTURE, ARCHITECTURE_VERSION, ClipNet, ModelConfig, build_network, prepare_clips
from .vocabulary import ActionKey, Vocabulary

__all__ = ["Recognizer", "resolve_device", "segment_centres"]

_BATCH = 64


def resolve_device(device: str) -> torch.device:
    """``"cpu"`` or ``"cuda"`` (``"cuda:N"``); CUDA without a CUDA device is one clear error."""
    text = str(device)
    if text != "cpu" and not text.startswith("cuda"):
        raise RecognizerError(f"device={device!r} is not allowed; choose 'cpu' or 'cuda'")
    if text.startswith("cuda") and not torch.cuda.is_available():
        raise RecognizerError(f"device={device!r} but this machine has no CUDA device (or torch was built without CUDA); "
                              "use --device cpu")
    try:
        return torch.device(text)
    except RuntimeError as exc:
        raise RecognizerError(f"device={device!r}: {exc}") from None


def segment_centres(frames: int, span: int) -> np.ndarray:
    """Centre frames of the clips that cover ``frames`` frames: one in the middle when a clip
    spans them all, else clips overlapping by half from the first full clip to the last."""
    half = span // 2
    if frames <= span:
        return np.array([(frames - 1) // 2], dtype=np.int64)
    count = int(np.ceil((frames - span) / max(1, half))) + 1
    return np.round(np.linspace(half, frames - 1 - (span - 1 - half), count)).astype(np.int64)


class Recognizer:
    """A trained recognizer (see the package docstring for the whole API)."""

    def __init__(self, network: ClipNet, config: ModelConfig, vocabulary: Vocabulary, *, checksum: str,
                 device: torch.device) -> None:
        if len(vocabulary) != config.classes:
            raise RecognizerError(f"the vocabulary has {len(vocabulary)} classes, the network {config.classes}")
        self.network = network.to(device).eval()
        self.config = config
        self.vocabulary = vocabulary
        self.checksum = checksum
        self.device = device

    @classmethod
    def load(cls, model_dir: str | os.PathLike[str], device: str = "cpu") -> "Recognizer":
        """Load ``MODEL_DIR`` (written by ``wildbench recognizer train``) onto ``device``."""
        root = Path(model_dir)
        if not root.is_dir():
            raise RecognizerError(f"{root}: no such model directory")
        config = ModelConfig.from_json(read_json(root / CONFIG_FILE, what="model config")["model"], path=root / CONFIG_FILE)
        vocabulary = Vocabulary.from_json(read_json(root / VOCABULARY_FILE, what="vocabulary"), path=root / VOCABULARY_FILE)
        target = resolve_device(device)
        tensors, _ = load_tensors(root / WEIGHTS_FILE)
        network = build_network(config)
        try:
            network.load_state_dict(tensors, strict=True)
        except RuntimeError as exc:
            first = str(exc).strip().splitlines()[0]
            raise RecognizerError(f"{root / WEIGHTS_FILE}: the weights do not fit the model config ({first})") from None
        return cls(network, config, vocabulary, checksum=sha256_file(root / WEIGHTS_FILE), device=target)

    # -- identity -----------------------------------------------------------------------
    @property
    def version(self) -> str:
        """Changes whenever the numbers would: architecture version + weights checksum."""
        return f"{ARCHITECTURE}-v{ARCHITECTURE_VERSION}+{self.checksum[:16]}"

    @property
    def classes(self) -> int:
        return len(self.vocabulary)

    @property
    def min_frames(self) -> int:
        """Fewest frames ``predict`` accepts: half a clip (at least half its frames are real)."""
        return self.config.span // 2 + 1

    def class_of(self, key: ActionKey) -> int | None:
        return self.vocabulary.class_of(key)

    def group_of(self, class_index: int) -> int:
        return self.vocabulary.group_of(class_index)

    def crop_track(self, camera: np.ndarray, joints: np.ndarray, size: tuple[int, int]) -> CropTrack:
        """:func:`.crops.crop_track` with this model's body radius and margin."""
        return crop_track(camera, joints, size, body_radius=self.config.body_radius, margin=self.config.crop_margin)

    # -- predictions ----------------------------------------------------------------------
    def predict(self, frames: np.ndarray, centres: np.ndarray | None = None, *, sides: np.ndarray | float | None = None) -> np.ndarray:
        """(C,) class probabilities of one clip or segment: (T, H, W, 3) uint8 frames,
        T >= ``min_frames``, with the player's (T, 2) pixel centres and crop sides (from
        :meth:`crop_track`). The clips covering the frames (:func:`segment_centres`) are averaged."""
        crops = self._crops(frames, centres, sides)
        if len(crops) < self.min_frames:
            raise RecognizerError(f"{len(crops)} frames given; predict needs at least {self.min_frames} "
                                  f"(a clip spans {self.config.span} frames)")
        return self.predict_crops(crops)

    def per_frame(self, frames: np.ndarray, centres: np.ndarray | None = None, *, sides: np.ndarray | float | None = None) -> np.ndarray:
        """(T, C) probabilities of the clip centred on each frame (a sliding window; frames
        before the first and after the last repeat them)."""
        return self.per_frame_crops(self._crops(frames, centres, sides))

    def predict_crops(self, crops: np.ndarray) -> np.ndarray:
        """``predict`` for crops already cut with :func:`.crops.crop_frames` (T, crop, crop, 3)."""
        return self.probabilities_at(crops, segment_centres(len(crops), self.config.span)).mean(axis=0)

    def per_frame_crops(self, crops: np.ndarray) -> np.ndarray:
        """``per_frame`` for crops already cut (T, crop, crop, 3)."""
        return self.probabilities_at(crops, np.arange(len(crops)))

    def _crops(self, frames: np.ndarray, centres, sides) -> np.ndarray:
        frames = np.asarray(frames)
        if frames.ndim != 4 or frames.shape[-1] != 3 or frames.dtype != np.uint8:
            raise RecognizerError(f"frames have shape {frames.shape} and dtype {frames.dtype}; expected (T, H, W, 3) uint8")
        if len(frames) == 0:
            raise RecognizerError("no frames given")
        t, height, width = frames.shape[:3]
        if centres is None:
            centres = np.tile([width / 2.0, height / 2.0], (t, 1))
        centres = np.asarray(centres, dtype=np.float64)
        if centres.shape != (t, 2) or not np.isfinite(centres).all():
            raise RecognizerError(f"centres have shape {centres.shape}; expected ({t}, 2) finite pixels, one per frame")
        sides = np.full(t, height / 2.0) if sides is None else np.broadcast_to(np.asarray(sides, dtype=np.float64), (t,))
        if not (np.isfinite(sides).all() and (sides > 0).all()):
            raise RecognizerError("sides must be positive pixel sizes, one per frame (or one for all)")
        track = CropTrack(centres, sides.astype(np.float64), np.ones(t, dtype=bool))
        return crop_frames(frames, track, out_size=self.config.crop_size, context=self.config.context)

    @torch.no_grad()
    def probabilities_at(self, crops: np.ndarray, centres: np.ndarray) -> np.ndarray:
        """(len(centres), C) probabilities of the clips centred on frames ``centres`` of
        ``crops`` (T, crop, crop, 3) uint8 (frames beyond the ends repeat the end frames)."""
        crops = np.asarray(crops)
        size, inner = self.config.crop_size, self.config.input_size
        if crops.ndim != 4 or crops.shape[1:] != (size, size, 3) or crops.dtype != np.uint8:
            raise RecognizerError(f"crops have shape {crops.shape}; expected (T, {size}, {size}, 3) uint8")
        lo = (size - inner) // 2
        inner_crops = torch.from_numpy(np.ascontiguousarray(crops[:, lo : lo + inner, lo : lo + inner]))
        offsets = np.asarray(self.config.offsets)
        out = []
        for first in range(0, len(centres), _BATCH):
            index = np.clip(centres[first : first + _BATCH, None] + offsets, 0, len(crops) - 1)
            clips = inner_crops[torch.from_numpy(index)].to(self.device)
            logits = self.network(prepare_clips(clips, self.config))
            out.append(torch.softmax(logits.float(), dim=1).cpu().numpy())
        return np.concatenate(out).astype(np.float64)
