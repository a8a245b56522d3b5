// Bias correction (empirical, per output channel, Conv only): quantization shifts the mean of a layer's
// output; adding the shift back to the bias removes most of that systematic error (Nagel et al., "Data-Free
// Quantization", §4.2, with the expectations taken from calibration data instead of BN statistics).
// Each Conv corrects only the shift its OWN int8 weight causes, measured on the inputs it sees inside the
// quantized graph; a shift inherited from upstream layers is left to those layers (correcting every layer
// by its whole output shift over-corrects: upstream shifts get corrected again at every layer; on
// PP-OCRv4 rec that read 0 of 260 lines). The input's clipping is not corrected either: it shifts the
// mean only for the large inputs it clips (a constant bias term made PP-OCRv4's SE gates saturate).
//   1. ONE pass of the QDQ graph over the calibration batches, reading, for each quantized Conv, the float
//      x its input QuantizeLinear reads: per-channel means m_x.
//   2. With S[c,i] = sum over kernel taps of W[c,i,·] (FP32) and Sq[c,i] the same of the int8 weight as
//      exported (dequantized), the expected output shift of channel c is
//        shift[c] = sum_i (Sq[c,i] - S[c,i]) * m_x[i]   (i over the inputs of c's group;
//      each tap weighted by the fraction of output positions where it reads inside the input, not the
//      zero padding, for 2-D Convs; the input is assumed stationary over space).
//   3. b'[c] = b[c] - shift[c] (a missing bias becomes one).
// Why it matters: PP-OCRv4 rec's stem depthwise kernels nearly cancel (sum|w| ~ 25, |sum w| ~ 1), so int8
// rounding of the kernel moves sum w, and the output mean, by a large fraction on flat image regions.
// Returns the prepared graph with corrected biases (export it again to get the corrected QDQ graph).
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
