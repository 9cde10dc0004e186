"""state.csv reading speed: ours vs the release script's approach vs pyarrow's raw read.

    python benchmarks/state_csv_read.py [--rows 54000] [--repeats 15] [--release-repeats 3]

Builds (once, cached) two state.csv files with 2 players and 2 monsters whose values look
like the game's (float32 values written with Python's repr):

* clean: every cell present except the all-NaN tuples ``(nan, nan, nan)`` of a few
  invalid-camera frames;
* missing: what real files look like. In every 500 rows the camera cells are empty on 3
  rows and ``(nan, nan, nan)``-style tuples on 3 others; monster 1 is absent for two long
  stretches (30% and 10% of the file: position a bare ``nan``, rotation ``(nan, nan, nan,
  nan)``, ids ``nan``, other numbers ``nan`` or empty, ``cond`` empty) and monster 0 for a
  shorter one written as pandas writes NaN (every cell empty).

Then, in one run and interleaved (files and readers alternate, so machine noise hits all
alike):

* release: csv.DictReader + ast.literal_eval per cell (what render_skeleton_video.py does;
  ``nan`` spelled as None first, since literal_eval cannot parse it, as a user must) - timed
  in the first ``--release-repeats`` rounds only (it is slow);
* raw: pyarrow.csv.read_csv with default options (tuples left as strings): the floor;
* ours: wildworld.read_state_csv (every tuple parsed to fixed-size lists, every column typed).

Prints medians, the two ratios issue 12 sets for each file (release/ours >= 30 and
ours/raw <= 1.5), and how many tuple columns the bulk parse vouched for (all of them, or the
file would have gone to the careful parse).
"""

from __future__ import annotations

import argparse
import ast
import csv
import time
from pathlib import Path

import numpy as np
import pyarrow.csv as pcsv

from _common import cache_dir, median
from wildworld import read_state_csv
from wildworld.release._examples import example_state_columns
from wildworld.release._tuple_cells import bulk_tuple_values
from wildworld.release.state_csv import _read_cells, _sniff
from wildworld.release.writer import write_state_csv

_MISSING_LAYOUT_VERSION = 1  # bump when missing_value_columns changes: the cached file is rebuilt


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


def _game_columns(rows: int, invalid_camera_rows: int) -> dict[str, object]:
    columns = example_state_columns(rows, players=2, monsters=2, seed=0, invalid_camera_rows=invalid_camera_rows)
    return {k: (v.astype(np.float32).astype(np.float64) if isinstance(v, np.ndarray) and v.dtype == np.float64 else v) for k, v in columns.items()}


def missing_value_columns(rows: int, seed: int = 0) -> dict[str, list]:
    """The columns of the "missing" file (see the module docstring), as cell values."""
    columns = _game_columns(rows, invalid_camera_rows=0)
    rng = np.random.default_rng(seed)
    cells = {name: list(values) for name, values in columns.items()}
    camera = ("camera.K", "camera.pos", "camera.rot")
    for block in range(0, rows, 500):
        picked = rng.choice(np.arange(block, min(block + 500, rows)), size=min(6, rows - block), replace=False)
        for row in picked[:3]:
            for name in camera:
                cells[name][row] = ""
        for row in picked[3:]:
            for name in camera:
                cells[name][row] = np.full(len(columns[name][row]), np.nan)  # written "(nan, nan, nan)"
    absent = {1: np.zeros(rows, bool), 0: np.zeros(rows, bool)}
    absent[1][rows // 10 : rows * 4 // 10] = True
    absent[1][rows * 7 // 10 : rows * 8 // 10] = True
    absent[0][rows * 5 // 10 : rows * 11 // 20] = True
    for name in columns:
        for index, gone in absent.items():
            if not name.startswith(f"monster.list.{index}."):
                continue
            for row in np.flatnonzero(gone):
                if index == 0:
                    cells[name][row] = ""  # pandas writes NaN as an empty cell
                elif name.endswith(".pos"):
                    cells[name][row] = "nan"
                elif name.endswith(".rot"):
                    cells[name][row] = np.full(4, np.nan)
                elif name.endswith((".cond",)):
                    cells[name][row] = ""
                elif name.endswith("_id"):
                    cells[name][row] = "nan"
                else:
                    cells[name][row] = "" if row % 2 else "nan"
    cells["monster.count"] = list(2 - absent[0].astype(int) - absent[1].astype(int))
    return cells


def make_files(rows: int) -> dict[str, Path]:
    root = cache_dir("state_csv")
    clean = root / f"state_{rows}.csv"
    if not clean.exists():
        write_state_csv(clean, _game_columns(rows, invalid_camera_rows=rows // 500), decimals=None)
    missing = root / f"state_missing_v{_MISSING_LAYOUT_VERSION}_{rows}.csv"
    if not missing.exists():
        write_state_csv(missing, missing_value_columns(rows), decimals=None)
    return {"clean": clean, "missing": missing}


def bulk_vouched(path: Path) -> tuple[int, int]:
    """How many tuple columns the bulk parse vouches for (the rest would go to the careful parse)."""
    header, widths, _ = _sniff(path)
    table = _read_cells(path, header, widths, declare_numbers=True)
    vouched = sum(bulk_tuple_values(table.column(name).combine_chunks(), width) is not None for name, width in widths.items())
    return vouched, len(widths)


def _time(function) -> float:
    start = time.perf_counter()
    function()
    return time.perf_counter() - start


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--rows", type=int, default=54_000)
    parser.add_argument("--repeats", type=int, default=15, help="interleaved rounds of raw and ours")
    parser.add_argument("--release-repeats", type=int, default=3, help="rounds that also time the release approach (0: skip it)")
    args = parser.parse_args()
    files = make_files(args.rows)
    for kind, path in files.items():
        vouched, total = bulk_vouched(path)
        print(f"{kind:8s} file: {path} ({path.stat().st_size / 1e6:.1f} MB, {args.rows} rows, 2 players, 2 monsters); "
              f"tuple columns parsed in bulk: {vouched} of {total}")
    readers = {"raw": lambda path: pcsv.read_csv(path), "ours": lambda path: read_state_csv(path)}
    times = {(kind, name): [] for kind in files for name in [*readers, "release"]}
    for path in files.values():  # warm-up (file cache, imports)
        for reader in readers.values():
            reader(path)
    for round_index in range(max(args.repeats, args.release_repeats)):
        for kind, path in files.items():
            for name, reader in readers.items():
                if round_index < args.repeats:
                    times[kind, name].append(_time(lambda: reader(path)))
            if round_index < args.release_repeats:
                times[kind, "release"].append(_time(lambda: release_approach(path)))
    for kind in files:
        raw, ours = median(times[kind, "raw"]), median(times[kind, "ours"])
        print(f"\n{kind} file (medians: {args.repeats} runs of raw and ours, {args.release_repeats} of the release approach)")
        if args.release_repeats:
            release = median(times[kind, "release"])
            print(f"  release approach (DictReader + literal_eval): {release:8.3f} s")
        print(f"  pyarrow raw read_csv (strings, the floor):    {raw:8.3f} s")
        print(f"  wildworld.read_state_csv:                     {ours:8.3f} s")
        if args.release_repeats:
            print(f"  speed-up over the release approach: {release / ours:6.1f}x  (target >= 30x)")
        print(f"  cost relative to the raw read:      {ours / raw:6.2f}x  (target <= 1.5x)")


if __name__ == "__main__":
    main()
