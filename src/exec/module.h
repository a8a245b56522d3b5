// exec::Module: an ir::Graph compiled into a sequence of libtorch kernels (see lowering.h), differentiable
// end to end. This is the training engine (calibration, distillation, QAT) and the reference executor.
//
// Building a Module:
//   1. normalises a copy of the graph (PrepareGraph: Constant → initializer, opset conversion to 13 when
//      available; lowerings also handle the older opset forms, so a graph the converter cannot raise
//      still runs at its own opset);
//   2. classifies initializers: float weights (Conv/ConvTranspose/Gemm/MatMul operands, norm scale/bias,
//      PRelu slopes, Gather embedding tables, biases added to those outputs) become trainable parameters
//      (requires_grad); everything else is a buffer;
//   3. lowers every node once through the registry (attributes and constant operands resolved here);
//   4. folds nodes whose inputs are all buffers (shape arithmetic on constants) into buffers.
// Forward(inputs, want) then runs the kernels in topological order and returns the graph outputs plus
// every value named in `want`. Batch and other symbolic dimensions stay dynamic. Not thread-safe: one
// Forward at a time per Module.
#pragma once

#include <ATen/ATen.h>

#include <map>
#include <memory>
#include <string>
#include <vector>

#include "act/status.h"
#include "exec/lowering.h"
#include "ir/graph.h"

namespace act::exec {

struct ModuleOptions {
  // Evaluate buffer-only nodes once at build time.
  bool fold_constants = true;
  // Initializers to make trainable in addition to the automatic choice (e.g. a quantizer's scale).
  std::vector<std::string> extra_parameters;
  // Initializers to keep as buffers even when they look like weights.
  std::vector<std::string> frozen;
  // Raise opsets below 13 with ir::ConvertOpsetTo13; false keeps the model's opset (old-form lowerings).
  bool convert_opset = true;
};

// Normalises a copy of `graph` for execution (Constant → initializer, topological order, opset ≥ 13 when
// the converter can). A graph the opset converter refuses keeps its opset: the registry covers old forms.
Expected<ir::Graph> PrepareGraph(const ir::Graph& graph, bool convert_opset = true);

class Module {
 public:
  static Expected<std::unique_ptr<Module>> Create(const ir::Graph& graph, const ModuleOptions& options = {});
  ~Module();

  // Runs the graph. `inputs` must hold every graph input (dtype and known dimensions are checked; errors
  // name the input). Returns the graph outputs and every value named in `want` (inputs, initializers and
  // intermediates alike). Gradients flow to parameters unless the caller holds a NoGradGuard.
  Expected<std::map<std::string, at::Tensor>> Forward(const std::map<std::string, at::Tensor>& inputs,
                                                      const std::vector<std::string>& want = {});

  // Trainable parameters, initializer name → tensor (leaf, requires_grad). Updating them in place (under
  // NoGradGuard) changes what Forward computes.
  const std::map<std::string, at::Tensor>& parameters() const { return parameters_; }
  std::vector<at::Tensor> ParameterList() const;
  // Non-trainable initializers (and folded constants). They share storage with the graph's initializers:
  // never modify them in place.
  const std::map<std::string, at::Tensor>& buffers() const { return buffers_; }
  // Writes the current parameter values into `graph` (initializers, or the value of the Constant node
  // producing that name). Fails naming a parameter it cannot place or whose shape differs.
  Status WriteParametersTo(ir::Graph& graph) const;

  const ir::Graph& graph() const { return graph_; }  // the normalised graph this Module runs
  // Per-op-type wall time (ms, summed over Forward calls since profiling was switched on), for benchmarks.
  void SetProfiling(bool on) { profiling_ = on; profile_.clear(); }
  const std::map<std::string, double>& profile() const { return profile_; }
  std::vector<std::string> InputNames() const;
  std::vector<std::string> OutputNames() const;

 private:
  struct Step;
  Module() = default;
  Status Build(const ModuleOptions& options);

  ir::Graph graph_;
  std::map<std::string, at::Tensor> parameters_;
  std::map<std::string, at::Tensor> buffers_;
  std::vector<Step> steps_;
  std::vector<std::string> slot_names_;           // value slot → name
  std::map<std::string, int> slot_of_;            // name → value slot
  std::vector<std::pair<int, at::Tensor>> constant_slots_;  // filled before each Forward
  std::vector<std::pair<int, ir::ValueInfo>> input_slots_;
  std::vector<int> output_slots_;
  std::vector<int> last_use_;                     // slot → index of the last step that reads it (-1: none)
  bool profiling_ = false;
  std::map<std::string, double> profile_;
};

}  // namespace act::exec
