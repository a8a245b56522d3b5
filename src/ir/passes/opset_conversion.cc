// convert_opset_13: raises the ai.onnx opset of a model to 13. Models at 13–17 are kept as they are.
//
// Between opsets 7 and 13 most operator versions changed only their type lists (bfloat16, …), which needs
// no rewrite. The ops whose *interface or meaning* changed are rewritten by the adapters in kAdapters:
//   Slice-10        starts/ends/axes attributes → int64 inputs
//   Clip-11         min/max attributes → inputs
//   Pad-11          pads/value attributes → inputs
//   Resize-11       Resize-10 (X, scales) → (X, roi="", scales), asymmetric coordinates, floor rounding
//   Upsample        deprecated at 10 → Resize as above
//   TopK-10         k attribute → input
//   Dropout-12      ratio attribute dropped (inference: identity either way)
//   Softmax/LogSoftmax/Hardmax-13   before 13 they flatten the input to 2-D at `axis`; from 13 they act on one
//                   axis. Same meaning when axis is the last one; otherwise Flatten → op(axis=1) → Reshape.
//   Squeeze/Unsqueeze/Split/ReduceSum-13   axes/split attributes → int64 inputs
// Models below opset 7 (legacy broadcast attributes, Cast with string types) are refused.
// The Softmax family is converted last, after shape inference has run on the otherwise converted graph:
// libonnx 1.12 cannot propagate shapes computed through Shape→Slice-1→Concat at the old opsets, while at 13
// it can, and knowing the rank is what keeps a last-axis Softmax a single node.
#include <functional>
#include <set>

#include "ir/checker.h"
#include "ir/passes/pass.h"

namespace act::ir {
namespace {

constexpr int64_t kTargetOpset = 13;
constexpr int64_t kOldestSupported = 7;

struct Rewriter {
  Graph& graph;
  std::vector<Node> added;  // nodes to insert before the node being converted

