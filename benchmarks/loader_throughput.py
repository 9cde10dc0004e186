"""Loader throughput: full tuples through a DataLoader vs the decoder's own limit, side by side.

    python benchmarks/loader_throughput.py [--workers 2] [--window 16] [--batch 8] [--repeats 3]

Builds (once, cached) a 320x180 store from synthetic data (3 samples x 25 s, GOP 8), then
measures in one run, interleaved so that machine noise hits every case alike:

* ``limit``: the decoders' own sequential decode rate of the same store frames (the loader's
  decoders: RGB with ``--decoder``, depth with PyAV; one thread each), in as many processes
  as the loader has workers, each going straight through its share of the windows with
  nothing else to do. The loader cannot beat it.
* ``loader seq`` / ``loader random``: ``WildWorldDataset`` full tuples (RGB, depth, action,
  camera, state, skeleton) through a DataLoader: disjoint windows in order, and random
  windows (any start frame) in a seeded random order.
* ``naive``: the same windows decoded from the original release files by opening and seeking
  per window with PyAV (annotations handed over from memory: the naive loader's best case),
  twice: from a release written at the store's resolution (320x180, the naive loader's best
  case) and from a release at the real release's resolution (1280x720, 2 samples x 10 s,
  resized to 320x180 per frame, as a user training at 320x180 must).
* ``annotations``: annotation-only windows (action, camera, state, skeleton) per second.
* ``stream``: ``WildWorldStream`` full tuples from the WebDataset clip shards.

Targets: loader seq >= 0.7 x limit, loader random >= 0.5 x limit, loader >= 3 x naive (from
the 1280x720 release), annotation windows/s >= 10 x full-tuple windows/s.
"""

from __future__ import annotations

import argparse
import multiprocessing
import statistics
import sys
import time
from pathlib import Path

import numpy as np
import torch
from torch.utils.data import DataLoader, Dataset

from _common import cache_dir
from wildworld.data import WildWorldDataset, WildWorldStream, collate
from wildworld.store.reader import open_store
from wildworld.video.decode import luma_plane, open_video

SAMPLES, SECONDS, WIDTH, HEIGHT, SEED = 3, 25.0, 320, 180, 3


def bench_store(*, width: int = WIDTH, height: int = HEIGHT, samples: int = SAMPLES, seconds: float = SECONDS,
                seed: int = SEED) -> tuple[Path, Path]:
    """``(release part, 320x180 store)`` of the loader benchmarks (built once, then reused);
    the part is written at ``width`` x ``height``."""
    from wildworld.store.convert import convert
    from wildworld.store.extract import ConvertOptions
    from wildworld.synth import SynthOptions, generate

    root = cache_dir("loader")
    name = f"{width}x{height}_{samples}x{seconds:g}s"
    part = root / f"part_{name}"
    if not (part / "synthetic_world.json").exists():
        print(f"generating {samples} synthetic samples of {seconds:g} s at {width}x{height} (once)...", flush=True)
        generate(part, SynthOptions(samples=samples, seconds=seconds, width=width, height=height, seed=seed))
    store = root / f"store_{name}_v2"
    if not (store / "manifest.json").exists():
        print(f"converting {part.name} to a {WIDTH}x{HEIGHT} store (once)...", flush=True)
        options = ConvertOptions(width=WIDTH, height=HEIGHT, clip_len=32, gop=8, shard_bytes=2_000_000)
        convert([part], store, options, workers=2)
    return part, store


def hd_store() -> tuple[Path, Path]:
    """A release written at the real release's resolution (1280x720) and its 320x180 store."""
    return bench_store(width=1280, height=720, samples=2, seconds=10.0, seed=4)


