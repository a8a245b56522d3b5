// Depthwise INT8 convolution on NHWC u8 data with AVX-512 VNNI: PP-OCRv4's padded 3x3/5x5 depthwise
// convolutions, where oneDNN 2.6.3's jit_int8 depthwise kernel was only 1.1–1.3x faster than its f32 one.
//
//   acc[n, oh, ow, c] = Σ_{kh, kw} x[n, oh·sh + kh, ow·sw + kw, c] · w[c, kh, kw]         (int32, exact)
//   y[n, oh, ow, c]   = saturate(round_half_even((acc + bias[c]) · scale[c]) + zp_y)      (float, as ORT's
//                                                                                          QLinearConv)
// The input is already padded (with its zero point: the bias holds −zp_x·Σw, see BuildConvInt8).
// Four kernel rows at a time: for one input column and 16 channels, the bytes of rows r..r+3 are
// interleaved into dwords (one vpermb), and one vpdpbusd adds those 4 taps for the 16 channels into the
// accumulator of every output column that reads that input column (8 output columns per step).
#pragma once

#include <cstdint>
#include <vector>

#include "runtime/onednn/plan.h"

namespace act::runtime::onednn {

class DepthwiseInt8Kernel : public Kernel {
 public:
  // `weights`: [C, kh, kw] int8; `bias` (accumulator units) and `scale` per channel; `src`/`dst` NHWC u8
  // values (src padded: dst = (src − kernel) / stride + 1 per spatial axis).
  DepthwiseInt8Kernel(int src, int dst, int64_t channels, int64_t kh, int64_t kw, int64_t sh, int64_t sw,
                      const int8_t* weights, std::vector<float> bias, std::vector<float> scale, int32_t zero_point);
  // This CPU has AVX-512 VNNI and VBMI, and the shape is one the kernel handles (3x3, 3x5, 5x3, 5x5;
  // horizontal stride 1 or 2, any vertical stride).
  static bool Supported(int64_t kh, int64_t kw, int64_t sw);
  Status Execute(Plan& plan) override;
  // Split execution (plan.h): part p computes a p-th of the output positions.
  bool Splittable() const override;
  Status ExecutePart(Plan& plan, int part, int parts) override;
  // Whole output positions N·OH·OW (split execution needs at least kMinSplitPositions and
  // kMinSplitDepthwiseMacs).
  void SetOutputPositions(int64_t positions) { positions_ = positions; }
  static constexpr int64_t kMinSplitPositions = 64;
  // Applies q_out = table[q] to the output bytes (a following DQ → element-wise → Q region, see
  // TryBuildLut) and writes value `dst` instead; while each output row is still in cache.
  void FuseTable(const uint8_t* table, int dst);
  bool has_table() const { return has_table_; }

 private:
  void Positions(Plan& plan, int64_t begin, int64_t end) const;
  void LoadHalo(Plan& plan, int64_t begin, int64_t end) const;

  int src_, dst_;
  int64_t channels_, kh_, kw_, sh_, sw_;
  std::vector<int8_t> packed_;   // [channel block][row group][kw][16 channels × 4 rows], 64-byte aligned use
  std::vector<float> bias_, scale_;  // padded to whole channel blocks
  int32_t zero_point_;
  int64_t positions_ = 0;
  bool has_table_ = false;
  alignas(64) uint8_t table_[256] = {};
};

}  // namespace act::runtime::onednn