  std::string AddInt64Initializer(const std::string& base, const std::vector<int64_t>& values) {
    std::string name = graph.UniqueName(base);
    graph.initializers[name] = Tensor::FromVector<int64_t>({static_cast<int64_t>(values.size())}, values);
    return name;
  }
  std::string AddFloatScalar(const std::string& base, float value) {
    std::string name = graph.UniqueName(base);
    graph.initializers[name] = Tensor::Scalar<float>(value);
    return name;
  }
};

using Adapter = Status (*)(Node& node, Rewriter& rw);

// attribute `key` (ints) → input at position `slot`; leaves inputs as they are when the attribute is absent.
void IntsAttributeToInput(Node& node, Rewriter& rw, const std::string& key, size_t slot) {
  if (!node.HasAttr(key)) return;
  const std::string value = rw.AddInt64Initializer(node.name + "_" + key, node.GetInts(key));
  node.attributes.erase(key);
  if (node.inputs.size() <= slot) node.inputs.resize(slot + 1);
  node.inputs[slot] = value;
}

Status AdaptAxesToInput(Node& node, Rewriter& rw) {
  IntsAttributeToInput(node, rw, "axes", 1);
  return Status::Ok();
}

Status AdaptSplit(Node& node, Rewriter& rw) {
  IntsAttributeToInput(node, rw, "split", 1);
  return Status::Ok();
}

Status AdaptSlice(Node& node, Rewriter& rw) {
  if (!node.HasAttr("starts") || !node.HasAttr("ends")) {
    return InvalidInput("node " + node.Describe() + " (Slice before opset 10) lacks starts/ends attributes");
  }
  const auto starts = node.GetInts("starts"), ends = node.GetInts("ends");
  std::vector<int64_t> axes = node.GetInts("axes");
  if (axes.empty()) for (size_t i = 0; i < starts.size(); ++i) axes.push_back(static_cast<int64_t>(i));
  node.inputs.resize(1);
  node.inputs.push_back(rw.AddInt64Initializer(node.name + "_starts", starts));
  node.inputs.push_back(rw.AddInt64Initializer(node.name + "_ends", ends));
  node.inputs.push_back(rw.AddInt64Initializer(node.name + "_axes", axes));
  node.attributes.clear();
  return Status::Ok();
}

Status AdaptClip(Node& node, Rewriter& rw) {
  // Clip-6 defaults: the float range's limits.
  const float lo = node.GetFloat("min", -3.402823466e38f), hi = node.GetFloat("max", 3.402823466e38f);
  node.inputs.resize(1);
  node.inputs.push_back(rw.AddFloatScalar(node.name + "_min", lo));
  node.inputs.push_back(rw.AddFloatScalar(node.name + "_max", hi));
  node.attributes.erase("min");
  node.attributes.erase("max");
  return Status::Ok();
}

Status AdaptPad(Node& node, Rewriter& rw) {
  const auto pads = node.GetInts("pads", node.GetInts("paddings"));
  const float value = node.GetFloat("value", 0.0f);
  node.inputs.resize(1);
  node.inputs.push_back(rw.AddInt64Initializer(node.name + "_pads", pads));
  node.inputs.push_back(rw.AddFloatScalar(node.name + "_value", value));
  node.attributes.erase("pads");
  node.attributes.erase("paddings");
  node.attributes.erase("value");
  return Status::Ok();
}

// Resize-10 and Upsample-9 (X, scales): nearest uses floor of asymmetric source coordinates.
Status AdaptResize10(Node& node, Rewriter& rw) {
  const std::string mode = node.GetString("mode", "nearest");
  if (node.op_type == "Upsample" && node.HasAttr("scales")) {  // Upsample-7 kept scales as an attribute
    const auto scales = node.GetFloats("scales");
    std::string name = rw.graph.UniqueName(node.name + "_scales");
    rw.graph.initializers[name] = Tensor::FromVector<float>({static_cast<int64_t>(scales.size())}, scales);
    node.inputs.resize(1);
    node.inputs.push_back(name);
    node.attributes.erase("scales");
  }
  if (node.inputs.size() != 2) {
    return InvalidInput("node " + node.Describe() + " should have inputs (X, scales) at this opset");
  }
  node.op_type = "Resize";
  node.inputs = {node.inputs[0], "", node.inputs[1]};
  node.attributes["mode"] = Attribute::String(mode == "bilinear" ? "linear" : mode);
  node.attributes["coordinate_transformation_mode"] = Attribute::String("asymmetric");
  if (mode == "nearest") node.attributes["nearest_mode"] = Attribute::String("floor");
  return Status::Ok();
}

Status AdaptTopK(Node& node, Rewriter& rw) {
  if (!node.HasAttr("k")) return Status::Ok();
  node.inputs.resize(1);
  node.inputs.push_back(rw.AddInt64Initializer(node.name + "_k", {node.GetInt("k", 1)}));
  node.attributes.erase("k");
  return Status::Ok();
}

Status AdaptDropout(Node& node, Rewriter&) {
  node.attributes.erase("ratio");
  node.attributes.erase("is_test");
  return Status::Ok();
}

// Rank of a value, from shape inference or, where libonnx 1.12 gives up (a Reshape whose target shape is
// computed), from the producer: Reshape → length of its shape operand; element-wise ops → the largest
// input rank; MatMul → the larger operand rank; Transpose → its perm. -1 when unknown.
int64_t InferRank(const Graph& g, const std::string& value, int depth = 0) {
  if (std::optional<ValueInfo> info = g.FindValueInfo(value); info && info->shape) {
    return static_cast<int64_t>(info->shape->size());
  }
  const int p = g.Producer(value);
  if (p < 0 || depth > 64) return -1;
  const Node& n = g.nodes[p];
  static const std::set<std::string> kSameRank = {"Relu", "Sigmoid", "Tanh", "Cast", "Clip", "Softmax", "Dropout",
                                                  "Identity", "HardSigmoid", "HardSwish", "Neg", "Sqrt", "Erf",
                                                  "LeakyRelu", "BatchNormalization", "LayerNormalization",
                                                  "MaxPool", "AveragePool", "GlobalAveragePool", "Pad", "Resize", "Slice", "Split"};
  static const std::set<std::string> kBroadcast = {"Add", "Sub", "Mul", "Div", "Pow", "Where", "MatMul", "Max", "Min",
                                                   "Concat"};
  if (n.op_type == "Reshape") {
    std::optional<ValueInfo> shape = g.FindValueInfo(n.Input(1));
    if (shape && shape->shape && shape->shape->size() == 1 && (*shape->shape)[0].known()) return (*shape->shape)[0].value;
    return -1;
  }
  if (n.op_type == "Transpose" && n.HasAttr("perm")) return static_cast<int64_t>(n.GetInts("perm").size());
  if (n.op_type == "Conv" || n.op_type == "ConvTranspose") return InferRank(g, n.Input(1), depth + 1);
  if (n.op_type == "Flatten" || n.op_type == "Gemm") return 2;
  if (n.op_type == "Squeeze" || n.op_type == "Unsqueeze") {
    const Tensor* axes = g.Initializer(n.Input(1));
    const int64_t in = InferRank(g, n.Input(0), depth + 1);
    if (!axes || in < 0) return -1;
    return n.op_type == "Squeeze" ? in - axes->numel() : in + axes->numel();
  }
  if (kSameRank.count(n.op_type)) return InferRank(g, n.Input(0), depth + 1);
  if (kBroadcast.count(n.op_type)) {
    int64_t rank = -1;
    for (const auto& in : n.inputs) {
      if (in.empty()) continue;
      const int64_t r = InferRank(g, in, depth + 1);
      if (r < 0) return -1;
      rank = std::max(rank, r);
    }
    return rank;
  }
  return -1;
}

// Softmax-1/11 on axis a: y = reshape(op(flatten(x, a), axis=1), shape(x)).
Status AdaptSoftmax(Node& node, Rewriter& rw) {
  const int64_t axis = node.GetInt("axis", 1);
  const int64_t rank = InferRank(rw.graph, node.inputs.at(0));
  const bool rank_known = rank >= 0;
  if (axis == -1 || (rank_known && (axis == rank - 1 || axis + rank == rank - 1))) {
    node.attributes["axis"] = Attribute::Int(-1);
    return Status::Ok();
  }
  const std::string x = node.inputs[0], y = node.outputs[0];
  const std::string flat = rw.graph.UniqueName(node.name + "_flat");
  const std::string soft = rw.graph.UniqueName(node.name + "_2d");
  const std::string shape = rw.graph.UniqueName(node.name + "_shape");
  Node flatten;
  flatten.name = rw.graph.UniqueName(node.name + "_flatten");
  flatten.op_type = "Flatten";
  flatten.inputs = {x};
  flatten.outputs = {flat};
  flatten.attributes["axis"] = Attribute::Int(axis);
  Node shape_of;
  shape_of.name = rw.graph.UniqueName(node.name + "_shape_of");
  shape_of.op_type = "Shape";
  shape_of.inputs = {x};
  shape_of.outputs = {shape};
  rw.added.push_back(flatten);
  rw.added.push_back(shape_of);
  // The op itself now runs on the 2-D view; a Reshape after it restores the shape.
  node.inputs[0] = flat;
  node.outputs[0] = soft;
  node.attributes["axis"] = Attribute::Int(1);
  Node reshape;
  reshape.name = rw.graph.UniqueName(node.name + "_restore");
  reshape.op_type = "Reshape";
  reshape.inputs = {soft, shape};
  reshape.outputs = {y};
  rw.added.push_back(std::move(reshape));  // sorted into place by the caller's topological sort
  return Status::Ok();
}

struct AdapterEntry {
  const char* op;
  int64_t changed_at;  // the opset where the new meaning starts; models below it need the adapter
  Adapter adapt;
};

const AdapterEntry kAdapters[] = {
    {"Slice", 10, &AdaptSlice},          {"Clip", 11, &AdaptClip},
    {"Pad", 11, &AdaptPad},              {"Resize", 11, &AdaptResize10},
    {"Upsample", 100, &AdaptResize10},   {"TopK", 10, &AdaptTopK},
    {"Dropout", 12, &AdaptDropout},      {"Softmax", 13, &AdaptSoftmax},
    {"LogSoftmax", 13, &AdaptSoftmax},   {"Hardmax", 13, &AdaptSoftmax},
    {"Squeeze", 13, &AdaptAxesToInput},  {"Unsqueeze", 13, &AdaptAxesToInput},
    {"ReduceSum", 13, &AdaptAxesToInput}, {"Split", 13, &AdaptSplit},
};

}  // namespace

namespace {

bool IsSoftmaxFamily(const Node& node) {
  return node.domain.empty() &&
         (node.op_type == "Softmax" || node.op_type == "LogSoftmax" || node.op_type == "Hardmax");
}

// Applies the adapters to every node that `select` picks, inserting the nodes they add.
Status ApplyAdapters(Graph& graph, int64_t from, bool (*select)(const Node&)) {
  Rewriter rw{graph, {}};
  std::vector<Node> converted;
  converted.reserve(graph.nodes.size());
  // Nodes are copied, not moved: adapters read the rest of the graph (ranks, unique names) while it is rebuilt.
  for (const Node& original : graph.nodes) {
    Node node = original;
    if (node.domain.empty() && select(node)) {
      for (const auto& entry : kAdapters) {
        if (node.op_type == entry.op && from < entry.changed_at) {
          Status s = entry.adapt(node, rw);
          if (!s.ok()) return s.WithContext("converting opset " + std::to_string(from) + " to 13");
          break;
        }
      }
    }
    for (auto& n : rw.added) converted.push_back(std::move(n));
    rw.added.clear();
    converted.push_back(std::move(node));
  }
  graph.nodes = std::move(converted);
  return graph.TopologicalSort();
}

}  // namespace

Expected<bool> ConvertOpsetTo13(Graph& graph) {
  const int64_t from = graph.opset();
  if (from >= kTargetOpset) return false;
  if (from < kOldestSupported) {
    return Unsupported("opset " + std::to_string(from) + " is too old to convert (legacy broadcasting); "
                       "re-export the model at opset 11 or later");
  }
  ACT_RETURN_IF_ERROR(ApplyAdapters(graph, from, [](const Node& n) { return !IsSoftmaxFamily(n); }));
  graph.opset_imports[""] = kTargetOpset;
  graph.ir_version = std::max<int64_t>(graph.ir_version, 7);
  // Best effort: without shapes the Softmax adapter still converts correctly, through Flatten/Reshape.
  (void)InferShapes(graph, "opset conversion");
  ACT_RETURN_IF_ERROR(ApplyAdapters(graph, from, IsSoftmaxFamily));
  return true;
}

}  // namespace act::ir
