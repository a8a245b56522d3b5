// The ONNX checker and ONNX shape inference (libonnx), with failures reported by node.
#pragma once

#include "act/status.h"
#include "ir/graph.h"

namespace act::ir {

// Runs onnx::checker::check_model on the graph (serialized in memory). `what` names the model in messages.
Status CheckModel(const Graph& graph, const std::string& what);
// Runs onnx::shape_inference (with data propagation) and stores the inferred dtype/shape of every
// intermediate value in graph.value_info, and of graph outputs that had none. Fails naming the node
// whose inference failed.
Status InferShapes(Graph& graph, const std::string& what);

}  // namespace act::ir
