#include "distill/auto_nodes.h"

#include "ir/analysis.h"

namespace act::distill {
namespace {

// The value after an optional bias Add / BatchNormalization that directly and solely consumes `value`.
std::string CompleteLayerOutput(const ir::Graph& g, const std::string& value) {
  const std::vector<int> consumers = g.Consumers(value);
  if (consumers.size() != 1 || g.IsGraphOutput(value)) return value;
  const ir::Node& next = g.nodes[consumers[0]];
  if (next.op_type == "BatchNormalization" && next.Input(0) == value) return next.outputs[0];
  if (next.op_type == "Add") {
    const std::string& other = next.Input(0) == value ? next.Input(1) : next.Input(0);
    if (ir::IsConstantValue(g, other)) return next.outputs[0];
  }
  return value;
}

}  // namespace

std::vector<DistillNode> FindDistillationNodes(const ir::Graph& g) {
  const std::vector<int> weighted_list = ir::QuantizableNodes(g);
  std::vector<bool> weighted(g.nodes.size(), false);
  for (int i : weighted_list) weighted[i] = true;

  // has_weighted_below[i]: some weighted node is reachable downstream of node i (nodes are topologically
  // sorted, so one reverse sweep settles it).
  std::vector<bool> has_weighted_below(g.nodes.size(), false);
  for (int i = static_cast<int>(g.nodes.size()) - 1; i >= 0; --i) {
    for (const auto& out : g.nodes[i].outputs) {
      for (int c : g.Consumers(out)) {
        if (weighted[c] || has_weighted_below[c]) has_weighted_below[i] = true;
      }
    }
  }
  std::vector<DistillNode> result;
  for (int i : weighted_list) {
    if (has_weighted_below[i]) continue;
    const ir::Node& node = g.nodes[i];
    result.push_back({node.name, CompleteLayerOutput(g, node.outputs[0])});
  }
  return result;
}

}  // namespace act::distill
