// Fusing the element-wise nodes after a compute op into oneDNN post-ops.
//
// Starting from the value a kernel produces, AbsorbPostOps follows single-consumer chains and turns
//   Relu, LeakyRelu, Clip, Sigmoid, Tanh, Elu, HardSigmoid, HardSwish        → eltwise post-ops
//   Add/Sub/Mul/Div with a constant scalar                                    → eltwise linear (a·x + b)
//   x · Clip(x + 3, 0, 6) / 6  and  x · HardSigmoid(x) (α = 1/6, β = 1/2)     → eltwise hardswish
//   x · Sigmoid(x)                                                            → eltwise swish
//   Add(x, r) with r already computed and of x's shape (a residual)           → sum post-op (one per chain;
//                                 the kernel's builder copies r into the output buffer before the primitive)
// and marks those nodes consumed. The fused kernel then writes the chain's last value.
#pragma once

#include <string>
#include <vector>

#include <oneapi/dnnl/dnnl.hpp>

#include "runtime/onednn/plan_builder.h"

namespace act::runtime::onednn {

struct PostOp {
  bool binary = false;
  dnnl::algorithm alg = dnnl::algorithm::eltwise_linear;
  float alpha = 0, beta = 0;
  int src1 = -1;                // binary: value id of the second operand
  std::string label;            // op type(s) it replaces, for the profile
  bool sum = false;             // dst += src1 (the residual is copied into dst before the primitive runs)
};

struct PostOpChain {
  std::vector<PostOp> ops;
  std::vector<int> nodes;       // the graph nodes the chain covers
  std::string output;           // name of the value the fused kernel produces
  bool has_binary() const;
  // dnnl::post_ops for a primitive; binary operands must then be passed as
  // DNNL_ARG_ATTR_MULTIPLE_POST_OP(i) | DNNL_ARG_SRC_1 (see BinaryArgs).
  dnnl::post_ops ToDnnl(PlanBuilder& builder) const;
  std::vector<std::pair<int, int>> BinaryArgs() const;  // (dnnl arg, value id)
  std::string Label() const;    // "+Relu+HardSwish"
  int SumSource() const;        // value id of the residual of a sum post-op, or -1
};

// `value` (of shape `shape`) is the output of the kernel being built; `allow_binary` is false for kernels
// that cannot take a binary post-op (standalone eltwise chains).
// With `consume` false nothing is marked consumed (the caller decides, from chain.nodes).
PostOpChain AbsorbPostOps(PlanBuilder& builder, const std::string& value, const Shape& shape, bool allow_binary,
                          bool consume = true);

// oneDNN 2.6.3 fault (checked on its AVX-512 and AVX2 int8 convolutions): in one post-op chain, a second
// eltwise of the same algorithm runs with the first one's alpha/beta (linear(2,0) then linear(81,22)
// computed 4x instead of 162x+22). Chains are therefore kept to distinct eltwise algorithms, or repeats
// with identical parameters.
// Merges the last two ops when both are linear (into one linear) or both clip (into one clip).
void MergeLastEltwise(std::vector<PostOp>* ops);
// True when no eltwise algorithm repeats with different alpha/beta.
bool EltwiseRepresentable(const std::vector<PostOp>& ops);

// Reads a constant scalar float (a one-element tensor); false when `name` is not one.
bool ConstScalar(PlanBuilder& builder, const std::string& name, float* value);

}  // namespace act::runtime::onednn
