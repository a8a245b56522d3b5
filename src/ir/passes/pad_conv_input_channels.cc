// pad_conv_input_channels — pattern:
//   x [N, C, H, W] with C < 4 (an image: C = 3) → Conv (group 1, constant weight W [O, C, kh, kw])
//   ⇒ Pad(x, zeros on the channel axis up to 4 channels) → Conv with W zero-extended to [O, 4, kh, kw]
// Exact: the added input channels are zero and so are their weights. Why: ONNX Runtime's x86 int8
// QLinearConv (NHWC) has no fast kernel for fewer than 4 input channels; on FastestDet the 3-channel
// stem took 9.4 of its ~14 ms in INT8 (its FP32 NCHWc kernel: 3.5 ms) and with 4 channels, the Pad
// included, the INT8 model runs 8–10% faster (bench/ort/bench.js, alternating). Meant for the graph that
// is quantized (the pass is part of PTQ's preparation, not of Normalize): in FP32 the Pad is pure cost.
// Weights are new tensors (copy-on-write); idempotent (a padded Conv has 4 input channels).
#include "ir/checker.h"
#include "ir/passes/pass.h"

namespace act::ir {
namespace {
constexpr int64_t kMinChannels = 4;
}  // namespace

Expected<bool> PadConvInputChannels(Graph& graph) {
  graph.RebuildIndex();
  bool changed = false;
  std::vector<Node> pads;
  std::vector<std::string> replaced;  // the original weights, dropped when nobody else reads them
  for (auto& node : graph.nodes) {
    if (node.op_type != "Conv" || !node.domain.empty() || node.GetInt("group", 1) != 1) continue;
    const Tensor* w = graph.Initializer(node.Input(1));
    auto x = graph.FindValueInfo(node.Input(0));
    if (!w || w->dtype() != DType::kFloat32 || w->rank() != 4 || !x || !x->shape || x->shape->size() != 4) continue;
    const int64_t c = w->dim(1);
    if (c >= kMinChannels || !(*x->shape)[1].known() || (*x->shape)[1].value != c) continue;
    // W' [O, 4, kh, kw]: channel k < C copied, the rest zero.
    Tensor padded(DType::kFloat32, {w->dim(0), kMinChannels, w->dim(2), w->dim(3)});
    const int64_t k = w->dim(2) * w->dim(3);
    float* dst = padded.data<float>();
    const float* src = w->data<float>();
    for (int64_t i = 0; i < padded.numel(); ++i) dst[i] = 0.0f;
    for (int64_t o = 0; o < w->dim(0); ++o) {
      for (int64_t ci = 0; ci < c; ++ci) {
        for (int64_t j = 0; j < k; ++j) dst[(o * kMinChannels + ci) * k + j] = src[(o * c + ci) * k + j];
      }
    }
    const std::string w_name = graph.UniqueName(node.Input(1) + "_padded");
    graph.initializers[w_name] = std::move(padded);
    const std::string pads_name = graph.UniqueName(node.Input(0) + "_channel_pads");
    graph.initializers[pads_name] = Tensor::FromVector<int64_t>({8}, {0, 0, 0, 0, 0, kMinChannels - c, 0, 0});
    Node pad;
    pad.op_type = "Pad";
    pad.name = graph.UniqueName(node.Input(0) + "_channel_pad");
    const std::string padded_x = graph.UniqueName(node.Input(0) + "_padded");
    pad.inputs = {node.Input(0), pads_name};
    pad.outputs = {padded_x};
    // Reserve the names before the next match asks UniqueName.
    graph.value_info[padded_x] = ValueInfo{padded_x, DType::kFloat32, std::nullopt};
    replaced.push_back(node.Input(1));
    node.inputs[0] = padded_x;
    node.inputs[1] = w_name;
    pads.push_back(std::move(pad));
    changed = true;
  }
  if (!changed) return false;
  for (auto& p : pads) graph.AddNode(std::move(p));
  graph.RebuildIndex();
  for (const auto& name : replaced) {
    if (graph.Consumers(name).empty() && !graph.IsGraphOutput(name)) graph.initializers.erase(name);
  }
  ACT_RETURN_IF_ERROR(graph.TopologicalSort().WithContext("pad_conv_input_channels"));
  ACT_RETURN_IF_ERROR(InferShapes(graph, "pad_conv_input_channels"));
  return true;
}

}  // namespace act::ir
