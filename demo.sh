#!/usr/bin/env bash
# The main job on the bundled sample_data/: validate, inspect and render the release-format
# samples, convert them into a store, load windows from it through the PyTorch loaders, and
# run WildBench on it (split, inputs, reference
# submissions, evaluation, leaderboard). Installs into .venv on first use. Outputs go to
# ${1:-out/demo}.
set -euo pipefail
cd "$(dirname "$0")"
source scripts/setup.sh
OUT="${1:-out/demo}"
PART=sample_data/data_part1
mkdir -p "$OUT"

echo "== 1. validate the release-format samples"
wildworld validate "$PART"
echo "== 2. what is in one sample"
wildworld info "$PART/000000"
echo "== 3. draw skeletons through the reader and the documented camera"
wildworld render "$PART/000000" -o "$OUT/000000_skeleton.mp4" --overlay-rgb --depth --sheet "$OUT/000000_sheet.png"
echo "== 4. convert into a training store (Zarr + short-GOP video + WebDataset + Parquet)"
wildworld convert "$PART" "$OUT/store" --resolution 320x180
wildworld validate "$OUT/store"
wildworld info "$OUT/store"
echo "== 5. load (action, state, observation) windows through the PyTorch loaders"
wildworld load "$OUT/store" --window 16 --batch 8 --batches 6
wildworld load "$OUT/store" --stream --window 16 --batch 8 --batches 3
echo "== 6. WildBench: split, inputs, reference submissions, evaluation, leaderboard"
rm -rf "$OUT/bench"
wildbench split "$OUT/store" --cases 6 --horizon 81 --seed 0 --out "$OUT/bench/split"
wildbench inputs "$OUT/bench/split" --out "$OUT/bench/inputs"
for name in oracle frozen shuffled resim; do
  wildbench baseline "$name" --split "$OUT/bench/split" --out "$OUT/bench/sub_$name"
  wildbench check "$OUT/bench/sub_$name" --split "$OUT/bench/split"
  wildbench evaluate "$OUT/bench/sub_$name" --split "$OUT/bench/split" --out "$OUT/bench/results_$name.json"
done
wildbench leaderboard "$OUT"/bench/results_*.json --html "$OUT/bench/leaderboard.html" --markdown "$OUT/bench/leaderboard.md"
# ---- WildBench long track (issue 15): begin -------------------------------------------
# Two generated 21-s samples, a long-track split of 20-s cases (600 frames), the five reference
# submissions with their state files, State Alignment v2 and Explicit State, its own board.
echo "== 7. WildBench long track: 2 generated 21-s samples, 20-s cases, State Alignment v2, Explicit State"
rm -rf "$OUT/long"
wildworld synth "$OUT/long/part" --samples 2 --seconds 21 --resolution 320x180 --seed 5
wildworld convert "$OUT/long/part" "$OUT/long/store"
wildbench split "$OUT/long/store" --track long --cases 2 --seed 0 --out "$OUT/long/split"
for name in oracle frozen shuffled resim camera-follow; do
  wildbench baseline "$name" --split "$OUT/long/split" --out "$OUT/long/sub_$name"
  wildbench evaluate "$OUT/long/sub_$name" --split "$OUT/long/split" --metrics state_alignment,explicit_state \
    --out "$OUT/long/results_$name.json"
done
wildbench leaderboard "$OUT"/long/results_*.json --html "$OUT/long/leaderboard.html" --markdown "$OUT/long/leaderboard.md"
echo "long track: open $OUT/long/leaderboard.html"
# ---- WildBench long track (issue 15): end ---------------------------------------------
echo "done: outputs in $OUT (open $OUT/bench/leaderboard.html)"
