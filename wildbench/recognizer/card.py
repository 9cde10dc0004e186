"""The model card: ``model_card.json`` (for programs), ``model_card.md`` (for people) and
``confusion.png`` (held-out segments; rows true class, columns predicted, shaded by row share).

The JSON holds: the recognizer (architecture, version, checksum, parameters), the model and
training configs, the data (store, its identity, training and held-out samples and frames, clip
counts, every excluded split with what it covered), the vocabulary (every class with its
training segments and clips, folded and dropped keys), the training run (device, loss per
epoch, seconds per stage) and the held-out evaluation (:mod:`.evaluate`).
"""

from __future__ import annotations

from pathlib import Path

import cv2
import numpy as np

from wildworld.files import atomic_path

from ._files import write_bytes, write_json
from .inference import Recognizer
from .io import CARD_JSON, CARD_MARKDOWN, CONFUSION_PNG

__all__ = ["CARD_VERSION", "write_card", "confusion_png", "card_markdown"]

CARD_VERSION = 1


def confusion_png(confusion: np.ndarray, labels: list[str]) -> bytes:
    """A PNG of a confusion matrix: each cell shaded by its share of the row, counts printed
    while the cells are large enough, class labels on both axes."""
    confusion = np.asarray(confusion, dtype=np.int64)
    classes = len(labels)
    cell = int(np.clip(640 // max(1, classes), 4, 36))
    text = cell >= 18
    margin = 8 + (7 * max((len(s) for s in labels), default=1) if text else 0)
    size = margin + cell * classes + 8
    image = np.full((size, size, 3), 255, np.uint8)
    rows = confusion.sum(axis=1, keepdims=True)
    share = np.divide(confusion, rows, out=np.zeros(confusion.shape), where=rows > 0)
    for i in range(classes):
        for j in range(classes):
            y, x = margin + i * cell, margin + j * cell
            shade = share[i, j]
            colour = (255, int(255 - 200 * shade), int(255 - 235 * shade))  # BGR: white to blue
            cv2.rectangle(image, (x, y), (x + cell - 1, y + cell - 1), colour, thickness=-1)
            if i == j:
                cv2.rectangle(image, (x, y), (x + cell - 1, y + cell - 1), (40, 40, 40), thickness=1)
            if text and confusion[i, j]:
                ink = (255, 255, 255) if shade > 0.55 else (0, 0, 0)
                cv2.putText(image, str(confusion[i, j]), (x + 2, y + cell - 6), cv2.FONT_HERSHEY_PLAIN, 0.8, ink, 1, cv2.LINE_AA)
    if text:
        for i, label in enumerate(labels):
            cv2.putText(image, label, (4, margin + i * cell + cell - 6), cv2.FONT_HERSHEY_PLAIN, 0.8, (0, 0, 0), 1, cv2.LINE_AA)
        column = np.full((margin, cell * classes, 3), 255, np.uint8)  # column labels, written then turned upright
        column = np.ascontiguousarray(np.rot90(column, -1))
        for j, label in enumerate(labels):
            cv2.putText(column, label, (4, j * cell + cell - 6), cv2.FONT_HERSHEY_PLAIN, 0.8, (0, 0, 0), 1, cv2.LINE_AA)
        image[:margin, margin : margin + cell * classes] = np.rot90(column, 1)
    ok, encoded = cv2.imencode(".png", image)
    return encoded.tobytes()


def _percent(value) -> str:
    return "-" if value is None else f"{100 * value:.1f}%"


def card_markdown(card: dict) -> str:
    held, data, training = card["held_out"], card["data"], card["training"]
    seg, every, frm = held["segments"], held["all_segments"], held["frames"]
    seconds = training["seconds"]
    lines = [
        f"# Action recognizer `{card['recognizer']['version']}`",
        "",
        f"Held-out segments showing the player ({seg['items']}, at least {seg['min_frames']} frames, the player shown on "
        f"half of them or more): **top-1 {_percent(seg['top1'])}**, balanced {_percent(seg['balanced'])}, "
        f"top-5 {_percent(seg['top5'])}, **group {_percent(seg['group'])}**.  ",
        f"All held-out segments ({every['items']}, also those where the player is hidden or out of the picture): "
        f"top-1 {_percent(every['top1'])}, balanced {_percent(every['balanced'])}, group {_percent(every['group'])}.  ",
        f"Held-out frames ({frm['items']}, every {frm['stride']}th, sliding window): top-1 {_percent(frm['top1'])}, "
        f"balanced {_percent(frm['balanced'])}, group {_percent(frm['group'])}.  ",
        f"Training: {training['epochs_done']} epochs on {training['device']}, {seconds['training']:.0f} s of training "
        f"({seconds.get('training_cpu', 0):.0f} CPU s; + {seconds['annotations'] + seconds.get('crops', 0):.0f} s reading "
        f"data, {seconds['evaluation']:.0f} s evaluating; the whole run {seconds.get('total_this_run', 0):.0f} s wall, "
        f"{seconds.get('cpu_this_run', 0):.0f} CPU s with its workers). Wall times count whatever else ran on the machine.",
        "",
        "## Data",
        "",
        f"- store `{data['store']}` (identity `{data['store_identity'][:16]}`)",
        f"- training: {len(data['training_samples'])} samples, {data['training_frames']} frames; held out (by sample id): "
        f"{len(data['held_out_samples'])} samples ({', '.join(data['held_out_samples'])}), {data['held_out_frames']} frames",
        "- training clips: " + ", ".join(f"{k}: {v}" for k, v in data["clips"].items()),
    ]
    if data["exclusions"]:
        lines.append("- excluded splits (no training clip overlaps their case windows):")
        for item in data["exclusions"]:
            lines.append(f"  - `{item['path']}` (checksum `{item['checksum'][:12]}`): {item['cases']} cases of "
                         f"{item['horizon']} frames, {item['cases_in_training_samples']} in training samples covering "
                         f"{item['training_frames_in_cases']} frames; {item['training_clips_dropped']} training clips dropped")
    else:
        lines.append("- excluded splits: none (`--exclude-split` was not given)")
    vocab = card["vocabulary"]
    lines += ["", "## Vocabulary", "",
              f"{vocab['classes']} classes keyed by `(motion_bank_id, motion_id)`; a key needs {vocab['min_count']} "
              f"training segments to be a class, rarer keys fold into their bank's class `bank:*`"
              f" ({len(vocab['folded_classes'])} folded classes; {len(vocab['dropped_keys'])} keys too rare even folded).", "",
              "| class | name | group | training segments | training clips | held-out segments | recall |", "|---|---|---|---|---|---|---|"]
    for row, result in zip(vocab["table"], seg["per_class"]):
        lines.append(f"| `{row['class']}` | {row['name'] or '-'} | {row['group']} | {row['segments']} | {row['clips']} | "
                     f"{result['support']} | {_percent(result['recall'])} |")
    lines += ["", f"![confusion matrix of the held-out segments showing the player]({CONFUSION_PNG})", "",
              "## Training", "",
              "- loss per epoch: " + ", ".join(f"{v:.3f}" for v in training["loss"]),
              "- seconds: " + ", ".join(f"{k} {v:.1f}" for k, v in seconds.items()),
              f"- resumed after epoch {training['resumed_from_epoch']}" if training["resumed_from_epoch"] else "- one uninterrupted run",
              "- config: " + ", ".join(f"{k}={v}" for k, v in card["training_config"].items()), ""]
    return "\n".join(lines)


def write_card(out: Path, *, recognizer: Recognizer, document: dict, places: dict, evaluation: dict, loss: list,
               seconds: dict, device: str, resumed_from_epoch: int, class_data: list[dict],
               names: dict | None = None, group_names: dict | None = None) -> dict:
    names, group_names = names or {}, group_names or {}
    vocabulary = recognizer.vocabulary
    table = []
    for item, counts in zip(vocabulary.classes, class_data):
        table.append({"class": item.label, "name": names.get(item.key, "") if item.key else "other",
                      "group": group_names.get(item.bank, f"bank {item.bank}"), "folded": [list(k) for k in item.folded],
                      **counts})
    card = {
        "card_version": CARD_VERSION,
        "recognizer": {"architecture": document["model"]["architecture"],
                       "architecture_version": document["model"]["architecture_version"],
                       "version": recognizer.version, "checksum": recognizer.checksum,
                       "parameters": int(sum(p.numel() for p in recognizer.network.parameters()))},
        "model": document["model"],
        "training_config": document["training"],
        "data": {**document["data"], "store": places["store"],
                 "exclusions": [{**item, "path": path} for item, path in zip(document["data"]["exclusions"], places["exclude_splits"])]},
        "vocabulary": {"classes": len(vocabulary), "min_count": vocabulary.min_count,
                       "folded_classes": [c.label for c in vocabulary.classes if c.motion_id is None],
                       "dropped_keys": [list(k) for k in vocabulary.dropped], "table": table},
        "training": {"device": device, "epochs_done": len(loss), "loss": loss, "seconds": seconds,
                     "resumed_from_epoch": resumed_from_epoch},
        "held_out": evaluation,
    }
    labels = [row["name"] or row["class"] for row in table]
    write_bytes(out / CONFUSION_PNG, confusion_png(np.array(evaluation["segments"]["confusion"]), labels))
    with atomic_path(out / CARD_MARKDOWN) as tmp:
        tmp.write_text(card_markdown(card), encoding="utf-8")
    write_json(out / CARD_JSON, card)  # last: its presence means the model directory is complete
    return card
