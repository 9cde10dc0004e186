"""Action Following's validity table: the references and growing degradations of the oracle.

    python benchmarks/recognizer_train.py --keep MODEL_DIR      # the recognizer (another store)
    python benchmarks/action_following_validity.py --recognizer MODEL_DIR [--cases 12]

Uses the WildBench benchmark store (``_common.wildbench_store``: synthetic, 320x180, seed 5;
the recognizer benchmark trains on a store of seed 3, so no case was seen in training), a split
of 81-frame cases and the four reference submissions (the oracle with its true counterfactual
video, frozen with its own video twice). Scores each with ``action_following`` called
directly (inputs decoded once), then the oracle delayed by d frames (its first frame held for
d frames, then the truth) and frozen from an earlier frame. Prints the calibrated and timing
scores (the headline), balanced top-1, per-frame agreement, onset delay, counterfactual
preference, the ceiling and chance, and the seconds per case.
"""

from __future__ import annotations

import argparse
import tempfile
import time
from pathlib import Path

import numpy as np
from _common import wildbench_store

DELAYS = (4, 8, 16)
FREEZES = (60, 40, 20)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--recognizer", type=Path, required=True, help="MODEL_DIR written by `wildbench recognizer train`")
    parser.add_argument("--cases", type=int, default=12)
    args = parser.parse_args()
    from wildbench import SplitRules, make_baseline, make_split
    from wildbench.metrics import CaseData, MetricEnv, SplitFacts, get_metric
    from wildbench.runner import decode_submission
    from wildworld.video import open_video

    metric = get_metric("action_following")
    scorer = metric.setup(MetricEnv(recognizer=args.recognizer))
    workdir = tempfile.TemporaryDirectory()  # removed at exit; the split's answers are read while scoring
    tmp = Path(workdir.name)
    split = make_split(wildbench_store(), tmp / "split", SplitRules(cases=args.cases, horizon=81, seed=0))
    names = ("oracle", "frozen", "shuffled", "resim")
    subs = {name: make_baseline(name, split, tmp / name) for name in names}
    store = split.open_store()
    truth, videos, cf = {}, {name: {} for name in names}, {name: {} for name in names}
    for case in split.cases:
        with open_video(store.video(case.sample_id, "rgb")) as reader:
            truth[case.case_id] = reader.get(range(case.start, case.start + case.horizon))
        for name in names:
            videos[name][case.case_id] = decode_submission(subs[name] / f"{case.case_id}.mp4", case.horizon, split.resolution)
            path = subs[name] / f"{case.case_id}.cf.mp4"
            if path.exists():
                cf[name][case.case_id] = decode_submission(path, case.horizon, split.resolution)

    def run(label: str, make, cf_make=None) -> dict:
        start = time.perf_counter()
        per_case = [scorer.score(CaseData(c.case_id, make(c.case_id), split.answer(c.case_id), split.fps,
                                          true_video=truth[c.case_id],
                                          cf_video=cf_make(c.case_id) if cf_make else None))
                    for c in split.cases]
        seconds = (time.perf_counter() - start) / len(split.cases)
        summary = metric.aggregate(per_case, SplitFacts(split.fps, split.horizon))
        mean = {k: v["mean"] for k, v in summary["measures"].items()}
        text = " | ".join("-" if mean[k] is None else f"{mean[k]:.3f}" for k in
                          ("calibrated", "timing", "balanced_top1", "frame_agreement", "onset_delay_s", "cf_preference"))
        print(f"| {label} | {text} | {seconds:.2f} |", flush=True)
        return summary

    print(f"{len(split.cases)} cases of 81 frames at {split.resolution[0]}x{split.resolution[1]}; recognizer {args.recognizer}")
    print("| submission | calibrated | timing | balanced top-1 | per-frame agreement | onset delay (s) | cf preference | s/case |")
    print("|---|---|---|---|---|---|---|---|")
    summary = run("oracle (with its true counterfactual)", lambda cid: videos["oracle"][cid], lambda cid: cf["oracle"][cid])
    run("oracle with itself as the counterfactual", lambda cid: videos["oracle"][cid], lambda cid: videos["oracle"][cid])
    for name in ("frozen", "shuffled", "resim"):
        run(name, lambda cid, n=name: videos[n][cid], (lambda cid: cf["frozen"][cid]) if name == "frozen" else None)
    for d in DELAYS:
        run(f"oracle late by {d} frames", lambda cid, d=d: videos["oracle"][cid][np.maximum(np.arange(81) - d, 0)])
    for at in FREEZES:
        run(f"oracle frozen from frame {at}", lambda cid, at=at: videos["oracle"][cid][np.minimum(np.arange(81), at)])
    ceiling = summary["ceiling"]
    print(f"ceiling (the recognizer on the true videos): balanced top-1 {ceiling['balanced_top1']:.3f}, per-frame agreement "
          f"{ceiling['frame_agreement']:.3f}, onset delay {ceiling['onset_delay_s']:.3f} s; chance {summary['chance']:.3f}; "
          f"{summary['segments']} segments scored, skipped: {summary['skipped_segments']}")
    print(f"by frequency third (top-1, submission / ceiling): "
          + ", ".join(f"{k} {v['top1']} / {v['ceiling_top1']} ({v['segments']} segments)" for k, v in summary["by_frequency"].items()))


if __name__ == "__main__":
    main()
