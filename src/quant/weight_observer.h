// Weight scales (symmetric, zero point 0): ACT's weight_quantize_type.
//   channel_wise_abs_max:
//     1. For each index c along the output-channel axis, m_c = max |w| over the slice w[..., c, ...].
//     2. s_c = max(m_c / qmax, kMinScale) with qmax = 2^(bits-1) - 1 (127 for 8 bits, 7 for 4 bits), so a
//        dead channel (PaddleOCR has max|w| ~ 1e-12) never yields a zero or denormal scale.
//   abs_max: the same with one slice, the whole tensor.
// Which axis is the output channel depends on the consumer (Conv: 0; ConvTranspose: 1, whose slices hold
// that channel of every group; Gemm transB=1: 0; Gemm transB=0 and MatMul's constant right operand: last);
// the QDQ export (src/ir/passes/qdq_export.h) decides it and calls WeightScales through its hook.
#pragma once

#include <string>
#include <vector>

#include "act/status.h"
#include "act/tensor.h"

namespace act::quant {

enum class WeightQuantizeType { kChannelWiseAbsMax, kAbsMax };
// "channel_wise_abs_max" | "abs_max"; anything else is an error naming the valid values.
Expected<WeightQuantizeType> ParseWeightQuantizeType(const std::string& name);
const char* WeightQuantizeTypeName(WeightQuantizeType type);

// One scale per index of `axis` (channel-wise) or a single scale (abs_max; `axis` ignored).
// `weight` must be float32; axis may be negative (counted from the end).
Expected<std::vector<float>> WeightScales(const Tensor& weight, int axis, WeightQuantizeType type, int bits = 8);

}  // namespace act::quant
