// The lowering registry: how each ONNX op (and each `act`-domain training op) becomes libtorch calls.
//
// A lowering is a *builder*: when a Module is built it sees the node once (attributes, constant operands,
// opset), resolves everything that does not change between runs, and returns a Kernel — a closure that
// maps the node's input tensors to its output tensors with ATen calls only. So nothing is re-parsed at run
// time, and every kernel is differentiable wherever ATen is.
//
// Entries are keyed by (domain, op type, opset range) as in ONNX Runtime's kernel table, because an op's
// meaning changed across opsets (Softmax's axis at 13, Squeeze's axes from attribute to input, ...).
// They are listed in explicit Register...() functions (lowering_registry.cc calls them all):
//   RegisterElementwiseLowerings (lowerings_elementwise.cc), RegisterNnLowerings (lowerings_nn.cc),
//   RegisterTensorLowerings (lowerings_tensor.cc), RegisterActLowerings (lowerings_act.cc — the `act`
//   domain: fake quantization, masks; add entries there). RegisterLowering() adds one at run time (tests,
//   experiments) and must be called before the Modules that use it are built.
#pragma once

#include <ATen/ATen.h>

#include <functional>
#include <string>
#include <vector>

#include "act/status.h"
#include "ir/graph.h"

namespace act::exec {

// Runs one node: input tensors (undefined for omitted optional inputs) → output tensors (one per node
// output; trailing optional outputs may be left undefined). May throw (c10::Error or KernelError); the
// Module turns that into a Status naming the node.
using Kernel = std::function<std::vector<at::Tensor>(const std::vector<at::Tensor>& inputs)>;

// A failure detected by a kernel at run time (e.g. a shape operand with an impossible value).
struct KernelError : std::runtime_error {
  using std::runtime_error::runtime_error;
};

// What a lowering builder sees of its node.
class LoweringContext {
 public:
  LoweringContext(const ir::Node& node, int64_t opset, std::vector<const at::Tensor*> constant_inputs)
      : node_(node), opset_(opset), constant_inputs_(std::move(constant_inputs)) {}
  const ir::Node& node() const { return node_; }
  int64_t opset() const { return opset_; }
  size_t num_inputs() const { return node_.inputs.size(); }
  bool HasInput(size_t i) const { return i < node_.inputs.size() && !node_.inputs[i].empty(); }
  // The value of input i when it is known when the Module is built (an initializer that is not a trainable
  // parameter, or a folded constant); nullptr otherwise.
  const at::Tensor* ConstantInput(size_t i) const {
    return i < constant_inputs_.size() ? constant_inputs_[i] : nullptr;
  }
  // An error naming the node, for builders.
  Status Error(const std::string& what) const { return InvalidInput(node_.Describe() + ": " + what); }
  Status UnsupportedError(const std::string& what) const {
    return Unsupported(node_.Describe() + " (opset " + std::to_string(opset_) + "): " + what);
  }

 private:
  const ir::Node& node_;
  int64_t opset_;
  std::vector<const at::Tensor*> constant_inputs_;
};

using LoweringBuilder = Expected<Kernel> (*)(const LoweringContext& ctx);

struct LoweringEntry {
  std::string domain;    // "" for ai.onnx, "act" for our training ops
  std::string op_type;
  int64_t since = 1;     // first opset (of `domain`) this entry handles
  int64_t until = 1000;  // last opset, inclusive
  LoweringBuilder build = nullptr;
};

class LoweringTable {
 public:
  // Fails when an entry with the same domain and op overlaps its opset range.
  Status Add(LoweringEntry entry);
  // The entry for `op_type` at `opset`, or nullptr.
  const LoweringEntry* Find(const std::string& domain, const std::string& op_type, int64_t opset) const;
  const std::vector<LoweringEntry>& entries() const { return entries_; }

 private:
  std::vector<LoweringEntry> entries_;
};

// The registry every Module uses: the built-in ONNX lowerings, the act domain, and anything added with
// RegisterLowering.
const LoweringTable& Lowerings();
Status RegisterLowering(LoweringEntry entry);

// The explicit lists (one per file).
void RegisterElementwiseLowerings(LoweringTable& table);
void RegisterNnLowerings(LoweringTable& table);
void RegisterTensorLowerings(LoweringTable& table);
void RegisterActLowerings(LoweringTable& table);

// ---- helpers shared by the lowering files -----------------------------------------------------------
// Reads a 1-D (or scalar) integer tensor as int64 values.
std::vector<int64_t> ToInt64Vector(const at::Tensor& t);
// ONNX TensorProto data type → ATen scalar type; false when there is none.
bool OnnxDTypeToScalarType(int64_t onnx_dtype, at::ScalarType* out);
// Normalises a possibly negative axis against `rank`; throws KernelError when out of range.
int64_t NormalizeAxis(int64_t axis, int64_t rank, const ir::Node& node);

}  // namespace act::exec
