#!/usr/bin/env bash
# Short search, budgeted search and train on the built-in scenes with a fixed
# seed, into DIR (default /tmp/rooms-run). Compare two such folders with
# scripts/compare-runs.js: a refactor that moves code must leave them
# bit-identical.
set -euo pipefail
out=${1:-/tmp/rooms-run}
cli="$(dirname "$0")/../bin/autodeeplab"
rm -rf "$out" && mkdir -p "$out"
small=(--seed 3 --epochs 2 --arch-start-epoch 1 --crop 40 --layers 3 --blocks 3 --filter-multiplier 4
  --builtin-size 8 --builtin-image-size 40 --batch-size 2 --threads 1)
$cli search "${small[@]}" --out "$out/search" > "$out/search.log"
$cli search "${small[@]}" --budget 1.6 --budget-size 128x128 --budget-filter-multiplier 8 --out "$out/budget" > "$out/budget.log"
$cli train --genotype "$out/search/genotype.json" --filter-multiplier 4 --crop 40 --iterations 4 --eval-every 2 \
  --seed 3 --builtin-size 8 --builtin-image-size 40 --batch-size 2 --threads 1 --out "$out/train" > "$out/train.log"
$cli cost --genotype "$out/budget/genotype.json" --filter-multiplier 8 --size 128x128 > "$out/cost.txt"
# Reports draw sample predictions: the search's supernet and the trained model run inference.
$cli report "$out/search" --out "$out/search-report.html" > /dev/null
$cli report "$out/train" --out "$out/train-report.html" > /dev/null
