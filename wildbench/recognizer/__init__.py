"""The WildBench action recognizer: which action is the tracked player playing, from pixels.

A compact video classifier trained on a store through ``wildworld.WildWorldDataset`` windows
(docs/recognizer.md). It predicts the tracked player's action ``(motion_bank_id, motion_id)``
and its group (the bank) from a short clip of frames cropped around the player; annotations
only place the crop (training: the store's camera and skeleton; evaluation: the answer key's).

Training (``wildbench recognizer train STORE --out MODEL_DIR``)::

    from wildbench.recognizer import TrainConfig, train_recognizer
    result = train_recognizer("STORE", "MODEL_DIR", TrainConfig(epochs=8), exclude_splits=["SPLIT"])
    result.held_out["segments"]["top1"]

Inference API (what the Action Following metric uses)::

    from wildbench.recognizer import Recognizer
    recognizer = Recognizer.load("MODEL_DIR", device="cpu")      # or "cuda"
    recognizer.checksum          # sha256 of weights.safetensors
    recognizer.version           # "clipnet-r2plus1d-v1+<checksum[:16]>": changes when its numbers would
    recognizer.vocabulary        # Vocabulary: .classes (ActionClass: bank, motion_id, count), .labels
    recognizer.class_of((bank, motion_id))  # -> int | None: the key's class, else its bank's folded class
    recognizer.group_of(class_index)        # -> bank (the group)
    track = recognizer.crop_track(camera, joints, (width, height))
    #   camera (T, 11): fx fy cx cy | position | rotation (xyzw, OpenGL camera-to-world), as in the
    #   store's camera.* fields; joints (T, J, 3): the tracked player's world joints (NaN absent).
    #   -> CropTrack: centres (T, 2) pixels, sides (T,) pixels, found (T,)
    #   (the pure function: crop_track(camera, joints, size, body_radius=..., margin=...))
    p = recognizer.predict(frames, track.centres, sides=track.sides)    # (C,) probabilities
    #   frames (T, H, W, 3) uint8, T >= recognizer.min_frames (8): one segment; the clips that
    #   cover it (8 frames every 2nd, overlapping by half) are averaged; edge frames repeat.
    q = recognizer.per_frame(frames, track.centres, sides=track.sides)  # (T, C) probabilities
    #   the clip centred on each frame (a sliding window, batched; deterministic in eval mode).

``centres=None`` puts every crop at the image centre and ``sides=None`` makes them half the
image height: a fallback only; the model was trained on crops that follow the player.
"""

from __future__ import annotations

from importlib import import_module

# Where each public name lives; modules load on first use, so that importing a torch-free part
# (``wildbench.recognizer.config``, which the command line reads its defaults from) does not
# import torch.
_PUBLIC = {
    "ARCHITECTURE": "model", "ARCHITECTURE_VERSION": "model", "ModelConfig": "model",
    "ActionClass": "vocabulary", "ActionKey": "vocabulary", "Vocabulary": "vocabulary", "build_vocabulary": "vocabulary",
    "CropTrack": "crops", "crop_frames": "crops", "crop_track": "crops",
    "Recognizer": "inference", "RecognizerError": "errors", "TrainConfig": "config",
    "TrainResult": "train", "train_recognizer": "train", "evaluate_recognizer": "evaluate",
}
__all__ = sorted(_PUBLIC)


def __getattr__(name: str):
    if name in _PUBLIC:
        return getattr(import_module(f".{_PUBLIC[name]}", __name__), name)
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
