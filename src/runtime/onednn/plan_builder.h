// PlanBuilder: turns a normalized graph plus concrete input shapes into a Plan.
//
// Nodes are visited in topological order. Each is either folded (all inputs known when planning: the
// reference kernel computes it now), lowered to a oneDNN kernel (which may absorb the element-wise nodes
// after it as post-ops and mark them consumed), or run by a reference kernel on plain buffers. Values keep
// the layout their producer chose; a reorder to the plain layout is inserted only where a plain C++ kernel
// (or a graph output) needs one, and shared by all such readers.
#pragma once

#include <array>
#include <map>
#include <memory>
#include <string>
#include <vector>

#include "ir/graph.h"
#include "runtime/onednn/plan.h"

namespace act::runtime::onednn {

class PlanBuilder {
 public:
  // `lower_to_onednn` false: every node runs on its reference kernel (the `reference` backend).
  PlanBuilder(const ir::Graph& graph, Plan& plan, bool lower_to_onednn = true);

  // Builds every node, then adds the plain conversions of graph outputs. Does not Finalize the plan.
  Status Build(const std::map<std::string, Tensor>& inputs);

  const ir::Graph& graph() const { return graph_; }
  int64_t opset() const { return opset_; }
  Plan& plan() { return plan_; }
  dnnl::engine& engine() { return plan_.engine(); }

  // ---- values ----
  // Id of a value already produced (or an initializer, added on first use); error naming it otherwise.
  Expected<int> Id(const std::string& name);
  bool Has(const std::string& name) const;
  // The constant behind a value (initializer or folded), or nullptr.
  const Tensor* Const(const std::string& name);
  Value& V(int id) { return plan_.values[id]; }
  int AddValue(const std::string& name, DType dtype, const Shape& shape, const dnnl::memory::desc& md);
  int AddPlainValue(const std::string& name, DType dtype, const Shape& shape);
  int AddConst(const std::string& name, Tensor tensor);
  // The value in plain row-major layout (a shared reorder is added when it is blocked).
  Expected<int> Plain(int id);
  // The value in layout `md` (a reorder is added when it differs).
  Expected<int> Reordered(int id, const dnnl::memory::desc& md);

  // ---- graph structure ----
  // Nodes not yet consumed that read `value`.
  std::vector<int> Consumers(const std::string& value) const;
  // The single consumer of `value`, or -1 (none, several, or `value` is a graph output).
  int SoleConsumer(const std::string& value) const;
  bool IsGraphOutput(const std::string& value) const { return graph_.IsGraphOutput(value); }
  void Consume(int node_index) { consumed_[node_index] = true; }
  bool Consumed(int node_index) const { return consumed_[node_index]; }
  // Position of the node producing `value` (−1 for inputs and initializers).
  int Producer(const std::string& value) const { return graph_.Producer(value); }

  void AddKernel(std::unique_ptr<Kernel> kernel) { plan_.kernels.push_back(std::move(kernel)); }

  // Runs node `index` with its reference kernel (plain buffers). `inputs`/`outputs` replace the node's
  // value names when given (the INT8 path runs data movement on the quantized tensor instead).
  Status BuildReference(int index, const std::vector<std::string>* inputs = nullptr,
                        const std::vector<std::string>* outputs = nullptr);

  // DequantizeLinear nodes are lowered lazily: an INT8 kernel reading their output takes the quantized
  // input instead, and only a float reader makes the DequantizeLinear run (or fold, for weights).
  void DeferDequantize(int index) { lazy_dq_[graph_.nodes[index].outputs[0]] = index; }
  // The DequantizeLinear node (index) whose output is `value` while it has not run; -1 otherwise.
  int DeferredDequantize(const std::string& value) const {
    auto it = lazy_dq_.find(value);
    return it == lazy_dq_.end() ? -1 : it->second;
  }
  // A float value that is the dequantization of a quantized value the INT8 path produced (data movement
  // run on the quantized tensor): real = scale · (q − zero_point). Materialized on a float read.
  struct QuantizedView {
    std::string quantized;
    float scale = 0;
    int32_t zero_point = 0;
  };
  void DeferView(const std::string& value, QuantizedView view) { views_[value] = std::move(view); }
  const QuantizedView* DeferredView(const std::string& value) const {
    auto it = views_.find(value);
    return it == views_.end() ? nullptr : &it->second;
  }
  // The quantized source of a per-tensor dequantization (deferred DequantizeLinear or view) that a float
  // reader already made run. INT8 readers built after that float reader still take the quantized tensor,
  // so that a quantized value's readers lower the same way whatever the node order (FastestDet's QAT
  // export put a DQ → Pad → AveragePool reader first: the INT8 convolutions after it ran in float and
  // rounded differently from ONNX Runtime's QLinearConv).
  const QuantizedView* MaterializedView(const std::string& value) const {
    auto it = materialized_.find(value);
    return it == materialized_.end() ? nullptr : &it->second;
  }

  // A float value that is a 256-entry table applied to a u8 value the INT8 path produced (an element-wise
  // region ending in float, see TryBuildLut), not yet written: readers that can read the bytes through
  // the table do (table_readers.h); any other reader materializes it (a table lookup kernel, NHWC kept).
  struct TableView {
    std::string quantized;
    std::array<float, 256> table{};
  };
  void DeferTable(const std::string& value, TableView view) { tables_[value] = std::move(view); }
  const TableView* DeferredTable(const std::string& value) const {
    auto it = tables_.find(value);
    return it == tables_.end() ? nullptr : &it->second;
  }

  // Pad(x, zeros on spatial axes) whose only reader is a Conv or an AveragePool is not run: the reader
  // takes x and adds these pads to its own (ONNX order: begins then ends, all axes).
  struct PadFold {
    std::string input;
    std::vector<int64_t> pads;
  };
  const PadFold* FoldedPad(const std::string& value) const {
    auto it = pad_folds_.find(value);
    return it == pad_folds_.end() ? nullptr : &it->second;
  }

 private:
  Status BuildNode(int index);
  Status Fold(int index);
  bool TryFoldPad(int index);

  const ir::Graph& graph_;
  Plan& plan_;
  int64_t opset_;
  bool lower_to_onednn_;
  std::vector<bool> consumed_;
  std::map<int, int> plain_of_;  // value id → id of its plain copy
  std::map<std::string, PadFold> pad_folds_;
  std::map<std::string, int> lazy_dq_;
  std::map<std::string, QuantizedView> views_;
  std::map<std::string, QuantizedView> materialized_;  // see MaterializedView
  std::map<std::string, TableView> tables_;
  Status Materialize(const std::string& value);
};

}  // namespace act::runtime::onednn
