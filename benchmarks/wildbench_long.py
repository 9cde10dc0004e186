"""WildBench long track: the validity tables of State Alignment v2 and Explicit State.

    python benchmarks/wildbench_long.py [--cases 8]

Builds (once, cached) the long-track benchmark store (3 x 40 s synthetic samples at 320x180,
seed 5: the tests' ``long_bench`` data), a long-track split of 600-frame cases (20 s) and the
five reference submissions (videos and state files), then prints:

* State Alignment v2 per reference: skill (95% interval), strided accuracy, median usable
  horizon H*, first-frame accuracy and survival; then the skill of every second;
* the oracle frozen from an earlier frame, and the oracle shifted sideways: skill and H*;
* Explicit State per reference, and the oracle's state with growing noise on positions and HP.

Every number is a measurement of this run (docs/long-horizon.md quotes them).
"""

from __future__ import annotations

import argparse
from pathlib import Path

import cv2
import numpy as np

from _common import cache_dir, wildbench_long_store

REFERENCES = ("oracle", "resim", "camera-follow", "shuffled", "frozen")


def _bench(cases: int):
    """The split and reference submissions, cached next to the store."""
    from wildbench import SplitRules, load_split, make_baseline, make_split

    store = wildbench_long_store()
    root = cache_dir(store.parent.name + f"_split{cases}")
    if not (root / "done").exists():
        make_split(store, root / "split", SplitRules(track="long", cases=cases, seed=0), force=True)
        split = load_split(root / "split")
        for name in REFERENCES:
            make_baseline(name, split, root / name)
        (root / "done").write_text("ok\n")
    return load_split(root / "split"), {name: root / name for name in REFERENCES}


def _load(split, subs) -> list[dict]:
    from wildbench.providers import decode_submission
    from wildbench.runner import _case_files
    from wildworld import read_state_csv

    store = split.open_store()
    out = []
    for case in split.cases:
        with _case_files(subs["oracle"], split, case).load(frozenset({"true_video", "true_state", "answer"}), store=store) as data:
            entry = {"case": case, "answer": data.answer, "true_video": data.true_video, "true_state": data.true_state}
        entry["videos"] = {n: decode_submission(p / f"{case.case_id}.mp4", case.horizon, split.resolution) for n, p in subs.items()}
        entry["states"] = {n: read_state_csv(p / f"{case.case_id}.state.csv") for n, p in subs.items()}
        out.append(entry)
    return out


def _state_alignment(split, cases, video_for) -> dict:
    from wildbench import get_metric
    from wildbench.metrics import CaseData, SplitFacts

    metric = get_metric("state_alignment")
    per_case = [metric.score(CaseData(c["case"].case_id, video_for(c), c["answer"], split.fps, true_video=c["true_video"]))
                for c in cases]
    return metric.aggregate(per_case, SplitFacts(split.fps, split.horizon, split.track))


def _explicit_state(split, cases, state_for) -> dict:
    from wildbench import get_metric
    from wildbench.metrics import CaseData, SplitFacts

    metric = get_metric("explicit_state")
    per_case = [metric.score(CaseData(c["case"].case_id, None, c["answer"], split.fps, true_state=c["true_state"],
                                      state=state_for(c), horizon=c["case"].horizon)) for c in cases]
    return metric.aggregate(per_case, SplitFacts(split.fps, split.horizon, split.track))


def _fmt(value, digits: int = 3) -> str:
    return "-" if value is None else f"{value:.{digits}f}"


def _sa_row(label: str, summary: dict) -> str:
    m = summary["measures"]
    ci = m["skill"]["ci95"]
    interval = f"[{ci[0]:6.3f}, {ci[1]:6.3f}]" if ci else "-"
    return (f"  {label:22s} {_fmt(m['skill']['mean']):>7s} {interval:>18s} {_fmt(m['position_accuracy']['mean']):>7s} "
            f"{_fmt(summary['usable_horizon_s'], 1):>6s} {_fmt(m['first_frame_accuracy']['mean']):>7s} {_fmt(m['survival']['mean']):>7s}")


def _shift(video: np.ndarray, pixels: float) -> np.ndarray:
    matrix = np.float32([[1, 0, pixels], [0, 1, 0]])
    return np.stack([cv2.warpAffine(f, matrix, (f.shape[1], f.shape[0]), borderMode=cv2.BORDER_REPLICATE) for f in video])


