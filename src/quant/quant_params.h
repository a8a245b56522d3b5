// Quantization parameters (scale, zero point, integer type) and how they follow from a real-valued range.
// The affine mapping used everywhere in onnx-act, as in ONNX QuantizeLinear/DequantizeLinear:
//   q = clamp(round_half_to_even(x / scale) + zero_point, qmin, qmax),   x' = (q - zero_point) * scale.
// Scales are clamped to kMinScale, so a dead channel or an all-zero tensor never puts a zero (or a
// denormal) scale in front of a division.
#pragma once

#include <cstdint>
#include <string>

#include "act/status.h"
#include "act/tensor.h"

namespace act::quant {

// Smallest scale we ever emit. Values below kMinScale * qmax (about 1e-8 for 8 bits) quantize to zero:
// such weights or activations are far below float32 resolution next to any live value of the same layer
// (PaddleOCR's dead channels have max|w| ~ 1e-12). 1e-10 is a normal float, so x / scale stays exact-ish.
inline constexpr float kMinScale = 1e-10f;

struct QuantParams {
  float scale = 1.0f;
  int32_t zero_point = 0;
  DType dtype = DType::kUInt8;  // kUInt8 or kInt8 (4-bit weights are kInt8 within [-8, 7])
  int bits = 8;
};

// Integer limits for a dtype and bit width: u8 → [0, 2^bits - 1], s8 → [-2^(bits-1), 2^(bits-1) - 1].
int32_t QuantMin(DType dtype, int bits);
int32_t QuantMax(DType dtype, int bits);

// Parameters that represent [lo, hi] (the range is first widened to contain 0, so that 0 is exact):
//   symmetric (s8):  scale = max(|lo|, |hi|) / qmax, zero_point = 0
//   asymmetric (u8): scale = (hi - lo) / (qmax - qmin), zero_point = round(qmin - lo / scale) in [qmin, qmax]
// scale is at least kMinScale. Fails when lo/hi are not finite or lo > hi.
Expected<QuantParams> ParamsForRange(float lo, float hi, DType dtype, bool symmetric, int bits = 8);

// Quantize-dequantize one value with `p` (what the exported model computes).
float FakeQuantize(float x, const QuantParams& p);
// ONNX QuantizeLinear's rounding: to nearest, ties to even.
inline float RoundHalfToEven(float x) { return __builtin_nearbyintf(x); }

// "u8" | "s8"; and back ("u8"/"uint8", "s8"/"int8").
std::string QuantDTypeName(DType dtype);
Expected<DType> ParseQuantDType(const std::string& name);

}  // namespace act::quant
