#include "strategy/quantizer.h"

#include <algorithm>
#include <map>

#include "core/strings.h"
#include "ir/analysis.h"
#include "ir/passes/pass.h"
#include "ir/passes/qdq_export.h"
#include "quant/ptq.h"
#include "quant/qdq_scheme.h"
#include "quant/weight_observer.h"

namespace act::strategy {
namespace {
// ir::Graph copies share initializer storage (act::Tensor is a shared handle); passes that edit weights in
// place (the BN/affine folds) would change the caller's graph through a plain copy.
ir::Graph DeepCopy(const ir::Graph& graph) {
  ir::Graph copy = graph;
  for (auto& [name, tensor] : copy.initializers) tensor = tensor.Clone();
  return copy;
}
}  // namespace

std::string QuantScheme::Describe() const {
  const std::string act = activation_dtype == DType::kUInt8 ? "u8" : "s8";
  return hardware + ": " + act + (activation_symmetric ? " symmetric" : " asymmetric") + " activations (" +
         std::to_string(activation_bits) + " bits), s8 symmetric weights (" + std::to_string(weight_bits) + " bits)";
}

Expected<QuantScheme> SchemeForHardware(const std::string& hw, int64_t activation_bits, int64_t weight_bits) {
  auto scheme = quant::SchemeForHardware(hw);
  if (!scheme.ok()) return scheme.status().WithContext("Global.deploy_hardware");
  QuantScheme s;
  s.hardware = hw;
  s.activation_dtype = scheme->activation_dtype;
  s.activation_symmetric = scheme->activation_symmetric;
  s.activation_bits = static_cast<int>(activation_bits);
  s.weight_bits = static_cast<int>(weight_bits);
  return s;
}

Expected<Quantizer> Quantizer::Create(const ir::Graph& fp32, QuantScheme scheme, const config::QuantPostConfig& qp,
                                      std::vector<std::string>* decisions) {
  Quantizer q;
  q.scheme_ = scheme;
  ir::Graph g = DeepCopy(fp32);
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
  ACT_ASSIGN_OR_RETURN(q.ptq_options_, quant::PtqOptionsFromQuantPost(qp, scheme.hardware));
  const size_t nodes_before = g.nodes.size();
  ACT_ASSIGN_OR_RETURN(q.prepared_, quant::PrepareForPtq(g, q.ptq_options_));
  // Channel shuffles folded into the producing Convs' output-channel order (exact in FP32; ORT's int8
  // NHWC path then runs unbroken through the Split/Concat that remain).
  ACT_ASSIGN_OR_RETURN(const bool shuffles_folded, ir::FoldChannelShuffle(q.prepared_));
  if (shuffles_folded && decisions) {
    decisions->push_back("prepare: channel shuffles folded into the producing Convs (fold_channel_shuffle)");
  }
  // Scalar affine chains between an activation and the Convs reading it (PP-LCNetV3's ·a + b after
  // hard-swish) folded into those Convs: exact, and ORT no longer runs them in float between int8 Convs.
  ACT_ASSIGN_OR_RETURN(const bool scalar_affine_folded, ir::FoldScalarAffine(q.prepared_));
  if (scalar_affine_folded && decisions) {
    decisions->push_back("prepare: scalar Mul/Add chains read only by Convs folded into them (fold_scalar_affine)");
  }
  // Convs reading 1-3 channels (the image) read them zero-padded to 4: exact; ORT's x86 int8 conv has no
  // fast kernel for fewer than 4 input channels.
  ACT_ASSIGN_OR_RETURN(const bool inputs_padded, ir::PadConvInputChannels(q.prepared_));
  if (inputs_padded && decisions) {
    decisions->push_back("prepare: Conv inputs with fewer than 4 channels zero-padded to 4 (pad_conv_input_channels)");
  }
  if (decisions) {
    decisions->push_back("prepare: normalised, BatchNormalization and per-channel Mul/Add folded into "
                         "Conv/Gemm (" + std::to_string(nodes_before) + " -> " +
                         std::to_string(q.prepared_.nodes.size()) + " nodes)");
  }
  const std::set<std::string>& op_types = q.ptq_options_.quantize_op_types;
  const std::set<std::string> skip_tensors(qp.skip_tensor_list.begin(), qp.skip_tensor_list.end());
  const ir::Graph& pg = q.prepared_;
  for (int idx : ir::QuantizableNodes(pg)) {
    const ir::Node& n = pg.nodes[idx];
    if (!op_types.count(n.op_type)) continue;
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
                           op_types.begin(), op_types.end()), "/") +
                       " with a constant weight (QuantPost.quantize_op_types); nothing to compress");
  }
  ACT_ASSIGN_OR_RETURN(ir::QdqExportOptions export_options, quant::ExportOptionsFor(q.ptq_options_));
  // Calibrate every tensor any fallback configuration can need: the placement around a node kept in FP32
  // differs (e.g. a MaxPool between a float and a quantized Conv gets its own Q), so take the union over
  // all-quantized, each node alone in FP32, and each node alone quantized (the sensitivity runs).
  std::set<std::string> needed;
  auto add_needed = [&](const std::set<std::string>& float_nodes) -> Status {
    quant::PtqOptions o = q.ptq_options_;
    o.float_nodes = float_nodes;
    ACT_ASSIGN_OR_RETURN(ir::QdqExportOptions eo, quant::ExportOptionsFor(o));
    for (const auto& t : ir::QdqTensorsToCalibrate(pg, eo)) needed.insert(t);
    return Status::Ok();
  };
  ACT_RETURN_IF_ERROR(add_needed({}));
  for (const auto& node : q.quantizable_nodes_) {
    ACT_RETURN_IF_ERROR(add_needed({node}));
    std::set<std::string> others(q.quantizable_nodes_.begin(), q.quantizable_nodes_.end());
    others.erase(node);
    ACT_RETURN_IF_ERROR(add_needed(others));
  }
  (void)export_options;
  q.activation_tensors_.assign(needed.begin(), needed.end());
  if (decisions) {
    decisions->push_back("quantize " + std::to_string(q.quantizable_nodes_.size()) + " nodes (" +
                         Join(std::vector<std::string>(op_types.begin(), op_types.end()), ", ") +
                         (qp.is_full_quantize ? ", plus integer-kernel ops (is_full_quantize)" : "") + "); " +
                         std::to_string(q.activation_tensors_.size()) + " activation tensors to calibrate");
  }
  return q;
}

Expected<ir::Graph> Quantizer::Export(const quant::CalibrationTable& table, const ExportSettings& settings,
                                      const ir::Graph* prepared, std::vector<std::string>* kept_float) const {
  ir::Graph g = DeepCopy(prepared ? *prepared : prepared_);
  quant::PtqOptions options = ptq_options_;
  options.float_nodes = settings.skip_nodes;
  auto weight_type = quant::ParseWeightQuantizeType(settings.weight_quantize_type);
  if (!weight_type.ok()) return weight_type.status().WithContext("weight_quantize_type");
  options.weight_quantize_type = *weight_type;
  ACT_ASSIGN_OR_RETURN(ir::QdqExportOptions export_options, quant::ExportOptionsFor(options));
  ACT_ASSIGN_OR_RETURN(ir::QdqExportResult result, ir::ExportQdq(g, quant::ToQdqParams(table), export_options));
  if (kept_float) *kept_float = result.kept_float;
  return g;
}

}  // namespace act::strategy
