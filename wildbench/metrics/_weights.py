"""Local weight files for learned plug-in metrics: named, checksummed, never downloaded, never unpickled.

A plug-in lists the files it needs (``WeightFile``: name inside ``--weights DIR``, pinned
sha256, where it comes from). ``weights_problem`` says why a plug-in cannot run ("not
computed: ..."), or None; ``load_module`` loads a TorchScript file (``torch.jit.load``: a
TorchScript archive holds code for TorchScript's own interpreter and tensors, not Python
pickles of arbitrary objects; ``torch.load`` of a checkpoint is never used). A file whose sha256 differs from the
pinned one is refused, so every number a plug-in prints comes from the documented weights and
its version names their checksum.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Sequence

from wildworld.files import sha256_file as sha256_of

from ..errors import WildBenchError

__all__ = ["WeightFile", "sha256_of", "weights_problem", "load_module"]


@dataclass(frozen=True)
class WeightFile:
    name: str  # file name inside the --weights directory
    sha256: str | None  # pinned checksum; None: not pinned yet (the plug-in refuses to run)
    source: str  # where the file comes from and how it is made (docs repeat it)

    def __post_init__(self) -> None:
        if "/" in self.name or "\\" in self.name or self.name in ("", ".", ".."):
            raise WildBenchError(f"weight file name {self.name!r} must be a plain file name")
        if self.sha256 is not None and (len(self.sha256) != 64 or any(c not in "0123456789abcdef" for c in self.sha256)):
            raise WildBenchError(f"weight file {self.name}: sha256 {self.sha256!r} must be 64 lowercase hex digits")


def weights_problem(directory: Path | None, files: Sequence[WeightFile]) -> str | None:
    """None when every file is in ``directory`` with its pinned checksum, else why not."""
    names = ", ".join(f.name for f in files)
    if directory is None:
        return f"not computed: no weights given (--weights DIR with {names})"
    directory = Path(directory)
    if not directory.is_dir():
        return f"not computed: --weights {directory} is not a directory (it must hold {names})"
    for weight in files:
        path = directory / weight.name
        if not path.is_file():
            return f"not computed: {path} is missing ({weight.source})"
        if weight.sha256 is None:
            return f"not computed: no sha256 is pinned for {weight.name} yet (docs/metrics-camera-and-quality.md#learned-plug-ins)"
        found = sha256_of(path)
        if found != weight.sha256:
            return f"not computed: {path} has sha256 {found}, expected {weight.sha256} ({weight.source})"
    return None


def load_module(path: Path, device: str):
    import torch

    module = torch.jit.load(str(path), map_location=device)
    module.eval()
    return module

