// fold_batchnorm — pattern:
//   P = Conv | ConvTranspose | Gemm (weight and bias constant) → BatchNormalization (inference form: one
//   output; scale, B, mean, var constant), P's output read by the BN only
//   ⇒ P with W'[c] = s[c]·W[c], b'[c] = s[c]·(b[c] − mean[c]) + B[c], where s = scale / sqrt(var + epsilon),
//     writing the BN's output name.
// Idempotent: after a fold no BN follows a foldable producer; returns whether anything was folded.
#include <algorithm>
#include <cmath>

#include "ir/passes/channel_affine.h"
#include "ir/passes/pass.h"

namespace act::ir {
namespace {

// Selector: the BN node index folded into producer `p`, or -1.
int SelectBatchNorm(const Graph& graph, int p, ChannelProducer* producer) {
  const Node& node = graph.nodes[p];
  auto info = AsChannelProducer(graph, node);
  if (!info) return -1;
  const std::string& out = node.outputs[0];
  if (graph.IsGraphOutput(out)) return -1;
  const auto consumers = graph.Consumers(out);
  if (consumers.size() != 1) return -1;
  const Node& bn = graph.nodes[consumers[0]];
  if (bn.op_type != "BatchNormalization" || !bn.domain.empty() || bn.Input(0) != out) return -1;
  if (bn.outputs.size() != 1 && !(bn.outputs.size() > 1 && std::all_of(bn.outputs.begin() + 1, bn.outputs.end(),
                                                                       [](const std::string& s) { return s.empty(); }))) {
    return -1;  // training-mode BN (running statistics as outputs)
  }
  if (bn.GetInt("training_mode", 0) != 0) return -1;
  for (size_t i = 1; i <= 4; ++i) {
    const Tensor* t = graph.Initializer(bn.Input(i));
    if (!t || t->dtype() != DType::kFloat32 || t->numel() != info->channels) return -1;
  }
  *producer = *info;
  return consumers[0];
}

}  // namespace

Expected<bool> FoldBatchNorm(Graph& graph) {
  bool changed = false;
  for (size_t p = 0; p < graph.nodes.size(); ++p) {
    ChannelProducer producer;
    const int bn_index = SelectBatchNorm(graph, static_cast<int>(p), &producer);
    if (bn_index < 0) continue;
    // Action.
    const Node& bn = graph.nodes[bn_index];
    const float epsilon = bn.GetFloat("epsilon", 1e-5f);
    const float* gamma = graph.Initializer(bn.Input(1))->data<float>();
    const float* beta = graph.Initializer(bn.Input(2))->data<float>();
    const float* mean = graph.Initializer(bn.Input(3))->data<float>();
    const float* var = graph.Initializer(bn.Input(4))->data<float>();
    std::vector<float> scale(producer.channels), shift(producer.channels);
    for (int64_t c = 0; c < producer.channels; ++c) {
      if (!(var[c] + epsilon > 0)) {
        return InvalidInput(bn.Describe() + ": variance + epsilon of channel " + std::to_string(c) +
                            " is not positive; the model's BatchNormalization statistics are invalid");
      }
      scale[c] = gamma[c] / std::sqrt(var[c] + epsilon);
      shift[c] = beta[c] - mean[c] * scale[c];
    }
    const std::string bn_out = bn.outputs[0];
    std::vector<std::string> bn_inputs(bn.inputs.begin() + 1, bn.inputs.end());
    ACT_RETURN_IF_ERROR(FoldChannelAffine(graph, static_cast<int>(p), scale, shift));
    const std::string old_out = graph.nodes[p].outputs[0];
    graph.nodes[p].outputs[0] = bn_out;
    graph.RemoveNodes({bn_index});
    for (const auto& name : bn_inputs) {
      if (graph.Consumers(name).empty() && !graph.IsGraphOutput(name)) graph.initializers.erase(name);
    }
    graph.value_info.erase(old_out);  // that value no longer exists
    changed = true;
    if (static_cast<size_t>(bn_index) < p) --p;  // indices shift after the removal
  }
  return changed;
}

}  // namespace act::ir
