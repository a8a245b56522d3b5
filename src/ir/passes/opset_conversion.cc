// Placeholder until the converter lands: models already at opset 13–17 pass through unchanged.
#include "ir/passes/pass.h"

namespace act::ir {

Expected<bool> ConvertOpsetTo13(Graph& graph) {
  if (graph.opset() >= 13) return false;
  return Unsupported("opset " + std::to_string(graph.opset()) + " to 13 conversion is not implemented yet");
}

}  // namespace act::ir
