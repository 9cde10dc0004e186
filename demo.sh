#!/usr/bin/env bash
# The main job on the bundled sample_data/: validate, inspect and render the release-format
# samples. Installs into .venv on first use. Outputs go to ${1:-out/demo}.
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
echo "done: outputs in $OUT"
