"""PyTorch loaders: window maths, frame alignment of every stream, pads, caches, workers, streaming."""

from __future__ import annotations

import json
import pickle
from pathlib import Path

import numpy as np
import pytest
import torch
from hypothesis import given, settings
from hypothesis import strategies as st
from torch.utils.data import DataLoader

from wildworld import WildWorldError, read_skeleton, read_state_csv
from wildworld.data import WildWorldDataset, WildWorldStream, Window, WindowIndex, WindowSpec, collate, to_device
from wildworld.data.cache import ChunkedRows, LRUCache
from wildworld.release.sample import column_array
from wildworld.store.convert import convert
from wildworld.store.extract import ConvertOptions
from wildworld.synth import SynthOptions, SyntheticWorld, encode_depth, generate, load_scripts

OPTIONS = ConvertOptions(width=128, height=72, clip_len=16, gop=8, shard_bytes=70_000)
FRAMES = 75  # per sample


@pytest.fixture(scope="module")
def part(tmp_path_factory) -> Path:
    out = tmp_path_factory.mktemp("loader") / "part"
    generate(out, SynthOptions(samples=2, seconds=FRAMES / 30, width=128, height=72, seed=11))
    return out


@pytest.fixture(scope="module")
def store(part, tmp_path_factory) -> Path:
    target = tmp_path_factory.mktemp("loader_store") / "store"
    convert([part], target, OPTIONS, workers=2)
    return target


def all_clips(store: Path) -> list[tuple[str, int]]:
    manifest = json.loads((store / "manifest.json").read_text())
    return sorted((s["id"], start) for s in manifest["samples"] for start in range(0, s["frames"] - 15, 16))


# -- window index maths ----------------------------------------------------------------------
def brute_force_starts(n: int, spec: WindowSpec) -> list[int]:
    """Every start whose window satisfies the pad rule, in order, then every stride-th."""
    keep = []
    for start in range(-spec.span - 2, n + 2):
        real = [0 <= start + k * spec.frame_step < n for k in range(spec.window)]
        rule = {"none": all(real), "end": real[0], "start": real[-1], "both": any(real)}[spec.pad]
        if rule:
            keep.append(start)
    return keep[:: spec.stride]


specs = st.builds(
    WindowSpec,
    window=st.integers(1, 6),
    frame_step=st.integers(1, 5),
    stride=st.integers(1, 4),
    pad=st.sampled_from(["none", "start", "end", "both"]),
)


@settings(max_examples=300, deadline=None)
@given(spec=specs, lengths=st.lists(st.integers(0, 40), min_size=1, max_size=5))
def test_window_index_matches_brute_force(spec, lengths):
    index = WindowIndex(lengths, spec)
    expected = [(sample, start) for sample, n in enumerate(lengths) for start in brute_force_starts(n, spec)]
    assert len(index) == len(expected)
    assert [index.locate(i) for i in range(len(index))] == expected
    if expected:
        samples, starts = index.locate_many(np.arange(len(index)))
        assert list(zip(samples.tolist(), starts.tolist())) == expected
        assert index.locate(-1) == expected[-1]
    with pytest.raises(IndexError):
        index.locate(len(index))
    for sample, start in expected:
        n = lengths[sample]
        frames, pad = spec.frames(n, start)
        positions = start + np.arange(spec.window) * spec.frame_step
        assert ((frames >= 0) & (frames < n)).all()  # never a frame of another sample
        np.testing.assert_array_equal(pad, (positions < 0) | (positions >= n))
        np.testing.assert_array_equal(frames[~pad], positions[~pad])
        assert (frames[positions < 0] == 0).all() and (frames[positions >= n] == n - 1).all()
        assert (~pad).any()  # every window has a real frame


def test_window_index_costs_memory_per_sample_not_per_frame():
    frames = np.full(3434, 18_000)  # the size of the real part 1 (~62M frames)
    index = WindowIndex(frames, WindowSpec(16, frame_step=2, pad="both"))
    assert len(index) == 3434 * (18_000 + 15 * 2)
    assert index.nbytes < 100_000  # three int64 arrays of ~3,435 entries
    assert index.locate(len(index) - 1) == (3433, 17_999)


def test_window_spec_rejects_bad_options():
    with pytest.raises(WildWorldError, match="pad"):
        WindowSpec(4, pad="middle")
    with pytest.raises(WildWorldError, match="window"):
        WindowSpec(0)