def _noisy(entry: dict, sigma_m: float, sigma_hp: float, seed: int = 0):
    """The oracle's state table with Gaussian noise on every position and HP column."""
    import pyarrow as pa

    rng = np.random.default_rng(seed)
    table = entry["states"]["oracle"]
    for name in table.column_names:
        if name.endswith(".pos"):
            values = np.asarray([v if v is not None else [np.nan] * 3 for v in table.column(name).to_pylist()], np.float64)
            values = values + rng.normal(0, sigma_m, values.shape)
        elif name.endswith(".hp"):
            top = np.asarray(table.column(name.replace(".hp", ".max_hp")).to_pylist(), np.float64)
            values = np.asarray(table.column(name).to_pylist(), np.float64)
            values = values + rng.normal(0, 1, values.shape) * sigma_hp * top
        else:
            continue
        index = table.schema.get_field_index(name)
        table = table.set_column(index, name, pa.array(values.tolist(), type=table.schema.field(name).type))
    return table


ES_COLUMNS = (("player_position_error", "player m"), ("monster_position_error", "monster m"), ("player_hp_error", "HP"),
              ("player_stamina_error", "stamina"), ("monster_hp_error", "mon. HP"), ("monster_condition_f1", "cond F1"),
              ("action_accuracy", "action"))


def _es_row(label: str, summary: dict) -> str:
    m = summary["measures"]
    return f"  {label:22s} " + " ".join(f"{_fmt(m[k]['mean']):>9s}" for k, _ in ES_COLUMNS) + f" {_fmt(summary['usable_horizon_s'], 1):>6s}"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--cases", type=int, default=8)
    args = parser.parse_args()
    split, subs = _bench(args.cases)
    cases = _load(split, subs)
    masked = sum(int((~c["answer"].camera_valid[1:]).sum()) for c in cases)
    print(f"long track: {len(cases)} cases of {split.horizon} frames ({split.horizon / split.fps:.0f} s) at "
          f"{split.resolution[0]}x{split.resolution[1]}; {masked} invalid-camera frames masked")
    head = f"  {'':22s} {'skill':>7s} {'95% interval':>18s} {'acc.':>7s} {'H* s':>6s} {'1st-fr':>7s} {'surv.':>7s}"
    print("\nState Alignment v2, reference submissions")
    print(head)
    summaries = {name: _state_alignment(split, cases, lambda c, name=name: c["videos"][name]) for name in REFERENCES}
    for name, summary in summaries.items():
        print(_sa_row(name, summary))
    print("\nState Alignment v2 skill per second (bucket t: frames 30t+1 .. 30t+30)")
    print(f"  {'':14s}" + "".join(f"{b:>6d}" for b in range(split.horizon // 30)))
    for name, summary in summaries.items():
        print(f"  {name:14s}" + "".join(f"{_fmt(v, 2):>6s}" for v in summary["measures"]["skill"]["per_horizon"]))
    print("\nState Alignment v2, the oracle frozen from frame k, and shifted right by d px")
    print(head)
    print(_sa_row("oracle", summaries["oracle"]))
    for k in (450, 300, 150, 60):
        print(_sa_row(f"frozen from {k / split.fps:g} s", _state_alignment(
            split, cases, lambda c, k=k: c["videos"]["oracle"][np.minimum(np.arange(split.horizon), k)])))
    for px in (2, 4, 8, 16):
        print(_sa_row(f"shifted {px} px", _state_alignment(split, cases, lambda c, px=px: _shift(c["videos"]["oracle"], px))))

    head = f"  {'':22s} " + " ".join(f"{label:>9s}" for _, label in ES_COLUMNS) + f" {'H* s':>6s}"
    print("\nExplicit State, reference submissions (errors: lower is better; F1 and action accuracy: higher)")
    print(head)
    for name in REFERENCES:
        print(_es_row(name, _explicit_state(split, cases, lambda c, name=name: c["states"][name])))
    print("\nExplicit State, the oracle's state with noise (sigma: position m, HP fraction of the maximum)")
    print(head)
    for sigma_m, sigma_hp in ((0.25, 0.02), (0.5, 0.05), (1.0, 0.1), (2.0, 0.2)):
        print(_es_row(f"noise {sigma_m:g} m, {sigma_hp:g}", _explicit_state(
            split, cases, lambda c, m=sigma_m, h=sigma_hp: _noisy(c, m, h))))


if __name__ == "__main__":
    main()
