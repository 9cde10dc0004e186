"""Held-out accuracy: the recognizer on the true video of samples it never trained on.

Two views, both through the inference code (:class:`.inference.Recognizer`):

* **segments** (the headline, what Action Following asks of it): every action segment of the
  tracked player of at least ``min_segment_frames`` frames that shows the player on at least
  half of its frames, predicted from that segment's frames only (``predict``);
  **all_segments**: the same over every segment, also those where the player is hidden or out
  of the picture (no recognizer can see those; the gap says how often the camera loses them);
* **frames**: the sliding-window prediction (``per_frame``) at every ``frame_stride``-th frame
  that shows the player, against the action of that frame (the timing part of Action Following
  relies on it).

Each view reports top-1 and top-5 accuracy, balanced accuracy (mean recall over the classes
that occur: the fair headline for a long tail), group (bank) accuracy, per-class recall and
the confusion counts (rows: true class, columns: predicted class).
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import Sequence

import numpy as np

from wildworld.store import Store, open_store

from ..split import store_identity
from ._files import read_json
from .clips import EvalSegment, evaluation_segments, shown
from .data import Pixels, SampleFrames, check_store, read_frames, read_pixels
from .inference import Recognizer
from .io import CARD_JSON, CONFIG_FILE
from .vocabulary import Vocabulary

__all__ = ["summarize", "evaluate_heldout", "evaluate_recognizer"]


def summarize(labels: np.ndarray, probabilities: np.ndarray, vocabulary: Vocabulary) -> dict:
    """Accuracy figures of predictions ``probabilities`` (N, C) against class ``labels`` (N,)."""
    labels = np.asarray(labels, dtype=np.int64)
    classes = len(vocabulary)
    if len(labels) == 0:
        return {"items": 0, "top1": None, "top5": None, "balanced": None, "group": None, "per_class": [],
                "confusion": np.zeros((classes, classes), int).tolist()}
    predicted = probabilities.argmax(axis=1)
    top5 = np.argsort(-probabilities, axis=1)[:, :5]
    banks = np.array([item.bank for item in vocabulary.classes])
    confusion = np.zeros((classes, classes), dtype=np.int64)
    np.add.at(confusion, (labels, predicted), 1)
    support = confusion.sum(axis=1)
    present = support > 0
    recall = np.divide(np.diag(confusion), support, out=np.zeros(classes), where=present)
    return {
        "items": int(len(labels)),
        "top1": float((predicted == labels).mean()),
        "top5": float((top5 == labels[:, None]).any(axis=1).mean()),
        "balanced": float(recall[present].mean()),
        "group": float((banks[predicted] == banks[labels]).mean()),
        "per_class": [{"class": item.label, "support": int(support[c]), "recall": float(recall[c]) if present[c] else None}
                      for c, item in enumerate(vocabulary.classes)],
        "confusion": confusion.tolist(),
    }


def evaluate_heldout(recognizer: Recognizer, samples: Sequence[SampleFrames], pixels: Pixels, *,
                     min_segment_frames: int, frame_stride: int = 6, progress=None) -> dict:
    vocabulary = recognizer.vocabulary
    segments: list[EvalSegment] = evaluation_segments(list(samples), pixels.visible, vocabulary, min_frames=min_segment_frames)
    total = len(segments) + len(samples)
    probabilities = []
    for done, segment in enumerate(segments, 1):
        probabilities.append(recognizer.predict_crops(pixels.crops[segment.sample_id][segment.start : segment.stop]))
        if progress is not None:
            progress("evaluation", done, total)
    frame_labels, frame_probabilities = [], []
    for done, sample in enumerate(samples, len(segments) + 1):
        centres = np.arange(0, sample.frames, frame_stride)
        labels = np.array([-1 if not known or (c := vocabulary.class_of(tuple(key))) is None else c
                           for known, key in zip(sample.known()[centres], sample.keys[centres].tolist())])
        keep = (labels >= 0) & shown(pixels.visible[sample.sample_id])[centres]
        if keep.any():
            frame_labels.append(labels[keep])
            frame_probabilities.append(recognizer.probabilities_at(pixels.crops[sample.sample_id], centres[keep]))
        if progress is not None:
            progress("evaluation", done, total)
    classes = len(vocabulary)
    empty = np.zeros((0, classes))
    segment_labels = np.array([s.label for s in segments], dtype=np.int64)
    segment_probabilities = np.stack(probabilities) if probabilities else empty
    visible = np.array([s.shown >= 0.5 for s in segments], dtype=bool)
    return {
        "segments": {"min_frames": min_segment_frames, "shown_on_half_the_frames": True,
                     **summarize(segment_labels[visible], segment_probabilities[visible], vocabulary)},
        "all_segments": {"min_frames": min_segment_frames, **summarize(segment_labels, segment_probabilities, vocabulary)},
        "frames": {"stride": frame_stride,
                   **summarize(np.concatenate(frame_labels) if frame_labels else np.zeros(0, np.int64),
                               np.concatenate(frame_probabilities) if frame_probabilities else empty, vocabulary)},
    }


def evaluate_recognizer(model_dir: str | os.PathLike[str], store: str | os.PathLike[str] | Store, *,
                        device: str = "cpu", workers: int = 0, min_segment_frames: int | None = None,
                        progress=None) -> dict:
    """Held-out accuracy of a trained recognizer on ``store``: on the store it was trained on,
    its held-out samples; on any other store, every sample (none of them was trained on)."""
    recognizer = Recognizer.load(model_dir, device=device)
    config = read_json(Path(model_dir) / CONFIG_FILE, what="model config")
    store = store if isinstance(store, Store) else open_store(store)
    check_store(store)
    same = store_identity(store.manifest) == config["data"]["store_identity"]
    ids = list(config["data"]["held_out_samples"]) if same else [s.id for s in store.samples]
    frames = read_frames(store, ids, progress=progress)
    tracks = {s: recognizer.crop_track(f.camera, f.joints, f.size) for s, f in frames.items()}
    pixels = read_pixels(store, frames, tracks, crop_size=recognizer.config.crop_size, context=recognizer.config.context,
                         workers=workers, progress=progress)
    minimum = int(config["training"]["min_segment_frames"]) if min_segment_frames is None else int(min_segment_frames)
    result = evaluate_heldout(recognizer, [frames[s] for s in ids], pixels, min_segment_frames=minimum, progress=progress)
    card = Path(model_dir) / CARD_JSON
    names = [row["name"] for row in read_json(card, what="model card")["vocabulary"]["table"]] if card.exists() else [""] * len(recognizer.vocabulary)
    return {"recognizer": recognizer.version, "store": str(store.path), "samples": ids, "names": names,
            "which": "held-out samples of the training store" if same else "every sample (another store)", **result}
