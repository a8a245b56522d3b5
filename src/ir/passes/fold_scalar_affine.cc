// fold_scalar_affine — pattern (PP-LCNetV3's learnable affine blocks: hard-swish, then ·a + b):
//   h → Mul | Div | Add | Sub by a scalar constant (a chain of them, each value read only by the next)
//     → t, read only by Convs as their data input (float constant weights, constant or no bias)
//   ⇒ t = a·h + b, the chain composed. Each Conv reads h instead, with W' = a·W (exact: a zero-padded border
//   of a·h is a·0 = 0); b goes into the bias, b'[o] = bias[o] + b·Σ_{i,k} W[o,i,k], when no Conv pads (a
//   padded border would read 0 where the chain gave b). Otherwise one Add(h, b/a) is left for the Convs.
// Why: the chain runs in float between two quantized Convs in ONNX Runtime (a DequantizeLinear, the
// element-wise ops, a QuantizeLinear); on PP-OCRv4 rec removing its 28 Mul/Add pairs took ORT's INT8
// speed-up from 1.46x to 1.63x. Exact up to float rounding; idempotent; returns whether anything changed.
#include <cmath>

#include "ir/passes/pass.h"

namespace act::ir {
namespace {

// Node `index` computes y = x·c, x/c, x + c or x − c with c a scalar float initializer and x a variable;
// sets `x` and the map y = scale·x + shift.
bool ScalarAffine(const Graph& graph, int index, std::string* x, double* scale, double* shift) {
  const Node& n = graph.nodes[index];
  const std::string& t = n.op_type;
  if (!n.domain.empty() || n.inputs.size() != 2 || n.outputs.size() != 1) return false;
  if (t != "Mul" && t != "Div" && t != "Add" && t != "Sub") return false;
  const Tensor* c0 = graph.Initializer(n.inputs[0]);
  const Tensor* c1 = graph.Initializer(n.inputs[1]);
  if ((c0 == nullptr) == (c1 == nullptr)) return false;
  const bool constant_first = c0 != nullptr;
  if (constant_first && (t == "Div" || t == "Sub")) return false;  // c/x and c−x are not affine in x
  const Tensor* c = constant_first ? c0 : c1;
  if (c->dtype() != DType::kFloat32 || c->numel() != 1) return false;
  const double v = c->data<float>()[0];
  *x = constant_first ? n.inputs[1] : n.inputs[0];
  *scale = 1.0;
  *shift = 0.0;
  if (t == "Mul") *scale = v;
  if (t == "Div") {
    if (v == 0.0) return false;
    *scale = 1.0 / v;
  }
  if (t == "Add") *shift = v;
  if (t == "Sub") *shift = -v;
  return true;
}

// A Conv that can read h instead of t = a·h + b: t is its data input only, its weight a float initializer,
// its bias absent or a float initializer with one value per output channel.
bool FoldableConv(const Graph& graph, const Node& n, const std::string& t) {
  if (n.op_type != "Conv" || !n.domain.empty() || n.inputs.empty() || n.inputs[0] != t) return false;
  for (size_t i = 1; i < n.inputs.size(); ++i) {
    if (n.inputs[i] == t) return false;
  }
  const Tensor* w = graph.Initializer(n.Input(1));
  if (!w || w->dtype() != DType::kFloat32 || w->rank() < 3) return false;
  if (!n.Input(2).empty()) {
    const Tensor* b = graph.Initializer(n.Input(2));
    if (!b || b->dtype() != DType::kFloat32 || b->numel() != w->dim(0)) return false;
  }
  return true;
}

bool Unpadded(const Node& n) {
  const std::string auto_pad = n.GetString("auto_pad", "NOTSET");
  if (auto_pad != "NOTSET" && auto_pad != "VALID") return false;
  for (int64_t p : n.GetInts("pads", {})) {
    if (p != 0) return false;
  }
  return true;
}

struct Chain {
  std::vector<int> nodes;  // in order, the first reads h
  std::string h, t;
  double scale = 1.0, shift = 0.0;
  std::vector<int> convs;
};

// The longest chain starting at node `start` whose end is read only by foldable Convs.
bool FindChain(const Graph& graph, int start, Chain* chain) {
  std::string x;
  double s = 1.0, b = 0.0;
  if (!ScalarAffine(graph, start, &x, &s, &b)) return false;
  // Start only where a chain starts: h is not itself the single-reader output of a scalar affine node.
  const int producer = graph.Producer(x);
  std::string unused;
  double u1 = 0, u2 = 0;
  if (producer >= 0 && graph.Consumers(x).size() == 1 && ScalarAffine(graph, producer, &unused, &u1, &u2)) {
    return false;
  }
  chain->h = x;
  chain->nodes = {start};
  chain->scale = s;
  chain->shift = b;
  for (;;) {
    const std::string& out = graph.nodes[chain->nodes.back()].outputs[0];
    if (graph.IsGraphOutput(out)) return false;
    const std::vector<int> readers = graph.Consumers(out);
    std::string next_x;
    if (readers.size() == 1 && ScalarAffine(graph, readers[0], &next_x, &s, &b) && next_x == out) {
      chain->nodes.push_back(readers[0]);
      chain->scale = s * chain->scale;
      chain->shift = s * chain->shift + b;
      continue;
    }
    if (readers.empty()) return false;
    for (int r : readers) {
      if (!FoldableConv(graph, graph.nodes[r], out)) return false;
    }
    chain->t = out;
    chain->convs = readers;
    break;
  }
  return std::isfinite(chain->scale) && std::isfinite(chain->shift) && chain->scale != 0.0;
}

// A float initializer that node `index` alone reads at input `input` (copied when shared), for editing.
Tensor& OwnedCopy(Graph& graph, int index, size_t input, const std::string& suffix) {
  const std::string name = graph.nodes[index].inputs[input];
  const std::string copy = graph.UniqueName(name + suffix);
  // Copy-on-write: ir::Graph copies share tensor storage, so edits always go into a new tensor.
  graph.initializers[copy] = graph.initializers.at(name).Clone();
  graph.nodes[index].inputs[input] = copy;
  return graph.initializers.at(copy);
}

void DropUnreadInitializer(Graph& graph, const std::string& name) {
  if (!name.empty() && graph.initializers.count(name) && graph.Consumers(name).empty() && !graph.IsGraphOutput(name)) {
    graph.initializers.erase(name);
  }
}

Status Fold(Graph& graph, const Chain& chain) {
  bool all_unpadded = true;
  for (int c : chain.convs) all_unpadded &= Unpadded(graph.nodes[c]);
  const bool shift_into_bias = chain.shift == 0.0 || all_unpadded;
  std::string input = chain.h;
  if (!shift_into_bias) {
    // Convs read h + b/a: a·(h + b/a) = a·h + b.
    const std::string constant = graph.UniqueName(chain.t + "_shift");
    graph.initializers[constant] = Tensor::Scalar<float>(static_cast<float>(chain.shift / chain.scale));
    input = graph.UniqueName(chain.t + "_shifted");
    Node add;
    add.op_type = "Add";
    add.name = graph.UniqueName(graph.nodes[chain.nodes.back()].name + "_shift");
    add.inputs = {chain.h, constant};
    add.outputs = {input};
    graph.nodes.push_back(std::move(add));
    graph.RebuildIndex();
  }
  std::vector<std::string> old_inputs;
  for (int c : chain.convs) {
    const std::string old_weight = graph.nodes[c].inputs[1], old_bias = graph.nodes[c].Input(2);
    old_inputs.push_back(old_weight);
    old_inputs.push_back(old_bias);
    Tensor& w = OwnedCopy(graph, c, 1, "_scaled");
    const int64_t outputs = w.dim(0), per = w.numel() / outputs;
    std::vector<float> bias(outputs, 0.0f);
    if (!old_bias.empty()) {
      const float* b = graph.initializers.at(old_bias).data<float>();
      bias.assign(b, b + outputs);
    }
    float* wd = w.data<float>();
    for (int64_t o = 0; o < outputs; ++o) {
      double sum = 0.0;
      for (int64_t i = 0; i < per; ++i) {
        sum += wd[o * per + i];
        wd[o * per + i] = static_cast<float>(chain.scale * wd[o * per + i]);
      }
      if (shift_into_bias) bias[o] = static_cast<float>(bias[o] + chain.shift * sum);
    }
    if (shift_into_bias && (chain.shift != 0.0 || !old_bias.empty())) {
      Node& conv = graph.nodes[c];
      const std::string b_name = graph.UniqueName((conv.name.empty() ? conv.outputs[0] : conv.name) + "_bias");
      graph.initializers[b_name] = Tensor::FromVector<float>({outputs}, bias);
      if (conv.inputs.size() < 3) conv.inputs.resize(3);
      conv.inputs[2] = b_name;
    }
    graph.nodes[c].inputs[0] = input;
  }
  std::vector<std::string> constants;
  for (int n : chain.nodes) {
    for (const std::string& in : graph.nodes[n].inputs) {
      if (graph.Initializer(in)) constants.push_back(in);
    }
    graph.value_info.erase(graph.nodes[n].outputs[0]);
  }
  graph.RemoveNodes(chain.nodes);  // rebuilds the index
  for (const std::string& name : constants) DropUnreadInitializer(graph, name);
  for (const std::string& name : old_inputs) DropUnreadInitializer(graph, name);
  return graph.TopologicalSort();
}

}  // namespace

Expected<bool> FoldScalarAffine(Graph& graph) {
  bool changed = false;
  for (bool again = true; again;) {
    again = false;
    for (size_t p = 0; p < graph.nodes.size(); ++p) {
      Chain chain;
      if (!FindChain(graph, static_cast<int>(p), &chain)) continue;
      bool all_unpadded = true;
      for (int c : chain.convs) all_unpadded &= Unpadded(graph.nodes[c]);
      // One scalar Add standing in for a one-node chain gains nothing.
      if (chain.nodes.size() == 1 && chain.shift != 0.0 && !all_unpadded) continue;
      ACT_RETURN_IF_ERROR(Fold(graph, chain));
      changed = again = true;
      break;
    }
  }
  return changed;
}

}  // namespace act::ir
