"""WildBench evaluation cost: seconds per case per metric, short track and long track.

    python benchmarks/wildbench_speed.py [--cases 8] [--long-cases 8]

Short track: builds (once, cached) a synthetic store at 320x180 and a split of 81-frame cases,
writes the oracle submission, then evaluates it with 1 and 2 workers. Prints the mean seconds
per case spent reading inputs and in each metric (one worker), the wall time per case with 1
and 2 workers (the speed-up is the reference measured in the same run), and the extrapolated
wall time of a 200-case evaluation on this machine.

Long track: a store of 40-s samples (the tests' long_bench data), a long-track split of
600-frame cases (20 s), the oracle and camera-follow submissions (videos and state files);
State Alignment v2 (two tracked videos: the submission and the true video) and Explicit State
timed per case on one core (metric time only, the inputs already decoded), next to the cost
of decoding those inputs, and State Alignment's cost per frame against the short track's
measured in the same run. Targets (issue 15): <= 2 s and <= 0.1 s per case.
"""

from __future__ import annotations

import argparse
import json
import os
import tempfile
import time
from pathlib import Path

from _common import wildbench_long_store, wildbench_store


def _one_core() -> str:
    import cv2

    cv2.setNumThreads(1)
    if hasattr(os, "sched_setaffinity"):
        os.sched_setaffinity(0, {min(os.sched_getaffinity(0))})
        return "pinned to one core"
    return "one OpenCV thread (no CPU pinning on this platform)"


def short_track(cases: int) -> float:
    from wildbench import SplitRules, evaluate, make_baseline, make_split

    store = wildbench_store()
    with tempfile.TemporaryDirectory() as tmp:
        tmp = Path(tmp)
        split = make_split(store, tmp / "split", SplitRules(cases=cases, horizon=81, seed=0))
        make_baseline("oracle", split, tmp / "sub")
        walls = {}
        for workers in (1, 2):
            start = time.perf_counter()
            results = evaluate(tmp / "sub", tmp / "split", tmp / f"r{workers}.json", workers=workers)
            walls[workers] = (time.perf_counter() - start) / len(split.cases)
            if workers == 1:
                entries = [json.loads(p.read_text()) for p in (tmp / "r1.json.cache").iterdir()]
                inputs = sum(e["seconds"]["inputs"] for e in entries) / len(entries)
                metrics = {name: m["seconds_per_case"] for name, m in results["metrics"].items()}
    count = len(split.cases)
    print(f"short track: {count} cases of 81 frames at {split.resolution[0]}x{split.resolution[1]}")
    print(f"  inputs (decode, store reads):   {inputs:6.3f} s/case")
    for name, seconds in metrics.items():
        print(f"  {name:30s}  {seconds:6.3f} s/case")
    print(f"  wall time per case, 1 worker:   {walls[1]:6.3f} s   2 workers: {walls[2]:6.3f} s   (speed-up {walls[1] / walls[2]:.2f}x)")
    print(f"  200-case evaluation, estimated: {200 * walls[1]:6.1f} s on 1 worker, {200 * walls[2]:6.1f} s on 2 workers")
    return metrics.get("state_alignment", float("nan")) / 81


def long_track(cases: int, short_per_frame: float) -> None:
    from wildbench import SplitRules, get_metric, make_baseline, make_split
    from wildbench.runner import _case_files

    store = wildbench_long_store()
    with tempfile.TemporaryDirectory() as tmp:
        tmp = Path(tmp)
        split = make_split(store, tmp / "split", SplitRules(track="long", cases=cases, seed=0))
        for name in ("oracle", "camera-follow"):
            make_baseline(name, split, tmp / name)
        how = _one_core()
        opened = split.open_store()
        seconds = {"state_alignment": [], "explicit_state": []}
        inputs = {"state_alignment": [], "explicit_state": []}
        skills = []
        for case in split.cases:
            for name, metric_name, provide in (("oracle", "state_alignment", {"video", "true_video", "answer"}),
                                               ("camera-follow", "explicit_state", {"state", "true_state", "answer"})):
                files = _case_files(tmp / name, split, case)
                start = time.perf_counter()
                with files.load(frozenset(provide), store=opened) as data:
                    inputs[metric_name].append(time.perf_counter() - start)
                    start = time.perf_counter()
                    result = get_metric(metric_name).score(data)
                    seconds[metric_name].append(time.perf_counter() - start)
                if metric_name == "state_alignment":
                    skills.append(result["skill"])
    mean = {key: sum(v) / len(v) for key, v in seconds.items()}
    reading = {key: sum(v) / len(v) for key, v in inputs.items()}
    print(f"long track: {len(split.cases)} cases of {split.horizon} frames at {split.resolution[0]}x{split.resolution[1]} ({how})")
    print(f"  inputs: two videos decoded {reading['state_alignment']:6.3f} s/case, a state file and the store's rows read "
          f"{reading['explicit_state']:6.3f} s/case")
    print(f"  state_alignment v2 (oracle):  {mean['state_alignment']:6.3f} s/case  (target 2 s; per frame "
          f"{mean['state_alignment'] / split.horizon * 1000:.2f} ms, {mean['state_alignment'] / split.horizon / short_per_frame:.2f}x the short track's)")
    print(f"  explicit_state (camera-follow): {mean['explicit_state']:6.3f} s/case  (target 0.1 s)")
    print(f"  oracle skill per case: {', '.join(f'{s:.3f}' for s in skills if s is not None)}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--cases", type=int, default=8)
    parser.add_argument("--long-cases", type=int, default=8)
    args = parser.parse_args()
    per_frame = short_track(args.cases)
    long_track(args.long_cases, per_frame)


if __name__ == "__main__":
    main()
