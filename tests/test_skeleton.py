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


def _npz_with_member(path, name, data):
    import zipfile

    with zipfile.ZipFile(path, "w") as archive:
        archive.writestr(name, data)
    return path


def test_member_without_npy_magic_names_the_key(tmp_path):
    path = write_skeleton(tmp_path / "skeleton.npz", {"n0_1": np.ones((5, 17, 3))})
    import zipfile

    with zipfile.ZipFile(path, "a") as archive:
        archive.writestr("m2_21.npy", b"junk")
    with pytest.raises(FormatError, match="not a .npy array") as info:
        read_skeleton(path)
    assert info.value.key == "m2_21" and info.value.path == str(path)


def test_header_declaring_a_huge_shape_is_refused_before_allocating(tmp_path):
    import io

    header = io.BytesIO()
    np.lib.format.write_array_header_1_0(header, {"descr": "<f4", "fortran_order": False, "shape": (2**20, 2**20, 3)})
    path = _npz_with_member(tmp_path / "skeleton.npz", "n0_1.npy", header.getvalue() + b"\0" * 1000)
    with pytest.raises(FormatError, match="declares shape") as info:
        read_skeleton(path)
    assert info.value.key == "n0_1" and "1000 bytes" in str(info.value)
    with SkeletonFile(path) as handle, pytest.raises(FormatError):
        handle.shape_of("n0_1")


def test_files_that_are_not_npz_archives_get_our_message(tmp_path):
    text = tmp_path / "text.npz"
    text.write_text("hello\n")
    with pytest.raises(FormatError, match="not a NumPy .npz archive") as info:
        read_skeleton(text)
    assert "pickle" not in str(info.value) and info.value.path == str(text)
    single = tmp_path / "single.npz"
    with open(single, "wb") as handle:
        np.save(handle, np.zeros((5, 17, 3)))
    with pytest.raises(FormatError, match="single array"):
        read_skeleton(single)
    (tmp_path / "empty.npz").write_bytes(b"")
    with pytest.raises(FormatError, match="empty"):
        read_skeleton(tmp_path / "empty.npz")
    (tmp_path / "dir.npz").mkdir()
    with pytest.raises(FormatError, match="directory"):
        read_skeleton(tmp_path / "dir.npz")


def test_keys_must_match_the_whole_pattern(tmp_path):
    with pytest.raises(FormatError):
        parse_skeleton_key("m0_21\n")
    np.savez(tmp_path / "skeleton.npz", **{"m0_21\n": np.zeros((5, 21, 3))})
    with pytest.raises(FormatError) as info:
        read_skeleton(tmp_path / "skeleton.npz")
    assert info.value.key == "m0_21\n"


@pytest.mark.parametrize(
    ("text", "match"),
    [
        ('{"npc": [[true, false]]}', "pair 0 is \\[true, false\\]"),
        ('{"npc": [[0, 1], [0, 1000000000000000000000000000000]]}', "pair 1 is"),
        ('{"npc": [[0, 1]], "npc": [[1, 2]]}', "twice"),
    ],
)
def test_edges_refuse_booleans_huge_indices_and_duplicate_keys(tmp_path, text, match):
    path = tmp_path / "skeleton_edges.json"
    path.write_text(text)
    with pytest.raises(FormatError, match=match) as info:
        read_skeleton_edges(path)
    assert info.value.key == "npc" and info.value.path == str(path)


def test_edges_path_that_is_a_directory(tmp_path):
    (tmp_path / "skeleton_edges.json").mkdir()
    with pytest.raises(FormatError, match="is a directory") as info:
        read_skeleton_edges(tmp_path / "skeleton_edges.json")
    assert info.value.path == str(tmp_path / "skeleton_edges.json")


def test_deeply_nested_edges_file_is_a_format_error(tmp_path):
    from wildworld import FormatError, read_skeleton_edges

    path = tmp_path / "skeleton_edges.json"
    path.write_text("[" * 100_000 + "]" * 100_000)
    with pytest.raises(FormatError, match="nested too deeply"):
        read_skeleton_edges(path)
