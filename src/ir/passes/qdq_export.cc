// qdq_export — the pattern written for each quantized node (see qdq_export.h for the placement rules):
//   x ─Q─DQ─┐
//   W_int8 ─DQ(axis)─ Conv|ConvTranspose|Gemm|MatMul ─[Relu|Clip]─ y ─Q─DQ─ each consumer of y
//   b_int32 ─DQ─┘
// Selector: MakePlan (which nodes, which tensors, whose parameters each tensor uses). Action: ExportQdq
// (weights and biases quantized, Q/DQ nodes written next to their producers/consumers).
#include "ir/passes/qdq_export.h"
#include "ir/passes/quantize_embeddings.h"

#include <algorithm>
#include <cmath>
#include <limits>
#include <tuple>
#include <unordered_set>

namespace act::ir {
namespace {

int AxisZero(const Node&, const Tensor&) { return 0; }
int AxisOne(const Node&, const Tensor&) { return 1; }
// Gemm: op(B) is [K, N]; B is [N, K] with transB=1 (channel axis 0) and [K, N] otherwise (axis 1).
int GemmAxis(const Node& node, const Tensor&) { return node.GetInt("transB", 0) ? 0 : 1; }
// MatMul's constant right operand [K, N]: per column; batched (rank > 2) weights stay per-tensor.
int MatMulAxis(const Node&, const Tensor& weight) { return weight.rank() == 2 ? 1 : -1; }

}  // namespace

const std::vector<QdqHandler>& QdqHandlers() {
  using R = QdqRole;
  static const std::vector<QdqHandler> kHandlers = {
      // op                  role              weight bias  weight axis
      {"Conv",              R::kCompute,       1,     2,    &AxisZero},
      {"ConvTranspose",     R::kCompute,       1,     2,    &AxisOne},  // [C_in, C_out/g, k…]: channel j of every group
      {"Gemm",              R::kCompute,       1,     2,    &GemmAxis},
      {"MatMul",            R::kCompute,       1,     -1,   &MatMulAxis},
      {"Add",               R::kInteger,       -1,    -1,   nullptr},
      {"Mul",               R::kInteger,       -1,    -1,   nullptr},
      {"Sigmoid",           R::kInteger,       -1,    -1,   nullptr},
      {"Softmax",           R::kInteger,       -1,    -1,   nullptr},
      {"LeakyRelu",         R::kInteger,       -1,    -1,   nullptr},
      {"AveragePool",       R::kInteger,       -1,    -1,   nullptr},
      {"GlobalAveragePool", R::kInteger,       -1,    -1,   nullptr},
      {"Concat",            R::kInteger,       -1,    -1,   nullptr},
      {"Where",             R::kInteger,       -1,    -1,   nullptr, /*first_activation_input=*/1},
      {"Reshape",           R::kDataMovement,  -1,    -1,   nullptr},
      {"Transpose",         R::kDataMovement,  -1,    -1,   nullptr},
      {"Squeeze",           R::kDataMovement,  -1,    -1,   nullptr},
      {"Unsqueeze",         R::kDataMovement,  -1,    -1,   nullptr},
      {"Flatten",           R::kDataMovement,  -1,    -1,   nullptr},
      {"MaxPool",           R::kDataMovement,  -1,    -1,   nullptr},
      {"Slice",             R::kDataMovement,  -1,    -1,   nullptr},
      {"Gather",            R::kDataMovement,  -1,    -1,   nullptr},
      {"Expand",            R::kDataMovement,  -1,    -1,   nullptr},
      {"Tile",              R::kDataMovement,  -1,    -1,   nullptr},
      {"Resize",            R::kDataMovement,  -1,    -1,   nullptr},
      {"Split",             R::kDataMovement,  -1,    -1,   nullptr},
      {"Identity",          R::kDataMovement,  -1,    -1,   nullptr},
      {"DepthToSpace",      R::kDataMovement,  -1,    -1,   nullptr},
      {"SpaceToDepth",      R::kDataMovement,  -1,    -1,   nullptr},
  };
  return kHandlers;
}

namespace {

const QdqHandler* FindHandler(const Node& node) {
  if (!node.domain.empty()) return nullptr;
  for (const auto& h : QdqHandlers()) if (node.op_type == h.op_type) return &h;
  return nullptr;
}

// The selector's result.
struct Plan {
  std::vector<int> compute_nodes;                 // quantized Conv/ConvTranspose/Gemm/MatMul
  std::map<std::string, int> quantized_ops;
  std::map<std::string, std::string> demanded;    // tensor → tensor whose parameters it uses
  std::vector<std::string> kept_float;

