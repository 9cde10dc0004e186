"""SplitRules own the case-selection thresholds: the same defaults as State Alignment, recorded
in split.json only when they differ from them (older splits keep their checksum), and used."""

from __future__ import annotations

import pytest

from wildbench import SplitError, SplitRules, make_split
from wildbench.answers import RELIABLE_PX
from wildbench.metrics.state_alignment import BUCKET, MIN_BUCKET_PAIRS


def test_defaults_are_state_alignments():
    rules = SplitRules()
    assert (rules.bucket_frames, rules.min_bucket_pairs, rules.reliable_px) == (BUCKET, MIN_BUCKET_PAIRS, RELIABLE_PX)


def test_thresholds_are_recorded_only_when_they_differ_from_the_defaults():
    recorded = SplitRules().to_json(idle_keys=[[1, 2]], depth_scale=0.25)
    assert not {"bucket_frames", "min_bucket_pairs", "reliable_px"} & set(recorded)
    assert recorded["idle_keys"] == [[1, 2]] and recorded["depth_scale"] == 0.25 and recorded["horizon"] == 81
    changed = SplitRules(min_bucket_pairs=25, reliable_px=2.0).to_json(idle_keys=[], depth_scale=None)
    assert changed["min_bucket_pairs"] == 25 and changed["reliable_px"] == 2.0 and "bucket_frames" not in changed


@pytest.mark.parametrize("bad", [{"bucket_frames": 0}, {"min_bucket_pairs": -1}, {"reliable_px": 0.0}, {"min_reliable_pairs": -5}])
def test_impossible_thresholds_are_refused(bad):
    with pytest.raises(SplitError, match="need bucket_frames >= 1"):
        SplitRules(**bad)


@pytest.fixture(scope="module")
def one_sample_store(tmp_path_factory):
    from wildworld.store import ConvertOptions
    from wildworld.store.convert import convert
    from wildworld.synth import SynthOptions, generate

    root = tmp_path_factory.mktemp("rules")
    generate(root / "part", SynthOptions(samples=1, seconds=4, width=320, height=180, seed=5))
    convert([root / "part"], root / "store", ConvertOptions(), workers=1)
    return root / "store"


def test_the_thresholds_decide_which_windows_pass(one_sample_store, tmp_path):
    made = make_split(one_sample_store, tmp_path / "default", SplitRules(cases=1, horizon=41, seed=0))
    assert len(made.cases) == 1 and "min_bucket_pairs" not in made.doc["rules"]
    with pytest.raises(SplitError, match="no horizon bucket with 100000 reliable pairs"):
        make_split(one_sample_store, tmp_path / "strict", SplitRules(cases=1, horizon=41, seed=0, min_bucket_pairs=100_000))
    loose = make_split(one_sample_store, tmp_path / "loose", SplitRules(cases=1, horizon=41, seed=0, reliable_px=64.0))
    assert loose.doc["reliability"]["threshold_px_256"] == 64.0 and loose.doc["rules"]["reliable_px"] == 64.0
    assert loose.checksum != made.checksum


def test_reliable_pairs_use_the_rules_threshold():
    import numpy as np

    from wildbench.answers import reliable_pairs

    truth = np.zeros((5, 2, 2))

    class ThreePixelsOff:  # tracks 3 px (at 256 x 256) to the right of the truth
        def track(self, video, query):
            return truth + [3.0, 0.0], np.ones(truth.shape[:2], bool)

    video = np.zeros((5, 256, 256, 3), np.uint8)
    assert reliable_pairs(video, truth[0], truth, ThreePixelsOff()).all()  # within the default 4 px
    assert not reliable_pairs(video, truth[0], truth, ThreePixelsOff(), threshold_px=2.0).any()
