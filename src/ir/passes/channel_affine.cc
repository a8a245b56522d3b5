#include "ir/passes/channel_affine.h"

#include <cmath>

namespace act::ir {
namespace {

bool IsFloatInitializer(const Graph& graph, const std::string& name) {
  const Tensor* t = graph.Initializer(name);
  return t && t->dtype() == DType::kFloat32;
}

// A float initializer that only node `index` reads, created by copying when others read it too.
std::string OwnedInitializer(Graph& graph, int index, size_t input, const std::string& suffix) {
  const std::string name = graph.nodes[index].inputs[input];
  int readers = 0;
  for (const Node& n : graph.nodes) for (const auto& in : n.inputs) readers += in == name;
  if (readers <= 1 && !graph.IsGraphOutput(name)) return name;
  const std::string copy = graph.UniqueName(name + suffix);
  graph.initializers[copy] = graph.initializers.at(name).Clone();
  graph.nodes[index].inputs[input] = copy;
  graph.RebuildIndex();
  return copy;
}

}  // namespace

std::optional<ChannelProducer> AsChannelProducer(const Graph& graph, const Node& node) {
  if (!node.domain.empty() || node.outputs.size() != 1) return std::nullopt;
  const bool conv = node.op_type == "Conv", deconv = node.op_type == "ConvTranspose", gemm = node.op_type == "Gemm";
  if (!conv && !deconv && !gemm) return std::nullopt;
  if (!IsFloatInitializer(graph, node.Input(1))) return std::nullopt;
  const Tensor& w = *graph.Initializer(node.Input(1));
  ChannelProducer p;
  if (gemm) {
    if (w.rank() != 2) return std::nullopt;
    p.channels = node.GetInt("transB", 0) ? w.dim(0) : w.dim(1);
    p.output_rank = 2;
  } else {
    if (w.rank() < 3) return std::nullopt;
    p.channels = conv ? w.dim(0) : w.dim(1) * node.GetInt("group", 1);
    p.output_rank = static_cast<int64_t>(w.rank());
  }
  const std::string& bias = node.Input(2);
  if (!bias.empty()) {
    if (!IsFloatInitializer(graph, bias)) return std::nullopt;
    const int64_t n = graph.Initializer(bias)->numel();
    if (n != p.channels && !(gemm && n == 1)) return std::nullopt;
    if (gemm && graph.Initializer(bias)->rank() == 2 && graph.Initializer(bias)->dim(0) != 1) return std::nullopt;
  }
  return p;
}

std::optional<std::vector<float>> PerChannelValues(const Tensor& constant, const ChannelProducer& producer) {
  if (constant.dtype() != DType::kFloat32) return std::nullopt;
  const int64_t r = static_cast<int64_t>(constant.rank());
  if (r > producer.output_rank) return std::nullopt;
  bool per_channel = false;
  for (int64_t k = 0; k < r; ++k) {
    const int64_t d = k + producer.output_rank - r;  // output axis this constant axis broadcasts against
    const int64_t size = constant.dim(static_cast<size_t>(k));
    if (size == 1) continue;
    if (d != producer.channel_axis || size != producer.channels) return std::nullopt;
    per_channel = true;
  }
  const float* v = constant.data<float>();
  std::vector<float> out(producer.channels);
  for (int64_t c = 0; c < producer.channels; ++c) out[c] = per_channel ? v[c] : v[0];
  return out;
}

Status FoldChannelAffine(Graph& graph, int index, const std::vector<float>& scale, const std::vector<float>& shift) {
  const auto producer = AsChannelProducer(graph, graph.nodes[index]);
  if (!producer) return Internal(graph.nodes[index].Describe() + " is not a foldable Conv/ConvTranspose/Gemm");
  const int64_t channels = producer->channels;
  if (static_cast<int64_t>(scale.size()) != channels || static_cast<int64_t>(shift.size()) != channels) {
    return Internal("affine fold into " + graph.nodes[index].Describe() + ": expected " + std::to_string(channels) +
                    " channel values");
  }
  const std::string op = graph.nodes[index].op_type;
  // Weights: scale the slice of each output channel.
  const std::string w_name = OwnedInitializer(graph, index, 1, "_folded");
  // Copy-on-write: ir::Graph copies share tensor storage, so the folded weights go into a new tensor
  // (editing in place would change every copy of the caller's graph too).
  graph.initializers[w_name] = graph.initializers.at(w_name).Clone();
  Tensor& w = graph.initializers.at(w_name);
  float* wd = w.data<float>();
  const int64_t n = w.numel();
  if (op == "Conv") {
    const int64_t per = n / channels;
    for (int64_t i = 0; i < n; ++i) wd[i] *= scale[i / per];
  } else if (op == "ConvTranspose") {
    // W: [C_in, C_out/g, k...]; input channel ci belongs to group ci / (C_in/g); output channel
    // o = group * (C_out/g) + j.
    const int64_t group = graph.nodes[index].GetInt("group", 1);
    const int64_t c_in = w.dim(0), per_group_out = w.dim(1), kernel = n / (c_in * per_group_out);
    for (int64_t i = 0; i < n; ++i) {
      const int64_t ci = i / (per_group_out * kernel), j = (i / kernel) % per_group_out;
      wd[i] *= scale[(ci / (c_in / group)) * per_group_out + j];
    }
  } else {  // Gemm: column n of op(B)
    const bool trans_b = graph.nodes[index].GetInt("transB", 0) != 0;
    const int64_t cols = w.dim(1);
    for (int64_t i = 0; i < n; ++i) wd[i] *= scale[trans_b ? i / cols : i % cols];
  }
  // Bias: b' = s·(beta·b) + t, as a fresh [C] initializer.
  Node& node = graph.nodes[index];
  float beta = op == "Gemm" ? node.GetFloat("beta", 1.0f) : 1.0f;
  std::vector<float> bias(channels, 0.0f);
  const std::string old_bias = node.Input(2);
  if (!old_bias.empty()) {
    const Tensor& b = *graph.Initializer(node.Input(2));
    for (int64_t c = 0; c < channels; ++c) bias[c] = b.numel() == 1 ? b.data<float>()[0] : b.data<float>()[c];
  }
  for (int64_t c = 0; c < channels; ++c) bias[c] = scale[c] * beta * bias[c] + shift[c];
  const std::string b_name = graph.UniqueName(node.name.empty() ? node.outputs[0] + "_bias" : node.name + "_bias");
  graph.initializers[b_name] = Tensor::FromVector<float>({channels}, bias);
  Node& same = graph.nodes[index];
  if (same.inputs.size() < 3) same.inputs.resize(3);
  same.inputs[2] = b_name;
  if (op == "Gemm") same.attributes["beta"] = Attribute::Float(1.0f);
  graph.RebuildIndex();
  if (!old_bias.empty() && graph.Consumers(old_bias).empty() && !graph.IsGraphOutput(old_bias)) {
    graph.initializers.erase(old_bias);
  }
  return Status::Ok();
}

}  // namespace act::ir