  std::string Root(std::string t) const {
    for (int guard = 0; guard < 10000; ++guard) {
      auto it = demanded.find(t);
      if (it == demanded.end() || it->second == t) return t;
      t = it->second;
    }
    return t;
  }
};

bool IsFloatValue(const Graph& graph, const std::string& name) {
  if (name.empty()) return false;
  auto info = graph.FindValueInfo(name);
  return !info || info->dtype == DType::kFloat32 || info->dtype == DType::kUndefined;
}

bool ReadsDequantized(const Graph& graph, const Node& node) {
  for (const auto& in : node.inputs) {
    const int p = in.empty() ? -1 : graph.Producer(in);
    if (p >= 0 && graph.nodes[p].op_type == "DequantizeLinear") return true;
  }
  return false;
}

bool HasConstantBounds(const Graph& graph, const Node& clip) {
  for (size_t i = 1; i < clip.inputs.size(); ++i) {
    if (!clip.inputs[i].empty() && !graph.Initializer(clip.inputs[i])) return false;
  }
  return true;
}

Plan MakePlan(const Graph& graph, const QdqExportOptions& options) {
  Plan plan;
  auto demand = [&](const std::string& t) {
    if (!t.empty() && !options.skip_tensors.count(t)) plan.demanded.emplace(t, t);
  };
  for (size_t i = 0; i < graph.nodes.size(); ++i) {
    const Node& node = graph.nodes[i];
    const QdqHandler* h = FindHandler(node);
    if (!h || h->role == QdqRole::kDataMovement) continue;
    const bool enabled = h->role == QdqRole::kCompute
                             ? options.quantize_op_types.count(node.op_type) > 0
                             : options.is_full_quantize || options.quantize_op_types.count(node.op_type) > 0;
    if (!enabled || ReadsDequantized(graph, node)) continue;
    if (options.float_nodes.count(node.name)) {
      plan.kept_float.push_back(node.Describe() + ": per-layer FP32 fallback");
      continue;
    }
    std::vector<std::string> activations;
    if (h->role == QdqRole::kCompute) {
      const std::string& w = node.Input(h->weight_input);
      const Tensor* wt = graph.Initializer(w);
      const bool constant_weight = wt && wt->dtype() == DType::kFloat32;
      if (!constant_weight && node.op_type != "MatMul") {
        plan.kept_float.push_back(node.Describe() + ": weight '" + w + "' is not a float initializer");
        continue;
      }
      if (!constant_weight && !options.quantize_activation_matmul && !options.is_full_quantize) {
        plan.kept_float.push_back(node.Describe() + ": both operands are activations (quantize_activation_matmul is off)");
        continue;
      }
      if (constant_weight && options.skip_tensors.count(w)) {
        plan.kept_float.push_back(node.Describe() + ": weight '" + w + "' is in skip_tensor_list");
        continue;
      }
      activations.push_back(node.Input(0));
      if (!constant_weight) activations.push_back(w);
    } else {
      for (size_t k = h->first_activation_input; k < node.inputs.size(); ++k) {
        if (!node.inputs[k].empty()) activations.push_back(node.inputs[k]);
      }
    }
    bool ok = !activations.empty();
    for (const auto& a : activations) {
      if (options.skip_tensors.count(a)) {
        plan.kept_float.push_back(node.Describe() + ": input '" + a + "' is in skip_tensor_list");
        ok = false;
        break;
      }
      if (!IsFloatValue(graph, a)) ok = false;
    }
    if (!ok) continue;
    for (const auto& a : activations) demand(a);
    // Output point: behind a Relu/Clip that is the output's only reader.
    std::string out = node.outputs.at(0);
    const auto consumers = graph.Consumers(out);
    if (!graph.IsGraphOutput(out) && consumers.size() == 1) {
      const Node& next = graph.nodes[consumers[0]];
      const bool absorbable = next.domain.empty() && next.Input(0) == out &&
                              (next.op_type == "Relu" || (next.op_type == "Clip" && HasConstantBounds(graph, next)));
      if (absorbable && !options.float_nodes.count(next.name)) out = next.outputs.at(0);
    }
    const bool float_output_fuses = (node.op_type == "Gemm" || node.op_type == "MatMul") && graph.IsGraphOutput(out);
    if (!float_output_fuses) demand(out);
    if (h->role == QdqRole::kCompute) plan.compute_nodes.push_back(static_cast<int>(i));
    plan.quantized_ops[node.op_type]++;
  }
  // Data movement, backward: a quantized output pulls the Q in front of the op (exact for these ops).
  for (int i = static_cast<int>(graph.nodes.size()) - 1; i >= 0; --i) {
    const Node& node = graph.nodes[i];
    const QdqHandler* h = FindHandler(node);
    if (!h || h->role != QdqRole::kDataMovement || node.outputs.size() != 1) continue;
    if (options.float_nodes.count(node.name)) continue;
    const std::string& in = node.Input(0);
    const std::string& out = node.outputs[0];
    if (!plan.demanded.count(out) || plan.demanded.count(in) || graph.IsInitializer(in)) continue;
    if (!IsFloatValue(graph, in) || options.skip_tensors.count(in)) continue;
    plan.demanded[in] = plan.Root(out);
  }
  // Data movement, forward: the output reuses the input's parameters, so ORT drops the pair.
  for (const Node& node : graph.nodes) {
    const QdqHandler* h = FindHandler(node);
    if (!h || h->role != QdqRole::kDataMovement || options.float_nodes.count(node.name)) continue;
    const std::string root = plan.demanded.count(node.Input(0)) ? plan.Root(node.Input(0)) : "";
    if (root.empty()) continue;
    for (const auto& out : node.outputs) {
      if (plan.demanded.count(out)) plan.demanded[out] = root;
    }
  }
  return plan;
}

// Unique value/node names against the graph and everything created so far.
class Names {
 public:
  explicit Names(const Graph& graph) {
    for (const auto& v : graph.inputs) used_.insert(v.name);
    for (const auto& v : graph.outputs) used_.insert(v.name);
    for (const auto& [name, t] : graph.initializers) used_.insert(name);
    for (const auto& node : graph.nodes) {
      used_.insert(node.name);
      for (const auto& s : node.inputs) used_.insert(s);
      for (const auto& s : node.outputs) used_.insert(s);
    }
  }
  // `base`, made unique; with compact names, `tag` and a counter instead ("d12"): a name is stored in the
  // file once per reference, and a QDQ model references each of its new values two or three times.
  std::string Make(const std::string& base, const char* tag = nullptr) {
    if (compact_ && tag) {
      std::string name;
      do name = tag + std::to_string(counter_++); while (used_.count(name));
      used_.insert(name);
      return name;
    }
    std::string name = base;
    for (int i = 1; used_.count(name); ++i) name = base + "_" + std::to_string(i);
    used_.insert(name);
    return name;
  }
  void SetCompact(bool compact) { compact_ = compact; }

