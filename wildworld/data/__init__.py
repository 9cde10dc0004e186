"""PyTorch loaders for a converted store (needs torch; the rest of ``wildworld`` does not).

* :class:`WildWorldDataset`: map-style, every window of every sample (random access).
* :class:`WildWorldStream`: iterable over the WebDataset clip shards (streaming, multi-node).
* :func:`collate`, :func:`to_device`: batching and moving :class:`Window` records.

See docs/loader.md and docs/tutorial-training.md.
"""

from .collate import collate, pin_memory, to_device
from .dataset import WildWorldDataset
from .index import WindowIndex, WindowSpec
from .records import ActionRecord, CameraRecord, SkeletonRecord, StateField, StateFields, StateRecord, Window
from .stream import WildWorldStream

__all__ = [
    "ActionRecord",
    "CameraRecord",
    "SkeletonRecord",
    "StateField",
    "StateFields",
    "StateRecord",
    "WildWorldDataset",
    "WildWorldStream",
    "Window",
    "WindowIndex",
    "WindowSpec",
    "collate",
    "pin_memory",
    "to_device",
]