# -- every stream of a window is the same frames ---------------------------------------------
@pytest.mark.parametrize("decoder", ["pyav", "decord"])
def test_every_stream_of_a_window_refers_to_the_same_frames(store, part, decoder):
    pytest.importorskip(decoder if decoder == "decord" else "av")
    dataset = WildWorldDataset(store, window=4, frame_step=3, pad="both", decoder=decoder)
    scripts = load_scripts(part)
    checked = 0
    for index in (len(dataset) // 4, len(dataset) - 1):  # a middle window of sample 0, the last of sample 1
        item = dataset[index]
        sample_id = item.sample_id
        world = SyntheticWorld(scripts[sample_id])
        table = read_state_csv(part / sample_id / "state.csv")
        skeleton = read_skeleton(part / sample_id / "skeleton.npz")
        frames = item.frames.numpy()
        for t, frame in enumerate(frames.tolist()):
            # Pixels are rendered from the world state restored at this frame: depth codes are
            # lossless, so they must match exactly; a neighbouring frame must not.
            rendered = {d: world.render(world.restore(table, frame + d)) for d in (-1, 0, 1) if 0 <= frame + d < FRAMES}
            np.testing.assert_array_equal(item.depth[t, 0].numpy(), encode_depth(rendered[0][1]))
            got = item.rgb[t].permute(1, 2, 0).numpy().astype(int)
            errors = {d: np.abs(rgb.astype(int) - got).mean() for d, (rgb, _) in rendered.items()}
            assert errors[0] < 8 and errors[0] == min(errors.values()), errors
            for d, (_, depth) in rendered.items():
                if d:
                    assert (encode_depth(depth) != item.depth[t, 0].numpy()).sum() > 100
            # Annotations of the same slot are the same frame of the release files.
            np.testing.assert_allclose(item.state["npc.list.0.pos"][t].numpy(), column_array(table, "npc.list.0.pos")[frame], rtol=1e-6)
            tracked = int(item.action.tracked_index[t])
            assert int(item.action.motion_id[t]) == int(column_array(table, f"npc.list.{tracked}.motion_id")[frame])
            for key, entity in skeleton.items():
                slot = key.split("_")[0]
                joints = item.skeleton.entity(slot)[t, : entity.joints.shape[1]].numpy()
                np.testing.assert_array_equal(joints, entity.joints[frame])
            if item.camera.valid[t]:
                np.testing.assert_allclose(item.camera.position[t].numpy(), world.restore(table, frame).camera_pos, rtol=1e-5, atol=1e-5)
            checked += 1
    assert checked == 8


def test_pad_masks_at_both_sample_edges(store):
    dataset = WildWorldDataset(store, window=5, frame_step=2, pad="both", streams=("action", "state", "depth"))
    first, last = dataset[0], dataset[len(dataset) - 1]
    assert first.sample_id == "000000" and int(first.start) == -8
    assert first.pad.tolist() == [True, True, True, True, False]
    assert first.frames.tolist() == [0] * 5
    # padded slots repeat the edge frame's data, never a neighbouring sample's
    for t in range(4):
        assert torch.equal(first.depth[t], first.depth[4])
        assert torch.equal(first.state.values[t].nan_to_num(), first.state.values[4].nan_to_num())
    assert last.sample_id == "000001" and int(last.start) == FRAMES - 1
    assert last.pad.tolist() == [False, True, True, True, True]
    assert last.frames.tolist() == [FRAMES - 1] * 5
    # the last window of sample 0 stops at its own edge; the next one is sample 1's first
    boundary = dataset.windows_of("000000")[-1]
    item, after = dataset[boundary], dataset[boundary + 1]
    assert item.sample_id == "000000" and item.frames.tolist() == [FRAMES - 1] * 5 and item.pad.tolist()[0] is False
    assert after.sample_id == "000001" and int(after.start) == -8
    # the other modes pad only at the edge they allow
    pads = {}
    for pad in ("none", "start", "end"):
        d = WildWorldDataset(store, window=5, frame_step=2, pad=pad, streams=("action",))
        pads[pad] = torch.stack([d[i].pad for i in range(len(d))])
    assert not pads["none"].any() and len(pads["none"]) == 2 * (FRAMES - 8)
    assert pads["start"][:, 0].any() and not pads["start"][:, -1].any() and len(pads["start"]) == 2 * FRAMES
    assert pads["end"][:, -1].any() and not pads["end"][:, 0].any() and len(pads["end"]) == 2 * FRAMES


def test_windows_with_stride_and_sequential_cache_reads(store):
    dataset = WildWorldDataset(store, window=8, stride=8, streams=("action", "camera", "state"))
    assert len(dataset) == 2 * (FRAMES // 8)
    starts = [dataset.locate(i) for i in range(len(dataset))]
    assert starts[:3] == [("000000", 0), ("000000", 8), ("000000", 16)]
    for i in range(len(dataset)):
        item = dataset[i]
        assert item.rgb is None and item.depth is None and item.skeleton is None  # not asked for
        assert item.action.index.dtype == torch.int64 and item.state.codes.dtype == torch.int64
        assert item.state.values.dtype == torch.float32
    access = dataset._access.get()
    assert len(access.videos) == 0 and access.skeleton is None  # never opened
    # 150 rows in chunks of 256 frames: one read covers everything
    assert access.frames.reads == 1


def test_state_fields_normalisation_and_fill(store):
    stats = json.loads((store / "stats.json").read_text())
    raw = WildWorldDataset(store, window=4, streams=("state", "camera"), state_fields=("npc.list.0.*", "monster.list.0.cond"))
    names = raw.state_fields.names
    assert all(n.startswith("npc.list.0.") for n in names if n != "monster.list.0.cond") and "monster.list.0.cond" in names
    assert raw.state_fields["monster.list.0.cond"].kind == "category"
    normed = WildWorldDataset(store, window=4, streams=("state",), state_fields=("npc.list.0.*",), normalize="mean_std")
    a, b = raw[10].state, normed[10].state
    pos = stats["fields"]["npc.list.0.pos"]
    std = np.array(pos["std"])
    assert std.max() > 0
    expected = (a["npc.list.0.pos"].numpy() - np.array(pos["mean"])) / np.where(std > 0, std, 1.0)  # constant: centred only
    np.testing.assert_allclose(b["npc.list.0.pos"].numpy(), expected, rtol=1e-4, atol=1e-5)
    assert not np.allclose(expected, a["npc.list.0.pos"].numpy())
    minmax = WildWorldDataset(store, window=4, streams=("state",), state_fields=("npc.list.0.hp",), normalize="min_max")
    values = torch.cat([minmax[i].state.values for i in range(0, len(minmax), 4)])
    assert values.min() >= -1 - 1e-6 and values.max() <= 1 + 1e-6
    filled = WildWorldDataset(store, window=FRAMES, streams=("camera", "skeleton"), fill_missing=0.0)
    item = filled[0]
    assert not item.camera.position.isnan().any() and not item.skeleton.joints.isnan().any()
    assert not item.skeleton.valid.all()  # the masks still say what was missing
    with pytest.raises(WildWorldError, match="match no state field"):
        WildWorldDataset(store, window=4, streams=("state",), state_fields=("nothing.*",))


def test_resolution_resizes_frames_and_intrinsics(store):
    full = WildWorldDataset(store, window=2, streams=("rgb", "depth", "camera"))
    half = WildWorldDataset(store, window=2, streams=("rgb", "depth", "camera"), resolution=(64, 36))
    a, b = full[20], half[20]
    assert b.rgb.shape == (2, 3, 36, 64) and b.depth.shape == (2, 1, 36, 64)
    assert set(b.depth.unique().tolist()) <= set(a.depth.unique().tolist())  # nearest-neighbour codes
    np.testing.assert_allclose(b.camera.K[:, :2].numpy(), a.camera.K[:, :2].numpy() / 2, rtol=1e-6)
    np.testing.assert_allclose(b.camera.K[:, 2:].numpy(), (a.camera.K[:, 2:].numpy() + 0.5) / 2 - 0.5, rtol=1e-6)
    batched = collate(half.__getitems__([20, 21]))  # resized straight into the batch buffers
    assert torch.equal(batched.rgb, collate([half[20], half[21]]).rgb) and batched.depth.shape == (2, 2, 1, 36, 64)


def test_options_are_checked_with_helpful_messages(store, tmp_path):
    with pytest.raises(WildWorldError, match="choose from"):
        WildWorldDataset(store, window=4, streams=("audio",))
    with pytest.raises(WildWorldError, match="decoder"):
        WildWorldDataset(store, window=4, decoder="opencv")
    with pytest.raises(WildWorldError, match="no sample"):
        WildWorldDataset(store, window=4, samples=["nope"])
    with pytest.raises(WildWorldError, match="no manifest"):
        WildWorldDataset(tmp_path, window=4)
    subset = WildWorldDataset(store, window=4, samples=["000001"], streams=("action",))
    assert {subset.locate(i)[0] for i in range(len(subset))} == {"000001"}


def test_store_video_reader_seeks_exactly(store):
    from wildworld.video import open_video, read_frames

    for stream, color in (("depth", "gray"), ("rgb", "rgb")):
        path = store / "videos" / "000001" / ("depth.mkv" if stream == "depth" else "rgb.mp4")
        reference = read_frames(path, range(FRAMES), backend="pyav", color=color).astype(int)
        reader = open_video(path, backend="pyav", color=color, threads=1)
        rng = np.random.default_rng(0)
        for start in [0, 69, 3, 4, 5, 40, 39, *rng.integers(0, FRAMES - 6, 8).tolist()]:  # backwards, forwards, in a GOP
            frames = np.array([start, start, start + 2, start + 5])  # repeats: a padded slot
            got = reader.get(frames).astype(int)
            if color == "gray":
                np.testing.assert_array_equal(got, reference[frames])  # lossless: bit-exact
            else:  # OpenCV's BT.601 conversion vs FFmpeg's: rounding only
                assert np.abs(got - reference[frames]).max() <= 3
        backwards = reader.get(np.array([5, 4])).astype(int)  # any order is allowed
        np.testing.assert_allclose(backwards, reference[[5, 4]], atol=0 if color == "gray" else 3)
        with pytest.raises(IndexError):
            reader.get(np.array([FRAMES]))
        reader.close()


# -- caches, workers, batching ----------------------------------------------------------------
def test_lru_and_chunk_cache_are_bounded():
    closed = []
    cache = LRUCache(2, on_evict=lambda k, v: closed.append(k))
    for key in "abcab":
        cache.get_or_create(key, lambda: object())
    assert len(cache) == 2 and closed == ["a", "b", "c"]
    array = np.arange(1000 * 2, dtype=np.float32).reshape(1000, 2)
    rows = ChunkedRows(array, chunk=100, capacity=3)
    for start in range(0, 990, 7):
        np.testing.assert_array_equal(rows.rows(np.arange(start, start + 10)), array[start : start + 10])
    assert rows.reads == 10 and len(rows.blocks) == 3  # each chunk read once, at most 3 kept
    np.testing.assert_array_equal(rows.rows(np.array([5, 950, 5, 420])), array[[5, 950, 5, 420]])


def test_decoder_cache_closes_what_it_evicts(store):
    dataset = WildWorldDataset(store, window=4, streams=("rgb", "depth"), max_open_videos=2, decoder="pyav")
    dataset[0]
    dataset[len(dataset) - 1]
    access = dataset._access.get()
    assert len(access.videos) == 2 and set(access.videos._items) == {("000001", "rgb"), ("000001", "depth")}
    dataset.close()
    assert dataset[0].rgb.shape[0] == 4  # reopens on demand


def test_dataloader_workers_open_their_own_handles(store):
    dataset = WildWorldDataset(store, window=6, frame_step=2, pad="end", decoder="pyav")
    expected = [dataset[i] for i in (0, 1, 2, 3)]  # the parent opens zarr and decoders before forking
    parent_access = dataset._access.get()
    clone = pickle.loads(pickle.dumps(dataset))  # spawn-style copy: no handle travels
    assert clone._access._value is None
    loader = DataLoader(dataset, batch_size=2, num_workers=2, collate_fn=collate)
    batches = []
    for i, batch in enumerate(loader):
        batches.append(batch)
        if i == 1:
            break
    assert dataset._access.get() is parent_access
    batch = collate(expected)
    got = collate([*_unbatch(batches[0]), *_unbatch(batches[1])])
    for name in ("rgb", "depth", "frames", "pad", "start"):
        assert torch.equal(getattr(got, name), getattr(batch, name)), name
    assert torch.equal(got.state.values.nan_to_num(), batch.state.values.nan_to_num())
    assert got.sample_id == batch.sample_id == ("000000",) * 4


def _collect_garbage(worker_id: int) -> None:
    import gc

    gc.collect()  # finalises whatever garbage the worker inherited from the parent


def test_forked_workers_never_finalise_the_parents_decoders(store):
    pytest.importorskip("decord")
    dataset = WildWorldDataset(store, window=4, streams=("rgb", "depth"), decoder="decord")
    first = dataset[0]  # the parent opens decord and PyAV readers before the workers fork
    for decoder in ("decord", "pyav"):
        garbage = WildWorldDataset(store, window=4, streams=("rgb", "depth"), decoder=decoder)
        garbage[0]
        garbage.cycle = garbage  # only the cyclic collector can free it: let a worker inherit it
        del garbage
    loader = DataLoader(dataset, batch_size=2, num_workers=2, collate_fn=collate, worker_init_fn=_collect_garbage,
                        timeout=60, multiprocessing_context="fork")
    batch = next(iter(loader))  # finalising an inherited decoder with threads deadlocks a worker
    assert torch.equal(batch.rgb[0], first.rgb) and torch.equal(batch.depth[0], first.depth)


def _unbatch(batch: Window) -> list[Window]:
    from wildworld.data.records import map_tensors

    return [
        map_tensors(Window(**{**batch.__dict__, "sample_id": sid}), lambda t, i=i: t[i])
        for i, sid in enumerate(batch.sample_id)
    ]


def test_collate_and_to_device(store):
    dataset = WildWorldDataset(store, window=3, decoder="pyav")
    batch = collate([dataset[i] for i in range(4)])
    assert batch.rgb.shape == (4, 3, 3, 72, 128)
    assert batch.rgb.movedim(2, -1).is_contiguous()  # channels-last memory: no transposition on the CPU
    fetched = collate(dataset.__getitems__([0, 1, 2, 3]))  # decoded straight into batch buffers
    assert torch.equal(fetched.rgb, batch.rgb) and torch.equal(fetched.depth, batch.depth)
    assert torch.equal(fetched.state.values.nan_to_num(), batch.state.values.nan_to_num())
    plain = collate(list(dataset.__getitems__([0, 1, 2, 3])))  # any collate sees ordinary items
    assert torch.equal(plain.rgb, batch.rgb)
    assert batch.depth.shape == (4, 3, 1, 72, 128)
    assert batch.skeleton.joints.shape[:2] == (4, 3) and batch.skeleton.type_id.shape[0] == 4
    assert batch.state.fields is dataset.state_fields and batch.state["npc.list.0.hp"].shape == (4, 3)
    assert batch.sample_id == ("000000",) * 4 and batch.start.tolist() == [0, 1, 2, 3]
    moved = to_device(batch, "cpu")
    assert torch.equal(moved.action.index, batch.action.index)
    with pytest.raises(ValueError, match="None in others"):
        collate([dataset[0], Window(**{**dataset[0].__dict__, "rgb": None})])


@pytest.mark.gpu
@pytest.mark.skipif(not torch.cuda.is_available(), reason="needs CUDA")
def test_to_device_cuda_pinned(store):
    dataset = WildWorldDataset(store, window=3)
    batch = collate([dataset[i] for i in range(2)])
    moved = to_device(batch, "cuda", non_blocking=True)
    torch.cuda.synchronize()
    assert moved.rgb.is_cuda and torch.equal(moved.rgb.cpu(), batch.rgb)
    assert batch.pin_memory().rgb.is_pinned()


# -- streaming shards ------------------------------------------------------------------------
def keys(items) -> list[tuple[str, int]]:
    return [(item.sample_id, int(item.start)) for item in items]


def test_stream_covers_every_clip_once_and_matches_the_dataset(store):
    stream = WildWorldStream(store, seed=1, decoder="pyav")
    items = list(stream)
    assert sorted(keys(items)) == all_clips(store)
    dataset = WildWorldDataset(store, window=16, decoder="pyav")
    for item in items[:3]:
        index = dataset.windows_of(item.sample_id)[int(item.start)]
        same = dataset[index]
        for name in ("rgb", "depth", "frames"):
            assert torch.equal(getattr(item, name), getattr(same, name)), name
        assert torch.equal(item.state.values.nan_to_num(), same.state.values.nan_to_num())
        assert torch.equal(item.skeleton.joints.nan_to_num(), same.skeleton.joints.nan_to_num())
        assert torch.equal(item.camera.K, same.camera.K) and torch.equal(item.action.index, same.action.index)
    windows = list(WildWorldStream(store, window=4, frame_step=2, streams=("action",), shuffle=False))
    assert len(windows) == len(all_clips(store)) * 2  # two disjoint 7-frame spans per 16-frame clip
    assert windows[0].frames.tolist() == [windows[0].frames[0] + k for k in (0, 2, 4, 6)]


def test_stream_order_is_seeded(store):
    def order(**options):
        return keys(WildWorldStream(store, streams=("action",), shuffle_buffer=4, **options))

    assert order(seed=5) == order(seed=5)
    assert order(seed=5) != order(seed=6)
    stream = WildWorldStream(store, streams=("action",), seed=5)
    first, second = keys(stream), keys(stream)  # iterations count epochs
    assert first != second and sorted(first) == sorted(second) == all_clips(store)
    stream.set_epoch(0)
    assert keys(stream) == first
    assert keys(WildWorldStream(store, streams=("action",), shuffle=False)) == keys(WildWorldStream(store, streams=("action",), shuffle=False))


def test_stream_workers_split_and_fixed_length_epochs(store):
    stream = WildWorldStream(store, streams=("action",), seed=2)
    loader = DataLoader(stream, batch_size=None, num_workers=2)
    assert sorted(keys(loader)) == all_clips(store)  # two workers, no overlap, nothing missed
    assert keys(loader) == keys(loader)  # workers are fresh copies: the same epoch again
    fixed = WildWorldStream(store, streams=("action",), seed=2, epoch_length=21, rank=0, world_size=2)
    assert len(fixed) == 10
    loader = DataLoader(fixed, batch_size=None, num_workers=2)
    got = keys(loader)
    assert len(got) == 10 and set(got) <= set(all_clips(store))
    resampled = WildWorldStream(store, streams=("action",), seed=2, resample=True, epoch_length=40)
    got = keys(resampled)
    assert len(got) == 40 and len(set(got)) < 40  # drawn with replacement
    assert got == keys(WildWorldStream(store, streams=("action",), seed=2, resample=True, epoch_length=40))
    balanced = WildWorldStream(store, streams=("action",), split="clip", rank=1, world_size=3)
    assert len(keys(balanced)) == len(all_clips(store)[1::3])


def test_stream_from_shard_urls(store):
    manifest = json.loads((store / "manifest.json").read_text())
    urls = [f"file://{store / s['path']}" for s in manifest["shards"]]
    stream = WildWorldStream(urls, manifest=store, streams=("action", "camera"), shuffle=False)
    assert sorted(keys(stream)) == all_clips(store)
    with pytest.raises(WildWorldError, match="manifest="):
        WildWorldStream(urls, streams=("action",))


def test_stream_from_an_fsspec_url(store):
    import fsspec

    memory = fsspec.filesystem("memory")
    manifest = json.loads((store / "manifest.json").read_text())
    for name in ["manifest.json", "stats.json", *(s["path"] for s in manifest["shards"])]:
        memory.pipe(f"/remote-store/{name}", (store / name).read_bytes())
    stream = WildWorldStream("memory://remote-store", streams=("action", "state"), normalize="mean_std", seed=4)
    assert sorted(keys(stream)) == all_clips(store)
    local = WildWorldStream(store, streams=("action", "state"), normalize="mean_std", seed=4)
    a, b = next(iter(stream)), next(iter(local))
    assert (a.sample_id, int(a.start)) == (b.sample_id, int(b.start))
    assert torch.equal(a.state.values.nan_to_num(), b.state.values.nan_to_num())
    memory.rm("/remote-store", recursive=True)


DDP_SCRIPT = r'''
import json, sys
import torch.distributed as dist
from torch.utils.data import DataLoader
from wildworld.data import WildWorldStream

store, init, rank, out = sys.argv[1], sys.argv[2], int(sys.argv[3]), sys.argv[4]
dist.init_process_group("gloo", init_method=init, rank=rank, world_size=2)
result = {}
stream = WildWorldStream(store, streams=("action",), seed=7, shuffle_buffer=3)  # rank from torch.distributed
for epoch in (0, 1):
    stream.set_epoch(epoch)
    loader = DataLoader(stream, batch_size=None, num_workers=2)
    mine = [(item.sample_id, int(item.start)) for item in loader]
    everyone = [None, None]
    dist.all_gather_object(everyone, mine)
    result[f"epoch{epoch}"] = everyone
fixed = WildWorldStream(store, streams=("action",), seed=7, resample=True, epoch_length=16)
loader = DataLoader(fixed, batch_size=2, num_workers=2, collate_fn=lambda items: [i.sample_id for i in items])
counts = [None, None]
dist.all_gather_object(counts, [len(loader), sum(1 for _ in loader)])
result["fixed"] = counts
if rank == 0:
    with open(out, "w") as handle:
        json.dump(result, handle)
dist.destroy_process_group()
'''


def test_two_ranks_two_workers_cover_every_clip_once_per_epoch(store, tmp_path):
    import os
    import subprocess
    import sys

    root = str(Path(__file__).resolve().parent.parent)
    env = {**os.environ, "PYTHONPATH": os.pathsep.join(filter(None, [root, os.environ.get("PYTHONPATH")]))}
    script = tmp_path / "ddp.py"
    script.write_text(DDP_SCRIPT)
    init, out = f"file://{tmp_path / 'rendezvous'}", tmp_path / "result.json"
    ranks = [
        subprocess.Popen([sys.executable, str(script), str(store), init, str(rank), str(out)], stderr=subprocess.PIPE,
                         text=True, env=env)
        for rank in (0, 1)
    ]
    for process in ranks:
        _, err = process.communicate(timeout=120)
        assert process.returncode == 0, err[-3000:]
    result = json.loads(out.read_text())
    orders = []
    for epoch in ("epoch0", "epoch1"):
        rank0, rank1 = ([tuple(k) for k in keys] for keys in result[epoch])
        assert rank0 and rank1 and not set(rank0) & set(rank1)  # no clip on both ranks
        assert sorted(rank0 + rank1) == all_clips(store)  # every clip exactly once
        orders.append(rank0 + rank1)
    assert orders[0] != orders[1]  # a new epoch reshuffles
    assert result["fixed"] == [[4, 4], [4, 4]]  # 16 items / 2 ranks / batches of 2: equal lengths, no DDP hang


def test_load_command_lists_every_tensor_of_a_batch(store):
    from typer.testing import CliRunner

    from wildworld_cli.wildworld_app import app

    runner = CliRunner()
    result = runner.invoke(app, ["load", str(store), "--workers", "0", "--batches", "3", "--batch", "4", "--window", "8", "--json"])
    assert result.exit_code == 0, result.output
    doc = json.loads(result.stdout)
    fields = {name: (shape, dtype) for name, shape, dtype in doc["fields"]}
    from wildworld.store.reader import open_store

    height, width = open_store(store).resolution[::-1]
    assert fields["rgb"] == ([4, 8, 3, height, width], "uint8") and fields["depth"][0] == [4, 8, 1, height, width]
    assert fields["action.index"] == ([4, 8], "int64") and "state.values" in fields and "skeleton.joints" in fields
    assert doc["batches"] == 3 and doc["frames"] == 3 * 4 * 8 and doc["frames_per_s"] > 0
    streamed = runner.invoke(app, ["load", str(store), "--stream", "--workers", "0", "--batches", "2", "--streams", "rgb,action"])
    assert streamed.exit_code == 0 and "WildWorldStream" in streamed.output and "state.values" not in streamed.output
    bad = runner.invoke(app, ["load", str(store), "--streams", "nosuch", "--workers", "0"])
    assert bad.exit_code == 2 and "Traceback" not in bad.output
    long = runner.invoke(app, ["load", str(store), "--window", "100000", "--workers", "0"])
    assert long.exit_code == 2 and "no window of 100000 frames" in long.output


def test_load_command_reports_a_worker_error_in_one_line(store, tmp_path):
    import shutil

    from typer.testing import CliRunner

    from wildworld_cli.wildworld_app import app

    broken = tmp_path / "store"
    shutil.copytree(store, broken)
    for video in broken.glob("videos/*/rgb.mp4"):
        data = bytearray(video.read_bytes())
        middle = len(data) // 3
        data[middle : middle + 20000] = bytes(20000)
        video.write_bytes(bytes(data))
    result = CliRunner().invoke(app, ["load", str(broken), "--workers", "2", "--batches", "200", "--streams", "rgb"])
    assert result.exit_code == 2 and "Traceback" not in result.output, result.output
    assert "rgb.mp4" in result.output and len(result.output.strip().splitlines()) == 1


# -- PyTorch-native items: a mapping of flat keys, default_collate, summaries ----------------
def test_a_window_is_a_read_only_mapping_of_the_keys_load_prints(store):
    from collections.abc import Mapping

    from wildworld.data.peek import tensor_fields

    dataset = WildWorldDataset(store, window=4)
    window = dataset[3]
    assert isinstance(window, Mapping)
    batch = collate([dataset[i] for i in range(3)])
    printed = [name for name, _, _ in tensor_fields(batch)]  # what `wildworld load` lists
    assert list(window) == list(batch) and [key for key in window if torch.is_tensor(window[key])] == printed
    assert set(window) - set(printed) == {"sample_id", "state.fields", "skeleton.slots"}
    assert "action.index" in printed and "state.values" in printed and "skeleton.joints" in printed
    assert window["rgb"] is window.rgb and window["action.index"] is window.action.index
    assert window["state.codes"] is window.state.codes and batch["camera.K"] is batch.camera.K
    assert window["sample_id"] == window.sample_id and batch["sample_id"] == batch.sample_id
    assert window["state.fields"] is dataset.state_fields and window["skeleton.slots"] == ("n0", "n1", "w0", "w1", "m0", "m1")
    assert len(window) == len(printed) + 3 and dict(window).keys() == set(window)
    assert {**window}["skeleton.type_id"] is window.skeleton.type_id
    for missing in ("nosuch", "action.nosuch", "num_frames", "state.npc.list.0.hp", ""):
        assert missing not in window
        with pytest.raises(KeyError, match="keys are sample_id, start"):
            window[missing]
    with pytest.raises(TypeError):
        window["rgb"] = window.rgb  # read-only: no item assignment
    partial = WildWorldDataset(store, window=4, streams=("action",))[0]
    assert list(partial) == ["sample_id", "start", "frames", "pad", "action.index", "action.phase",
                             "action.motion_bank_id", "action.motion_id", "action.tracked_index"]
    assert "rgb" not in partial and partial.get("state.values") is None
    moved = {key: value.to("cpu") for key, value in window.items() if torch.is_tensor(value)}  # the dict idiom
    assert torch.equal(moved["depth"], window.depth) and window.state.fields is dataset.state_fields
    from torch.utils.data import default_convert

    for flat in (dict(window), default_convert(window), default_convert(batch)):  # rebuilt as type(m)({...})
        rebuilt = flat if isinstance(flat, Window) else Window(flat)
        assert isinstance(rebuilt, Window) and list(rebuilt) == list(window)
        assert rebuilt.state["npc.list.0.hp"].shape[-1] == 4 and rebuilt.skeleton.entity("m0").shape[-2:] == (21, 3)
    assert Window(dict(batch)).sample_id == batch.sample_id and Window(dict(partial)).state is None
    with pytest.raises(TypeError, match="needs the keys sample_id, start, frames and pad; frames missing"):
        Window({"sample_id": "x", "start": window.start, "pad": window.pad})


class _Labelled(torch.utils.data.Dataset):
    """A user's dataset that hands out (window, label) pairs."""

    def __init__(self, windows: WildWorldDataset) -> None:
        self.windows = windows

    def __len__(self) -> int:
        return len(self.windows)

    def __getitem__(self, index: int):
        return self.windows[index], index % 3


def _same_batches(a: Window, b: Window) -> None:
    assert type(a) is type(b) is Window and list(a) == list(b) and a.sample_id == b.sample_id
    for key in a:
        if torch.is_tensor(a[key]):
            assert a[key].shape == b[key].shape and a[key].dtype == b[key].dtype, key
            assert torch.equal(a[key].nan_to_num(), b[key].nan_to_num()) if a[key].is_floating_point() else torch.equal(a[key], b[key]), key
    assert a.state.fields is b.state.fields or a.state.fields == b.state.fields


@pytest.mark.parametrize("workers", [0, 2])
def test_default_collate_batches_windows_like_collate(store, workers):
    from torch.utils.data import default_collate

    dataset = WildWorldDataset(store, window=4)
    plain = DataLoader(dataset, batch_size=3, num_workers=workers)  # no collate_fn: torch's default_collate
    fast = DataLoader(dataset, batch_size=3, num_workers=workers, collate_fn=collate)
    for default_batch, fast_batch in zip(plain, fast):
        _same_batches(default_batch, fast_batch)
        assert default_batch.rgb.shape == (3, 4, 3, 72, 128) and default_batch.is_batch
    direct = default_collate([dataset[i] for i in (5, 0, 9)])
    _same_batches(direct, collate([dataset[i] for i in (5, 0, 9)]))
    pairs = next(iter(DataLoader(_Labelled(dataset), batch_size=4, num_workers=workers)))
    assert isinstance(pairs[0], Window) and pairs[0].action.index.shape == (4, 4) and pairs[1].tolist() == [0, 1, 2, 0]
    streamed = next(iter(DataLoader(WildWorldStream(store, window=4, streams=("action", "depth"), shuffle=False),
                                    batch_size=2, num_workers=workers)))
    assert isinstance(streamed, Window) and streamed.depth.shape == (2, 4, 1, 72, 128)
    pinned = next(iter(DataLoader(dataset, batch_size=2, num_workers=workers, pin_memory=torch.cuda.is_available())))
    assert isinstance(pinned, Window)


def test_reprs_are_summaries_never_tensor_values(store):
    from wildworld.data.collate import WindowBatch

    dataset = WildWorldDataset(store, window=4)
    window, batch = dataset[0], collate(dataset.__getitems__([0, 80, 1]))
    items = dataset.__getitems__([0, 1])
    for record in (window, batch, window.action, window.camera, window.state, window.skeleton, window.state.fields, items):
        text = repr(record)
        assert "tensor(" not in text and "[[" not in text and len(text) < 1200, text
    assert repr(window).startswith("Window(sample_id='000000', start=0, 4 frames")
    assert "rgb      uint8[4, 3, 72, 128]" in repr(window) and "joints float32[4, " in repr(window)
    assert repr(batch).startswith("Window(batch of 3 x 4 frames from 2 samples ('000000', '000001')")
    assert "rgb      uint8[3, 4, 3, 72, 128]" in repr(batch) and "(slots n0" in repr(batch)
    assert isinstance(items, WindowBatch) and repr(items).startswith("WindowBatch(2 items: '000000', '000000', rgb uint8[2, 4,")
    assert "fps=30.0" in repr(dataset) and "fps=30.0" in repr(WildWorldStream(store))
    assert repr(dataset.store) == (f"Store({str(store)!r}, samples=2, frames={2 * FRAMES}, fps=30.0, resolution=128x72, "
                                   "streams=['rgb', 'depth', 'action', 'camera', 'state', 'skeleton'])")


def test_a_window_longer_than_every_sample_is_refused_at_construction(store):
    from typer.testing import CliRunner

    from wildworld import OptionError
    from wildworld_cli.wildworld_app import app

    with pytest.raises(OptionError) as refused:
        WildWorldDataset(store, window=100)
    message = str(refused.value)
    assert message == (f"{store}: no window of 100 frames fits in any sample (the longest has {FRAMES} frames); "
                       "choose a shorter window or pad=\"both\"")
    with pytest.raises(OptionError, match=r"no window of 40 frames \(spanning 79 with frame_step=2\)"):
        WildWorldDataset(store, window=40, frame_step=2)
    with pytest.raises(OptionError, match="selects no sample"):
        WildWorldDataset(store, window=4, samples=[])
    assert len(WildWorldDataset(store, window=100, pad="both")) > 0  # padded windows fit any sample
    result = CliRunner().invoke(app, ["load", str(store), "--window", "100", "--workers", "0"])
    assert result.exit_code == 2 and result.stderr.strip() == f"error: {message}"


def test_fps_is_the_rate_of_the_windows_slots(store):
    assert WildWorldDataset(store, window=4).fps == 30.0
    assert WildWorldDataset(store, window=4, frame_step=3).fps == 10.0
    assert WildWorldStream(store, window=4, frame_step=2).fps == 15.0
