// From calibration to export: the quantization scheme of a deployment target, and the glue that turns a
// CalibrationTable into the parameters and options the QDQ export pass (src/ir/passes/qdq_export.h)
// takes. The scheme per target follows what the engine fuses (ENVIRONMENT.md):
//   x86_vnni, x86_avx2, arm: u8 asymmetric activations, s8 symmetric per-channel weights (ONNX Runtime
//                            fuses s8 activations on x86 only with a session flag, and runs them slower);
//   gpu_tensorrt:            s8 symmetric activations and weights (TensorRT's only INT8 mode).
#pragma once

#include <map>
#include <string>

#include "act/status.h"
#include "ir/passes/qdq_export.h"
#include "quant/calibration.h"
#include "quant/observer.h"
#include "quant/weight_observer.h"

namespace act::quant {

struct QuantScheme {
  DType activation_dtype = DType::kUInt8;
  bool activation_symmetric = false;
  int activation_bits = 8;
  WeightQuantizeType weight_type = WeightQuantizeType::kChannelWiseAbsMax;
  int weight_bits = 8;
};

// The scheme for Global.deploy_hardware; an unknown name is an error listing the valid ones.
Expected<QuantScheme> SchemeForHardware(const std::string& deploy_hardware);
// Observer options (dtype, symmetry, bits) for activations under `scheme`.
ObserverOptions ActivationObserverOptions(const QuantScheme& scheme);
// Export options with the weight-scale hook bound to WeightScales(scheme.weight_type).
ir::QdqExportOptions MakeQdqExportOptions(const QuantScheme& scheme);
// The activation parameters the export reads.
std::map<std::string, ir::QdqParams> ToQdqParams(const CalibrationTable& table);

}  // namespace act::quant
