"""The model directory: its file names, and weights as safetensors (never a pickle).

```
MODEL_DIR/
  config.json           model config (what the weights compute) + training config + data
  vocabulary.json       the classes (vocabulary.py)
  weights.safetensors   the trained weights (its sha256 is the recognizer's checksum)
  model_card.json       data, exclusions, held-out accuracy, per-class recall, confusion counts
  model_card.md         the same for people
  confusion.png         held-out confusion matrix (rows: true class, columns: predicted)
  checkpoints/          epoch-NNNN.safetensors: weights + optimiser state + progress (resume)
```
Every file is written to a temporary name and renamed; ``model_card.json`` is written last.
"""

from __future__ import annotations

import json
import os
from pathlib import Path

import torch
from safetensors import SafetensorError, safe_open
from safetensors.torch import save as save_bytes

from ._files import write_bytes
from .errors import RecognizerError

__all__ = ["CONFIG_FILE", "VOCABULARY_FILE", "WEIGHTS_FILE", "CARD_JSON", "CARD_MARKDOWN", "CONFUSION_PNG",
           "CHECKPOINTS", "save_tensors", "load_tensors"]

CONFIG_FILE = "config.json"
VOCABULARY_FILE = "vocabulary.json"
WEIGHTS_FILE = "weights.safetensors"
CARD_JSON = "model_card.json"
CARD_MARKDOWN = "model_card.md"
CONFUSION_PNG = "confusion.png"
CHECKPOINTS = "checkpoints"


def save_tensors(path: str | os.PathLike[str], tensors: dict[str, torch.Tensor], metadata: dict | None = None) -> None:
    """Write tensors (contiguous CPU copies) and JSON metadata as one safetensors file, atomically."""
    cpu = {name: tensor.detach().to("cpu").contiguous() for name, tensor in tensors.items()}
    header = {"json": json.dumps(metadata or {}, sort_keys=True, allow_nan=False)}
    write_bytes(path, save_bytes(cpu, metadata=header))


def load_tensors(path: str | os.PathLike[str], *, device: str = "cpu") -> tuple[dict[str, torch.Tensor], dict]:
    """Tensors and metadata of a safetensors file; a missing or damaged file is one clear error."""
    path = Path(path)
    if not path.exists():
        raise RecognizerError(f"{path}: no weights here (is this a model directory written by "
                              "`wildbench recognizer train`?)")
    if path.is_dir():
        raise RecognizerError(f"{path}: is a directory, expected a safetensors file")
    try:
        with safe_open(str(path), framework="pt", device=device) as handle:
            tensors = {name: handle.get_tensor(name) for name in handle.keys()}
            header = handle.metadata() or {}
        metadata = json.loads(header.get("json", "{}"))
    except (SafetensorError, ValueError, OSError) as exc:
        raise RecognizerError(f"{path}: not a readable safetensors file ({exc})") from None
    return tensors, metadata
