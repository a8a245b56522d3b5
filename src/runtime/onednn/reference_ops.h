// Plain C++ kernels for the ops oneDNN does not cover (shape and data movement, integer arithmetic,
// Q/DQ) and a reference for those it does (element-wise, softmax, reductions). They read and write dense
// row-major buffers, and serve three purposes: running those ops in the plan, folding constant
// sub-graphs while planning (shape computations, weight transforms), and giving the oneDNN kernels a
// reference to be tested against.
//
// Each kernel first computes its outputs' dtypes and shapes — from input shapes and from the data of the
// inputs listed in `shape_inputs` (which must be constants when planning) — then, when `compute` is set,
// the output data. Data-dependent shapes (NonZero and the like) are not supported.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "act/status.h"
#include "ir/graph.h"
#include "runtime/onednn/plan.h"

namespace act::runtime::onednn {

struct RefCall {
  const ir::Node& node;
  int64_t opset;                 // the model's default-domain opset (old forms keep attributes as such)
  const std::vector<View>& in;   // absent optional inputs have dtype kUndefined
  std::vector<View>& out;        // sized to node.outputs; shapes and dtypes are set by the kernel
  bool compute;                  // false: only set output dtypes/shapes (input data may be null)
};

using RefFunction = Status (*)(RefCall& call);

struct RefOpInfo {
  const char* op_type;
  RefFunction run;
  std::vector<int> shape_inputs;  // inputs whose data decides output shapes: must be constant when planning
  bool alias = false;             // output 0 is input 0's buffer with a new shape (Reshape & co): no copy
};

// The table of reference kernels (one entry per op type), and lookup by op type (nullptr when absent).
const std::vector<RefOpInfo>& ReferenceOps();
const RefOpInfo* FindReferenceOp(const std::string& op_type);

// Runs a reference kernel on tensors, allocating the outputs (constant folding, tests).
Expected<std::vector<Tensor>> RunReferenceOp(const ir::Node& node, int64_t opset, const std::vector<Tensor>& inputs);

// Broadcast shape of two shapes by numpy rules; fails when they do not broadcast.
Expected<Shape> BroadcastShapes(const Shape& a, const Shape& b);

}  // namespace act::runtime::onednn
