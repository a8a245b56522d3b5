#include "quant/quant_params.h"

#include <algorithm>
#include <cfenv>
#include <cmath>

namespace act::quant {

int32_t QuantMin(DType dtype, int bits) { return dtype == DType::kUInt8 ? 0 : -(1 << (bits - 1)); }
int32_t QuantMax(DType dtype, int bits) {
  return dtype == DType::kUInt8 ? (1 << bits) - 1 : (1 << (bits - 1)) - 1;
}

Expected<QuantParams> ParamsForRange(float lo, float hi, DType dtype, bool symmetric, int bits) {
  if (!std::isfinite(lo) || !std::isfinite(hi) || lo > hi) {
    return InvalidInput("cannot quantize the range [" + std::to_string(lo) + ", " + std::to_string(hi) +
                        "]: expected finite bounds with min <= max (did calibration see NaN/Inf?)");
  }
  if (dtype != DType::kUInt8 && dtype != DType::kInt8) {
    return Unsupported("quantized type " + DTypeName(dtype) + " (expected uint8 or int8)");
  }
  if (bits < 2 || bits > 8) return InvalidInput("bit width " + std::to_string(bits) + " (expected 2..8)");
  lo = std::min(lo, 0.0f);
  hi = std::max(hi, 0.0f);
  QuantParams p;
  p.dtype = dtype;
  p.bits = bits;
  const int32_t qmin = QuantMin(dtype, bits), qmax = QuantMax(dtype, bits);
  if (symmetric) {
    // Symmetric ranges use [-qmax, qmax] of a signed type; for u8 the zero point sits mid-range.
    const float t = std::max(std::fabs(lo), std::fabs(hi));
    if (dtype == DType::kInt8) {
      p.scale = std::max(t / static_cast<float>(qmax), kMinScale);
      p.zero_point = 0;
    } else {
      const int32_t half = (qmax + 1) / 2;  // 128 for 8 bits
      p.scale = std::max(t / static_cast<float>(half - 1), kMinScale);
      p.zero_point = half;
    }
    return p;
  }
  p.scale = std::max((hi - lo) / static_cast<float>(qmax - qmin), kMinScale);
  const float zp = static_cast<float>(qmin) - lo / p.scale;
  p.zero_point = static_cast<int32_t>(std::clamp(std::nearbyint(zp), static_cast<float>(qmin), static_cast<float>(qmax)));
  return p;
}

float FakeQuantize(float x, const QuantParams& p) {
  const float q = std::clamp(RoundHalfToEven(x / p.scale) + static_cast<float>(p.zero_point),
                             static_cast<float>(QuantMin(p.dtype, p.bits)),
                             static_cast<float>(QuantMax(p.dtype, p.bits)));
  return (q - static_cast<float>(p.zero_point)) * p.scale;
}

std::string QuantDTypeName(DType dtype) { return dtype == DType::kUInt8 ? "u8" : dtype == DType::kInt8 ? "s8" : DTypeName(dtype); }

Expected<DType> ParseQuantDType(const std::string& name) {
  if (name == "u8" || name == "uint8") return DType::kUInt8;
  if (name == "s8" || name == "int8") return DType::kInt8;
  return InvalidInput("quantized type '" + name + "' (expected u8 or s8)");
}

}  // namespace act::quant
