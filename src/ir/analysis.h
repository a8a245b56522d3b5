// What a graph is, read off its structure: model type, quantizable nodes, constants, parameter counts.
// The planner, `inspect` and the report all use these answers, so they are computed in one place.
#pragma once

#include <map>
#include <string>
#include <vector>

#include "ir/graph.h"

namespace act::ir {

enum class ModelType { kTransformer, kCnn };
std::string ModelTypeName(ModelType type);  // "transformer" | "cnn/other"

// An attention block: MatMul → (Div/Mul/Add/Where/Cast…) → Softmax → (Dropout/Cast…) → MatMul, whose
// result reaches a residual Add that also reads a value the first MatMul depends on.
struct AttentionBlock {
  int score_matmul = -1;    // node index of the Q·Kᵀ MatMul
  int softmax = -1;
  int context_matmul = -1;  // node index of the probs·V MatMul
  int residual_add = -1;
};
std::vector<AttentionBlock> FindAttentionBlocks(const Graph& graph);
ModelType DetectModelType(const Graph& graph);

// True when the value is an initializer or the output of a Constant node.
bool IsConstantValue(const Graph& graph, const std::string& value);
// Conv, ConvTranspose, Gemm, and MatMul with a constant operand: the nodes INT8 kernels exist for.
std::vector<int> QuantizableNodes(const Graph& graph);

struct ConstantNodeStats {
  int nodes = 0;               // Constant nodes in the graph
  int64_t elements = 0;        // values they hold
  int weight_nodes = 0;        // of those, the ones holding a float tensor with more than one element
  int64_t weight_elements = 0;
};
ConstantNodeStats CountConstantNodes(const Graph& graph);

std::map<std::string, int> OpHistogram(const Graph& graph);

}  // namespace act::ir
