"""The shared suite every store backend passes (in the style of zarr's ``StoreTests``).

``StoreBackendSuite`` holds the tests; each subclass only says how to reach the same store:
a local directory, fsspec over ``file://``, over ``memory://`` and over a loopback HTTP
server (tests/_http_server.py: byte ranges, suffix ranges, 127.0.0.1 only). A new backend
gets the whole suite by adding one subclass with a ``reader`` fixture.
"""

from __future__ import annotations

import json
import uuid
from pathlib import Path

import numpy as np
import pytest

from _http_server import LoopbackServer
from wildworld.errors import MissingFileError, WildWorldError
from wildworld.store import FsspecStoreReader, LocalStoreReader, Store, StoreManifest, StoreReader, open_reader, read_manifest
from wildworld.store.backends import open_url
from wildworld.store.clips import iter_clips
from wildworld.store.stats import read_stats


@pytest.fixture(scope="module")
def store(synth_part, tmp_path_factory) -> Path:
    """A small store with several shards (3 samples x 2 s at 128x72, clips of 16 frames)."""
    from wildworld.store import ConvertOptions
    from wildworld.store.convert import convert

    out = tmp_path_factory.mktemp("backends") / "store"
    convert([synth_part], out, ConvertOptions(width=128, height=72, clip_len=16, gop=8, shard_bytes=150_000), workers=1)
    return out


@pytest.fixture(scope="module")
def local(store) -> Store:
    return Store(store)


