#include "quant/weight_observer.h"

#include <algorithm>
#include <cmath>

#include "quant/quant_params.h"

namespace act::quant {

Expected<WeightQuantizeType> ParseWeightQuantizeType(const std::string& name) {
  if (name == "channel_wise_abs_max") return WeightQuantizeType::kChannelWiseAbsMax;
  if (name == "abs_max") return WeightQuantizeType::kAbsMax;
  return InvalidInput("weight_quantize_type '" + name + "' (expected channel_wise_abs_max or abs_max)");
}

const char* WeightQuantizeTypeName(WeightQuantizeType type) {
  return type == WeightQuantizeType::kAbsMax ? "abs_max" : "channel_wise_abs_max";
}

Expected<std::vector<float>> WeightScales(const Tensor& weight, int axis, WeightQuantizeType type, int bits) {
  if (weight.dtype() != DType::kFloat32) {
    return InvalidInput("weight scales need a float32 tensor, got " + DTypeName(weight.dtype()));
  }
  if (bits < 2 || bits > 8) return InvalidInput("weight_bits " + std::to_string(bits) + " (expected 2..8)");
  const float qmax = static_cast<float>((1 << (bits - 1)) - 1);
  const float* w = weight.data<float>();
  const int64_t n = weight.numel();
  if (type == WeightQuantizeType::kAbsMax || weight.rank() == 0) {
    float m = 0;
    for (int64_t i = 0; i < n; ++i) m = std::max(m, std::fabs(w[i]));
    if (!std::isfinite(m)) return InvalidInput("weight holds NaN or Inf values");
    return std::vector<float>{std::max(m / qmax, kMinScale)};
  }
  const int rank = static_cast<int>(weight.rank());
  if (axis < 0) axis += rank;
  if (axis < 0 || axis >= rank) {
    return InvalidInput("channel axis " + std::to_string(axis) + " for a weight of shape " + ShapeToString(weight.shape()));
  }
  const int64_t channels = weight.dim(axis);
  int64_t inner = 1;
  for (int d = axis + 1; d < rank; ++d) inner *= weight.dim(d);
  std::vector<float> m(channels, 0.0f);
  for (int64_t i = 0; i < n; ++i) {
    const int64_t c = (i / inner) % channels;
    m[c] = std::max(m[c], std::fabs(w[i]));
  }
  for (float& s : m) {
    if (!std::isfinite(s)) return InvalidInput("weight holds NaN or Inf values");
    s = std::max(s / qmax, kMinScale);
  }
  return m;
}

}  // namespace act::quant
