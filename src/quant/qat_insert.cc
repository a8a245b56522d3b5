#include "quant/qat_insert.h"

#include <algorithm>
#include <map>

#include "quant/qat_ops.h"
#include "quant/quant_params.h"

namespace act::quant {

std::vector<std::string> QatGraphInfo::StateNames() const {
  std::vector<std::string> names;
  for (const auto& a : activations) {
    names.push_back(a.scale);
    names.push_back(a.zero_point);
    if (!a.state.empty()) names.push_back(a.state);
  }
  for (const auto& w : weights) {
    names.push_back(w.scale);
    names.push_back(w.zero_point);
  }
  return names;
}

std::vector<std::string> QatGraphInfo::PactNames() const {
  std::vector<std::string> names;
  for (const auto& a : activations) if (!a.pact_alpha.empty()) names.push_back(a.pact_alpha);
  return names;
}

std::vector<std::string> QatGraphInfo::WeightNames() const {
  std::vector<std::string> names;
  for (const auto& w : weights) names.push_back(w.weight);
  return names;
}

std::vector<std::string> QatGraphInfo::BiasNames() const {
  std::vector<std::string> names;
  for (const auto& b : biases) names.push_back(b.bias);
  return names;
}

std::vector<std::string> QatGraphInfo::ScaleNames() const {
  std::vector<std::string> names;
  for (const auto& a : activations) names.push_back(a.scale);
  return names;
}

namespace {

const ir::QdqHandler* HandlerFor(const ir::Node& node) {
  if (!node.domain.empty() && node.domain != "ai.onnx") return nullptr;
  for (const auto& h : ir::QdqHandlers()) {
    if (node.op_type == h.op_type) return &h;
  }
  return nullptr;
}

Tensor Filled(int64_t n, float value) { return Tensor::FromVector<float>({n}, std::vector<float>(n, value)); }

}  // namespace

Expected<QatGraphInfo> InsertFakeQuant(ir::Graph& graph, const QatOptions& options, const CalibrationTable* initial) {
  if (graph.opset() < 13) {
    return Unsupported("quantization-aware training needs an opset >= 13 graph (normalise it first); got opset " +
                       std::to_string(graph.opset()));
  }
  const std::string& obs = options.activation_observer;
  if (obs != kObserverMovingAverage && obs != kObserverRangeAbsMax && obs != kObserverAbsMax) {
    return InvalidInput("activation_quantize_type '" + obs +
                        "' (expected moving_average_abs_max, range_abs_max or abs_max)");
  }
  graph.RebuildIndex();
  QatGraphInfo info;
  const DType adt = options.activation_dtype;
  info.qmin = QuantMin(adt, options.activation_bits);
  info.qmax = QuantMax(adt, options.activation_bits);
  const int wbits = options.export_options.weight_bits;
  const int wmin = -(1 << (wbits - 1)), wmax = (1 << (wbits - 1)) - 1;

  // The graph as the export will see it (for the followers, step 4).
  const std::vector<ir::Node> pre_nodes = graph.nodes;
  std::set<std::string> pre_initializers;
  for (const auto& [name, t] : graph.initializers) pre_initializers.insert(name);
  std::map<std::string, DType> pre_value_info;
  for (const auto& node : graph.nodes) {
    for (const auto& out : node.outputs) {
      if (auto v = graph.FindValueInfo(out)) pre_value_info[out] = v->dtype;
    }
  }

  // 1. Which activations (the export's list) and which weights (the export's compute nodes).
  const std::vector<std::string> tensors = ir::QdqTensorsToCalibrate(graph, options.export_options);
  if (tensors.empty()) {
    return InvalidInput("the model has no quantizable node among quantize_op_types: nothing to train");
  }
  std::map<std::string, int> weight_axis;  // weight initializer → axis
  std::map<std::string, std::vector<int>> weight_readers;
  for (size_t i = 0; i < graph.nodes.size(); ++i) {
    const ir::Node& n = graph.nodes[i];
    const ir::QdqHandler* h = HandlerFor(n);
    if (h == nullptr || h->role != ir::QdqRole::kCompute || h->weight_input < 0) continue;
    if (!options.export_options.quantize_op_types.count(n.op_type)) continue;
    if (options.export_options.float_nodes.count(n.name)) continue;
    const std::string& w = n.Input(h->weight_input);
    const Tensor* t = graph.Initializer(w);
    if (t == nullptr || t->dtype() != DType::kFloat32 || options.export_options.skip_tensors.count(w)) continue;
    const int axis = options.export_options.weight_per_channel ? h->weight_axis(n, *t) : -1;
    auto it = weight_axis.find(w);
    if (it != weight_axis.end() && it->second != axis) {
      return Unsupported("weight '" + w + "' is read by nodes that quantize it along different axes (" + n.Describe() +
                         "); keep one of them in FP32 with not_quant_pattern");
    }
    weight_axis[w] = axis;
    weight_readers[w].push_back(static_cast<int>(i));
  }

  std::vector<ir::Node> added;
  auto make_node = [&](const std::string& op, const std::string& name, std::vector<std::string> ins,
                       const std::string& out) {
    ir::Node n;
    n.op_type = op;
    n.domain = kActDomain;
    n.name = name;
    n.inputs = std::move(ins);
    n.outputs = {out};
    return n;
  };
  std::set<std::string> reserved;
  auto unique = [&](const std::string& base) {
    std::string name = graph.UniqueName(base);
    for (int k = 1; reserved.count(name); ++k) name = graph.UniqueName(base + "_" + std::to_string(k));
    reserved.insert(name);
    return name;
  };

  // 2. Weights: W → FakeQuant → W_fq, per reader.
  for (const auto& [w, axis] : weight_axis) {
    const Tensor& t = *graph.Initializer(w);
    QatGraphInfo::Weight wi;
    wi.weight = w;
    wi.axis = axis;
    const int64_t channels = axis < 0 ? 1 : t.shape()[static_cast<size_t>(axis)];
    wi.scale = unique(w + "_qat_scale");
    wi.zero_point = unique(w + "_qat_zp");
    wi.fq_output = unique(w + "_fq");
    wi.fq_node = unique("FakeQuant_" + w);
    graph.initializers[wi.scale] = Filled(channels, 1.0f);
    graph.initializers[wi.zero_point] = Filled(channels, 0.0f);
    ir::Node fq = make_node(kFakeQuantOp, wi.fq_node, {w, wi.scale, wi.zero_point}, wi.fq_output);
    fq.attributes["qmin"] = ir::Attribute::Int(wmin);
    fq.attributes["qmax"] = ir::Attribute::Int(wmax);
    fq.attributes["axis"] = ir::Attribute::Int(axis);
    fq.attributes["symmetric"] = ir::Attribute::Int(1);
    fq.attributes["observer"] = ir::Attribute::String(kObserverWeight);
    added.push_back(std::move(fq));
    for (int r : weight_readers[w]) {
      for (auto& in : graph.nodes[r].inputs) if (in == w) in = wi.fq_output;
    }
    info.weights.push_back(std::move(wi));
  }

  // 3. Activations.
  const int64_t window = std::max<int64_t>(1, options.window_size);
  const int64_t state_size = obs == kObserverRangeAbsMax ? 3 + 2 * window : 3;
  for (const auto& t : tensors) {
    QatGraphInfo::Activation a;
    a.tensor = t;
    a.scale = unique(t + "_qat_scale");
    a.zero_point = unique(t + "_qat_zp");
    a.state = unique(t + "_qat_state");
    a.fq_node = unique("FakeQuant_" + t);
    float scale = 1.0f, zp = 0.0f;
    Tensor state = Filled(state_size, 0.0f);
    if (initial != nullptr) {
      if (const CalibrationEntry* e = initial->Find(t)) {
        scale = e->params.scale;
        zp = static_cast<float>(e->params.zero_point);
        // The observer continues from the calibrated range as if it had seen it once.
        float* s = state.data<float>();
        s[0] = e->min;
        s[1] = e->max;
        s[2] = 1.0f;
        if (obs == kObserverRangeAbsMax) {
          s[3] = e->min;
          s[3 + window] = e->max;
        }
      }
    }
    graph.initializers[a.scale] = Filled(1, scale);
    graph.initializers[a.zero_point] = Filled(1, zp);
    graph.initializers[a.state] = std::move(state);
    const int producer = graph.Producer(t);
    std::string source;
    if (producer < 0) {  // a graph input: readers switch to the fake-quantized copy
      a.fq_output = unique(t + "_fq");
      for (int r : graph.Consumers(t)) {
        for (auto& in : graph.nodes[r].inputs) if (in == t) in = a.fq_output;
      }
      source = t;
    } else {  // the producer writes T_float; the fake quant writes T, so readers and graph outputs keep names
      a.float_value = unique(t + "_float");
      for (auto& out : graph.nodes[producer].outputs) if (out == t) out = a.float_value;
      a.fq_output = t;
      source = a.float_value;
    }
    if (options.use_pact) {
      a.pact_alpha = unique(t + "_pact_alpha");
      a.pact_node = unique("PactClip_" + t);
      const std::string clipped = unique(t + "_pact");
      graph.initializers[a.pact_alpha] = Filled(1, options.pact_init);
      added.push_back(make_node(kPactClipOp, a.pact_node, {source, a.pact_alpha}, clipped));
      source = clipped;
    }
    ir::Node fq = make_node(kFakeQuantOp, a.fq_node, {source, a.scale, a.zero_point, a.state}, a.fq_output);
    fq.attributes["qmin"] = ir::Attribute::Int(info.qmin);
    fq.attributes["qmax"] = ir::Attribute::Int(info.qmax);
    fq.attributes["axis"] = ir::Attribute::Int(-1);
    fq.attributes["symmetric"] = ir::Attribute::Int(options.activation_symmetric ? 1 : 0);
    fq.attributes["observer"] = ir::Attribute::String(obs);
    fq.attributes["moving_rate"] = ir::Attribute::Float(static_cast<float>(options.moving_rate));
    fq.attributes["window_size"] = ir::Attribute::Int(window);
    fq.attributes["learnable"] = ir::Attribute::Int(options.learnable_scale ? 1 : 0);
    added.push_back(std::move(fq));
    info.activations.push_back(std::move(a));
  }
  // 4. Followers: the export's backward pull through data-movement ops (qdq_export.cc, "Data movement,
  // backward"), replayed on the graph as it was: a demanded output pulls the Q onto the op's input, which then
  // shares the output's root parameters. Visiting nodes in reverse order, as the export does.
  {
    std::map<std::string, std::string> demanded;  // tensor → the tensor whose parameters it uses
    for (const auto& t : tensors) demanded[t] = t;
    auto root = [&](std::string t) {
      for (int guard = 0; guard < 10000; ++guard) {
        auto it = demanded.find(t);
        if (it == demanded.end() || it->second == t) return t;
        t = it->second;
      }
      return t;
    };
    std::vector<std::pair<std::string, std::string>> pulled;  // (tensor, root), in discovery order
    for (int i = static_cast<int>(pre_nodes.size()) - 1; i >= 0; --i) {
      const ir::Node& node = pre_nodes[static_cast<size_t>(i)];
      const ir::QdqHandler* h = HandlerFor(node);
      if (!h || h->role != ir::QdqRole::kDataMovement || node.outputs.size() != 1) continue;
      if (options.export_options.float_nodes.count(node.name)) continue;
      const std::string in = node.Input(0);
      const std::string& out = node.outputs[0];
      if (!demanded.count(out) || demanded.count(in) || in.empty() || pre_initializers.count(in)) continue;
      if (options.export_options.skip_tensors.count(in)) continue;
      if (auto v = pre_value_info.find(in); v != pre_value_info.end() && v->second != DType::kFloat32 &&
                                            v->second != DType::kUndefined) {
        continue;
      }
      demanded[in] = root(out);
      pulled.emplace_back(in, demanded[in]);
    }
    std::map<std::string, const QatGraphInfo::Activation*> leaders;
    for (const auto& a : info.activations) leaders[a.tensor] = &a;
    std::vector<ir::Node> followers;
    for (const auto& [t, r] : pulled) {
      auto leader = leaders.find(root(r));
      if (leader == leaders.end()) continue;  // the export would fail on it too (no parameters)
      QatGraphInfo::Activation f;
      f.tensor = t;
      f.scale = leader->second->scale;
      f.zero_point = leader->second->zero_point;
      f.fq_node = unique("FakeQuantFollow_" + t);
      const int producer = graph.Producer(t);
      std::string source;
      if (producer < 0) {
        f.fq_output = unique(t + "_fq");
        for (int c : graph.Consumers(t)) {
          for (auto& in : graph.nodes[c].inputs) if (in == t) in = f.fq_output;
        }
        for (auto& n : added) {
          for (auto& in : n.inputs) if (in == t) in = f.fq_output;
        }
        source = t;
      } else {
        f.float_value = unique(t + "_float");
        for (auto& out : graph.nodes[producer].outputs) if (out == t) out = f.float_value;
        f.fq_output = t;
        source = f.float_value;
      }
      ir::Node fq = make_node(kFakeQuantOp, f.fq_node, {source, f.scale, f.zero_point}, f.fq_output);
      fq.attributes["qmin"] = ir::Attribute::Int(info.qmin);
      fq.attributes["qmax"] = ir::Attribute::Int(info.qmax);
      fq.attributes["axis"] = ir::Attribute::Int(-1);
      fq.attributes["symmetric"] = ir::Attribute::Int(options.activation_symmetric ? 1 : 0);
      fq.attributes["observer"] = ir::Attribute::String(kObserverFixed);
      followers.push_back(std::move(fq));
      info.followers.push_back(std::move(f));
    }
    for (auto& n : followers) added.push_back(std::move(n));
  }
  // 5. Biases: the integer Conv/Gemm adds an int32 bias at scale sx·sw (the export stores it, or ORT rounds a
  // float Conv bias itself when it fuses QLinearConv), and the export raises a weight scale where that int32
  // would overflow. Both replayed: act.QuantizeBias in front of the bias, the guard's inputs on the weight's
  // FakeQuant (single-reader weights).
  {
    std::map<std::string, int> pre_producer;
    for (size_t i = 0; i < pre_nodes.size(); ++i) {
      for (const auto& out : pre_nodes[i].outputs) pre_producer[out] = static_cast<int>(i);
    }
    std::map<std::string, std::string> scale_of;  // quantized tensor → its scale initializer
    for (const auto& a : info.activations) scale_of[a.tensor] = a.scale;
    for (const auto& f : info.followers) scale_of[f.tensor] = f.scale;
    // The scale the export uses for `t`: its own, or, through data-movement ops, their input's.
    auto input_scale = [&](std::string t) -> std::string {
      for (int guard = 0; guard < 10000; ++guard) {
        if (auto it = scale_of.find(t); it != scale_of.end()) return it->second;
        auto p = pre_producer.find(t);
        if (p == pre_producer.end()) return "";
        const ir::Node& n = pre_nodes[static_cast<size_t>(p->second)];
        const ir::QdqHandler* h = HandlerFor(n);
        if (!h || h->role != ir::QdqRole::kDataMovement || n.outputs.size() != 1 ||
            options.export_options.float_nodes.count(n.name)) {
          return "";
        }
        t = n.Input(0);
      }
      return "";
    };
    std::map<std::string, const QatGraphInfo::Weight*> weight_of_fq;
    for (const auto& w : info.weights) weight_of_fq[w.fq_output] = &w;
    std::map<std::string, std::vector<int>> pre_consumers;
    for (size_t i = 0; i < pre_nodes.size(); ++i) {
      for (const auto& in : pre_nodes[i].inputs) if (!in.empty()) pre_consumers[in].push_back(static_cast<int>(i));
    }
    std::set<std::string> graph_outputs;
    for (const auto& v : graph.outputs) graph_outputs.insert(v.name);
    std::map<std::string, const QatGraphInfo::Activation*> leader_of;
    for (const auto& a : info.activations) leader_of[a.tensor] = &a;
    auto find_added = [&](const std::string& name) -> ir::Node* {
      for (auto& n : added) if (n.name == name) return &n;
      return nullptr;
    };
    for (size_t i = 0; i < pre_nodes.size(); ++i) {
      ir::Node& n = graph.nodes[i];
      const ir::QdqHandler* h = HandlerFor(n);
      if (h == nullptr || h->role != ir::QdqRole::kCompute || h->weight_input < 0) continue;
      auto wit = weight_of_fq.find(n.Input(h->weight_input));
      if (wit == weight_of_fq.end()) continue;
      const QatGraphInfo::Weight& wi = *wit->second;
      const std::string x_scale = input_scale(pre_nodes[i].Input(0));
      if (x_scale.empty()) continue;
      // The bias: an int32 at sx·sw in the integer kernel when it is a constant over the output channels
      // (and, for Gemm, alpha = beta = 1); otherwise ORT leaves the node float (no requantization either).
      const std::string b = h->bias_input >= 0 ? n.Input(h->bias_input) : "";
      const Tensor* bt = b.empty() ? nullptr : graph.Initializer(b);
      const Tensor& wt = *graph.Initializer(wi.weight);
      int64_t channels = 0;  // the node's output channels (qdq_export.cc, OutputChannels)
      if (n.op_type == "Conv") channels = wt.dim(0);
      else if (n.op_type == "ConvTranspose") channels = wt.dim(1) * n.GetInt("group", 1);
      else if (n.op_type == "Gemm") channels = n.GetInt("transB", 0) ? wt.dim(0) : wt.dim(1);
      const bool int_bias = bt != nullptr && bt->dtype() == DType::kFloat32 && bt->rank() == 1 &&
                            bt->numel() == channels && channels > 0 && !options.export_options.skip_tensors.count(b) &&
                            !(n.op_type == "Gemm" && (n.GetFloat("alpha", 1) != 1 || n.GetFloat("beta", 1) != 1));
      // Requantization of the output as the fused kernel computes it: the output point is the node's output,
      // or a Relu / constant Clip right after it that is its only reader (the export's rule).
      if (options.simulate_fused_kernels && (n.op_type == "Conv" || n.op_type == "Gemm") && (b.empty() || int_bias)) {
        std::string out = pre_nodes[i].outputs.at(0);
        const auto& readers = pre_consumers[out];
        if (!graph_outputs.count(out) && readers.size() == 1) {
          const ir::Node& next = pre_nodes[static_cast<size_t>(readers[0])];
          bool constant_bounds = true;
          for (size_t k = 1; k < next.inputs.size(); ++k) {
            constant_bounds = constant_bounds && (next.inputs[k].empty() || pre_initializers.count(next.inputs[k]));
          }
          if (next.domain.empty() && next.Input(0) == out && !options.export_options.float_nodes.count(next.name) &&
              (next.op_type == "Relu" || (next.op_type == "Clip" && constant_bounds))) {
            out = next.outputs.at(0);
          }
        }
        auto leader = leader_of.find(out);
        if (leader != leader_of.end() && leader->second->pact_node.empty()) {
          if (ir::Node* fq = find_added(leader->second->fq_node)) {
            fq->inputs.resize(4);
            fq->inputs.push_back(x_scale);
            fq->inputs.push_back(wi.scale);
            fq->attributes["requant_axis"] = ir::Attribute::Int(1);
          }
        }
      }
      if (!int_bias) continue;
      const bool conv = n.op_type == "Conv" || n.op_type == "ConvTranspose";
      const bool stored_int32 = !conv || (options.export_options.quantize_conv_bias &&
                                          !options.export_options.compact_conv_weights);
      if (!stored_int32 && !options.simulate_fused_kernels) continue;
      QatGraphInfo::Bias bi;
      bi.bias = b;
      bi.fq_node = unique("QuantizeBias_" + b);
      bi.fq_output = unique(b + "_bq");
      ir::Node q = make_node(kQuantizeBiasOp, bi.fq_node, {b, x_scale, wi.weight}, bi.fq_output);
      q.attributes["axis"] = ir::Attribute::Int(wi.axis);
      q.attributes["qmax"] = ir::Attribute::Int(wmax);
      added.push_back(std::move(q));
      n.inputs[static_cast<size_t>(h->bias_input)] = bi.fq_output;
      info.biases.push_back(std::move(bi));
      if (weight_readers[wi.weight].size() == 1) {
        if (ir::Node* fq = find_added(wi.fq_node)) fq->inputs = {fq->inputs[0], fq->inputs[1], fq->inputs[2], "", b, x_scale};
      }
    }
  }
  for (auto& n : added) graph.nodes.push_back(std::move(n));
  graph.opset_imports[kActDomain] = 1;
  graph.RebuildIndex();
  ACT_RETURN_IF_ERROR(graph.TopologicalSort());
  ACT_RETURN_IF_ERROR(graph.Validate());
  return info;
}

}  // namespace act::quant