class StoreBackendSuite:
    """Every backend reads the same store as the local directory does, member for member."""

    @pytest.fixture()
    def reader(self, store) -> StoreReader:  # pragma: no cover - each backend overrides it
        raise NotImplementedError

    def test_it_is_a_store_reader(self, reader):
        assert isinstance(reader, StoreReader)
        assert open_reader(reader) is reader

    def test_manifest_is_the_same_checked_record(self, reader, local):
        manifest = read_manifest(reader)
        assert isinstance(manifest, StoreManifest) and manifest == local.manifest
        assert manifest.frames == sum(s.frames for s in manifest.samples) and len(manifest.shards) >= 2

    def test_members_read_byte_for_byte(self, reader, store, local):
        members = ["stats.json", local.manifest.shards[0].path, "videos/000000/depth.mkv",
                   next(name for name in local.manifest.files if name.startswith("annotations.zarr/frames/c/"))]
        for member in members:
            want = (store / member).read_bytes()
            assert reader.exists(member)
            assert reader.read_bytes(member) == want
            with reader.open(member) as handle:
                assert handle.read() == want
            with open_url(reader.url(member), storage_options=getattr(reader, "storage_options", None)) as handle:
                assert handle.read() == want  # the URL names the same bytes for any other reader

    def test_a_missing_member_is_an_error_naming_it(self, reader):
        assert not reader.exists("nope.json")
        with pytest.raises(MissingFileError, match="nope.json"):
            reader.read_bytes("nope.json")
        with pytest.raises(MissingFileError, match="nope.json"):
            reader.open("nope.json")
        assert reader.url("nope.json").startswith(reader.location)

    @pytest.mark.parametrize("name", ["../manifest.json", "/etc/passwd", "videos/../../x", "a\\b", "", "videos//x"])
    def test_names_outside_the_store_are_refused(self, reader, name):
        with pytest.raises(WildWorldError, match="refusing member name"):
            reader.read_bytes(name)

    def test_arrays_read_through_zarr(self, reader, local):
        remote = Store(reader)
        assert np.array_equal(remote.frames_array[5:40], local.frames_array[5:40], equal_nan=True)
        assert np.array_equal(remote.skeleton_array[:3], local.skeleton_array[:3], equal_nan=True)
        sample = local.samples[-1].id
        assert np.array_equal(remote.rows(sample, 2, 9), local.rows(sample, 2, 9), equal_nan=True)

    def test_videos_decode_the_same_frames(self, reader, local):
        remote = Store(reader)
        for stream in ("rgb", "depth"):
            with remote.open_video("000001", stream) as got, local.open_video("000001", stream) as want:
                assert got.num_frames == want.num_frames
                assert np.array_equal(got.get([0, 7, got.num_frames - 1]), want.get([0, 7, want.num_frames - 1]))

    def test_shards_hold_the_same_clips(self, reader, store, local):
        shard = local.manifest.shards[-1]
        with reader.open(shard.path) as handle:
            got = list(iter_clips(handle, url=reader.url(shard.path)))
        with open(store / shard.path, "rb") as handle:
            want = list(iter_clips(handle, url=str(store / shard.path)))
        assert len(got) == shard.clips == len(want)
        assert [{k: v for k, v in c.items() if k != "__url__"} for c in got] == [{k: v for k, v in c.items() if k != "__url__"} for c in want]

    def test_stats_are_the_same_document(self, reader, store):
        assert read_stats(reader) == json.loads((store / "stats.json").read_text())

    def test_the_stream_loader_reads_through_it(self, reader, store):
        from wildworld.data import WildWorldStream

        options = getattr(reader, "storage_options", None)
        remote = WildWorldStream(reader.location, storage_options=options, streams=("action", "state", "rgb"),
                                 normalize="mean_std", shuffle=False)
        local = WildWorldStream(store, streams=("action", "state", "rgb"), normalize="mean_std", shuffle=False)
        a, b = next(iter(remote)), next(iter(local))
        assert (a.sample_id, int(a.start)) == (b.sample_id, int(b.start))
        assert torch_equal(a.rgb, b.rgb) and torch_equal(a.state.values.nan_to_num(), b.state.values.nan_to_num())

    def test_the_dataset_loader_reads_through_it(self, reader, store):
        from wildworld.data import WildWorldDataset

        remote = WildWorldDataset(Store(reader), window=8, streams=("rgb", "depth", "skeleton"))
        local = WildWorldDataset(store, window=8, streams=("rgb", "depth", "skeleton"))
        assert len(remote) == len(local)
        for index in (0, len(local) // 2, len(local) - 1):
            a, b = remote[index], local[index]
            assert torch_equal(a.rgb, b.rgb) and torch_equal(a.depth, b.depth)
            assert torch_equal(a.skeleton.joints.nan_to_num(), b.skeleton.joints.nan_to_num())


def torch_equal(a, b) -> bool:
    import torch

    return bool(torch.equal(a, b))


class TestLocalDirectory(StoreBackendSuite):
    @pytest.fixture()
    def reader(self, store):
        reader = open_reader(store)
        assert isinstance(reader, LocalStoreReader)
        return reader


class TestFsspecFileUrl(StoreBackendSuite):
    @pytest.fixture()
    def reader(self, store):
        return FsspecStoreReader(f"file://{store}")


class TestFsspecMemory(StoreBackendSuite):
    @pytest.fixture()
    def reader(self, store):
        import fsspec

        memory = fsspec.filesystem("memory")
        root = f"/wildworld-{uuid.uuid4().hex[:8]}"
        for path in store.rglob("*"):
            if path.is_file():
                memory.pipe_file(f"{root}/{path.relative_to(store).as_posix()}", path.read_bytes())
        reader = open_reader(f"memory://{root}")
        assert isinstance(reader, FsspecStoreReader)
        yield reader
        memory.rm(root, recursive=True)


class TestFsspecHttp(StoreBackendSuite):
    @pytest.fixture()
    def reader(self, store):
        with LoopbackServer(store) as server:
            yield open_reader(server.url)


def test_a_manifest_that_points_outside_the_store_is_refused(store, tmp_path):
    import shutil

    copy = tmp_path / "store"
    shutil.copytree(store, copy)
    doc = json.loads((copy / "manifest.json").read_text())
    doc["samples"][0]["id"] = ".."
    (copy / "manifest.json").write_text(json.dumps(doc))
    with pytest.raises(WildWorldError, match="not a plain name"):
        Store(copy)
    doc = json.loads((store / "manifest.json").read_text())
    doc["shards"][0]["path"] = "../../elsewhere.tar"
    (copy / "manifest.json").write_text(json.dumps(doc))
    with pytest.raises(WildWorldError, match="not a shard path"):
        Store(copy)


def test_a_manifest_whose_samples_do_not_tile_the_frames_is_refused(store, tmp_path):
    import shutil

    copy = tmp_path / "store"
    shutil.copytree(store, copy)
    doc = json.loads((copy / "manifest.json").read_text())
    doc["samples"][1]["offset"] += 1
    (copy / "manifest.json").write_text(json.dumps(doc))
    with pytest.raises(WildWorldError, match="do not tile the frame axis"):
        Store(copy)
    from wildworld.store.validate import validate_store

    [finding] = validate_store(copy).errors
    assert finding.code == "bad-manifest" and "do not tile" in finding.message
