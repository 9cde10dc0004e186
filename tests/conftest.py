"""Shared fixtures: synthetic data made by factories, never downloaded."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
SAMPLE_DATA = ROOT / "sample_data" / "data_part1"


@pytest.fixture(scope="session")
def synth_part(tmp_path_factory) -> Path:
    """A small synthetic part: 3 samples x 2 s at 160x96 (covers two monsters, a companion
    tracked in list slot 1, a monster that leaves, invalid-camera rows)."""
    from wildworld.synth import SynthOptions, generate

    out = tmp_path_factory.mktemp("synth") / "data_part1"
    generate(out, SynthOptions(samples=3, seconds=2.0, width=160, height=96, seed=7))
    return out


@pytest.fixture()
def part_copy(synth_part, tmp_path) -> Path:
    """A private copy of the synthetic part that a test may break."""
    target = tmp_path / "data_part1"
    shutil.copytree(synth_part, target)
    return target


@pytest.fixture()
def sample_copy(part_copy) -> Path:
    return part_copy / "000000"


@pytest.fixture(scope="session")
def bundled_part() -> Path:
    if not SAMPLE_DATA.exists():
        pytest.skip("sample_data/ is not present in this checkout")
    return SAMPLE_DATA


@pytest.fixture(scope="session")
def bench(tmp_path_factory):
    """A small WildBench: a 4 x 12 s synthetic store at 320x180, its split (about ten cases of
    81 frames) and the four reference submissions."""
    from wildbench import SplitRules, make_baselines, make_split
    from wildworld.store.convert import convert
    from wildworld.store.extract import ConvertOptions
    from wildworld.synth import SynthOptions, generate

    root = tmp_path_factory.mktemp("bench")
    generate(root / "part", SynthOptions(samples=4, seconds=12, width=320, height=180, seed=5), workers=2)
    convert([root / "part"], root / "store", ConvertOptions(), workers=2)
    split = make_split(root / "store", root / "split", SplitRules(cases=12, horizon=81, seed=0))
    names = ("oracle", "frozen", "shuffled", "resim")
    subs = dict(zip(names, make_baselines([(name, root / f"sub_{name}") for name in names], split, workers=2)))  # one pool
    return {"root": root, "store": root / "store", "split_dir": root / "split", "split": split, "subs": subs}


@pytest.fixture(scope="session")
def long_bench(tmp_path_factory):
    """A long-horizon WildBench: a 3 x 40 s synthetic store at 320x180, its long-track split
    (cases of 600 frames, 20 s) and the five reference submissions (with state files)."""
    from wildbench import SplitRules, make_baselines, make_split
    from wildworld.store.convert import convert
    from wildworld.store.extract import ConvertOptions
    from wildworld.synth import SynthOptions, generate

    root = tmp_path_factory.mktemp("long_bench")
    generate(root / "part", SynthOptions(samples=3, seconds=40, width=320, height=180, seed=5), workers=2)
    convert([root / "part"], root / "store", ConvertOptions(), workers=2)
    split = make_split(root / "store", root / "split", SplitRules(track="long", cases=8, seed=0))
    names = ("oracle", "frozen", "shuffled", "resim", "camera-follow")
    subs = dict(zip(names, make_baselines([(name, root / f"sub_{name}") for name in names], split, workers=2)))  # one pool
    return {"root": root, "store": root / "store", "split_dir": root / "split", "split": split, "subs": subs}


#: The Action Following tests' recognizer: trained on a store of its own, a few minutes on 2 cores.
AF_TRAINING = {"samples": 6, "seconds": 20.0, "seed": 13}


@pytest.fixture(scope="session")
def af_recognizer(tmp_path_factory) -> Path:
    """A recognizer trained on a synthetic store other than the benchmark's (``AF_TRAINING``)."""
    from wildbench.recognizer import TrainConfig, train_recognizer
    from wildworld.store.convert import convert
    from wildworld.store.extract import ConvertOptions
    from wildworld.synth import SynthOptions, generate

    root = tmp_path_factory.mktemp("af_recognizer")
    generate(root / "part", SynthOptions(samples=AF_TRAINING["samples"], seconds=AF_TRAINING["seconds"], width=320, height=180,
                                         seed=AF_TRAINING["seed"]), workers=2)
    convert([root / "part"], root / "store", ConvertOptions(), workers=2)
    train_recognizer(root / "store", root / "model", TrainConfig(epochs=10, steps_per_epoch=150, min_count=4, seed=0,
                                                                         # 48 px (the earlier default): the test's cost stays ~5 min
                                                                         input_size=48, crop_size=56, mirror=0.5),
                     # Two torch threads: on CI's 2 cores one thread left a core idle (about 170 s more
                     # here). 6 x 100 steps instead of 10 x 150 was tried: the timing sweeps lost their order.
                     workers=2, threads=2)
    return root / "model"
