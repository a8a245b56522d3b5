// oneDNN lowerings: Conv/ConvTranspose, MatMul/Gemm, pooling, softmax, binary, eltwise, reductions and
// concat as oneDNN primitives, with the element-wise nodes that follow a compute op fused as post-ops
// (post_ops.h). Each entry of DnnlOps() lowers one node (and what it absorbs) or declines (returns false),
// in which case the node runs on its reference kernel.
#pragma once

#include <string>
#include <unordered_map>
#include <utility>
#include <vector>

#include "runtime/onednn/plan.h"
#include "runtime/onednn/plan_builder.h"

namespace act::runtime::onednn {

// One oneDNN primitive and its arguments: value ids (bound to the plan's buffers, optionally seen through
// another memory descriptor of the same bytes) and memories the kernel owns (reordered weights, bias).
class DnnlKernel : public Kernel {
 public:
  dnnl::primitive primitive;
  struct ValueArg {
    int arg;
    int value;
    dnnl::memory::desc view_md;  // zero desc: the value's own md
  };
  std::vector<ValueArg> value_args;
  std::unordered_map<int, dnnl::memory> owned_args;

  void AddInput(int arg, int value, dnnl::memory::desc view = {}) {
    value_args.push_back({arg, value, view});
    reads.push_back(value);
  }
  void AddOutput(int arg, int value, dnnl::memory::desc view = {}) {
    value_args.push_back({arg, value, view});
    writes.push_back(value);
  }
  Status Bind(Plan& plan) override;
  Status Execute(Plan& plan) override;

 private:
  std::unordered_map<int, dnnl::memory> args_;
};

std::unique_ptr<Kernel> MakeReorderKernel(Plan& plan, int src, int dst);

using DnnlBuildFunction = Expected<bool> (*)(PlanBuilder& builder, int node_index);
struct DnnlOpInfo {
  const char* op_type;
  DnnlBuildFunction build;
};
const std::vector<DnnlOpInfo>& DnnlOps();
const DnnlOpInfo* FindDnnlOp(const std::string& op_type);

// Copies a constant into a new oneDNN memory of layout `md` (weights reordered once, when planning).
Expected<dnnl::memory> ReorderConstant(dnnl::engine& engine, const void* data, const dnnl::memory::desc& plain_md,
                                       const dnnl::memory::desc& md);

}  // namespace act::runtime::onednn
