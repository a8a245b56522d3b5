#include "quant/qdq_scheme.h"

#include "core/strings.h"

namespace act::quant {

Expected<QuantScheme> SchemeForHardware(const std::string& hardware) {
  QuantScheme scheme;
  if (hardware == "x86_vnni" || hardware == "x86_avx2" || hardware == "arm") return scheme;
  if (hardware == "gpu_tensorrt") {
    scheme.activation_dtype = DType::kInt8;
    scheme.activation_symmetric = true;
    return scheme;
  }
  const std::vector<std::string> names = {"x86_vnni", "x86_avx2", "arm", "gpu_tensorrt"};
  return InvalidInput("deploy_hardware '" + hardware + "'" + DidYouMean(hardware, names) + "; expected one of " +
                      Join(names, ", "));
}

ObserverOptions ActivationObserverOptions(const QuantScheme& scheme) {
  ObserverOptions o;
  o.dtype = scheme.activation_dtype;
  o.symmetric = scheme.activation_symmetric;
  o.bits = scheme.activation_bits;
  return o;
}

ir::QdqExportOptions MakeQdqExportOptions(const QuantScheme& scheme) {
  ir::QdqExportOptions options;
  options.activation_dtype = scheme.activation_dtype;
  options.weight_bits = scheme.weight_bits;
  options.weight_per_channel = scheme.weight_type == WeightQuantizeType::kChannelWiseAbsMax;
  options.compact_encoding = true;  // short names, shared identical constants: smaller deployed files
  options.compact_conv_weights = true;  // no Conv weight zero points, float depthwise biases (qdq_export.h)
  const WeightQuantizeType type = scheme.weight_type;
  options.weight_scales = [type](const Tensor& weight, int axis, int bits) -> Expected<std::vector<float>> {
    return WeightScales(weight, axis, axis < 0 ? WeightQuantizeType::kAbsMax : type, bits);
  };
  return options;
}

std::map<std::string, ir::QdqParams> ToQdqParams(const CalibrationTable& table) {
  std::map<std::string, ir::QdqParams> out;
  for (const auto& [name, e] : table.entries()) {
    out[name] = ir::QdqParams{e.params.scale, e.params.zero_point, e.params.dtype};
  }
  return out;
}

}  // namespace act::quant
