// fold_affine — pattern (PaddleOCR exports its BatchNorm this way):
//   P = Conv | ConvTranspose | Gemm (weight and bias constant) → Mul | Add | Sub | Div with a constant that
//   varies along the channel axis only ([C,1,1], [1,C,1,1], [1], scalar …), P's output read by it only
//   ⇒ P with the per-channel map folded into its weights and bias (channel_affine.h):
//      Mul(c): s = c, t = 0;   Div(c): s = 1/c, t = 0 (c ≠ 0);   Add(c): s = 1, t = c;   Sub(x, c): s = 1, t = −c.
//   A chain Conv → Mul → Add folds in two steps (the pass repeats until nothing matches).
// Idempotent; returns whether anything was folded.
#include <cmath>

#include "ir/passes/channel_affine.h"
#include "ir/passes/pass.h"

namespace act::ir {
namespace {

struct AffineMatch {
  int consumer = -1;
  std::vector<float> scale, shift;
};

// Selector for producer `p`.
bool SelectAffine(const Graph& graph, int p, AffineMatch* match) {
  const Node& node = graph.nodes[p];
  auto info = AsChannelProducer(graph, node);
  if (!info) return false;
  const std::string& out = node.outputs[0];
  if (graph.IsGraphOutput(out)) return false;
  const auto consumers = graph.Consumers(out);
  if (consumers.size() != 1) return false;
  const Node& op = graph.nodes[consumers[0]];
  const std::string& t = op.op_type;
  if (!op.domain.empty() || op.inputs.size() != 2 || op.outputs.size() != 1) return false;
  if (t != "Mul" && t != "Add" && t != "Sub" && t != "Div") return false;
  const bool first = op.inputs[0] == out;
  if (!first && op.inputs[1] != out) return false;
  if ((t == "Sub" || t == "Div") && !first) return false;  // c − x and c / x are not affine in x per channel
  const Tensor* constant = graph.Initializer(first ? op.inputs[1] : op.inputs[0]);
  if (!constant) return false;
  auto values = PerChannelValues(*constant, *info);
  if (!values) return false;
  match->consumer = consumers[0];
  match->scale.assign(info->channels, 1.0f);
  match->shift.assign(info->channels, 0.0f);
  for (int64_t c = 0; c < info->channels; ++c) {
    const float v = (*values)[c];
    if (t == "Mul") match->scale[c] = v;
    if (t == "Div") {
      if (v == 0 || !std::isfinite(1.0f / v)) return false;
      match->scale[c] = 1.0f / v;
    }
    if (t == "Add") match->shift[c] = v;
    if (t == "Sub") match->shift[c] = -v;
  }
  return true;
}

}  // namespace

Expected<bool> FoldAffine(Graph& graph) {
  bool changed = false;
  for (bool again = true; again;) {
    again = false;
    for (size_t p = 0; p < graph.nodes.size(); ++p) {
      AffineMatch match;
      if (!SelectAffine(graph, static_cast<int>(p), &match)) continue;
      // Action.
      const Node& op = graph.nodes[match.consumer];
      const std::string new_out = op.outputs[0];
      const std::string constant = op.inputs[0] == graph.nodes[p].outputs[0] ? op.inputs[1] : op.inputs[0];
      ACT_RETURN_IF_ERROR(FoldChannelAffine(graph, static_cast<int>(p), match.scale, match.shift));
      graph.value_info.erase(graph.nodes[p].outputs[0]);
      graph.nodes[p].outputs[0] = new_out;
      graph.RemoveNodes({match.consumer});
      if (graph.Consumers(constant).empty() && !graph.IsGraphOutput(constant)) graph.initializers.erase(constant);
      changed = again = true;
    }
  }
  return changed;
}

}  // namespace act::ir