 private:
  std::unordered_set<std::string> used_;
  bool compact_ = false;
  int64_t counter_ = 0;
};

Node MakeQdqNode(const std::string& op, const std::string& name, std::vector<std::string> inputs,
                 const std::string& output, int axis = -1) {
  Node n;
  n.op_type = op;
  n.name = name;
  n.inputs = std::move(inputs);
  n.outputs = {output};
  if (axis >= 0) n.attributes["axis"] = Attribute::Int(axis);
  return n;
}

Tensor ScalarZeroPoint(DType dtype, int32_t zp) {
  if (dtype == DType::kUInt8) return Tensor::Scalar<uint8_t>(static_cast<uint8_t>(zp));
  return Tensor::Scalar<int8_t>(static_cast<int8_t>(zp));
}

int32_t TypeMin(DType dtype) { return dtype == DType::kUInt8 ? 0 : -128; }
int32_t TypeMax(DType dtype) { return dtype == DType::kUInt8 ? 255 : 127; }

Status CheckParams(const std::string& tensor, const QdqParams& p) {
  if (!(p.scale > 0) || !std::isfinite(p.scale) || std::fpclassify(p.scale) == FP_SUBNORMAL) {
    return InvalidInput("tensor '" + tensor + "': scale " + std::to_string(p.scale) +
                        " must be a positive normal float (the calibration table is broken)");
  }
  if (p.dtype != DType::kUInt8 && p.dtype != DType::kInt8) {
    return Unsupported("tensor '" + tensor + "': quantized type " + DTypeName(p.dtype) + " (expected uint8 or int8)");
  }
  if (p.zero_point < TypeMin(p.dtype) || p.zero_point > TypeMax(p.dtype)) {
    return InvalidInput("tensor '" + tensor + "': zero point " + std::to_string(p.zero_point) + " is outside " +
                        DTypeName(p.dtype));
  }
  return Status::Ok();
}

// Parameters for a float constant read as an activation (Add/Mul operands under is_full_quantize).
QdqParams ConstantParams(const Tensor& t, DType dtype) {
  float lo = 0, hi = 0;
  const float* v = t.data<float>();
  for (int64_t i = 0; i < t.numel(); ++i) {
    lo = std::min(lo, v[i]);
    hi = std::max(hi, v[i]);
  }
  QdqParams p;
  p.dtype = dtype;
  const float floor = 1e-10f;  // as quant::kMinScale: never a zero scale
  if (dtype == DType::kInt8) {
    p.scale = std::max(std::max(-lo, hi) / 127.0f, floor);
  } else {
    p.scale = std::max((hi - lo) / 255.0f, floor);
    p.zero_point = static_cast<int32_t>(std::clamp(std::nearbyint(-lo / p.scale), 0.0f, 255.0f));
  }
  return p;
}

Tensor QuantizeConstant(const Tensor& t, const QdqParams& p) {
  Tensor q(p.dtype, t.shape());
  const float* v = t.data<float>();
  for (int64_t i = 0; i < t.numel(); ++i) {
    const float x = std::clamp(std::nearbyint(v[i] / p.scale) + static_cast<float>(p.zero_point),
                               static_cast<float>(TypeMin(p.dtype)), static_cast<float>(TypeMax(p.dtype)));
    if (p.dtype == DType::kUInt8) q.data<uint8_t>()[i] = static_cast<uint8_t>(x);
    else q.data<int8_t>()[i] = static_cast<int8_t>(x);
  }
  return q;
}

// Output channels of a compute node's result and, for output channel o, the index of its weight scale.
int64_t OutputChannels(const Node& node, const Tensor& w) {
  if (node.op_type == "Conv") return w.dim(0);
  if (node.op_type == "ConvTranspose") return w.dim(1) * node.GetInt("group", 1);
  if (node.op_type == "Gemm") return node.GetInt("transB", 0) ? w.dim(0) : w.dim(1);
  return w.dim(w.rank() - 1);  // MatMul
}
int64_t ScaleIndexOfChannel(const Node& node, const Tensor& w, int64_t o, size_t num_scales) {
  if (num_scales == 1) return 0;
  if (node.op_type == "ConvTranspose") return o % w.dim(1);
  return o;
}

}  // namespace

std::vector<std::string> QdqTensorsToCalibrate(const Graph& graph, const QdqExportOptions& options) {
  const Plan plan = MakePlan(graph, options);
  std::set<std::string> roots;
  for (const auto& [t, src] : plan.demanded) {
    const std::string root = plan.Root(t);
    if (!graph.IsInitializer(root)) roots.insert(root);
  }
  // In graph order: inputs first, then node outputs.
  std::vector<std::string> ordered;
  for (const auto& v : graph.inputs) if (roots.count(v.name)) ordered.push_back(v.name);
  for (const auto& node : graph.nodes) {
    for (const auto& out : node.outputs) if (roots.count(out)) ordered.push_back(out);
  }
  return ordered;
}

Expected<QdqExportResult> ExportQdq(Graph& graph, const std::map<std::string, QdqParams>& activations,
                                    const QdqExportOptions& options) {
  if (!options.weight_scales) return Internal("qdq_export: QdqExportOptions::weight_scales is not set");
  if (graph.opset() < 13) {
    return Unsupported("QDQ export needs ai.onnx opset >= 13 (per-channel DequantizeLinear); the model has opset " +
                       std::to_string(graph.opset()) + ": convert it first (pass convert_opset_13)");
  }
  if (options.weight_bits < 2 || options.weight_bits > 8) {
    return InvalidInput("weight_bits " + std::to_string(options.weight_bits) + " (expected 2..8; 4-bit weights are "
                        "stored as int8 within [-8, 7])");
  }
  graph.RebuildIndex();
  const Plan plan = MakePlan(graph, options);
  QdqExportResult result;
  result.kept_float = plan.kept_float;
  result.quantized_ops = plan.quantized_ops;
  if (plan.demanded.empty() && plan.compute_nodes.empty()) return result;

  Names names(graph);
  names.SetCompact(options.compact_encoding);
  std::vector<Node> nodes = graph.nodes;  // staged copy; the graph changes only at the end
  std::vector<std::vector<Node>> before(nodes.size()), after(nodes.size());
  std::vector<bool> dropped(nodes.size(), false);  // nodes the compact encoding leaves out
  std::vector<Node> at_start;
  std::map<std::string, Tensor> new_initializers;

  // 1. Parameters of every quantized tensor, as shared scale / zero-point initializers per root.
  struct Emitted { QdqParams params; std::string scale, zero_point; };
  std::map<std::string, Emitted> by_root;
  for (const auto& [t, src] : plan.demanded) {
    const std::string root = plan.Root(t);
    if (by_root.count(root)) continue;
    QdqParams p;
    if (const Tensor* c = graph.Initializer(root)) {
      if (c->dtype() != DType::kFloat32) continue;
      p = ConstantParams(*c, options.activation_dtype);
    } else {
      auto it = activations.find(root);
      if (it == activations.end()) {
        return NotFound("no calibration for tensor '" + root + "', which the QDQ export quantizes (input or output "
                        "of a quantized node): calibrate it (QdqTensorsToCalibrate lists them) or add it to "
                        "skip_tensor_list");
      }
      p = it->second;
    }
    ACT_RETURN_IF_ERROR(CheckParams(root, p));
    Emitted e{p, names.Make(root + "_scale", "s"), names.Make(root + "_zp", "z")};
    new_initializers[e.scale] = Tensor::Scalar<float>(p.scale);
    new_initializers[e.zero_point] = ScalarZeroPoint(p.dtype, p.zero_point);
    by_root[root] = e;
  }

  // 2. Q after each quantized activation's producer; one DQ in front of each reader.
  for (const auto& [t, src] : plan.demanded) {
    const std::string root = plan.Root(t);
    if (!by_root.count(root)) continue;
    const Emitted& e = by_root.at(root);
    const std::vector<int> readers = graph.Consumers(t);
    std::string quantized;
    if (const Tensor* c = graph.Initializer(t)) {  // a constant operand: stored quantized, no Q node
      if (c->dtype() != DType::kFloat32) continue;
      quantized = names.Make(t + "_q", "q");
      new_initializers[quantized] = QuantizeConstant(*c, e.params);
    } else {
      std::string source = t;
      const int producer = graph.Producer(t);
      if (graph.IsGraphOutput(t) && producer >= 0) {
        // The graph output keeps its name, now written by a DQ; the producer writes a new name that only
        // the Q reads (ORT fuses only a single-reader Q).
        source = names.Make(t + "_float");
        for (auto& out : nodes[producer].outputs) if (out == t) out = source;
      } else if (options.compact_encoding && producer >= 0 && e.params.dtype == DType::kUInt8 &&
                 e.params.zero_point == 0 && graph.nodes[producer].op_type == "Relu" &&
                 graph.nodes[producer].domain.empty()) {
        // Q_u8(Relu(x)) = Q_u8(x) when the zero point is 0 (the Q clamps at 0): the Relu, read only by
        // this Q now (every reader of t gets a DQ), is dropped when its input has no other reader.
        const std::string& x = graph.nodes[producer].Input(0);
        if (!x.empty() && !graph.IsGraphOutput(x) && graph.Consumers(x).size() == 1) {
          source = x;
          dropped[producer] = true;
        }
      }
      quantized = names.Make(t + "_q", "q");
      Node q = MakeQdqNode("QuantizeLinear", names.Make("Q_" + t, "Q"), {source, e.scale, e.zero_point}, quantized);
      (producer >= 0 ? after[producer] : at_start).push_back(std::move(q));
      ++result.quantize_nodes;
      if (graph.IsGraphOutput(t) && producer >= 0) {
        after[producer].push_back(MakeQdqNode("DequantizeLinear", names.Make("DQ_" + t, "D"),
                                              {quantized, e.scale, e.zero_point}, t));
        ++result.dequantize_nodes;
      }
    }
    for (int r : readers) {
      const std::string dq_out = names.Make(t + "_dq", "d");
      before[r].push_back(MakeQdqNode("DequantizeLinear", names.Make("DQ_" + t, "D"),
                                      {quantized, e.scale, e.zero_point}, dq_out));
      ++result.dequantize_nodes;
      for (auto& in : nodes[r].inputs) if (in == t) in = dq_out;
    }
  }

  // 3. Weights (int8, per output channel) and biases (int32, scale sx·sw) of the compute nodes.
  const int32_t wmax = (1 << (options.weight_bits - 1)) - 1, wmin = -(1 << (options.weight_bits - 1));
  for (int index : plan.compute_nodes) {
    const Node& original = graph.nodes[index];
    const QdqHandler* h = FindHandler(original);
    const std::string& w_name = original.Input(h->weight_input);
    const Tensor* w = graph.Initializer(w_name);
    if (!w || w->dtype() != DType::kFloat32) continue;  // MatMul of two activations: both got Q/DQ above
    const int axis = options.weight_per_channel ? h->weight_axis(original, *w) : -1;
    auto scales_or = options.weight_scales(*w, axis, options.weight_bits);
    if (!scales_or.ok()) return scales_or.status().WithContext(original.Describe() + ", weight '" + w_name + "'");
    std::vector<float> scales = std::move(scales_or).value();
    const size_t expected = axis >= 0 ? static_cast<size_t>(w->dim(axis)) : 1;
    if (scales.size() != expected) {
      return Internal(original.Describe() + ": weight scale hook returned " + std::to_string(scales.size()) +
                      " scales, expected " + std::to_string(expected));
    }
    for (float s : scales) {
      if (!(s > 0) || !std::isfinite(s) || std::fpclassify(s) == FP_SUBNORMAL) {
        return Internal(original.Describe() + ": weight '" + w_name + "' got scale " + std::to_string(s) +
                        " (the weight scale hook must clamp to a positive floor)");
      }
    }
    // Bias: quantizable when constant, 1-D over the output channels, and (Gemm) alpha = beta = 1.
    const std::string b_name = h->bias_input >= 0 ? original.Input(h->bias_input) : "";
    const Tensor* b = b_name.empty() ? nullptr : graph.Initializer(b_name);
    const int64_t channels = OutputChannels(original, *w);
    const std::string x_root = plan.Root(original.Input(0));
    const bool conv = original.op_type == "Conv" || original.op_type == "ConvTranspose";
    // A constant bias over the output channels is an int32 in the engine either way (we store it, or ORT
    // quantizes a float Conv bias itself), at scale sx·sw[c].
    const bool int_bias = b && b->dtype() == DType::kFloat32 && b->numel() == channels && b->rank() == 1 &&
                          by_root.count(x_root) && !options.skip_tensors.count(b_name);
    bool quantize_bias = int_bias && (!conv || (options.quantize_conv_bias && !options.compact_conv_weights));
    if (original.op_type == "Gemm" && (original.GetFloat("alpha", 1) != 1 || original.GetFloat("beta", 1) != 1)) {
      quantize_bias = false;
    }
    const float sx = int_bias ? by_root.at(x_root).params.scale : 0.0f;
    if (int_bias) {
      // Keep |b / (sx·sw)| below 2^30 (int32 with margin): raise the weight scale where it would overflow.
      for (int64_t o = 0; o < channels; ++o) {
        float& s = scales[ScaleIndexOfChannel(original, *w, o, scales.size())];
        s = std::max(s, std::fabs(b->data<float>()[o]) / (sx * 1073741824.0f));
      }
    }
    // W_int8[i] = clamp(round(W[i] / s[c(i)]), wmin, wmax)
    Tensor wq(DType::kInt8, w->shape());
    const int64_t n = w->numel();
    int64_t inner = 1;
    if (axis >= 0) for (size_t d = axis + 1; d < w->rank(); ++d) inner *= w->dim(d);
    const int64_t c_count = static_cast<int64_t>(scales.size());
    for (int64_t i = 0; i < n; ++i) {
      const float s = scales[axis >= 0 ? (i / inner) % c_count : 0];
      wq.data<int8_t>()[i] = static_cast<int8_t>(
          std::clamp(std::nearbyint(w->data<float>()[i] / s), static_cast<float>(wmin), static_cast<float>(wmax)));
    }
    const std::string wq_name = names.Make(w_name + "_quantized", "w");
    const std::string ws_name = names.Make(w_name + "_scale", "s");
    const std::string wz_name = names.Make(w_name + "_zp", "z");
    new_initializers[wq_name] = std::move(wq);
    if (axis >= 0) {
      new_initializers[ws_name] = Tensor::FromVector<float>({c_count}, scales);
      new_initializers[wz_name] = Tensor(DType::kInt8, {c_count});
    } else {
      new_initializers[ws_name] = Tensor::Scalar<float>(scales[0]);
      new_initializers[wz_name] = Tensor::Scalar<int8_t>(0);
    }
    const std::string w_dq = names.Make(w_name + "_dq", "d");
    std::vector<std::string> dq_inputs = {wq_name, ws_name, wz_name};
    // ORT 1.30 fuses Conv and MatMul whose weight DQ has no zero point (it defaults to 0), not Gemm.
    const bool matmul = nodes[index].op_type == "MatMul";
    if ((!options.conv_weight_zero_point || options.compact_conv_weights) && (conv || matmul)) {
      dq_inputs.pop_back();
      new_initializers.erase(wz_name);
    }
    before[index].push_back(MakeQdqNode("DequantizeLinear", names.Make("DQ_" + w_name, "D"), dq_inputs, w_dq, axis));
    ++result.dequantize_nodes;
    nodes[index].inputs[h->weight_input] = w_dq;
    if (quantize_bias) {
      std::vector<float> bscale(channels);
      std::vector<int32_t> bq(channels);
      for (int64_t o = 0; o < channels; ++o) {
        bscale[o] = sx * scales[ScaleIndexOfChannel(original, *w, o, scales.size())];
        bq[o] = static_cast<int32_t>(std::nearbyint(b->data<float>()[o] / bscale[o]));
      }
      const std::string bq_name = names.Make(b_name + "_quantized", "b");
      const std::string bs_name = names.Make(b_name + "_scale", "s");
      new_initializers[bq_name] = Tensor::FromVector<int32_t>({channels}, bq);
      new_initializers[bs_name] = Tensor::FromVector<float>({channels}, bscale);
      // No zero-point input: it defaults to 0, and an int32 [C] of zeros would cost 4 bytes per channel.
      const std::string b_dq = names.Make(b_name + "_dq", "d");
      before[index].push_back(MakeQdqNode("DequantizeLinear", names.Make("DQ_" + b_name, "D"),
                                          {bq_name, bs_name}, b_dq, 0));
      ++result.dequantize_nodes;
      nodes[index].inputs[h->bias_input] = b_dq;
    }
  }

  // 4. Commit: nodes in order (Qs right after producers, DQs right before readers), new initializers,
  //    float weights nobody reads any more dropped.
  std::vector<Node> ordered = std::move(at_start);
  for (size_t i = 0; i < nodes.size(); ++i) {
    for (auto& n : before[i]) ordered.push_back(std::move(n));
    if (!dropped[i]) ordered.push_back(std::move(nodes[i]));
    for (auto& n : after[i]) ordered.push_back(std::move(n));
  }
  if (options.compact_encoding) {
    // Identical new initializers (the zero points, equal scales) stored once: readers use the first.
    std::map<std::string, std::string> same_as;
    std::map<std::tuple<DType, Shape, std::string>, std::string> by_content;
    for (const auto& [name, t] : new_initializers) {
      std::string bytes(static_cast<const char*>(t.raw_data()), t.nbytes());
      auto [it, inserted] = by_content.emplace(std::make_tuple(t.dtype(), t.shape(), std::move(bytes)), name);
      if (!inserted) same_as[name] = it->second;
    }
    for (auto& node : ordered) {
      for (auto& in : node.inputs) {
        auto it = same_as.find(in);
        if (it != same_as.end()) in = it->second;
      }
    }
    for (const auto& [name, first] : same_as) new_initializers.erase(name);
    // Shapes of intermediate values are not needed to run the model; they would be stale here anyway.
    graph.value_info.clear();
  }
  graph.nodes = std::move(ordered);
  for (auto& [name, t] : new_initializers) graph.initializers[name] = std::move(t);
  graph.RebuildIndex();
  graph.RemoveUnusedInitializers();
  result.changed = true;
  if (options.quantize_embeddings) {
    ACT_ASSIGN_OR_RETURN(int tables, QuantizeEmbeddingTables(graph));
    if (tables > 0) result.quantized_ops["Gather (embedding)"] += tables;
  }
  return result;
}

}  // namespace act::ir
