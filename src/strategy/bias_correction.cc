#include "strategy/bias_correction.h"

#include <algorithm>
#include <cmath>
#include <optional>

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

namespace {
// The dequantized values of a DequantizeLinear reading constant initializers (int8 weight, per-channel
// scale along `axis`, optional zero point), or nullopt when `value` is not written by one.
std::optional<std::vector<float>> DequantizedConstant(const ir::Graph& graph, const std::string& value,
                                                      const Shape& expected_shape) {
  const int p = graph.Producer(value);
  if (p < 0 || graph.nodes[p].op_type != "DequantizeLinear") return std::nullopt;
  const ir::Node& dq = graph.nodes[p];
  const Tensor* q = graph.Initializer(dq.Input(0));
  const Tensor* scale = graph.Initializer(dq.Input(1));
  const Tensor* zp = dq.inputs.size() > 2 && !dq.inputs[2].empty() ? graph.Initializer(dq.Input(2)) : nullptr;
  if (!q || !scale || q->dtype() != DType::kInt8 || scale->dtype() != DType::kFloat32) return std::nullopt;
  if (q->shape() != expected_shape || (zp && zp->dtype() != DType::kInt8)) return std::nullopt;
  const int64_t n = q->numel();
  const int64_t scales = scale->numel();
  int64_t inner = 1;
  if (scales > 1) {
    const int axis = static_cast<int>(dq.GetInt("axis", 1));
    if (axis < 0 || axis >= static_cast<int>(q->rank()) || q->dim(axis) != scales) return std::nullopt;
    for (size_t d = axis + 1; d < q->rank(); ++d) inner *= q->dim(d);
  }
  std::vector<float> out(n);
  for (int64_t i = 0; i < n; ++i) {
    const int64_t c = scales > 1 ? (i / inner) % scales : 0;
    const float z = zp ? static_cast<float>(zp->data<int8_t>()[zp->numel() > 1 ? c : 0]) : 0.0f;
    out[i] = (static_cast<float>(q->data<int8_t>()[i]) - z) * scale->data<float>()[c];
  }
  return out;
}
// For each kernel tap of a 2-D Conv (row-major over the kernel), the fraction of output positions at which
// it reads inside the input rather than the zero padding; 1 for every tap of other ranks.
std::vector<double> TapFractions(const ir::Node& conv, const Tensor& w, const Shape& input) {
  const int64_t taps = w.numel() / (w.dim(0) * w.dim(1));
  std::vector<double> fractions(taps, 1.0);
  if (w.rank() != 4 || input.size() != 4) return fractions;
  const std::vector<int64_t> strides = conv.GetInts("strides", {1, 1});
  const std::vector<int64_t> dilations = conv.GetInts("dilations", {1, 1});
  const std::vector<int64_t> pads = conv.GetInts("pads", {0, 0, 0, 0});
  if (strides.size() != 2 || dilations.size() != 2 || pads.size() != 4) return fractions;
  std::vector<double> axis_fraction[2];
  for (int a = 0; a < 2; ++a) {
    const int64_t size = input[2 + a], k = w.dim(2 + a), s = std::max<int64_t>(1, strides[a]);
    const int64_t d = std::max<int64_t>(1, dilations[a]), begin = pads[a], end = pads[2 + a];
    const int64_t out = (size + begin + end - d * (k - 1) - 1) / s + 1;
    axis_fraction[a].assign(k, 1.0);
    if (out <= 0) continue;
    for (int64_t j = 0; j < k; ++j) {
      int64_t inside = 0;
      for (int64_t o = 0; o < out; ++o) {
        const int64_t at = o * s - begin + j * d;
        if (at >= 0 && at < size) ++inside;
      }
      axis_fraction[a][j] = static_cast<double>(inside) / static_cast<double>(out);
    }
  }
  for (int64_t kh = 0; kh < w.dim(2); ++kh) {
    for (int64_t kw = 0; kw < w.dim(3); ++kw) fractions[kh * w.dim(3) + kw] = axis_fraction[0][kh] * axis_fraction[1][kw];
  }
  return fractions;
}

}  // namespace

