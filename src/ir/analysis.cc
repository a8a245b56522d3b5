#include "ir/analysis.h"

#include <deque>
#include <set>
#include <unordered_set>

namespace act::ir {
namespace {

// Ops that may sit between the attention MatMuls and the Softmax without changing what the block is.
const std::set<std::string> kScoreOps = {"Div", "Mul", "Add", "Sub", "Where", "Cast", "Dropout", "Identity",
                                         "Reshape", "Transpose", "Softmax"};

// Follows single-input-path ops downstream from node `start` (exclusive) to the first node of type `op`,
// crossing only `through` ops, at most `depth` hops. Returns its index or -1.
int FindDownstream(const Graph& g, int start, const std::string& op, const std::set<std::string>& through,
                   int depth) {
  std::deque<std::pair<int, int>> queue{{start, 0}};
  std::unordered_set<int> seen{start};
  while (!queue.empty()) {
    auto [i, d] = queue.front();
    queue.pop_front();
    if (d >= depth) continue;
    for (const auto& out : g.nodes[i].outputs) {
      for (int c : g.Consumers(out)) {
        if (!seen.insert(c).second) continue;
        if (g.nodes[c].op_type == op) return c;
        if (through.count(g.nodes[c].op_type)) queue.push_back({c, d + 1});
      }
    }
  }
  return -1;
}

// Values the node depends on, up to `depth` producer hops upstream.
std::unordered_set<std::string> Ancestors(const Graph& g, int node, int depth) {
  std::unordered_set<std::string> values;
  std::deque<std::pair<int, int>> queue{{node, 0}};
  while (!queue.empty()) {
    auto [i, d] = queue.front();
    queue.pop_front();
    for (const auto& in : g.nodes[i].inputs) {
      if (in.empty() || !values.insert(in).second) continue;
      int p = g.Producer(in);
      if (p >= 0 && d + 1 < depth) queue.push_back({p, d + 1});
    }
  }
  return values;
}

}  // namespace

std::string ModelTypeName(ModelType type) { return type == ModelType::kTransformer ? "transformer" : "cnn/other"; }

std::vector<AttentionBlock> FindAttentionBlocks(const Graph& g) {
  std::vector<AttentionBlock> blocks;
  for (size_t s = 0; s < g.nodes.size(); ++s) {
    if (g.nodes[s].op_type != "Softmax") continue;
    AttentionBlock b;
    b.softmax = static_cast<int>(s);
    // Upstream: the score MatMul, through scaling and masking ops.
    int cur = static_cast<int>(s);
    for (int hops = 0; hops < 6 && b.score_matmul < 0; ++hops) {
      int next = -1;
      for (const auto& in : g.nodes[cur].inputs) {
        int p = in.empty() ? -1 : g.Producer(in);
        if (p < 0) continue;
        if (g.nodes[p].op_type == "MatMul") { b.score_matmul = p; break; }
        if (kScoreOps.count(g.nodes[p].op_type) && next < 0) next = p;
      }
      if (next < 0) break;
      cur = next;
    }
    if (b.score_matmul < 0) continue;
    b.context_matmul = FindDownstream(g, b.softmax, "MatMul", {"Dropout", "Cast", "Identity"}, 3);
    if (b.context_matmul < 0) continue;
    // Residual: an Add downstream of the context MatMul (through the output projection) whose other input
    // is something the score MatMul depends on.
    const auto ancestors = Ancestors(g, b.score_matmul, 12);
    std::deque<std::pair<int, int>> queue{{b.context_matmul, 0}};
    std::unordered_set<int> seen{b.context_matmul};
    while (!queue.empty() && b.residual_add < 0) {
      auto [i, d] = queue.front();
      queue.pop_front();
      if (d >= 8) continue;
      for (const auto& out : g.nodes[i].outputs) {
        for (int c : g.Consumers(out)) {
          if (!seen.insert(c).second) continue;
          const Node& n = g.nodes[c];
          if (n.op_type == "Add") {
            for (const auto& in : n.inputs) {
              if (in != out && ancestors.count(in) && !g.IsInitializer(in)) b.residual_add = c;
            }
          }
          queue.push_back({c, d + 1});
        }
      }
    }
    if (b.residual_add >= 0) blocks.push_back(b);
  }
  return blocks;
}

ModelType DetectModelType(const Graph& g) {
  return FindAttentionBlocks(g).empty() ? ModelType::kCnn : ModelType::kTransformer;
}

bool IsConstantValue(const Graph& g, const std::string& value) {
  if (g.IsInitializer(value)) return true;
  int p = g.Producer(value);
  return p >= 0 && g.nodes[p].op_type == "Constant";
}

std::vector<int> QuantizableNodes(const Graph& g) {
  std::vector<int> result;
  for (size_t i = 0; i < g.nodes.size(); ++i) {
    const Node& n = g.nodes[i];
    if (!n.domain.empty()) continue;
    if (n.op_type == "Conv" || n.op_type == "ConvTranspose" || n.op_type == "Gemm") {
      result.push_back(static_cast<int>(i));
    } else if (n.op_type == "MatMul" &&
               (IsConstantValue(g, n.Input(0)) || IsConstantValue(g, n.Input(1)))) {
      result.push_back(static_cast<int>(i));
    }
  }
  return result;
}

ConstantNodeStats CountConstantNodes(const Graph& g) {
  ConstantNodeStats stats;
  for (const Node& n : g.nodes) {
    if (n.op_type != "Constant" || !n.domain.empty()) continue;
    ++stats.nodes;
    auto it = n.attributes.find("value");
    if (it == n.attributes.end() || it->second.kind != Attribute::Kind::kTensor) continue;
    const Tensor& t = it->second.t;
    stats.elements += t.numel();
    if ((t.dtype() == DType::kFloat32 || t.dtype() == DType::kFloat16) && t.numel() > 1) {
      ++stats.weight_nodes;
      stats.weight_elements += t.numel();
    }
  }
  return stats;
}

std::map<std::string, int> OpHistogram(const Graph& g) {
  std::map<std::string, int> histogram;
  for (const Node& n : g.nodes) ++histogram[(n.domain.empty() ? "" : n.domain + ".") + n.op_type];
  return histogram;
}

}  // namespace act::ir
