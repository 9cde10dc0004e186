"""skeleton.npz / skeleton_edges.json readers."""

from __future__ import annotations

import json

import numpy as np
import pytest

from wildworld import FormatError, MissingFileError, parse_skeleton_key, read_skeleton, read_skeleton_edges
from wildworld.release.skeleton import SkeletonFile
from wildworld.release.writer import write_skeleton


def test_parse_keys():
    key = parse_skeleton_key("m1_21")
    assert (key.kind, key.index, key.type_id, key.entity, key.edges_key) == ("m", 1, 21, "monster", "em_21")
    assert parse_skeleton_key("n0_3").edges_key == "npc"
    assert parse_skeleton_key("w0_7").edges_key == "wp_7"
    for bad in ("x1_2", "m_21", "m1-21", "m1_", "npc"):
        with pytest.raises(FormatError):
            parse_skeleton_key(bad)


def test_read_skeleton_float32_and_lazy(tmp_path):
    path = write_skeleton(tmp_path / "skeleton.npz", {"n0_1": np.ones((5, 17, 3)), "m0_21": np.zeros((5, 21, 3))})
    entities = read_skeleton(path)
    assert set(entities) == {"n0_1", "m0_21"}
    assert entities["n0_1"].joints.dtype == np.float32 and entities["m0_21"].num_joints == 21
    with SkeletonFile(path) as handle:
        assert handle.shape_of("m0_21") == (5, 21, 3)


def test_object_arrays_are_never_unpickled(tmp_path):
    path = tmp_path / "skeleton.npz"
    np.savez(path, n0_1=np.array([{"evil": 1}], dtype=object))
    with pytest.raises(FormatError):
        read_skeleton(path)


def test_bad_shapes_and_files(tmp_path):
    np.savez(tmp_path / "flat.npz", n0_1=np.zeros((5, 3)))
    with pytest.raises(FormatError, match="shape"):
        read_skeleton(tmp_path / "flat.npz")
    (tmp_path / "junk.npz").write_bytes(b"not a zip")
    with pytest.raises(FormatError):
        read_skeleton(tmp_path / "junk.npz")
    with pytest.raises(MissingFileError):
        read_skeleton(tmp_path / "none.npz")


def test_edges(tmp_path):
    path = tmp_path / "skeleton_edges.json"
    path.write_text(json.dumps({"npc": [[0, 1], [1, 2]], "em_21": []}))
    edges = read_skeleton_edges(path)
    assert edges["npc"].shape == (2, 2) and edges["em_21"].shape == (0, 2)
    path.write_text(json.dumps({"npc": [[0, -1]]}))
    with pytest.raises(FormatError) as info:
        read_skeleton_edges(path)
    assert info.value.key == "npc"
    path.write_text("{")
    with pytest.raises(FormatError):
        read_skeleton_edges(path)
