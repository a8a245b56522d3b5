// fold_channel_shuffle — pattern (ShuffleNetV2 blocks, as in FastestDet):
//   A = Conv(..)[→Relu], B = Conv(..)[→Relu]                                   (sources)
//   X = Concat(A, B, axis 1) → Reshape → Transpose → Reshape → Gather(0) | Gather(1)   (channel selections)
//   … more Concat(axis 1) and selections, ending in tensors read by other ops (sinks)
// Every tensor of such a region is a list of (source, channel). Selections are found by running the chain
// of data-movement ops (Reshape, Transpose, Gather, Slice, Split, Squeeze, Unsqueeze, Flatten, Identity)
// on an index tensor: an output [N, C', H, W] whose element (n, k, h, w) is X's (n, σ(k), h, w) is
// X's channels σ.
// ⇒ each source Conv's output channels are permuted (new weight and bias initializers: copy-on-write) so
//   that what every sink takes from a source is a contiguous run, in the sink's order; the source is Split
//   into those runs and each sink is the Concat of its runs, written under the sink's name. Sinks keep
//   their channel order, so their readers are unchanged. Exact in FP32: the same values, produced in
//   another order. It removes the NCHW Reshape/Transpose/Gather shuffles which, in ONNX Runtime's NHWC
//   int8 path, force layout transposes between the integer convolutions.
// Regions without a shuffle (only Concat, or Split/Slice already contiguous) are left alone, so the pass is
// idempotent; returns whether anything changed.
#include <algorithm>
#include <functional>
#include <map>
#include <numeric>
#include <optional>
#include <set>

#include "ir/checker.h"
#include "ir/passes/pass.h"

