"""WildBench evaluation cost: seconds per case per metric at 81 frames, and a 200-case estimate.

    python benchmarks/wildbench_speed.py [--cases 8]

Builds (once, cached) a synthetic store at 320x180 and a split of 81-frame cases, writes the
oracle submission, then evaluates it with 1 and 2 workers. Prints the mean seconds per case
spent decoding and in each metric (one worker), the wall time per case with 1 and 2 workers
(the speed-up is the reference measured in the same run), and the extrapolated wall time of a
200-case evaluation on this machine.
"""

from __future__ import annotations

import argparse
import tempfile
import time
from pathlib import Path

from _common import wildbench_store


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--cases", type=int, default=8)
    args = parser.parse_args()
    from wildbench import SplitRules, evaluate, make_baseline, make_split

    store = wildbench_store()
    with tempfile.TemporaryDirectory() as tmp:
        tmp = Path(tmp)
        split = make_split(store, tmp / "split", SplitRules(cases=args.cases, horizon=81, seed=0))
        make_baseline("oracle", split, tmp / "sub")
        walls = {}
        for workers in (1, 2):
            start = time.perf_counter()
            results = evaluate(tmp / "sub", tmp / "split", tmp / f"r{workers}.json", workers=workers)
            walls[workers] = (time.perf_counter() - start) / len(split.cases)
            if workers == 1:
                cache = tmp / "r1.json.cache"
                import json

                entries = [json.loads(p.read_text()) for p in cache.iterdir()]
                decode = sum(e["seconds"]["decode"] for e in entries) / len(entries)
                metrics = {name: m["seconds_per_case"] for name, m in results["metrics"].items()}
    cases = len(split.cases)
    print(f"{cases} cases of 81 frames at {split.resolution[0]}x{split.resolution[1]}")
    print(f"  decode (PyAV, once per case):   {decode:6.3f} s/case")
    for name, seconds in metrics.items():
        print(f"  {name:30s}  {seconds:6.3f} s/case")
    print(f"  wall time per case, 1 worker:   {walls[1]:6.3f} s   2 workers: {walls[2]:6.3f} s   (speed-up {walls[1] / walls[2]:.2f}x)")
    print(f"  200-case evaluation, estimated: {200 * walls[1]:6.1f} s on 1 worker, {200 * walls[2]:6.1f} s on 2 workers")


if __name__ == "__main__":
    main()
