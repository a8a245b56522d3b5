#include "quant/qat_export.h"

#include <algorithm>
#include <set>

#include "ir/checker.h"
#include "quant/qat_ops.h"
#include "quant/qdq_scheme.h"

namespace act::quant {
namespace {

Expected<float> ScalarOf(const ir::Graph& g, const std::string& name) {
  const Tensor* t = g.Initializer(name);
  if (t == nullptr || t->dtype() != DType::kFloat32 || t->numel() < 1) {
    return Internal("QAT export: quantizer initializer '" + name + "' is missing or not float");
  }
  return t->data<float>()[0];
}

}  // namespace

Expected<QatExportResult> ExportQat(const ir::Graph& trained, const QatGraphInfo& info, const QatOptions& options) {
  QatExportResult result;
  ir::Graph g = trained;
  std::set<std::string> remove_nodes;
  std::set<std::string> remove_initializers;
  std::vector<ir::Node> added;
  auto rename_input = [&](const std::string& from, const std::string& to) {
    for (auto& n : g.nodes) {
      for (auto& in : n.inputs) if (in == from) in = to;
    }
  };
  auto rename_output = [&](const std::string& from, const std::string& to) {
    for (auto& n : g.nodes) {
      for (auto& out : n.outputs) if (out == from) out = to;
    }
  };
  // 1-2. Activations.
  for (const auto& a : info.activations) {
    ACT_ASSIGN_OR_RETURN(float scale, ScalarOf(g, a.scale));
    ACT_ASSIGN_OR_RETURN(float zp, ScalarOf(g, a.zero_point));
    CalibrationEntry e;
    e.params.scale = std::max(scale, kMinScale);
    e.params.zero_point = static_cast<int32_t>(zp);
    e.params.dtype = options.activation_dtype;
    e.params.bits = options.activation_bits;
    e.min = (static_cast<float>(info.qmin) - zp) * e.params.scale;
    e.max = (static_cast<float>(info.qmax) - zp) * e.params.scale;
    e.algorithm = "qat:" + options.activation_observer;
    result.table.Set(a.tensor, e);
    remove_nodes.insert(a.fq_node);
    remove_initializers.insert(a.scale);
    remove_initializers.insert(a.zero_point);
    if (!a.state.empty()) remove_initializers.insert(a.state);
    bool keep_clip = false;
    float alpha = 0;
    if (!a.pact_node.empty()) {
      ACT_ASSIGN_OR_RETURN(alpha, ScalarOf(g, a.pact_alpha));
      keep_clip = e.min < -alpha || e.max > alpha;
      remove_nodes.insert(a.pact_node);
      remove_initializers.insert(a.pact_alpha);
    }
    // PACT whose learned range the activations exceed stays as a standard Clip(input, -alpha, alpha).
    auto add_clip = [&](const std::string& input, const std::string& output) {
      const std::string lo = g.UniqueName(a.tensor + "_clip_min"), hi = g.UniqueName(a.tensor + "_clip_max");
      g.initializers[lo] = Tensor::Scalar<float>(-alpha);
      g.initializers[hi] = Tensor::Scalar<float>(alpha);
      ir::Node clip;
      clip.op_type = "Clip";
      clip.name = a.pact_node;
      clip.inputs = {input, lo, hi};
      clip.outputs = {output};
      added.push_back(std::move(clip));
      ++result.pact_kept_as_clip;
    };
    if (a.float_value.empty()) {  // graph input: readers read the input again (PACT on an input kept as Clip)
      if (keep_clip) {
        add_clip(a.tensor, a.fq_output);
      } else {
        rename_input(a.fq_output, a.tensor);
      }
      continue;
    }
    if (keep_clip) {
      add_clip(a.float_value, a.tensor);
    } else {
      rename_output(a.float_value, a.tensor);
    }
  }
  // 2b. Followers: the export places the same Q there (with the leader's parameters).
  for (const auto& f : info.followers) {
    remove_nodes.insert(f.fq_node);
    if (f.float_value.empty()) {
      rename_input(f.fq_output, f.tensor);
    } else {
      rename_output(f.float_value, f.tensor);
    }
  }
  // 3. Weights.
  for (const auto& w : info.weights) {
    remove_nodes.insert(w.fq_node);
    remove_initializers.insert(w.scale);
    remove_initializers.insert(w.zero_point);
    rename_input(w.fq_output, w.weight);
  }
  // 3b. Bias roundings: the export quantizes the bias itself (or ORT does, for a float Conv bias).
  for (const auto& b : info.biases) {
    remove_nodes.insert(b.fq_node);
    rename_input(b.fq_output, b.bias);
  }
  // 4. Clean up and export.
  std::vector<int> indices;
  for (size_t i = 0; i < g.nodes.size(); ++i) {
    if (remove_nodes.count(g.nodes[i].name)) indices.push_back(static_cast<int>(i));
  }
  g.RemoveNodes(indices);
  for (auto& n : added) g.AddNode(std::move(n));
  for (const auto& name : remove_initializers) g.initializers.erase(name);
  for (const auto& n : g.nodes) {
    if (n.domain == kActDomain) return Internal("QAT export: " + n.Describe() + " was not converted");
  }
  g.opset_imports.erase(kActDomain);
  g.RebuildIndex();
  ACT_RETURN_IF_ERROR(g.TopologicalSort());
  ACT_RETURN_IF_ERROR(g.Validate());
  result.float_model = g;
  ACT_ASSIGN_OR_RETURN(result.export_result, ir::ExportQdq(g, ToQdqParams(result.table), options.export_options));
  ACT_RETURN_IF_ERROR(ir::CheckModel(g, "the exported QAT model"));
  result.model = std::move(g);
  return result;
}

}  // namespace act::quant