# -- the limit: the decoders going straight through the same frames -------------------------
def _decode_straight(job: tuple[str, list[tuple[str, int]], int, str]) -> tuple[int, float]:
    store_path, windows, window, decoder = job
    store = open_store(store_path)
    readers = {}
    t0 = time.perf_counter()
    frames = 0
    for sample_id, start in windows:
        for stream, color in (("rgb", "rgb"), ("depth", "gray")):
            key = (sample_id, stream)
            if key not in readers:
                path = store.video(sample_id, stream)
                if stream == "rgb" and decoder == "decord":
                    readers[key] = open_video(path, backend="decord", threads=1)
                else:
                    readers[key] = open_video(path, backend="pyav", color=color, threads=1)
            readers[key].get(np.arange(start, start + window))
        frames += window
    elapsed = time.perf_counter() - t0
    for reader in readers.values():
        reader.close()
    return frames, elapsed


def limit_rate(pool, store: Path, windows: list[tuple[str, int]], window: int, workers: int, decoder: str) -> float:
    """Frames/s of ``workers`` processes each decoding its contiguous share straight through."""
    share = -(-len(windows) // workers)
    jobs = [(str(store), windows[i * share : (i + 1) * share], window, decoder) for i in range(workers)]
    t0 = time.perf_counter()
    results = pool.map(_decode_straight, jobs)
    wall = time.perf_counter() - t0
    return sum(frames for frames, _ in results) / wall


# -- what a user would otherwise write ---------------------------------------------------------
def _seek_decode(path: Path, start: int, count: int, color: str, size: tuple[int, int] | None = None) -> np.ndarray:
    import av
    import cv2

    with av.open(str(path)) as container:
        stream = container.streams.video[0]
        fps = float(stream.average_rate)
        target = int(round(start / fps / stream.time_base))
        container.seek(target, stream=stream, backward=True, any_frame=False)
        out = []
        for frame in container.decode(stream):
            index = int(round(float(frame.pts * stream.time_base) * fps))
            if index < start:
                continue
            pixels = luma_plane(frame) if color == "gray" else frame.to_ndarray(format="rgb24")
            if size is not None and (frame.width, frame.height) != size:
                interpolation = cv2.INTER_NEAREST if color == "gray" else cv2.INTER_AREA
                pixels = cv2.resize(pixels, size, interpolation=interpolation)
            out.append(pixels)
            if len(out) == count:
                break
    return np.stack(out)


class ReleaseWindows(Dataset):
    """Per window: open the release rgb.mp4 and depth.mkv, seek, decode forward (PyAV), resize
    to the training resolution when the release is larger."""

    def __init__(self, part: Path, store: Path, windows: list[tuple[str, int]], window: int) -> None:
        opened = open_store(store)
        self.part, self.windows, self.window = part, windows, window
        self.rows = {s.id: opened.rows(s.id) for s in opened.samples}  # annotations from memory

    def __len__(self) -> int:
        return len(self.windows)

    def __getitem__(self, i: int) -> dict:
        sample_id, start = self.windows[i]
        size = (WIDTH, HEIGHT)  # what the model trains on
        rgb = _seek_decode(self.part / sample_id / "rgb.mp4", start, self.window, "rgb", size)
        depth = _seek_decode(self.part / sample_id / "depth.mkv", start, self.window, "gray", size)
        return {
            "rgb": torch.from_numpy(rgb).permute(0, 3, 1, 2),
            "depth": torch.from_numpy(depth).unsqueeze(1),
            "annotations": torch.from_numpy(self.rows[sample_id][start : start + self.window]),
        }


# -- timing --------------------------------------------------------------------------------------
def loader_rate(dataset, indices: list[int] | None, *, workers: int, batch: int, collate_fn=collate) -> tuple[float, float]:
    """``(frames/s, items/s)`` after the first batch (worker start-up excluded)."""
    loader = DataLoader(dataset, batch_size=batch, sampler=indices, num_workers=workers, collate_fn=collate_fn,
                        prefetch_factor=4 if workers else None)
    items = frames = 0
    t0 = None
    for batch_data in loader:
        if t0 is None:
            t0 = time.perf_counter()
            continue
        n = len(batch_data.sample_id) if hasattr(batch_data, "sample_id") else len(batch_data["rgb"])
        items += n
        length = batch_data.frames.shape[-1] if hasattr(batch_data, "frames") else batch_data["rgb"].shape[1]
        frames += n * length
    elapsed = time.perf_counter() - t0
    return frames / elapsed, items / elapsed


def _dict_collate(items: list[dict]) -> dict:
    return {key: torch.stack([item[key] for item in items]) for key in items[0]}


def run_interleaved(cases: dict, repeats: int, workers: int) -> dict[str, tuple[float, float | None]]:
    """Median ``(frames/s, windows/s)`` of each case, the cases interleaved ``repeats`` times."""
    results: dict[str, list] = {name: [] for name in cases}
    with multiprocessing.get_context("fork").Pool(workers) as pool:
        pool.map(abs, range(workers))  # start the pool outside the timings
        for _ in range(repeats):
            for name, case in cases.items():
                results[name].append(case(pool))
    out = {}
    for name, runs in results.items():
        windows = statistics.median(r[1] for r in runs) if runs[0][1] is not None else None
        out[name] = (statistics.median(r[0] for r in runs), windows)
    return out


def print_table(rates: dict, notes: dict) -> None:
    print(f"{'case':<22} {'frames/s':>10} {'windows/s':>10}   note")
    for name, (frames, windows) in rates.items():
        shown = "-" if windows is None else f"{windows:.0f}"
        print(f"{name:<22} {frames:>10.0f} {shown:>10}   {notes[name]}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--window", type=int, default=16)
    parser.add_argument("--batch", type=int, default=8)
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--passes", type=int, default=3, help="passes over the sequential windows per measurement")
    parser.add_argument("--random-windows", type=int, default=480)
    parser.add_argument("--hd-windows", type=int, default=64, help="windows per measurement against the 1280x720 release")
    parser.add_argument("--decoder", choices=("pyav", "decord"), default="pyav", help="RGB decoder (depth: PyAV)")
    args = parser.parse_args()
    part, store = bench_store()
    hd_part, hd_store_path = hd_store()
    T, W, B = args.window, args.workers, args.batch
    decoder = args.decoder
    rng = np.random.default_rng(0)

    # -- the main store: limit, loader, naive (release at store resolution), annotations, stream
    sequential = WildWorldDataset(store, window=T, stride=T, decoder=decoder)
    anywhere = WildWorldDataset(store, window=T, decoder=decoder)
    annotations = WildWorldDataset(store, window=T, streams=("action", "camera", "state", "skeleton"))
    random_indices = rng.choice(len(anywhere), size=args.random_windows, replace=False).tolist()
    seq_indices = list(range(len(sequential))) * args.passes  # in order, several passes (fewer start-up tails)
    seq_windows = [sequential.locate(i) for i in seq_indices]
    naive_seq = ReleaseWindows(part, store, seq_windows[: len(sequential)], T)
    naive_random = ReleaseWindows(part, store, [anywhere.locate(i) for i in random_indices], T)
    annotation_indices = rng.integers(0, len(annotations), size=20_000).tolist()
    stream = WildWorldStream(store, window=T, decoder=decoder, seed=0)
    # -- the 1280x720 release and its store: loader vs naive on the same windows
    hd_seq = WildWorldDataset(hd_store_path, window=T, stride=T, decoder=decoder)
    hd_any = WildWorldDataset(hd_store_path, window=T, decoder=decoder)
    hd_seq_indices = list(range(min(args.hd_windows, len(hd_seq))))
    hd_random_indices = rng.choice(len(hd_any), size=args.hd_windows, replace=False).tolist()
    hd_naive_seq = ReleaseWindows(hd_part, hd_store_path, [hd_seq.locate(i) for i in hd_seq_indices], T)
    hd_naive_random = ReleaseWindows(hd_part, hd_store_path, [hd_any.locate(i) for i in hd_random_indices], T)

    opened = open_store(store)
    print(f"store: {store}")
    print(f"{len(opened.samples)} samples, {opened.frames} frames at {WIDTH}x{HEIGHT}; window {T}, batch {B}, "
          f"{W} workers, decoder {decoder} (+ PyAV for depth); median of {args.repeats} interleaved repeats", flush=True)
    naive = dict(workers=W, batch=B, collate_fn=_dict_collate)
    cases = {
        "limit seq": lambda pool: (limit_rate(pool, store, seq_windows, T, W, decoder), None),
        "limit 1 process": lambda pool: (limit_rate(pool, store, seq_windows, T, 1, decoder), None),
        "loader seq": lambda pool: loader_rate(sequential, seq_indices, workers=W, batch=B),
        "loader random": lambda pool: loader_rate(anywhere, random_indices, workers=W, batch=B),
        "naive seq": lambda pool: loader_rate(naive_seq, None, **naive),
        "naive random": lambda pool: loader_rate(naive_random, None, **naive),
        "annotations random": lambda pool: loader_rate(annotations, annotation_indices, workers=W, batch=64),
        "stream": lambda pool: stream_rate(stream, workers=W, batch=B),
        "hd loader seq": lambda pool: loader_rate(hd_seq, hd_seq_indices, workers=W, batch=B),
        "hd loader random": lambda pool: loader_rate(hd_any, hd_random_indices, workers=W, batch=B),
        "hd naive seq": lambda pool: loader_rate(hd_naive_seq, None, **naive),
        "hd naive random": lambda pool: loader_rate(hd_naive_random, None, **naive),
    }
    rates = run_interleaved(cases, args.repeats, W)
    notes = {
        "limit seq": f"decoders straight through the store frames, {W} processes (the limit)",
        "limit 1 process": "the same in one process",
        "loader seq": f"WildWorldDataset full tuples, disjoint windows in order, {W} workers",
        "loader random": f"WildWorldDataset full tuples, random windows, {W} workers",
        "naive seq": "320x180 release files, open + seek + decode per window (PyAV)",
        "naive random": "320x180 release files, open + seek + decode per window (PyAV)",
        "annotations random": "action + camera + state + skeleton only, random windows",
        "stream": f"WildWorldStream full tuples from the clip shards, {W} workers",
        "hd loader seq": "WildWorldDataset on the store of the 1280x720 release",
        "hd loader random": "WildWorldDataset on the store of the 1280x720 release",
        "hd naive seq": "1280x720 release files, per window: open + seek + decode + resize",
        "hd naive random": "1280x720 release files, per window: open + seek + decode + resize",
    }
    print()
    print_table(rates, notes)
    rate = {name: value[0] for name, value in rates.items()}
    checks = [
        ("loader seq / limit", rate["loader seq"] / rate["limit seq"], 0.7),
        ("loader random / limit", rate["loader random"] / rate["limit seq"], 0.5),
        ("loader seq / naive seq (1280x720 release)", rate["hd loader seq"] / rate["hd naive seq"], 3.0),
        ("loader random / naive random (1280x720)", rate["hd loader random"] / rate["hd naive random"], 3.0),
        ("loader seq / naive seq (320x180 release)", rate["loader seq"] / rate["naive seq"], None),
        ("loader random / naive random (320x180)", rate["loader random"] / rate["naive random"], None),
        ("annotation / full-tuple windows/s", rates["annotations random"][1] / rates["loader random"][1], 10.0),
    ]
    print()
    print(f"{'ratio':<44} {'value':>7} {'target':>8}")
    for label, value, target in checks:
        verdict = "(for information: a release at the store's resolution)" if target is None else (
            "met" if value >= target else "NOT MET")
        shown = "-" if target is None else ">= " + format(target, "g")
        print(f"{label:<44} {value:>7.2f} {shown:>8}  {verdict}")


def stream_rate(stream, *, workers: int, batch: int) -> tuple[float, float]:
    loader = DataLoader(stream, batch_size=batch, num_workers=workers, collate_fn=collate, prefetch_factor=4)
    frames = items = 0
    t0 = None
    for batch_data in loader:
        if t0 is None:
            t0 = time.perf_counter()
            continue
        items += len(batch_data.sample_id)
        frames += len(batch_data.sample_id) * batch_data.frames.shape[-1]
    elapsed = time.perf_counter() - t0
    return frames / elapsed, items / elapsed


if __name__ == "__main__":
    sys.exit(main())
