#include "strategy/bias_correction.h"

#include <algorithm>
#include <cmath>

#include "exec/runner.h"
#include "strategy/scorer.h"

namespace act::strategy {
namespace {

// Per-channel sums of a float tensor along `axis`.
void AccumulateChannelSums(const Tensor& t, int axis, std::vector<double>* sums, int64_t* count_per_channel) {
  const Shape& s = t.shape();
  const int rank = static_cast<int>(s.size());
  if (axis < 0) axis += rank;
  int64_t outer = 1, inner = 1;
  for (int i = 0; i < axis; ++i) outer *= s[i];
  for (int i = axis + 1; i < rank; ++i) inner *= s[i];
  const int64_t channels = s[axis];
  if (sums->empty()) sums->assign(channels, 0.0);
  const float* p = t.data<float>();
  for (int64_t o = 0; o < outer; ++o) {
    for (int64_t c = 0; c < channels; ++c) {
      const float* row = p + (o * channels + c) * inner;
      double acc = 0;
      for (int64_t i = 0; i < inner; ++i) acc += row[i];
      (*sums)[c] += acc;
    }
  }
  *count_per_channel += outer * inner;
}

}  // namespace

Expected<BiasCorrectionResult> CorrectBias(const Quantizer& quantizer, const ir::Graph& quantized,
                                           const ExportSettings& settings, const std::vector<data::Batch>& batches,
                                           int threads, int64_t run_batch) {
  BiasCorrectionResult result;
  result.prepared = quantizer.prepared();
  ir::Graph& graph = result.prepared;

  struct Target {
    Quantizer::NodeOutput node;
    std::string q_output;  // the node's output in the quantized graph
    std::vector<double> fp32_sum, q_sum;
    int64_t fp32_count = 0, q_count = 0;
  };
  std::vector<Target> targets;
  for (const auto& no : quantizer.node_outputs()) {
    if (settings.skip_nodes.count(no.node)) continue;
    const ir::Node* fnode = nullptr;
    for (const auto& n : graph.nodes) {
      if (n.name == no.node) fnode = &n;
    }
    if (!fnode || (fnode->op_type != "Conv" && fnode->op_type != "Gemm")) continue;
    std::string q_output;
    for (const auto& n : quantized.nodes) {
      if (n.name == no.node && !n.outputs.empty()) q_output = n.outputs[0];
    }
    if (q_output.empty()) continue;
    targets.push_back({no, q_output, {}, {}, 0, 0});
  }
  if (targets.empty()) return result;

  std::vector<std::string> fp32_want, q_want;
  for (const auto& t : targets) {
    fp32_want.push_back(t.node.output);
    q_want.push_back(t.q_output);
  }
  ACT_ASSIGN_OR_RETURN(auto fp32_runner, exec::Runner::Create(graph, {threads}));
  ACT_ASSIGN_OR_RETURN(auto q_runner, exec::Runner::Create(quantized, {threads}));
  for (size_t bi = 0; bi < batches.size(); ++bi) {
    auto f = RunSplit(*fp32_runner, batches[bi].inputs, run_batch, fp32_want);
    if (!f.ok()) return f.status().WithContext("bias correction, FP32 run of batch " + std::to_string(bi));
    auto q = RunSplit(*q_runner, batches[bi].inputs, run_batch, q_want);
    if (!q.ok()) return q.status().WithContext("bias correction, quantized run of batch " + std::to_string(bi));
    for (auto& t : targets) {
      const Tensor& ft = f->at(t.node.output);
      const Tensor& qt = q->at(t.q_output);
      if (ft.dtype() != DType::kFloat32 || qt.dtype() != DType::kFloat32 || ft.shape() != qt.shape()) {
        return Internal("bias correction: outputs of '" + t.node.node + "' differ in dtype or shape");
      }
      AccumulateChannelSums(ft, t.node.channel_axis, &t.fp32_sum, &t.fp32_count);
      AccumulateChannelSums(qt, t.node.channel_axis, &t.q_sum, &t.q_count);
    }
  }

  for (auto& t : targets) {
    const int64_t channels = static_cast<int64_t>(t.fp32_sum.size());
    if (channels == 0 || t.fp32_count == 0) continue;
    const int64_t per_channel = t.fp32_count;  // values seen per channel
    ir::Node* node = nullptr;
    for (auto& n : graph.nodes) {
      if (n.name == t.node.node) node = &n;
    }
    if (!node) continue;
    const std::string bias_name = node->Input(2);
    float divisor = 1.0f;  // Gemm adds beta * C; a bias we add comes with beta := 1
    if (node->op_type == "Gemm" && !bias_name.empty()) {
      divisor = node->GetFloat("beta", 1.0f);
      if (divisor == 0) continue;
    }
    std::vector<float> bias(channels, 0.0f);
    if (!bias_name.empty()) {
      const Tensor* b = graph.Initializer(bias_name);
      if (!b || b->dtype() != DType::kFloat32 || b->numel() != channels) continue;  // broadcast/odd bias: leave it
      bias = b->ToVector<float>();
    }
    for (int64_t c = 0; c < channels; ++c) {
      const double shift = (t.fp32_sum[c] - t.q_sum[c]) / static_cast<double>(per_channel);
      result.max_abs_shift = std::max(result.max_abs_shift, std::fabs(shift));
      bias[c] += static_cast<float>(shift / divisor);
    }
    // A fresh initializer, so a bias shared with another node is not changed under it.
    const std::string name = graph.UniqueName(node->name + "_bias_corrected");
    graph.initializers[name] = Tensor::FromVector<float>({channels}, bias);
    if (node->inputs.size() < 3) node->inputs.resize(3);
    node->inputs[2] = name;
    if (node->op_type == "Gemm" && bias_name.empty()) node->attributes["beta"] = ir::Attribute::Float(1.0f);
    ++result.corrected_nodes;
  }
  graph.RemoveUnusedInitializers();
  graph.RebuildIndex();
  return result;
}

}  // namespace act::strategy
