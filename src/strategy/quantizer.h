// Quantizer: what the PTQ strategies need from the model, in one place — the quantization scheme of the
// target hardware, the FP32 graph prepared for quantization (BatchNorm and per-channel affine Mul/Add
// folded into Conv/Gemm, so they cost nothing once quantized), which nodes get quantized and which
// activation tensors need calibration, and the export of a calibration table to a standard QDQ graph
// (src/ir/passes/qdq_export.h places Q/DQ so ONNX Runtime fuses them into integer kernels).
#pragma once

#include <set>
#include <string>
#include <vector>

#include "act/config.h"
#include "act/status.h"
#include "ir/graph.h"
#include "quant/calibration.h"
#include "quant/ptq.h"

namespace act::strategy {

// Global.deploy_hardware → scheme (DESIGN.md §6):
//   x86_vnni, x86_avx2, arm: u8 asymmetric activations, s8 symmetric per-channel weights (what ORT fuses on
//                            x86; s8 activations are not fused there);
//   gpu_tensorrt:            s8 symmetric activations and weights (TensorRT's explicit-quantization form).
struct QuantScheme {
  std::string hardware;
  DType activation_dtype = DType::kUInt8;
  bool activation_symmetric = false;
  int activation_bits = 8;
  int weight_bits = 8;
  std::string Describe() const;
};
Expected<QuantScheme> SchemeForHardware(const std::string& deploy_hardware, int64_t activation_bits,
                                        int64_t weight_bits);

struct ExportSettings {
  std::string weight_quantize_type = "channel_wise_abs_max";
  std::set<std::string> skip_nodes;  // quantizable nodes to keep in FP32 (by node name)
};

class Quantizer {
 public:
  // Folds, then decides the quantized nodes (QuantPost.quantize_op_types, minus skip_tensor_list's
  // consumers) and the tensors to calibrate. `decisions` collects what was done and why, for the report.
  // Unsupported when the model has no quantizable op.
  static Expected<Quantizer> Create(const ir::Graph& fp32, QuantScheme scheme, const config::QuantPostConfig& qp,
                                    std::vector<std::string>* decisions);

  const QuantScheme& scheme() const { return scheme_; }
  const ir::Graph& prepared() const { return prepared_; }
  const std::vector<std::string>& activation_tensors() const { return activation_tensors_; }
  const std::vector<std::string>& quantizable_nodes() const { return quantizable_nodes_; }
  // Output tensor and channel axis of a quantizable node of prepared() (for bias correction).
  struct NodeOutput {
    std::string node, output, bias;  // bias: initializer name ("" when the node has none)
    int channel_axis = 1;
  };
  const std::vector<NodeOutput>& node_outputs() const { return node_outputs_; }

  // The QDQ graph for `table` (built from `prepared` when given, e.g. with corrected biases).
  // `kept_float` receives the export's "<node>: reason" list of quantizable nodes left in FP32.
  Expected<ir::Graph> Export(const quant::CalibrationTable& table, const ExportSettings& settings,
                             const ir::Graph* prepared = nullptr, std::vector<std::string>* kept_float = nullptr) const;

 private:
  QuantScheme scheme_;
  ir::Graph prepared_;
  std::vector<std::string> activation_tensors_;
  std::vector<std::string> quantizable_nodes_;
  std::vector<NodeOutput> node_outputs_;
  quant::PtqOptions ptq_options_;  // QuantPost in the quant module's terms (op types, weights, skip list)
};

}  // namespace act::strategy
