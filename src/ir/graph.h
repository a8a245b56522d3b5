// ir::Graph: our in-memory ONNX model. Nodes in topological order, value metadata (dtype, shape),
// initializers as act::Tensor, opset imports and model metadata. Loaded from and saved to ONNX protobuf by
// onnx_io.h; graph rewrites (src/ir/passes) edit it in place and report whether they changed it.
#pragma once

#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <unordered_map>
#include <variant>
#include <vector>

#include "act/status.h"
#include "act/tensor.h"

namespace act::ir {

// One dimension of a value's shape: a known size, or a symbol ("batch") / unknown (-1, empty symbol).
struct Dim {
  int64_t value = -1;
  std::string symbol;
  bool known() const { return value >= 0; }
  bool operator==(const Dim& o) const { return value == o.value && symbol == o.symbol; }
};

struct ValueInfo {
  std::string name;
  DType dtype = DType::kUndefined;
  std::optional<std::vector<Dim>> shape;  // nullopt: rank unknown
  // Static shape when every dimension is known.
  std::optional<Shape> StaticShape() const;
  std::string ShapeString() const;         // "[N,3,224,224]", "?" when rank unknown
};

// A node attribute. Sub-graphs (If/Loop/Scan bodies) and other rare kinds are kept as serialized
// AttributeProto bytes in `opaque` so they survive a load/save round trip untouched.
struct Attribute {
  enum class Kind { kInt, kFloat, kString, kTensor, kInts, kFloats, kStrings, kOpaque };
  Kind kind = Kind::kInt;
  int64_t i = 0;
  float f = 0;
  std::string s;  // kString; for kOpaque the serialized AttributeProto
  Tensor t;
  std::vector<int64_t> ints;
  std::vector<float> floats;
  std::vector<std::string> strings;

  static Attribute Int(int64_t v) { Attribute a; a.kind = Kind::kInt; a.i = v; return a; }
  static Attribute Float(float v) { Attribute a; a.kind = Kind::kFloat; a.f = v; return a; }
  static Attribute String(std::string v) { Attribute a; a.kind = Kind::kString; a.s = std::move(v); return a; }
  static Attribute TensorValue(Tensor v) { Attribute a; a.kind = Kind::kTensor; a.t = std::move(v); return a; }
  static Attribute Ints(std::vector<int64_t> v) { Attribute a; a.kind = Kind::kInts; a.ints = std::move(v); return a; }
  static Attribute Floats(std::vector<float> v) { Attribute a; a.kind = Kind::kFloats; a.floats = std::move(v); return a; }
  static Attribute Strings(std::vector<std::string> v) { Attribute a; a.kind = Kind::kStrings; a.strings = std::move(v); return a; }
};

struct Node {
  std::string name;
  std::string op_type;
  std::string domain;                 // "" is the default ONNX domain ("ai.onnx")
  std::vector<std::string> inputs;    // "" marks an omitted optional input
  std::vector<std::string> outputs;
  std::map<std::string, Attribute> attributes;
  std::string doc_string;

  bool HasAttr(const std::string& key) const { return attributes.count(key) > 0; }
  int64_t GetInt(const std::string& key, int64_t fallback) const;
  float GetFloat(const std::string& key, float fallback) const;
  std::string GetString(const std::string& key, const std::string& fallback) const;
  std::vector<int64_t> GetInts(const std::string& key, const std::vector<int64_t>& fallback = {}) const;
  std::vector<float> GetFloats(const std::string& key, const std::vector<float>& fallback = {}) const;
  // The input at `i`, or "" when the node has fewer inputs (optional inputs left out).
  const std::string& Input(size_t i) const;
  // "Conv 'conv1'" — how messages name a node.
  std::string Describe() const;
};

class Graph {
 public:
  // ---- model-level data -------------------------------------------------------------------------------
  std::string name;
  int64_t ir_version = 8;
  std::string producer_name;
  std::string producer_version;
  std::string doc_string;
  std::map<std::string, int64_t> opset_imports;  // domain ("" = ai.onnx) → version
  std::vector<std::pair<std::string, std::string>> metadata_props;

  // ---- graph ------------------------------------------------------------------------------------------
  std::vector<Node> nodes;               // kept in topological order by TopologicalSort()
  std::vector<ValueInfo> inputs;         // graph inputs that are not initializers
  std::vector<ValueInfo> outputs;
  std::map<std::string, Tensor> initializers;
  std::map<std::string, ValueInfo> value_info;  // intermediate values' dtype/shape (from shape inference)

  // Opset of the default domain (0 when not imported).
  int64_t opset() const;
  bool IsInitializer(const std::string& value) const { return initializers.count(value) > 0; }
  bool IsGraphInput(const std::string& value) const;
  bool IsGraphOutput(const std::string& value) const;
  // Tensor behind a value when it is an initializer; nullptr otherwise.
  const Tensor* Initializer(const std::string& value) const;
  // Dtype/shape of any value: graph input/output, initializer or value_info entry.
  std::optional<ValueInfo> FindValueInfo(const std::string& value) const;

  // Index of the node producing `value`, or -1 (graph inputs, initializers). O(1) after an index build.
  int Producer(const std::string& value) const;
  // Indices of nodes that read `value`.
  std::vector<int> Consumers(const std::string& value) const;
  // Rebuild the producer/consumer index; call after editing `nodes` directly. Passes get it for free
  // through the editing helpers below.
  void RebuildIndex() const;

  // Sorts `nodes` topologically (stable: keeps the original order where possible). Fails, naming a node,
  // when a cycle exists or an input is produced by nothing.
  Status TopologicalSort();
  // Checks what our code relies on: every node input is produced by a node, a graph input or an
  // initializer; no value has two producers; names are unique. Messages name the node.
  Status Validate() const;

  // Editing helpers that keep the index valid.
  void AddNode(Node node);
  void RemoveNodes(const std::vector<int>& indices);
  // Renames every use of `from` as a node input or graph output to `to`.
  void ReplaceAllUses(const std::string& from, const std::string& to);
  // A value name not used anywhere in the graph, built from `base`.
  std::string UniqueName(const std::string& base) const;
  // Removes initializers nobody reads. Returns how many were removed.
  int RemoveUnusedInitializers();

  // Total element count and bytes of the initializers, by dtype.
  std::map<DType, std::pair<int64_t, int64_t>> ParameterStats() const;

 private:
  mutable bool index_valid_ = false;
  mutable std::unordered_map<std::string, int> producer_;
  mutable std::unordered_map<std::string, std::vector<int>> consumers_;
  void EnsureIndex() const { if (!index_valid_) RebuildIndex(); }
  void InvalidateIndex() { index_valid_ = false; }
};

}  // namespace act::ir
