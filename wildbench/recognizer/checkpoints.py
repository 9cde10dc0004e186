"""Checkpoints: after every epoch, the weights, the optimiser state and the run's progress.

One safetensors file per epoch (``checkpoints/epoch-NNNN.safetensors``; the last two are
kept): network tensors under ``network.``, the optimiser's per-parameter tensors under
``optimizer.<param>.<name>``, and JSON metadata (the run's fingerprint, the epoch, the loss
history, the optimiser's hyper-parameters, seconds spent). No pickle anywhere: the optimiser
state dict is taken apart into tensors and JSON and put back together on resume.

Every random choice of an epoch is drawn from generators seeded with ``(seed, epoch)``, so a
run resumed from the checkpoint of epoch ``k`` plays epochs ``k+1...`` exactly as an
uninterrupted run does.
"""

from __future__ import annotations

import re
from pathlib import Path

import torch

from .errors import RecognizerError
from .io import CHECKPOINTS, load_tensors, save_tensors

__all__ = ["save_checkpoint", "latest_checkpoint", "restore_checkpoint"]

_NAME = re.compile(r"^epoch-(\d{4,})\.safetensors$")
_KEEP = 2


def _path(model_dir: Path, epoch: int) -> Path:
    return model_dir / CHECKPOINTS / f"epoch-{epoch:04d}.safetensors"


def save_checkpoint(model_dir: Path, epoch: int, network: torch.nn.Module, optimizer: torch.optim.Optimizer,
                    metadata: dict) -> None:
    tensors = {f"network.{name}": value for name, value in network.state_dict().items()}
    state = optimizer.state_dict()
    for param, values in state["state"].items():
        for name, value in values.items():
            tensors[f"optimizer.{param}.{name}"] = value if isinstance(value, torch.Tensor) else torch.tensor(value)
    save_tensors(_path(model_dir, epoch), tensors, {**metadata, "epoch": epoch, "param_groups": state["param_groups"]})
    for old in sorted(_epochs(model_dir))[:-_KEEP]:
        _path(model_dir, old).unlink(missing_ok=True)


def _epochs(model_dir: Path) -> list[int]:
    folder = model_dir / CHECKPOINTS
    if not folder.is_dir():
        return []
    return [int(m.group(1)) for p in folder.iterdir() if (m := _NAME.match(p.name))]


def latest_checkpoint(model_dir: Path) -> Path | None:
    epochs = _epochs(model_dir)
    return _path(model_dir, max(epochs)) if epochs else None


def restore_checkpoint(path: Path, network: torch.nn.Module, optimizer: torch.optim.Optimizer, *,
                       fingerprint: str, device: torch.device) -> dict:
    """Load a checkpoint into ``network`` and ``optimizer``; returns its metadata."""
    tensors, metadata = load_tensors(path, device=str(device))
    if metadata.get("fingerprint") != fingerprint:
        raise RecognizerError(f"{path}: this checkpoint belongs to another training run (other data or settings); "
                              "remove the model directory's checkpoints/ or choose another --out")
    network.load_state_dict({k[len("network."):]: v for k, v in tensors.items() if k.startswith("network.")})
    per_param: dict[int, dict] = {}
    for key, value in tensors.items():
        if key.startswith("optimizer."):
            _, param, name = key.split(".", 2)
            # Adam keeps "step" on the CPU unless capturable; every other tensor on the device
            per_param.setdefault(int(param), {})[name] = value.cpu() if name == "step" else value
    optimizer.load_state_dict({"state": per_param, "param_groups": metadata["param_groups"]})
    return metadata
