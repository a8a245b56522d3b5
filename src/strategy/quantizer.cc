#include "strategy/quantizer.h"

#include <algorithm>
#include <map>

#include "core/strings.h"
#include "ir/analysis.h"
#include "ir/passes/pass.h"
#include "ir/passes/qdq_export.h"
#include "quant/weight_observer.h"

namespace act::strategy {
namespace {

// ACT's quantize_op_types (Paddle op names) → ONNX op types. ONNX names are accepted as they are.
const std::vector<std::pair<std::string, std::vector<std::string>>>& OpTypeMap() {
  static const std::vector<std::pair<std::string, std::vector<std::string>>> kMap = {
      {"conv2d", {"Conv"}},
      {"depthwise_conv2d", {"Conv"}},
      {"conv2d_transpose", {"ConvTranspose"}},
      {"mul", {"Gemm", "MatMul"}},
      {"matmul", {"MatMul", "Gemm"}},
      {"matmul_v2", {"MatMul", "Gemm"}},
      {"fc", {"Gemm"}},
      {"Conv", {"Conv"}},
      {"ConvTranspose", {"ConvTranspose"}},
      {"MatMul", {"MatMul"}},
      {"Gemm", {"Gemm"}},
  };
  return kMap;
}

Expected<std::set<std::string>> OnnxOpTypes(const std::vector<std::string>& act_types) {
  std::set<std::string> out;
  std::vector<std::string> known;
  for (const auto& [k, v] : OpTypeMap()) known.push_back(k);
  for (const auto& t : act_types) {
    bool found = false;
    for (const auto& [k, v] : OpTypeMap()) {
      if (k == t) {
        out.insert(v.begin(), v.end());
        found = true;
      }
    }
    if (!found) {
      return InvalidInput("QuantPost.quantize_op_types: '" + t + "' is not an op type onnx-act quantizes" +
                          DidYouMean(t, known) + "; known: " + Join(known, ", "));
    }
  }
  return out;
}

ir::QdqExportOptions ExportOptions(const QuantScheme& scheme, const std::set<std::string>& op_types,
                                   const config::QuantPostConfig& qp, const ExportSettings& settings) {
  ir::QdqExportOptions o;
  o.quantize_op_types = op_types;
  o.is_full_quantize = qp.is_full_quantize;
  o.weight_bits = scheme.weight_bits;
  o.weight_per_channel = settings.weight_quantize_type != "abs_max";
  o.skip_tensors.insert(qp.skip_tensor_list.begin(), qp.skip_tensor_list.end());
  o.float_nodes = settings.skip_nodes;
  // The export asks for axis -1 when it wants one scale for the whole weight.
  o.weight_scales = [](const Tensor& weight, int axis, int bits) {
    return quant::WeightScales(weight, axis < 0 ? 0 : axis,
                               axis < 0 ? quant::WeightQuantizeType::kAbsMax : quant::WeightQuantizeType::kChannelWiseAbsMax,
                               bits);
  };
  return o;
}

}  // namespace

std::string QuantScheme::Describe() const {
  const std::string act = activation_dtype == DType::kUInt8 ? "u8" : "s8";
  return hardware + ": " + act + (activation_symmetric ? " symmetric" : " asymmetric") + " activations (" +
         std::to_string(activation_bits) + " bits), s8 symmetric weights (" + std::to_string(weight_bits) + " bits)";
}

Expected<QuantScheme> SchemeForHardware(const std::string& hw, int64_t activation_bits, int64_t weight_bits) {
  QuantScheme s;
  s.hardware = hw;
  if (activation_bits != 8) {
    return Unsupported("QuantPost.activation_bits " + std::to_string(activation_bits) +
                       ": ONNX QuantizeLinear stores 8-bit activations only; use 8");
  }
  if (weight_bits != 8 && weight_bits != 4) {
    return Unsupported("QuantPost.weight_bits " + std::to_string(weight_bits) + ": use 8 (or 4, stored in int8)");
  }
  s.activation_bits = static_cast<int>(activation_bits);
  s.weight_bits = static_cast<int>(weight_bits);
  if (hw == "x86_vnni" || hw == "x86_avx2" || hw == "arm") {
    s.activation_dtype = DType::kUInt8;
    s.activation_symmetric = false;
  } else if (hw == "gpu_tensorrt") {
    s.activation_dtype = DType::kInt8;
    s.activation_symmetric = true;
  } else {
    const std::vector<std::string> known = {"x86_vnni", "x86_avx2", "arm", "gpu_tensorrt"};
    return InvalidInput("Global.deploy_hardware '" + hw + "' is unknown" + DidYouMean(hw, known) +
                        "; known: " + Join(known, ", "));
  }
  return s;
}

Expected<Quantizer> Quantizer::Create(const ir::Graph& fp32, QuantScheme scheme, const config::QuantPostConfig& qp,
                                      std::vector<std::string>* decisions) {
  Quantizer q;
  q.scheme_ = scheme;
  q.prepared_ = fp32;
  ir::Graph& g = q.prepared_;
  // Export and fallback address nodes by name: name the unnamed ones.
  std::set<std::string> names;
  for (const auto& n : g.nodes) names.insert(n.name);
  for (size_t i = 0; i < g.nodes.size(); ++i) {
    if (!g.nodes[i].name.empty()) continue;
    std::string name = g.nodes[i].op_type + "_" + std::to_string(i);
    while (names.count(name)) name += "_";
    names.insert(name);
    g.nodes[i].name = name;
  }
  ACT_ASSIGN_OR_RETURN(bool folded_bn, ir::FoldBatchNorm(g));
  ACT_ASSIGN_OR_RETURN(bool folded_affine, ir::FoldAffine(g));
  if (decisions) {
    decisions->push_back(std::string("prepare: ") +
                         (folded_bn ? "BatchNormalization folded into Conv/Gemm; " : "no BatchNormalization to fold; ") +
                         (folded_affine ? "per-channel Mul/Add folded into Conv/Gemm" : "no per-channel affine to fold"));
  }
  ACT_ASSIGN_OR_RETURN(q.op_types_, OnnxOpTypes(qp.quantize_op_types));
  q.qp_ = qp;

  const std::set<std::string> skip_tensors(qp.skip_tensor_list.begin(), qp.skip_tensor_list.end());
  for (int idx : ir::QuantizableNodes(g)) {
    const ir::Node& n = g.nodes[idx];
    if (!q.op_types_.count(n.op_type)) continue;
    bool skipped = false;
    for (const auto& in : n.inputs) skipped = skipped || skip_tensors.count(in);
    if (skipped) {
      if (decisions) decisions->push_back("keep FP32: " + n.Describe() + " reads a tensor in QuantPost.skip_tensor_list");
      continue;
    }
    q.quantizable_nodes_.push_back(n.name);
    NodeOutput no;
    no.node = n.name;
    no.output = n.outputs[0];
    if (n.op_type == "Conv" || n.op_type == "Gemm") no.bias = n.Input(2);
    no.channel_axis = n.op_type == "Conv" ? 1 : -1;
    if (n.op_type == "ConvTranspose") no.channel_axis = 1;
    q.node_outputs_.push_back(no);
  }
  if (q.quantizable_nodes_.empty()) {
    return Unsupported("the model has no quantizable op: none of its nodes is a " + Join(std::vector<std::string>(
                           q.op_types_.begin(), q.op_types_.end()), "/") +
                       " with a constant weight (QuantPost.quantize_op_types); nothing to compress");
  }
  ExportSettings all;
  q.activation_tensors_ = ir::QdqTensorsToCalibrate(g, ExportOptions(q.scheme_, q.op_types_, qp, all));
  if (decisions) {
    decisions->push_back("quantize " + std::to_string(q.quantizable_nodes_.size()) + " nodes (" +
                         Join(std::vector<std::string>(q.op_types_.begin(), q.op_types_.end()), ", ") +
                         (qp.is_full_quantize ? ", plus integer-kernel ops (is_full_quantize)" : "") + "); " +
                         std::to_string(q.activation_tensors_.size()) + " activation tensors to calibrate");
  }
  return q;
}

Expected<ir::Graph> Quantizer::Export(const quant::CalibrationTable& table, const ExportSettings& settings,
                                      const ir::Graph* prepared, std::vector<std::string>* kept_float) const {
  ir::Graph g = prepared ? *prepared : prepared_;
  std::map<std::string, ir::QdqParams> activations;
  for (const auto& [name, entry] : table.entries()) {
    ir::QdqParams p;
    p.scale = entry.params.scale;
    p.zero_point = entry.params.zero_point;
    p.dtype = entry.params.dtype;
    activations[name] = p;
  }
  ACT_ASSIGN_OR_RETURN(ir::QdqExportResult result,
                       ir::ExportQdq(g, activations, ExportOptions(scheme_, op_types_, qp_, settings)));
  if (kept_float) *kept_float = result.kept_float;
  return g;
}

}  // namespace act::strategy
