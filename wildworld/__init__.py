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

from typing import TYPE_CHECKING

# Every public name is imported on first use (PEP 562), so that ``import wildworld.errors`` (each
# CLI call) does not pay for pandas, scipy and the store reader, and the PyTorch loaders import
# torch only when asked for. The names and where they live:
_SOURCES = {
    "PathKind": "classify", "classify_path": "classify",
    "FormatError": "errors", "MissingFileError": "errors", "NotADatasetError": "errors",
    "OptionError": "errors", "SchemaVersionError": "errors", "WildWorldError": "errors",
    "Finding": "findings", "FindingCollector": "findings", "ValidationReport": "findings",
    "Projection": "geometry", "intrinsics_matrix": "geometry", "look_at_opengl": "geometry",
    "opengl_c2w_to_opencv_w2c": "geometry", "project_points": "geometry",
    "quaternion_to_matrix": "geometry", "world_to_camera": "geometry",
    "ActionSegment": "release", "Camera": "release", "PlayerActions": "release", "Sample": "release",
    "SkeletonEntity": "release", "SkeletonKey": "release", "open_sample": "release",
    "parse_skeleton_key": "release", "read_skeleton": "release", "read_skeleton_edges": "release",
    "read_state_csv": "release",
    "Store": "store.reader", "open_store": "store.reader",
    "validate_path": "validate",
    "__version__": "version",
    "WildWorldDataset": "data", "WildWorldStream": "data", "collate": "data", "to_device": "data",
}

if TYPE_CHECKING:  # for type checkers and IDEs: the same names, imported eagerly
    from .classify import PathKind, classify_path
    from .data import WildWorldDataset, WildWorldStream, collate, to_device
    from .errors import FormatError, MissingFileError, NotADatasetError, OptionError, SchemaVersionError, WildWorldError
    from .findings import Finding, FindingCollector, ValidationReport
    from .geometry import (Projection, intrinsics_matrix, look_at_opengl, opengl_c2w_to_opencv_w2c, project_points,
                           quaternion_to_matrix, world_to_camera)
    from .release import (ActionSegment, Camera, PlayerActions, Sample, SkeletonEntity, SkeletonKey, open_sample,
                          parse_skeleton_key, read_skeleton, read_skeleton_edges, read_state_csv)
    from .store.reader import Store, open_store
    from .validate import validate_path
    from .version import __version__


def __getattr__(name: str):
    source = _SOURCES.get(name)
    if source is None:
        raise AttributeError(f"module 'wildworld' has no attribute {name!r}")
    import importlib

    value = getattr(importlib.import_module(f".{source}", __name__), name)
    globals()[name] = value  # later look-ups skip this function
    return value


def __dir__():
    return sorted(set(globals()) | set(__all__))


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