Expected<BiasCorrectionResult> CorrectBias(const Quantizer& quantizer, const ir::Graph& quantized,
                                           const ExportSettings& settings, const std::vector<data::Batch>& batches,
                                           int threads, int64_t run_batch) {
  BiasCorrectionResult result;
  result.prepared = quantizer.prepared();
  ir::Graph& graph = result.prepared;

  // A target: a quantized Conv of `quantized` reading DQ(Q(source)) and DQ(int8 weight), with a float
  // weight (and maybe bias) in the prepared graph.
  struct Target {
    std::string node, source;
    std::vector<float> wq;  // dequantized int8 weight as the export wrote it
    std::vector<double> source_sum;
    int64_t source_count = 0;
    Shape input_shape;      // as seen in the first batch (for the border fractions)
  };
  std::vector<Target> targets;
  for (const auto& no : quantizer.node_outputs()) {
    if (settings.skip_nodes.count(no.node)) continue;
    const ir::Node* fnode = nullptr;
    for (const auto& n : graph.nodes) {
      if (n.name == no.node) fnode = &n;
    }
    if (!fnode || fnode->op_type != "Conv") continue;  // Gemm/MatMul: left as they are
    const Tensor* w = graph.Initializer(fnode->Input(1));
    if (!w || w->dtype() != DType::kFloat32 || w->rank() < 3) continue;
    const ir::Node* qnode = nullptr;
    for (const auto& n : quantized.nodes) {
      if (n.name == no.node) qnode = &n;
    }
    if (!qnode || qnode->inputs.size() < 2) continue;
    const int dq = quantized.Producer(qnode->Input(0));
    if (dq < 0 || quantized.nodes[dq].op_type != "DequantizeLinear") continue;
    const int q = quantized.Producer(quantized.nodes[dq].Input(0));
    if (q < 0 || quantized.nodes[q].op_type != "QuantizeLinear") continue;
    auto wq = DequantizedConstant(quantized, qnode->Input(1), w->shape());
    if (!wq) continue;
    targets.push_back({no.node, quantized.nodes[q].Input(0), std::move(*wq), {}, 0, {}});
  }
  if (targets.empty()) return result;

  // One pass of the quantized graph: per-channel means of the float tensor each target's QuantizeLinear reads.
  std::vector<std::string> want;
  for (const auto& t : targets) want.push_back(t.source);
  ACT_ASSIGN_OR_RETURN(auto q_runner, exec::Runner::Create(quantized, {threads}));
  for (size_t bi = 0; bi < batches.size(); ++bi) {
    auto q = RunSplit(*q_runner, batches[bi].inputs, run_batch, want);
    if (!q.ok()) return q.status().WithContext("bias correction, quantized run of batch " + std::to_string(bi));
    for (auto& t : targets) {
      const Tensor& s = q->at(t.source);
      if (s.dtype() != DType::kFloat32 || s.rank() < 2) {
        return Internal("bias correction: the input of '" + t.node + "' is not a float tensor of rank >= 2");
      }
      if (t.input_shape.empty()) t.input_shape = s.shape();
      AccumulateChannelSums(s, 1, &t.source_sum, &t.source_count);
    }
  }

  // b'[c] = b[c] - sum_i (Sq[c,i] - S[c,i]) * mean(x)_i, S[c,i] = sum over the (border-weighted) kernel taps
  // of W[c,i,...] (Sq of the int8 weight), i over the input channels of c's group.
  for (auto& t : targets) {
    ir::Node* node = nullptr;
    for (auto& n : graph.nodes) {
      if (n.name == t.node) node = &n;
    }
    if (!node || t.source_count == 0) continue;
    const Tensor* w = graph.Initializer(node->Input(1));
    const int64_t out_channels = w->dim(0), group_inputs = w->dim(1);
    const int64_t taps = w->numel() / (out_channels * group_inputs);
    const int64_t groups = std::max<int64_t>(1, node->GetInt("group", 1));
    const int64_t in_channels = static_cast<int64_t>(t.source_sum.size());
    if (group_inputs * groups != in_channels || out_channels % groups != 0) continue;
    std::vector<float> bias(out_channels, 0.0f);
    const std::string bias_name = node->Input(2);
    if (!bias_name.empty()) {
      const Tensor* b = graph.Initializer(bias_name);
      if (!b || b->dtype() != DType::kFloat32 || b->numel() != out_channels) continue;
      bias = b->ToVector<float>();
    }
    const std::vector<double> valid = TapFractions(*node, *w, t.input_shape);
    const float* wf = w->data<float>();
    for (int64_t c = 0; c < out_channels; ++c) {
      const int64_t first_input = (c / (out_channels / groups)) * group_inputs;
      double shift = 0;
      for (int64_t i = 0; i < group_inputs; ++i) {
        double sq = 0, sf = 0;
        for (int64_t k = 0; k < taps; ++k) {
          const int64_t at = (c * group_inputs + i) * taps + k;
          sq += t.wq[at] * valid[k];
          sf += wf[at] * valid[k];
        }
        const double mean_x = t.source_sum[first_input + i] / static_cast<double>(t.source_count);
        shift += (sq - sf) * mean_x;
      }
      result.max_abs_shift = std::max(result.max_abs_shift, std::fabs(shift));
      bias[c] -= static_cast<float>(shift);
    }
    // A fresh initializer, so a bias shared with another node is not changed under it.
    const std::string name = graph.UniqueName(node->name + "_bias_corrected");
    graph.initializers[name] = Tensor::FromVector<float>({out_channels}, bias);
    if (node->inputs.size() < 3) node->inputs.resize(3);
    node->inputs[2] = name;
    ++result.corrected_nodes;
  }
  graph.RemoveUnusedInitializers();
  graph.RebuildIndex();
  return result;
}

}  // namespace act::strategy
