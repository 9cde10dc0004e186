"""Cost of the weight-free metrics, called directly on oracle cases: seconds per case per metric.

    python benchmarks/metric_cost.py [--cases 6] [--metrics camera_control,video_quality]

Builds (once, cached) the synthetic store of the WildBench benchmarks (320x180), a split of
81-frame cases and the oracle submission, decodes each case's submitted and true video once,
then scores every case with each metric in this process (no runner, no pool: one core).
Prints per metric the wall and CPU seconds per case (CPU time counts every thread of the
process; on a loaded machine wall time is the noisy one), and beside Camera Control the
oracle's ATE as a fraction of the true path length, its RPE rotation and the SfM registered
fraction, so that a faster setting is seen to keep its accuracy. The budget (issue 13): every
weight-free metric together <= 18 s per case on 2 cores, i.e. <= 36 CPU-seconds per case.
"""

from __future__ import annotations

import argparse
import tempfile
import time
from pathlib import Path

import numpy as np
from _common import wildbench_store


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--cases", type=int, default=6)
    parser.add_argument("--metrics", default="state_alignment,camera_control,video_quality")
    args = parser.parse_args()
    from wildbench import SplitRules, make_baseline, make_split
    from wildbench.metrics import CaseData, get_metric
    from wildbench.metrics.base import MetricEnv
    from wildbench.runner import decode_submission
    from wildworld.video import open_video

    store = wildbench_store()
    names = [n.strip() for n in args.metrics.split(",") if n.strip()]
    with tempfile.TemporaryDirectory() as tmp:
        tmp = Path(tmp)
        split = make_split(store, tmp / "split", SplitRules(cases=args.cases, horizon=81, seed=0))
        make_baseline("oracle", split, tmp / "sub")
        opened = split.open_store()
        cases = []
        for case in split.cases:
            video = decode_submission(tmp / "sub" / f"{case.case_id}.mp4", case.horizon, split.resolution)
            with open_video(opened.video(case.sample_id, "rgb")) as reader:
                truth = reader.get(range(case.start, case.start + case.horizon))
            cases.append((case, video, truth, split.answer(case.case_id)))
        rows = {}
        for name in names:
            scorer = get_metric(name).setup(MetricEnv())
            wall, cpu, results = [], [], []
            for number, (case, video, truth, answer) in enumerate(cases):
                scratch = tmp / "scratch" / f"{name}-{number}"
                scratch.mkdir(parents=True)
                data = CaseData(case.case_id, video, answer, split.fps, true_video=truth, scratch=scratch)
                w0, c0 = time.perf_counter(), time.process_time()
                results.append(scorer.score(data))
                wall.append(time.perf_counter() - w0)
                cpu.append(time.process_time() - c0)
            rows[name] = (float(np.mean(wall)), float(np.mean(cpu)), results)
    print(f"{len(cases)} oracle cases of 81 frames at {split.resolution[0]}x{split.resolution[1]}, one process")
    for name, (wall, cpu, results) in rows.items():
        extra = ""
        if name == "camera_control":
            ate = [r["ate_fraction"] for r in results if r.get("ate_fraction") is not None]
            extra = (f"   oracle ATE {100 * np.mean(ate):.2f}% of path (max {100 * np.max(ate):.2f}%), "
                     f"RPE rotation {np.mean([r['rpe_rotation_deg'] for r in results]):.3f} deg/step, "
                     f"registered {100 * np.mean([r['registered_fraction'] for r in results]):.0f}%, "
                     f"failed {sum(r['failed'] for r in results)}")
        print(f"  {name:18s} wall {wall:6.2f} s/case   cpu {cpu:6.2f} s/case{extra}")
    total = sum(cpu for _, cpu, _ in rows.values())
    print(f"  together: {total:.2f} CPU-s/case -> {total / 2:.2f} s/case on 2 cores with 2 workers "
          f"(budget 18), 200 cases in {200 * total / 2 / 60:.1f} min")


if __name__ == "__main__":
    main()