namespace act::ir {
namespace {

bool IsChainOp(const Node& n) {
  static const std::set<std::string> kOps = {"Reshape", "Transpose", "Gather",  "Slice",   "Split",
                                             "Squeeze", "Unsqueeze", "Flatten", "Identity"};
  return n.domain.empty() && kOps.count(n.op_type) > 0;
}

std::optional<Shape> StaticShapeOf(const Graph& graph, const std::string& name) {
  if (name.empty() || graph.IsInitializer(name)) return std::nullopt;
  auto info = graph.FindValueInfo(name);
  if (!info || info->dtype != DType::kFloat32) return std::nullopt;
  return info->StaticShape();
}

bool IsChannelConcat(const Graph& graph, const Node& n) {
  if (!n.domain.empty() || n.op_type != "Concat" || n.outputs.size() != 1) return false;
  auto out = StaticShapeOf(graph, n.outputs[0]);
  if (!out || out->size() != 4) return false;
  const int64_t axis = n.GetInt("axis", 0);
  if (axis != 1 && axis != -3) return false;
  for (const auto& in : n.inputs) {
    auto s = StaticShapeOf(graph, in);
    if (!s || s->size() != 4 || (*s)[0] != (*out)[0] || (*s)[2] != (*out)[2] || (*s)[3] != (*out)[3]) return false;
  }
  return true;
}

std::vector<int64_t> ConstInts(const Graph& graph, const std::string& name, bool* ok) {
  const Tensor* t = graph.Initializer(name);
  if (!t || (t->dtype() != DType::kInt64 && t->dtype() != DType::kInt32)) {
    *ok = false;
    return {};
  }
  std::vector<int64_t> v(t->numel());
  for (int64_t i = 0; i < t->numel(); ++i) v[i] = static_cast<int64_t>(t->ElementAsDouble(i));
  return v;
}

Shape Strides(const Shape& s) {
  Shape st(s.size(), 1);
  for (int i = static_cast<int>(s.size()) - 2; i >= 0; --i) st[i] = st[i + 1] * s[i + 1];
  return st;
}

// An index tensor: idx[i] is the flat index into the chain's start tensor of element i.
struct Indexed {
  Shape shape;
  std::vector<int64_t> idx;
};

// One chain op on index tensors; nullopt when unsupported (non-constant parameters, unknown shapes).
std::optional<std::vector<Indexed>> RunChainOp(const Graph& graph, const Node& n, const Indexed& x) {
  bool ok = true;
  const int64_t rank = static_cast<int64_t>(x.shape.size());
  auto norm_axis = [&](int64_t a, int64_t r) { return a < 0 ? a + r : a; };
  if (n.op_type == "Reshape" || n.op_type == "Flatten" || n.op_type == "Squeeze" || n.op_type == "Unsqueeze" ||
      n.op_type == "Identity") {
    auto info = graph.FindValueInfo(n.outputs[0]);
    if (!info) return std::nullopt;
    auto out = info->StaticShape();
    if (!out || NumElements(*out) != NumElements(x.shape)) return std::nullopt;
    return std::vector<Indexed>{{*out, x.idx}};
  }
  if (n.op_type == "Transpose") {
    std::vector<int64_t> perm = n.GetInts("perm");
    if (perm.empty()) for (int64_t i = rank - 1; i >= 0; --i) perm.push_back(i);
    if (static_cast<int64_t>(perm.size()) != rank) return std::nullopt;
    Shape out(rank);
    for (int64_t i = 0; i < rank; ++i) out[i] = x.shape[perm[i]];
    const Shape in_st = Strides(x.shape), out_st = Strides(out);
    Indexed y{out, std::vector<int64_t>(x.idx.size())};
    for (int64_t o = 0; o < static_cast<int64_t>(y.idx.size()); ++o) {
      int64_t src = 0, rem = o;
      for (int64_t d = 0; d < rank; ++d) {
        src += (rem / out_st[d]) * in_st[perm[d]];
        rem %= out_st[d];
      }
      y.idx[o] = x.idx[src];
    }
    return std::vector<Indexed>{y};
  }
  if (n.op_type == "Gather") {
    const int64_t axis = norm_axis(n.GetInt("axis", 0), rank);
    const Tensor* it = graph.Initializer(n.Input(1));
    std::vector<int64_t> ind = ConstInts(graph, n.Input(1), &ok);
    if (!ok || axis < 0 || axis >= rank) return std::nullopt;
    for (auto& i : ind) i = i < 0 ? i + x.shape[axis] : i;
    Shape out(x.shape.begin(), x.shape.begin() + axis);
    out.insert(out.end(), it->shape().begin(), it->shape().end());
    out.insert(out.end(), x.shape.begin() + axis + 1, x.shape.end());
    int64_t outer = 1, inner = 1;
    for (int64_t d = 0; d < axis; ++d) outer *= x.shape[d];
    for (int64_t d = axis + 1; d < rank; ++d) inner *= x.shape[d];
    Indexed y{out, {}};
    for (int64_t o = 0; o < outer; ++o) {
      for (int64_t k : ind) {
        if (k < 0 || k >= x.shape[axis]) return std::nullopt;
        for (int64_t i = 0; i < inner; ++i) y.idx.push_back(x.idx[(o * x.shape[axis] + k) * inner + i]);
      }
    }
    return std::vector<Indexed>{y};
  }
  // Slice and Split select index ranges per axis: ranges[d] = the source positions kept along axis d.
  auto select = [&](const std::vector<std::vector<int64_t>>& ranges) {
    Shape out(rank);
    for (int64_t d = 0; d < rank; ++d) out[d] = static_cast<int64_t>(ranges[d].size());
    const Shape in_st = Strides(x.shape), out_st = Strides(out);
    Indexed y{out, std::vector<int64_t>(NumElements(out))};
    for (int64_t o = 0; o < static_cast<int64_t>(y.idx.size()); ++o) {
      int64_t src = 0, rem = o;
      for (int64_t d = 0; d < rank; ++d) {
        src += ranges[d][rem / out_st[d]] * in_st[d];
        rem %= out_st[d];
      }
      y.idx[o] = x.idx[src];
    }
    return y;
  };
  auto full = [&]() {
    std::vector<std::vector<int64_t>> r(rank);
    for (int64_t d = 0; d < rank; ++d) {
      r[d].resize(x.shape[d]);
      std::iota(r[d].begin(), r[d].end(), 0);
    }
    return r;
  };
  if (n.op_type == "Slice") {
    std::vector<int64_t> starts = ConstInts(graph, n.Input(1), &ok), ends = ConstInts(graph, n.Input(2), &ok);
    std::vector<int64_t> axes, steps;
    if (!n.Input(3).empty()) axes = ConstInts(graph, n.Input(3), &ok);
    if (!n.Input(4).empty()) steps = ConstInts(graph, n.Input(4), &ok);
    if (!ok || starts.size() != ends.size()) return std::nullopt;
    if (axes.empty()) for (size_t i = 0; i < starts.size(); ++i) axes.push_back(static_cast<int64_t>(i));
    if (steps.empty()) steps.assign(starts.size(), 1);
    auto r = full();
    for (size_t i = 0; i < starts.size(); ++i) {
      const int64_t a = norm_axis(axes[i], rank);
      if (a < 0 || a >= rank || steps[i] == 0) return std::nullopt;
      const int64_t dim = x.shape[a], step = steps[i];
      auto clampi = [&](int64_t v, int64_t lo, int64_t hi) { return std::max(lo, std::min(v, hi)); };
      int64_t s = starts[i] < 0 ? starts[i] + dim : starts[i], e = ends[i] < 0 ? ends[i] + dim : ends[i];
      s = step > 0 ? clampi(s, 0, dim) : clampi(s, 0, dim - 1);
      e = step > 0 ? clampi(e, 0, dim) : clampi(e, -1, dim - 1);
      r[a].clear();
      for (int64_t v = s; step > 0 ? v < e : v > e; v += step) r[a].push_back(v);
    }
    return std::vector<Indexed>{select(r)};
  }
  if (n.op_type == "Split") {
    const int64_t axis = norm_axis(n.GetInt("axis", 0), rank);
    if (axis < 0 || axis >= rank) return std::nullopt;
    std::vector<int64_t> sizes = n.Input(1).empty() ? n.GetInts("split") : ConstInts(graph, n.Input(1), &ok);
    const int64_t parts = static_cast<int64_t>(n.outputs.size());
    if (!ok) return std::nullopt;
    if (sizes.empty()) {
      if (x.shape[axis] % parts != 0) return std::nullopt;
      sizes.assign(parts, x.shape[axis] / parts);
    }
    if (static_cast<int64_t>(sizes.size()) != parts) return std::nullopt;
    std::vector<Indexed> outs;
    int64_t at = 0;
    for (int64_t p = 0; p < parts; ++p) {
      auto r = full();
      r[axis].clear();
      for (int64_t v = 0; v < sizes[p]; ++v) r[axis].push_back(at + v);
      at += sizes[p];
      outs.push_back(select(r));
    }
    if (at != x.shape[axis]) return std::nullopt;
    return outs;
  }
  return std::nullopt;
}

// σ when `y` is a channel selection of a start tensor of shape `x` ([N, C, H, W]), else nullopt.
std::optional<std::vector<int64_t>> AsChannelSelection(const Shape& x, const Indexed& y) {
  if (y.shape.size() != 4 || y.shape[0] != x[0] || y.shape[2] != x[2] || y.shape[3] != x[3]) return std::nullopt;
  const int64_t c = x[1], k = y.shape[1], hw = x[2] * x[3];
  std::vector<int64_t> sigma(k);
  for (int64_t j = 0; j < k; ++j) {
    const int64_t first = y.idx[j * hw];
    if (first % hw != 0 || first / hw >= c) return std::nullopt;
    sigma[j] = first / hw;
  }
  for (int64_t n = 0; n < x[0]; ++n) {
    for (int64_t j = 0; j < k; ++j) {
      for (int64_t p = 0; p < hw; ++p) {
        if (y.idx[(n * k + j) * hw + p] != (n * c + sigma[j]) * hw + p) return std::nullopt;
      }
    }
  }
  return sigma;
}

struct Chain {
  std::vector<int> nodes;                                        // the chain's ops
  std::vector<std::pair<std::string, std::vector<int64_t>>> selections;  // output tensor → σ
  bool contiguous = true;  // only Split/Slice along axis 1 (nothing to fold)
};

// Runs the chain of data-movement ops that starts at node `first` (reading tensor x). Every tensor the
// chain makes is either a channel selection (the chain ends there) or read by chain ops only.
std::optional<Chain> SimulateChain(const Graph& graph, int first, const std::string& x, const Shape& x_shape) {
  if (NumElements(x_shape) > (int64_t{1} << 24)) return std::nullopt;
  Indexed start{x_shape, std::vector<int64_t>(NumElements(x_shape))};
  std::iota(start.idx.begin(), start.idx.end(), 0);
  Chain chain;
  std::map<std::string, Indexed> values = {{x, start}};
  std::vector<int> queue = {first};
  std::set<int> seen = {first};
  while (!queue.empty()) {
    const int i = queue.back();
    queue.pop_back();
    const Node& n = graph.nodes[i];
    auto in = values.find(n.Input(0));
    if (in == values.end()) return std::nullopt;
    auto outs = RunChainOp(graph, n, in->second);
    if (!outs || outs->size() != n.outputs.size()) return std::nullopt;
    chain.nodes.push_back(i);
    if (!((n.op_type == "Split" || n.op_type == "Slice") && in->second.shape.size() == 4)) chain.contiguous = false;
    for (size_t k = 0; k < outs->size(); ++k) {
      const std::string& out = n.outputs[k];
      if (out.empty()) continue;
      if (auto sigma = AsChannelSelection(x_shape, (*outs)[k])) {
        chain.selections.emplace_back(out, *sigma);
        continue;
      }
      if (graph.IsGraphOutput(out)) return std::nullopt;
      for (int c : graph.Consumers(out)) {
        if (!IsChainOp(graph.nodes[c]) || graph.nodes[c].Input(0) != out) return std::nullopt;
        if (seen.insert(c).second) queue.push_back(c);
      }
      values[out] = std::move((*outs)[k]);
    }
  }
  if (chain.selections.empty()) return std::nullopt;
  return chain;
}

struct Channel {
  int source;
  int64_t channel;
  bool operator==(const Channel& o) const { return source == o.source && channel == o.channel; }
};
using Provenance = std::vector<Channel>;

struct Source {
  std::string tensor;
  int64_t channels = 0;
  int owner = -1;  // first region node that read it
};

struct UnionFind {
  std::map<int, int> parent;
  int Find(int a) {
    if (!parent.count(a)) parent[a] = a;
    while (parent[a] != a) a = parent[a] = parent[parent[a]];
    return a;
  }
  void Union(int a, int b) { parent[Find(a)] = Find(b); }
};

// The Conv whose output channels become `tensor` (directly, or through a Relu that alone reads the Conv
// output); -1 when there is none we can permute (grouped conv, non-constant weight or bias).
int PermutableConv(const Graph& graph, const std::string& tensor) {
  int p = graph.Producer(tensor);
  if (p < 0) return -1;
  if (graph.nodes[p].op_type == "Relu" && graph.nodes[p].domain.empty()) {
    const std::string& in = graph.nodes[p].Input(0);
    if (graph.IsGraphOutput(in) || graph.Consumers(in).size() != 1) return -1;
    p = graph.Producer(in);
    if (p < 0) return -1;
  }
  const Node& conv = graph.nodes[p];
  if (conv.op_type != "Conv" || !conv.domain.empty() || conv.GetInt("group", 1) != 1) return -1;
  const Tensor* w = graph.Initializer(conv.Input(1));
  if (!w || w->dtype() != DType::kFloat32 || w->rank() < 3) return -1;
  if (!conv.Input(2).empty()) {
    const Tensor* b = graph.Initializer(conv.Input(2));
    if (!b || b->dtype() != DType::kFloat32 || b->numel() != w->dim(0)) return -1;
  }
  return p;
}

// Rows of `t` (axis 0) reordered: row i of the result is row perm[i] of t.
Tensor PermuteRows(const Tensor& t, const std::vector<int64_t>& perm) {
  Tensor out(t.dtype(), t.shape());
  const int64_t row = t.numel() / t.dim(0);
  const size_t bytes = static_cast<size_t>(row) * DTypeSize(t.dtype());
  const char* src = static_cast<const char*>(t.raw_data());
  char* dst = static_cast<char*>(out.raw_data());
  for (size_t i = 0; i < perm.size(); ++i) std::copy_n(src + perm[i] * bytes, bytes, dst + i * bytes);
  return out;
}

struct Run {
  int source;
  int64_t start, length;
  bool operator<(const Run& o) const { return std::tie(source, start, length) < std::tie(o.source, o.start, o.length); }
};

}  // namespace

Expected<bool> FoldChannelShuffle(Graph& graph) {
  graph.RebuildIndex();
  std::map<std::string, Provenance> prov;
  std::vector<Source> sources;
  std::map<std::string, int> source_of;
  std::map<int, bool> region;  // node index → is a chain op (false: a Concat)
  std::map<int, bool> chain_has_shuffle;
  UnionFind components;

  auto materialized = [&](const std::string& t) {
    if (graph.IsGraphOutput(t)) return true;
    for (int c : graph.Consumers(t)) {
      const Node& n = graph.nodes[c];
      if (!IsChannelConcat(graph, n) && !IsChainOp(n)) return true;
    }
    return false;
  };
  // The provenance node `reader` sees for tensor t: t's own (joining the regions) unless t is kept anyway,
  // in which case t is a source of its own.
  auto provenance_for = [&](const std::string& t, int reader) -> std::optional<Provenance> {
    if (prov.count(t) && !materialized(t)) {
      components.Union(reader, graph.Producer(t));
      return prov.at(t);
    }
    auto shape = StaticShapeOf(graph, t);
    if (!shape || shape->size() != 4) return std::nullopt;
    auto it = source_of.find(t);
    if (it == source_of.end()) {
      it = source_of.emplace(t, static_cast<int>(sources.size())).first;
      sources.push_back(Source{t, (*shape)[1], reader});
    }
    components.Union(reader, sources[it->second].owner);
    Provenance p;
    for (int64_t c = 0; c < (*shape)[1]; ++c) p.push_back({it->second, c});
    return p;
  };

  // 1. Provenance of every Concat(axis 1) output and channel selection, in topological order.
  for (size_t i = 0; i < graph.nodes.size(); ++i) {
    const Node& node = graph.nodes[i];
    if (region.count(static_cast<int>(i))) continue;
    if (IsChannelConcat(graph, node)) {
      Provenance out;
      bool ok = true;
      for (const auto& in : node.inputs) {
        auto p = provenance_for(in, static_cast<int>(i));
        if (!p) { ok = false; break; }
        out.insert(out.end(), p->begin(), p->end());
      }
      if (!ok) continue;
      region[static_cast<int>(i)] = false;
      prov[node.outputs[0]] = std::move(out);
      continue;
    }
    if (!IsChainOp(node)) continue;
    const std::string& x = node.Input(0);
    auto x_shape = StaticShapeOf(graph, x);
    if (!x_shape || x_shape->size() != 4) continue;
    auto chain = SimulateChain(graph, static_cast<int>(i), x, *x_shape);
    if (!chain) continue;
    bool taken = false;
    for (int c : chain->nodes) taken = taken || region.count(c);
    if (taken) continue;
    auto px = provenance_for(x, static_cast<int>(i));
    if (!px) continue;
    for (int c : chain->nodes) {
      region[c] = true;
      components.Union(c, static_cast<int>(i));
    }
    chain_has_shuffle[static_cast<int>(i)] = !chain->contiguous;
    for (const auto& [out, sigma] : chain->selections) {
      Provenance p;
      for (int64_t s : sigma) p.push_back((*px)[s]);
      prov[out] = std::move(p);
    }
  }

  // 2. Regions (connected components) that hold a shuffle.
  std::map<int, std::vector<int>> members;
  for (const auto& [n, is_chain] : region) members[components.Find(n)].push_back(n);
  std::set<int> shuffled;
  for (const auto& [n, s] : chain_has_shuffle) if (s) shuffled.insert(components.Find(n));

  bool changed = false;
  std::vector<int> remove;
  std::vector<Node> added;
  std::set<std::string> orphan_candidates;
  for (const auto& [root, nodes] : members) {
    if (!shuffled.count(root)) continue;
    const std::set<int> in_region(nodes.begin(), nodes.end());
    // Sinks: region outputs read outside the region (or graph outputs), in graph order.
    std::vector<std::string> sinks;
    for (int n : nodes) {
      for (const auto& out : graph.nodes[n].outputs) {
        if (!prov.count(out)) continue;
        bool outside = graph.IsGraphOutput(out);
        for (int c : graph.Consumers(out)) outside = outside || !in_region.count(c);
        if (outside) sinks.push_back(out);
      }
    }
    // Sources of this region and their permutations: channels ordered by (first sink, position there).
    std::map<int, std::vector<int64_t>> order;  // source → channels in their new order
    for (const auto& sink : sinks) {
      for (const Channel& ch : prov.at(sink)) {
        auto& o = order[ch.source];
        if (std::find(o.begin(), o.end(), ch.channel) == o.end()) o.push_back(ch.channel);
      }
    }
    std::map<int, int> conv_of;  // permutable sources → their Conv
    bool ok = true;
    for (auto& [s, o] : order) {
      const Source& src = sources[s];
      for (int64_t c = 0; c < src.channels; ++c) if (std::find(o.begin(), o.end(), c) == o.end()) o.push_back(c);
      std::vector<int64_t> identity(src.channels);
      std::iota(identity.begin(), identity.end(), 0);
      if (o == identity) continue;
      bool inside = !graph.IsGraphOutput(src.tensor) && graph.Producer(src.tensor) >= 0 &&
                    !in_region.count(graph.Producer(src.tensor));
      for (int c : graph.Consumers(src.tensor)) inside = inside && in_region.count(c);
      const int conv = inside ? PermutableConv(graph, src.tensor) : -1;
      if (conv < 0) o = identity;  // kept as it is: its runs may just be shorter
      else conv_of[s] = conv;
    }
    // Runs of each sink: maximal pieces contiguous in a (permuted) source.
    std::map<int, std::vector<int64_t>> position;  // source → new position of each original channel
    for (const auto& [s, o] : order) {
      position[s].resize(o.size());
      for (size_t k = 0; k < o.size(); ++k) position[s][o[k]] = static_cast<int64_t>(k);
    }
    std::map<std::string, std::vector<Run>> sink_runs;
    std::map<int, std::set<Run>> source_runs;
    for (const auto& sink : sinks) {
      std::vector<Run>& runs = sink_runs[sink];
      for (const Channel& ch : prov.at(sink)) {
        const int64_t p = position[ch.source][ch.channel];
        if (!runs.empty() && runs.back().source == ch.source && runs.back().start + runs.back().length == p) {
          ++runs.back().length;
        } else {
          runs.push_back({ch.source, p, 1});
        }
      }
      if (runs.size() > 16) ok = false;
    }
    if (!ok) continue;
    for (const auto& [sink, runs] : sink_runs) for (const Run& r : runs) source_runs[r.source].insert(r);

    // 3. Rewrite: permuted Conv weights, Split/Slice of each source into its runs, a Concat per sink.
    std::map<Run, std::string> run_tensor;
    for (const auto& [s, runs] : source_runs) {
      const Source& src = sources[s];
      if (conv_of.count(s)) {
        Node& conv = graph.nodes[conv_of.at(s)];
        orphan_candidates.insert(conv.Input(1));
        orphan_candidates.insert(conv.Input(2));
        const std::string w_name = graph.UniqueName(conv.Input(1) + "_perm");
        graph.initializers[w_name] = PermuteRows(*graph.Initializer(conv.Input(1)), order.at(s));
        conv.inputs[1] = w_name;
        if (!conv.Input(2).empty()) {
          const std::string b_name = graph.UniqueName(conv.Input(2) + "_perm");
          graph.initializers[b_name] = PermuteRows(*graph.Initializer(conv.Input(2)), order.at(s));
          conv.inputs[2] = b_name;
        }
        graph.RebuildIndex();
      }
      // Runs that tile the source in order become one Split; otherwise one Slice each.
      bool tiles = true;
      int64_t at = 0;
      for (const Run& r : runs) {
        tiles = tiles && r.start == at;
        at = r.start + r.length;
      }
      tiles = tiles && at == src.channels;
      if (tiles && runs.size() == 1) {
        run_tensor[*runs.begin()] = src.tensor;
        continue;
      }
      if (tiles) {
        Node split;
        split.op_type = "Split";
        split.name = graph.UniqueName(src.tensor + "_split");
        split.attributes["axis"] = Attribute::Int(1);
        std::vector<int64_t> sizes;
        for (const Run& r : runs) {
          sizes.push_back(r.length);
          run_tensor[r] = graph.UniqueName(src.tensor + "_c" + std::to_string(r.start));
          split.outputs.push_back(run_tensor[r]);
        }
        const std::string sizes_name = graph.UniqueName(src.tensor + "_split_sizes");
        graph.initializers[sizes_name] = Tensor::FromVector<int64_t>({static_cast<int64_t>(sizes.size())}, sizes);
        split.inputs = {src.tensor, sizes_name};
        added.push_back(std::move(split));
        continue;
      }
      for (const Run& r : runs) {
        Node slice;
        slice.op_type = "Slice";
        slice.name = graph.UniqueName(src.tensor + "_slice" + std::to_string(r.start));
        run_tensor[r] = graph.UniqueName(src.tensor + "_c" + std::to_string(r.start));
        const std::string starts = graph.UniqueName(slice.name + "_starts"), ends = graph.UniqueName(slice.name + "_ends"),
                          axes = graph.UniqueName(slice.name + "_axes");
        graph.initializers[starts] = Tensor::FromVector<int64_t>({1}, {r.start});
        graph.initializers[ends] = Tensor::FromVector<int64_t>({1}, {r.start + r.length});
        graph.initializers[axes] = Tensor::FromVector<int64_t>({1}, {1});
        slice.inputs = {src.tensor, starts, ends, axes};
        slice.outputs = {run_tensor[r]};
        added.push_back(std::move(slice));
      }
    }
    for (const auto& sink : sinks) {
      const auto& runs = sink_runs.at(sink);
      Node concat;
      concat.op_type = runs.size() == 1 ? "Identity" : "Concat";
      concat.name = graph.UniqueName(sink + "_concat");
      if (runs.size() > 1) concat.attributes["axis"] = Attribute::Int(1);
      for (const Run& r : runs) concat.inputs.push_back(run_tensor.at(r));
      concat.outputs = {sink};
      added.push_back(std::move(concat));
    }
    for (int n : nodes) {
      remove.push_back(n);
      for (const auto& in : graph.nodes[n].inputs) orphan_candidates.insert(in);
      for (const auto& out : graph.nodes[n].outputs) {
        if (std::find(sinks.begin(), sinks.end(), out) == sinks.end()) graph.value_info.erase(out);
      }
    }
    changed = true;
  }
  if (!changed) return false;
  // A single-run sink that is exactly a Split output: let the Split write the sink's name directly.
  std::map<std::string, std::string> rename;
  for (auto it = added.begin(); it != added.end();) {
    if (it->op_type == "Identity" && it->inputs.size() == 1) {
      bool from_split = false;
      for (auto& n : added) {
        if (n.op_type != "Split" && n.op_type != "Slice") continue;
        for (auto& out : n.outputs) {
          if (out == it->inputs[0] && !from_split) {
            int uses = 0;
            for (const auto& m : added) for (const auto& in : m.inputs) uses += in == out;
            if (uses == 1) {
              out = it->outputs[0];
              from_split = true;
            }
          }
        }
      }
      if (from_split) { it = added.erase(it); continue; }
    }
    ++it;
  }
  graph.RemoveNodes(remove);
  for (auto& n : added) graph.AddNode(std::move(n));
  for (const auto& name : orphan_candidates) {
    if (graph.IsInitializer(name) && graph.Consumers(name).empty() && !graph.IsGraphOutput(name)) {
      graph.initializers.erase(name);
    }
  }
  ACT_RETURN_IF_ERROR(graph.TopologicalSort().WithContext("fold_channel_shuffle"));
  ACT_RETURN_IF_ERROR(InferShapes(graph, "fold_channel_shuffle"));
  return true;
}

}  // namespace act::ir
