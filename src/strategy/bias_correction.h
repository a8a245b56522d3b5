// Bias correction (empirical, per output channel): quantization shifts the mean of a layer's output;
// adding the shift back to the bias removes most of that systematic error (Nagel et al., "Data-Free
// Quantization", §4.2, with the expectations taken from calibration data instead of BN statistics).
//   1. Run the prepared FP32 graph and the QDQ graph over the calibration batches, reading each quantized
//      Conv/Gemm's output (before its QuantizeLinear).
//   2. Per output channel c: mean_fp32[c] and mean_q[c] over every other dimension and all batches.
//   3. b'[c] = b[c] + (mean_fp32[c] - mean_q[c])   (Gemm: divided by beta; a missing bias becomes one).
// MatMul nodes have no bias input and are left as they are. Returns the prepared graph with corrected
// biases (export it again to get the corrected QDQ graph).
#pragma once

#include <string>
#include <vector>

#include "act/data.h"
#include "act/status.h"
#include "ir/graph.h"
#include "strategy/quantizer.h"

namespace act::strategy {

struct BiasCorrectionResult {
  ir::Graph prepared;          // prepared FP32 graph with corrected biases
  int corrected_nodes = 0;
  double max_abs_shift = 0;    // largest |mean_fp32 - mean_q| over all channels
};

Expected<BiasCorrectionResult> CorrectBias(const Quantizer& quantizer, const ir::Graph& quantized,
                                           const ExportSettings& settings, const std::vector<data::Batch>& batches,
                                           int threads, int64_t run_batch = 0);

}  // namespace act::strategy
