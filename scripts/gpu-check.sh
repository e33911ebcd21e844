#!/usr/bin/env bash
# The GPU checks in one call on a GPU machine, after the addon is built there
# against a CUDA libtorch (on the lent device machine: `bash .device/remote.sh
# && export PATH=/tmp/nodebin:$PATH` first). Writes its logs to $OUT (or
# /tmp/gpu-check) and prints a summary: which libtorch, the engine / search /
# model test files with CUDA as the default device (CPU = CUDA gradients
# included), a search killed and resumed on the GPU, the search bench.
set -u
cd "$(dirname "$0")/.."
out=${OUT:-/tmp/gpu-check}
device=${DEVICE:-cuda}   # DEVICE=cpu dry-runs the same checks on a CPU machine
mkdir -p "$out"
cli="bin/autodeeplab"
node native/build.js --which | tee "$out/build.txt"
nvidia-smi --query-gpu=name,memory.total --format=csv,noheader >> "$out/build.txt" 2>&1 || true

AUTODEEPLAB_TEST_DEVICE=$device node scripts/run-tests.js engine/ search/ model/ > "$out/tests-cuda.log" 2>&1
echo "tests with $device as the default device: $(grep -E '^ℹ (pass|fail)' "$out/tests-cuda.log" | tr '\n' ' ')"

# A GPU search stopped after 3 iterations and resumed ends where an uninterrupted one does.
small="--epochs 2 --arch-start-epoch 1 --layers 4 --filter-multiplier 4 --crop 64 --batch-size 2 --builtin-size 8 --builtin-image-size 64 --threads 2 --device $device"
rm -rf "$out/s-full" "$out/s-split"
$cli search $small --out "$out/s-full" > "$out/search-full.log" 2>&1
$cli search $small --out "$out/s-split" --max-iterations 3 > "$out/search-split.log" 2>&1
$cli search $small --out "$out/s-split" --resume >> "$out/search-split.log" 2>&1
if cmp -s <(grep -v '"iteration"' "$out/s-full/genotype.json") <(grep -v '"iteration"' "$out/s-split/genotype.json"); then
  echo "search on $device stopped and resumed: same genotype, alpha and beta as uninterrupted"
else
  echo "search on $device stopped and resumed: DIFFERS (see $out/s-full, $out/s-split)"
fi

node dist/bench/main.js search --device "$device" > "$out/bench-search.log" 2>&1
tail -4 "$out/bench-search.log"
