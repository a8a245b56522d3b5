// exec::Runner: runs an ir::Graph on libtorch with act::Tensor in and out. This header does not include
// libtorch, so evaluation, calibration drivers, the CLI and the runtime's reference backend can use the
// executor without paying libtorch's compile cost. The graph is normalised and lowered once in Create;
// Run is inference only (no autograd). Use exec::Module (module.h) for training.
#pragma once

#include <map>
#include <memory>
#include <string>
#include <vector>

#include "act/status.h"
#include "act/tensor.h"
#include "ir/graph.h"

namespace act::exec {

struct RunnerOptions {
  int threads = 0;  // intra-op threads for libtorch; 0 leaves the process setting as it is
  // Raise models below opset 13 with the opset converter (the normal path). false runs them at their own
  // opset through the registry's old-form entries (tests check both paths agree with ONNX Runtime).
  bool convert_opset = true;
};

// Thread-compatible: one Run at a time per Runner.
class Runner {
 public:
  // Accepts a graph as ir::LoadModel returns it (normalised here on a copy) or one already normalised.
  // Fails naming the first node whose op (at its opset) has no lowering.
  static Expected<std::unique_ptr<Runner>> Create(const ir::Graph& graph, const RunnerOptions& options = {});
  ~Runner();

  // Runs the graph; returns the graph outputs plus every value named in `want` (any value name in the
  // graph: intermediates, inputs, initializers). Batch (and other symbolic) dimensions are dynamic.
  // Errors name the input (missing, wrong dtype or shape) or the node that failed.
  Expected<std::map<std::string, Tensor>> Run(const std::map<std::string, Tensor>& inputs,
                                              const std::vector<std::string>& want = {});

  std::vector<std::string> InputNames() const;
  std::vector<std::string> OutputNames() const;

 private:
  struct Impl;
  explicit Runner(std::unique_ptr<Impl> impl);
  std::unique_ptr<Impl> impl_;
};

}  // namespace act::exec
