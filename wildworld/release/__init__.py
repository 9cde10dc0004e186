"""Readers (and, separately, writers) of the official WildWorld release layout."""

from .sample import ActionSegment, Camera, PlayerActions, Sample, column_array, open_sample
from .skeleton import SkeletonEntity, SkeletonFile, SkeletonKey, parse_skeleton_key, read_skeleton, read_skeleton_edges
from .state_csv import parse_tuple_cell, read_state_csv

__all__ = [
    "ActionSegment",
    "Camera",
    "PlayerActions",
    "Sample",
    "SkeletonEntity",
    "SkeletonFile",
    "SkeletonKey",
    "column_array",
    "open_sample",
    "parse_skeleton_key",
    "parse_tuple_cell",
    "read_skeleton",
    "read_skeleton_edges",
    "read_state_csv",
]
