// Constant(value=T) → initializer T under the Constant's output name.
// Only the `value` attribute (a tensor) is converted; value_float/value_ints… forms are rare in exports and
// stay Constant nodes, which every consumer handles anyway.
#include "ir/passes/pass.h"

namespace act::ir {

Expected<bool> ConstantToInitializer(Graph& graph) {
  std::vector<int> removed;
  for (size_t i = 0; i < graph.nodes.size(); ++i) {
    const Node& node = graph.nodes[i];
    if (node.op_type != "Constant" || !node.domain.empty() || node.outputs.size() != 1) continue;
    auto it = node.attributes.find("value");
    if (it == node.attributes.end() || it->second.kind != Attribute::Kind::kTensor) continue;
    const std::string& out = node.outputs[0];
    if (graph.IsGraphOutput(out)) continue;  // a graph output must stay produced by a node
    graph.initializers[out] = it->second.t;
    graph.value_info.erase(out);
    removed.push_back(static_cast<int>(i));
  }
  if (removed.empty()) return false;
  graph.RemoveNodes(removed);
  return true;
}

}  // namespace act::ir
