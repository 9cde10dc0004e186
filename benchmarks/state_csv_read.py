"""state.csv reading speed: ours vs the release script's approach vs pyarrow's raw read.

    python benchmarks/state_csv_read.py [--rows 54000] [--repeats 15]

Builds (once, cached) a state.csv with 2 players and 2 monsters whose values look like the
game's (float32 values written with Python's repr). Then, in one run and interleaved:

* release: csv.DictReader + ast.literal_eval per cell (what render_skeleton_video.py does;
  ``nan`` spelled as None first, since literal_eval cannot parse it) - timed once or twice;
* raw: pyarrow.csv.read_csv with default options (tuples left as strings): the floor;
* ours: wildworld.read_state_csv (every tuple parsed to fixed-size lists).

Prints medians and the two ratios the Foundation issue sets: release/ours >= 15 and
ours/raw <= 1.5.
"""

from __future__ import annotations

import argparse
import ast
import csv
import time

import numpy as np
import pyarrow.csv as pcsv

from _common import cache_dir, interleaved, median
from wildworld import read_state_csv
from wildworld.release._examples import example_state_columns
from wildworld.release.writer import write_state_csv


def release_approach(path) -> list[dict]:
    rows = []
    with open(path, newline="") as handle:
        for row in csv.DictReader(handle):
            parsed = {}
            for key, cell in row.items():
                try:
                    parsed[key] = ast.literal_eval(cell.replace("nan", "None")) if cell else None
                except (ValueError, SyntaxError):
                    parsed[key] = cell
            rows.append(parsed)
    return rows


def make_file(rows: int):
    path = cache_dir("state_csv") / f"state_{rows}.csv"
    if not path.exists():
        columns = example_state_columns(rows, players=2, monsters=2, seed=0, invalid_camera_rows=rows // 500)
        columns = {k: (v.astype(np.float32).astype(np.float64) if isinstance(v, np.ndarray) and v.dtype == np.float64 else v) for k, v in columns.items()}
        write_state_csv(path, columns, decimals=None)
    return path


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--rows", type=int, default=54_000)
    parser.add_argument("--repeats", type=int, default=15)
    parser.add_argument("--baseline-repeats", type=int, default=1)
    args = parser.parse_args()
    path = make_file(args.rows)
    print(f"file: {path} ({path.stat().st_size / 1e6:.1f} MB, {args.rows} rows, 2 players, 2 monsters)")
    times = interleaved({"raw": lambda: pcsv.read_csv(path), "ours": lambda: read_state_csv(path)}, args.repeats)
    release = []
    for _ in range(args.baseline_repeats):
        start = time.perf_counter()
        release_approach(path)
        release.append(time.perf_counter() - start)
    raw, ours, rel = median(times["raw"]), median(times["ours"]), median(release)
    print(f"release approach (DictReader + literal_eval): {rel:8.3f} s")
    print(f"pyarrow raw read_csv (strings, the floor):    {raw:8.3f} s")
    print(f"wildworld.read_state_csv:                     {ours:8.3f} s")
    print(f"speed-up over the release approach: {rel / ours:6.1f}x  (target >= 15x)")
    print(f"cost relative to the raw read:      {ours / raw:6.2f}x  (target <= 1.5x)")


if __name__ == "__main__":
    main()
