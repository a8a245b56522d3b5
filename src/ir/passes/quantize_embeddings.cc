#include "ir/passes/quantize_embeddings.h"

#include <algorithm>
#include <cmath>

namespace act::ir {
namespace {

enum class TableUse { kNone, kGathered, kAdded };

// How a rank-2 float initializer of at least `min_elements` is read: every reader a Gather on axis 0 reading
// it as data (a token embedding), or every reader an Add of it to a variable (a position embedding added
// whole, e.g. [sequence, width]); kNone otherwise.
TableUse EmbeddingTableUse(const Graph& graph, const std::string& name, const Tensor& w, int64_t min_elements) {
  if (w.dtype() != DType::kFloat32 || w.shape().size() != 2 || w.numel() < min_elements) return TableUse::kNone;
  if (graph.IsGraphOutput(name)) return TableUse::kNone;
  const std::vector<int> readers = graph.Consumers(name);
  if (readers.empty()) return TableUse::kNone;
  bool gathered = true, added = true;
  for (int i : readers) {
    const Node& n = graph.nodes[i];
    if (!n.domain.empty()) return TableUse::kNone;
    gathered = gathered && n.op_type == "Gather" && n.GetInt("axis", 0) == 0 && n.Input(0) == name &&
               n.Input(1) != name;
    added = added && n.op_type == "Add" && n.inputs.size() == 2 && (n.inputs[0] == name) != (n.inputs[1] == name) &&
            !graph.Initializer(n.inputs[0] == name ? n.inputs[1] : n.inputs[0]);
  }
  return gathered ? TableUse::kGathered : added ? TableUse::kAdded : TableUse::kNone;
}

// Rank of a Gather's output (rank(ids) + 1 for a rank-2 table), or -1 when shape inference did not know it.
int64_t GatherOutputRank(const Graph& graph, const Node& gather) {
  auto ids = graph.FindValueInfo(gather.Input(1));
  if (ids && ids->shape) return static_cast<int64_t>(ids->shape->size()) + 1;
  auto out = graph.FindValueInfo(gather.outputs[0]);
  if (out && out->shape) return static_cast<int64_t>(out->shape->size());
  return -1;
}

}  // namespace

Expected<int> QuantizeEmbeddingTables(Graph& graph, const EmbeddingQuantOptions& options) {
  std::vector<std::pair<std::string, TableUse>> tables;
  for (const auto& [name, w] : graph.initializers) {
    const TableUse use = EmbeddingTableUse(graph, name, w, options.min_elements);
    if (use != TableUse::kNone) tables.emplace_back(name, use);
  }
  for (const auto& [name, use] : tables) {
    const Tensor& w = graph.initializers.at(name);
    const int64_t rows = w.dim(0), cols = w.dim(1);
    bool per_column = true;  // per-axis DequantizeLinear needs the output's last axis
    if (use == TableUse::kGathered) {
      for (int i : graph.Consumers(name)) per_column = per_column && GatherOutputRank(graph, graph.nodes[i]) > 0;
    }

    // s[d] = max_v |W[v, d]| / 127 (one scale for the table when the axis is unknown); q = round(W / s).
    const int64_t scale_count = per_column ? cols : 1;
    std::vector<float> scale(scale_count, 0.0f);
    const float* src = w.data<float>();
    for (int64_t v = 0; v < rows; ++v) {
      for (int64_t d = 0; d < cols; ++d) {
        float& s = scale[per_column ? d : 0];
        s = std::max(s, std::fabs(src[v * cols + d]));
      }
    }
    for (float& s : scale) s = std::max(s / 127.0f, 1e-12f);
    Tensor q(DType::kInt8, {rows, cols});
    int8_t* dst = q.data<int8_t>();
    for (int64_t v = 0; v < rows; ++v) {
      for (int64_t d = 0; d < cols; ++d) {
        const float r = std::nearbyint(src[v * cols + d] / scale[per_column ? d : 0]);
        dst[v * cols + d] = static_cast<int8_t>(std::clamp(r, -127.0f, 127.0f));
      }
    }
    Tensor scale_tensor(DType::kFloat32, per_column ? Shape{cols} : Shape{});
    std::copy(scale.begin(), scale.end(), scale_tensor.data<float>());

    const std::string q_name = graph.UniqueName(name + "_int8");
    const std::string s_name = graph.UniqueName(name + "_scale");
    graph.initializers[q_name] = std::move(q);  // a new tensor: other Graph copies keep the float table
    graph.initializers[s_name] = std::move(scale_tensor);

    if (use == TableUse::kAdded) {
      // One DequantizeLinear in front of the Adds: the whole table is read anyway.
      const std::string table = graph.UniqueName(name + "_dequantized");
      for (int i : graph.Consumers(name)) {
        for (std::string& in : graph.nodes[i].inputs) {
          if (in == name) in = table;
        }
      }
      Node dq;
      dq.name = graph.UniqueName(name + "_dequantize");
      dq.op_type = "DequantizeLinear";
      dq.inputs = {q_name, s_name};  // no zero point: it defaults to 0
      dq.outputs = {table};
      if (per_column) dq.attributes["axis"] = Attribute::Int(1);
      graph.RebuildIndex();  // the Adds were edited in place
      graph.AddNode(std::move(dq));
      graph.initializers.erase(name);
      continue;
    }
    for (int i : graph.Consumers(name)) {
      Node& gather = graph.nodes[i];
      const std::string out = gather.outputs[0];
      const int64_t rank = GatherOutputRank(graph, gather);
      const std::string rows_int8 = graph.UniqueName(out + "_int8");
      gather.inputs[0] = q_name;
      gather.outputs[0] = rows_int8;
      ValueInfo info;
      info.name = rows_int8;
      info.dtype = DType::kInt8;
      if (auto known = graph.FindValueInfo(out)) info.shape = known->shape;
      graph.value_info[rows_int8] = info;
      Node dq;
      dq.name = graph.UniqueName(gather.name.empty() ? out + "_dequantize" : gather.name + "_dequantize");
      dq.op_type = "DequantizeLinear";
      dq.inputs = {rows_int8, s_name};  // no zero point: it defaults to 0
      dq.outputs = {out};
      if (per_column) dq.attributes["axis"] = Attribute::Int(rank - 1);
      graph.RebuildIndex();  // the Gather was edited in place
      graph.AddNode(std::move(dq));
    }
    graph.initializers.erase(name);
  }
  if (!tables.empty()) ACT_RETURN_IF_ERROR(graph.TopologicalSort());
  return static_cast<int>(tables.size());
}

}  // namespace act::ir
