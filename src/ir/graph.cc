#include "ir/graph.h"

#include <algorithm>
#include <queue>
#include <set>
#include <unordered_set>

namespace act::ir {

std::optional<Shape> ValueInfo::StaticShape() const {
  if (!shape) return std::nullopt;
  Shape s;
  for (const Dim& d : *shape) {
    if (!d.known()) return std::nullopt;
    s.push_back(d.value);
  }
  return s;
}

std::string ValueInfo::ShapeString() const {
  if (!shape) return "?";
  std::string s = "[";
  for (size_t i = 0; i < shape->size(); ++i) {
    const Dim& d = (*shape)[i];
    s += (i ? "," : "") + (d.known() ? std::to_string(d.value) : (d.symbol.empty() ? "?" : d.symbol));
  }
  return s + "]";
}

int64_t Node::GetInt(const std::string& key, int64_t fallback) const {
  auto it = attributes.find(key);
  return it == attributes.end() ? fallback : it->second.i;
}
float Node::GetFloat(const std::string& key, float fallback) const {
  auto it = attributes.find(key);
  return it == attributes.end() ? fallback : it->second.f;
}
std::string Node::GetString(const std::string& key, const std::string& fallback) const {
  auto it = attributes.find(key);
  return it == attributes.end() ? fallback : it->second.s;
}
std::vector<int64_t> Node::GetInts(const std::string& key, const std::vector<int64_t>& fallback) const {
  auto it = attributes.find(key);
  return it == attributes.end() ? fallback : it->second.ints;
}
std::vector<float> Node::GetFloats(const std::string& key, const std::vector<float>& fallback) const {
  auto it = attributes.find(key);
  return it == attributes.end() ? fallback : it->second.floats;
}
const std::string& Node::Input(size_t i) const {
  static const std::string kEmpty;
  return i < inputs.size() ? inputs[i] : kEmpty;
}
std::string Node::Describe() const {
  return (domain.empty() ? "" : domain + ".") + op_type + " '" + name + "'";
}

int64_t Graph::opset() const {
  auto it = opset_imports.find("");
  if (it == opset_imports.end()) it = opset_imports.find("ai.onnx");
  return it == opset_imports.end() ? 0 : it->second;
}

bool Graph::IsGraphInput(const std::string& value) const {
  return std::any_of(inputs.begin(), inputs.end(), [&](const ValueInfo& v) { return v.name == value; });
}
bool Graph::IsGraphOutput(const std::string& value) const {
  return std::any_of(outputs.begin(), outputs.end(), [&](const ValueInfo& v) { return v.name == value; });
}

const Tensor* Graph::Initializer(const std::string& value) const {
  auto it = initializers.find(value);
  return it == initializers.end() ? nullptr : &it->second;
}

std::optional<ValueInfo> Graph::FindValueInfo(const std::string& value) const {
  for (const auto& v : inputs) if (v.name == value) return v;
  for (const auto& v : outputs) if (v.name == value && v.dtype != DType::kUndefined) return v;
  if (const Tensor* t = Initializer(value)) {
    ValueInfo info{value, t->dtype(), std::vector<Dim>()};
    for (int64_t d : t->shape()) info.shape->push_back(Dim{d, ""});
    return info;
  }
  auto it = value_info.find(value);
  if (it != value_info.end()) return it->second;
  return std::nullopt;
}

void Graph::RebuildIndex() const {
  producer_.clear();
  consumers_.clear();
  for (size_t i = 0; i < nodes.size(); ++i) {
    for (const auto& out : nodes[i].outputs) if (!out.empty()) producer_[out] = static_cast<int>(i);
    for (const auto& in : nodes[i].inputs) {
      if (in.empty()) continue;
      auto& list = consumers_[in];
      if (list.empty() || list.back() != static_cast<int>(i)) list.push_back(static_cast<int>(i));
    }
  }
  index_valid_ = true;
}

int Graph::Producer(const std::string& value) const {
  EnsureIndex();
  auto it = producer_.find(value);
  return it == producer_.end() ? -1 : it->second;
}

std::vector<int> Graph::Consumers(const std::string& value) const {
  EnsureIndex();
  auto it = consumers_.find(value);
  return it == consumers_.end() ? std::vector<int>() : it->second;
}

Status Graph::TopologicalSort() {
  std::unordered_map<std::string, int> producer;
  for (size_t i = 0; i < nodes.size(); ++i) {
    for (const auto& out : nodes[i].outputs) if (!out.empty()) producer[out] = static_cast<int>(i);
  }
  std::vector<int> pending(nodes.size(), 0);
  std::vector<std::vector<int>> users(nodes.size());
  for (size_t i = 0; i < nodes.size(); ++i) {
    std::set<int> deps;
    for (const auto& in : nodes[i].inputs) {
      if (in.empty()) continue;
      auto it = producer.find(in);
      if (it != producer.end()) deps.insert(it->second);
    }
    pending[i] = static_cast<int>(deps.size());
    for (int d : deps) users[d].push_back(static_cast<int>(i));
  }
  // Min-heap on the original index keeps the existing order where dependencies allow it.
  std::priority_queue<int, std::vector<int>, std::greater<int>> ready;
  for (size_t i = 0; i < nodes.size(); ++i) if (pending[i] == 0) ready.push(static_cast<int>(i));
  std::vector<int> order;
  while (!ready.empty()) {
    int i = ready.top();
    ready.pop();
    order.push_back(i);
    for (int u : users[i]) if (--pending[u] == 0) ready.push(u);
  }
  if (order.size() != nodes.size()) {
    for (size_t i = 0; i < nodes.size(); ++i) {
      if (pending[i] > 0) return InvalidInput("the graph has a cycle through node " + nodes[i].Describe());
    }
  }
  std::vector<Node> sorted;
  sorted.reserve(nodes.size());
  for (int i : order) sorted.push_back(std::move(nodes[i]));
  nodes = std::move(sorted);
  InvalidateIndex();
  return Status::Ok();
}

Status Graph::Validate() const {
  std::unordered_set<std::string> available;
  for (const auto& v : inputs) {
    if (!available.insert(v.name).second) return InvalidInput("graph input '" + v.name + "' is declared twice");
  }
  for (const auto& [name, t] : initializers) available.insert(name);
  std::unordered_set<std::string> node_names;
  std::unordered_map<std::string, const Node*> producers;
  for (const Node& node : nodes) {
    if (!node.name.empty() && !node_names.insert(node.name).second) {
      return InvalidInput("two nodes are named '" + node.name + "' (the second is " + node.Describe() + ")");
    }
    for (const auto& out : node.outputs) {
      if (out.empty()) continue;
      auto [it, inserted] = producers.emplace(out, &node);
      if (!inserted) {
        return InvalidInput("value '" + out + "' is produced twice: by " + it->second->Describe() + " and by " +
                            node.Describe());
      }
      if (IsGraphInput(out) || IsInitializer(out)) {
        return InvalidInput("node " + node.Describe() + " writes '" + out +
                            "', which is already a graph input or initializer");
      }
    }
  }
  for (const Node& node : nodes) {
    for (const auto& in : node.inputs) {
      if (in.empty() || available.count(in)) continue;
      if (!producers.count(in)) {
        return InvalidInput("node " + node.Describe() + " reads '" + in +
                            "', which no node, graph input or initializer provides (dangling input)");
      }
      return InvalidInput("node " + node.Describe() + " reads '" + in + "' before it is produced (nodes are not in topological order)");
    }
    for (const auto& out : node.outputs) if (!out.empty()) available.insert(out);
  }
  for (const auto& v : outputs) {
    if (!available.count(v.name)) return InvalidInput("graph output '" + v.name + "' is produced by nothing");
  }
  return Status::Ok();
}

void Graph::AddNode(Node node) {
  nodes.push_back(std::move(node));
  InvalidateIndex();
}

void Graph::RemoveNodes(const std::vector<int>& indices) {
  std::vector<bool> drop(nodes.size(), false);
  for (int i : indices) drop.at(i) = true;
  std::vector<Node> kept;
  kept.reserve(nodes.size());
  for (size_t i = 0; i < nodes.size(); ++i) if (!drop[i]) kept.push_back(std::move(nodes[i]));
  nodes = std::move(kept);
  InvalidateIndex();
}

void Graph::ReplaceAllUses(const std::string& from, const std::string& to) {
  for (Node& node : nodes) for (auto& in : node.inputs) if (in == from) in = to;
  for (auto& out : outputs) if (out.name == from) out.name = to;
  InvalidateIndex();
}

std::string Graph::UniqueName(const std::string& base) const {
  std::unordered_set<std::string> used;
  for (const auto& v : inputs) used.insert(v.name);
  for (const auto& v : outputs) used.insert(v.name);
  for (const auto& [name, t] : initializers) used.insert(name);
  for (const auto& node : nodes) {
    used.insert(node.name);
    for (const auto& s : node.inputs) used.insert(s);
    for (const auto& s : node.outputs) used.insert(s);
  }
  if (!used.count(base)) return base;
  for (int i = 1;; ++i) {
    std::string candidate = base + "_" + std::to_string(i);
    if (!used.count(candidate)) return candidate;
  }
}

int Graph::RemoveUnusedInitializers() {
  std::unordered_set<std::string> read;
  for (const auto& node : nodes) for (const auto& in : node.inputs) read.insert(in);
  for (const auto& v : outputs) read.insert(v.name);
  int removed = 0;
  for (auto it = initializers.begin(); it != initializers.end();) {
    if (!read.count(it->first)) {
      it = initializers.erase(it);
      ++removed;
    } else {
      ++it;
    }
  }
  return removed;
}

std::map<DType, std::pair<int64_t, int64_t>> Graph::ParameterStats() const {
  std::map<DType, std::pair<int64_t, int64_t>> stats;
  for (const auto& [name, t] : initializers) {
    auto& s = stats[t.dtype()];
    s.first += t.numel();
    s.second += static_cast<int64_t>(t.nbytes());
  }
  return stats;
}

}  // namespace act::ir
