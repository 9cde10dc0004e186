"""wildworld: read, validate, convert and load the WildWorld action-conditioned dataset.

Quick start::

    import wildworld
    sample = wildworld.open_sample("sample_data/data_part1/000000")
    sample.num_frames, sample.fps, sample.size
    sample.actions.segments()[:3]          # what the tracked player did
    sample.camera.project(joints)          # OpenCV pixels of world points
    table = wildworld.read_state_csv("state.csv")   # typed pyarrow.Table

    dataset = wildworld.WildWorldDataset("STORE", window=16)   # PyTorch (imports torch lazily)
"""

from __future__ import annotations

from .classify import PathKind, classify_path
from .errors import FormatError, MissingFileError, NotADatasetError, OptionError, SchemaVersionError, WildWorldError
from .findings import Finding, FindingCollector, ValidationReport
from .geometry import (
    Projection,
    intrinsics_matrix,
    look_at_opengl,
    opengl_c2w_to_opencv_w2c,
    project_points,
    quaternion_to_matrix,
    world_to_camera,
)
from .release import (
    ActionSegment,
    Camera,
    PlayerActions,
    Sample,
    SkeletonEntity,
    SkeletonKey,
    open_sample,
    parse_skeleton_key,
    read_skeleton,
    read_skeleton_edges,
    read_state_csv,
)
from .store.reader import Store, open_store
from .validate import validate_path
from .version import __version__

# The PyTorch loaders import torch; load them only when asked for.
_LAZY = {"WildWorldDataset", "WildWorldStream", "collate", "to_device"}


def __getattr__(name: str):
    if name in _LAZY:
        from . import data

        return getattr(data, name)
    raise AttributeError(f"module 'wildworld' has no attribute {name!r}")

__all__ = [
    "ActionSegment",
    "Camera",
    "Finding",
    "FindingCollector",
    "FormatError",
    "MissingFileError",
    "NotADatasetError",
    "OptionError",
    "PathKind",
    "PlayerActions",
    "Projection",
    "Sample",
    "SchemaVersionError",
    "SkeletonEntity",
    "Store",
    "SkeletonKey",
    "ValidationReport",
    "WildWorldDataset",
    "WildWorldError",
    "WildWorldStream",
    "__version__",
    "classify_path",
    "collate",
    "intrinsics_matrix",
    "look_at_opengl",
    "open_sample",
    "open_store",
    "opengl_c2w_to_opencv_w2c",
    "parse_skeleton_key",
    "project_points",
    "quaternion_to_matrix",
    "read_skeleton",
    "read_skeleton_edges",
    "read_state_csv",
    "to_device",
    "validate_path",
    "world_to_camera",
]
