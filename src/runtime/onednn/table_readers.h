// Readers of a float value left as bytes and a table (PlanBuilder::TableView): an element-wise region
// after an INT8 convolution that ends in float, f = T[x] (x u8 NHWC, T its 256 outputs; TryBuildLut), whose
// readers compute from x through T, so that f is never written. Two shapes of PP-LCNetV3 (PP-OCRv4 rec):
//
//   squeeze-excite:  s = excite(GlobalAveragePool(f)) per channel;  y = Q(f · s) → the next INT8 conv
//   pooled head:     y = Q(AveragePool(f))                           → the next INT8 conv
//
// On rec the float f was 0.2–0.9 MB per block, written once and read twice, and at 2 threads half of it
// crossed between the cores each time.
#pragma once

#include <array>
#include <string>

#include "runtime/onednn/plan_builder.h"

namespace act::runtime::onednn {

// y[n, h, w, c] = saturate(round_half_even(a[n, h, w, c] · s[c] / scale) + zero_point) as a new u8 NHWC
// value `name` (the Mul and its QuantizeLinear in one pass, with the float operations of the two kernels).
// `a`: float NHWC, or with `table` u8 NHWC read as table[a]. `s`: plain float [C] (any leading 1s).
// Returns the id of y.
Expected<int> AddChannelMulQuantize(PlanBuilder& b, int a, const std::array<float, 256>* table, int s, float scale,
                                    int32_t zero_point, const std::string& name, const std::string& node_name);

// mean[n, c] = Σ_{h, w} table[x[n, h, w, c]] / (H·W) as a new plain float value `name` [N, C, 1, 1], from
// u8 NHWC x. The positions are summed in kMeanBlocks fixed blocks per image (split between the threads at
// block boundaries), then the block sums in order: the result does not depend on the thread count.
Expected<int> AddChannelMeanOfTable(PlanBuilder& b, int x, const std::array<float, 256>& table,
                                    const std::string& name, const std::string& node_name);
constexpr int kMeanBlocks = 8;

// y = saturate(round_half_even(mean_window(table[x]) / scale) + zero_point) as a new u8 NHWC value `name`:
// an AveragePool without padding (kernel, strides: 2-D) of table[x], x u8 NHWC, and its QuantizeLinear.
// The taps of a window are summed row by row, left to right, then divided by their count.
Expected<int> AddAveragePoolQuantizeOfTable(PlanBuilder& b, int x, const std::array<float, 256>& table,
                                            const std::array<int64_t, 2>& kernel,
                                            const std::array<int64_t, 2>& strides, float scale, int32_t zero_point,
                                            const std::string& name, const std::string& node_name);

}  // namespace act::runtime::onednn
