#include "runtime/onednn/int8_lowering.h"

#include <algorithm>
#include <cmath>

#include "runtime/onednn/dnnl_kernels.h"
#include "runtime/onednn/post_ops.h"

namespace act::runtime::onednn {
namespace {

using dnnl::algorithm;
using dnnl::memory;
using dnnl::prop_kind;
using tag = dnnl::memory::format_tag;

// Per-tensor parameters of a QuantizeLinear / DequantizeLinear node: real = scale · (q − zero_point).
struct QParams {
  float scale = 0;
  int32_t zero_point = 0;
  DType dtype = DType::kUInt8;
  bool operator==(const QParams& o) const {
    return zero_point == o.zero_point && dtype == o.dtype && std::abs(scale - o.scale) <= 1e-6f * std::abs(o.scale);
  }
};

bool PerTensorParams(PlanBuilder& b, const ir::Node& node, QParams* p) {
  const Tensor* scale = b.Const(node.Input(1));
  if (!scale || scale->numel() != 1 || scale->dtype() != DType::kFloat32) return false;
  p->scale = scale->data<float>()[0];
  if (!(p->scale > 0)) return false;
  p->zero_point = 0;
  p->dtype = DType::kUInt8;
  if (!node.Input(2).empty()) {
    const Tensor* zp = b.Const(node.Input(2));
    if (!zp || zp->numel() != 1 || (zp->dtype() != DType::kUInt8 && zp->dtype() != DType::kInt8)) return false;
    p->zero_point = static_cast<int32_t>(zp->ElementAsDouble(0));
    p->dtype = zp->dtype();
  }
  return true;
}

// `value` is the output of a deferred DequantizeLinear of a per-tensor quantized activation: its
// quantized value's id and parameters.
bool QuantizedActivation(PlanBuilder& b, const std::string& value, int* id, QParams* p) {
  const int dq = b.DeferredDequantize(value);
  if (dq < 0) return false;
  const ir::Node& node = b.graph().nodes[dq];
  if (b.Const(node.inputs[0]) || !PerTensorParams(b, node, p)) return false;
  Expected<int> q = b.Id(node.inputs[0]);
  if (!q.ok() || b.V(*q).dtype != p->dtype) return false;
  *id = *q;
  return true;
}

// `value` is the output of a deferred DequantizeLinear of constant symmetric int8 weights, per tensor or
// per channel along `axis`: the int8 tensor and one scale per channel (`channels` of them).
bool QuantizedWeights(PlanBuilder& b, const std::string& value, int64_t axis, int64_t channels, const Tensor** q,
                      std::vector<float>* scales) {
  const int dq = b.DeferredDequantize(value);
  if (dq < 0) return false;
  const ir::Node& node = b.graph().nodes[dq];
  const Tensor* w = b.Const(node.inputs[0]);
  const Tensor* s = b.Const(node.Input(1));
  if (!w || !s || w->dtype() != DType::kInt8 || s->dtype() != DType::kFloat32) return false;
  if (!node.Input(2).empty()) {
    const Tensor* zp = b.Const(node.Input(2));
    if (!zp) return false;
    for (int64_t i = 0; i < zp->numel(); ++i) if (zp->ElementAsDouble(i) != 0) return false;
  }
  if (s->numel() == 1) {
    scales->assign(channels, s->data<float>()[0]);
  } else {
    int64_t a = node.GetInt("axis", 1);
    if (a < 0) a += w->rank();
    if (a != axis || s->numel() != channels) return false;
    scales->assign(s->data<float>(), s->data<float>() + channels);
  }
  *q = w;
  return true;
}

// The QuantizeLinear reading `value` alone, with per-tensor parameters; -1 when there is none.
int QuantizeAfter(PlanBuilder& b, const std::string& value, QParams* p) {
  const int ci = b.SoleConsumer(value);
  if (ci < 0) return -1;
  const ir::Node& q = b.graph().nodes[ci];
  if (q.op_type != "QuantizeLinear" || q.inputs[0] != value || !PerTensorParams(b, q, p)) return -1;
  return ci;
}

// Output side of an INT8 compute kernel: the element-wise chain (in real units), and the QuantizeLinear
// that ends it when there is one. oneDNN computes
//   dst = saturate(zero_point_y + post_ops(output_scale[o] · (Σ (x_q − zp_x)·w_q + bias_acc[o])))
// with output_scale[o] = s_x·s_w[o] (real units) and, when quantized, a last linear post-op 1/s_y.
struct Int8Output {
  PostOpChain chain;
  bool quantized = false;
  QParams q;
  std::string name;
};

Int8Output MatchOutput(PlanBuilder& b, const std::string& value, const Shape& shape) {
  Int8Output out;
  out.chain = AbsorbPostOps(b, value, shape, false);
  out.name = out.chain.output;
  const int qi = QuantizeAfter(b, out.chain.output, &out.q);
  if (qi >= 0) {
    b.Consume(qi);
    out.quantized = true;
    out.name = b.graph().nodes[qi].outputs[0];
  }
  return out;
}

dnnl::primitive_attr MakeAttr(PlanBuilder& b, const Int8Output& out, const std::vector<float>& scales, int mask,
                              int32_t src_zero_point) {
  dnnl::primitive_attr attr;
  attr.set_output_scales(mask, scales);
  if (src_zero_point != 0) attr.set_zero_points(DNNL_ARG_SRC, 0, {src_zero_point});
  dnnl::post_ops po = out.chain.ToDnnl(b);
  if (out.quantized) {
    po.append_eltwise(1.f, algorithm::eltwise_linear, 1.f / out.q.scale, 0.f);
    if (out.q.zero_point != 0) attr.set_zero_points(DNNL_ARG_DST, 0, {out.q.zero_point});
  }
  attr.set_post_ops(po);
  return attr;
}

memory::data_type OutType(const Int8Output& out) {
  return out.quantized ? ToDnnl(out.q.dtype) : memory::data_type::f32;
}

int AddOutputValue(PlanBuilder& b, const Int8Output& out, const Shape& shape, const memory::desc& md) {
  const int id = b.AddValue(out.name, out.quantized ? out.q.dtype : DType::kFloat32, shape, md);
  if (out.quantized) b.V(id).quant = {out.q.scale, out.q.zero_point};
  return id;
}

std::string Label(const std::string& op, const Int8Output& out) {
  return op + "(int8)" + out.chain.Label() + (out.quantized ? "+Quantize" : "");
}

// ---- DQ(x), DQ(w), [DQ(b)] → Conv → [element-wise] → [Q] -----------------------------------------------

Expected<bool> BuildConvInt8(PlanBuilder& b, int index) {
  const ir::Node& node = b.graph().nodes[index];
  int x = -1;
  QParams xq;
  if (!QuantizedActivation(b, node.inputs[0], &x, &xq)) return false;
  const Shape xs = b.V(x).shape;
  if (xs.size() != 4) return false;
  const int64_t group = node.GetInt("group", 1);
  const int dq_w = b.DeferredDequantize(node.Input(1));
  if (dq_w < 0) return false;
  const Tensor* wshape_probe = b.Const(b.graph().nodes[dq_w].inputs[0]);
  if (!wshape_probe || wshape_probe->rank() != 4) return false;
  const int64_t O = wshape_probe->dim(0), C = xs[1];
  if (wshape_probe->dim(1) * group != C) return false;
  const Tensor* wq = nullptr;
  std::vector<float> ws;
  if (!QuantizedWeights(b, node.Input(1), 0, O, &wq, &ws)) return false;
  std::vector<float> bias_acc(O, 0.f);
  if (!node.Input(2).empty()) {
    const Tensor* bias = b.Const(node.Input(2));  // folds its DequantizeLinear
    if (!bias || bias->dtype() != DType::kFloat32 || bias->numel() != O) return false;
    for (int64_t o = 0; o < O; ++o) bias_acc[o] = bias->data<float>()[o] / (xq.scale * ws[o]);
  }
  const std::vector<int64_t> kernel = {wq->dim(2), wq->dim(3)};
  const std::vector<int64_t> strides = node.GetInts("strides", {1, 1});
  const std::vector<int64_t> dilations = node.GetInts("dilations", {1, 1});
  std::vector<int64_t> pads = node.GetInts("pads", {0, 0, 0, 0});
  if (node.GetString("auto_pad", "NOTSET") != "NOTSET" || pads.size() != 4) return false;
  Shape out_shape = {xs[0], O};
  memory::dims pl, pr;
  for (int i = 0; i < 2; ++i) {
    const int64_t ext = (kernel[i] - 1) * dilations[i] + 1;
    const int64_t out = (xs[2 + i] + pads[i] + pads[i + 2] - ext) / strides[i] + 1;
    out_shape.push_back(out);
    pl.push_back(pads[i]);
    pr.push_back((out - 1) * strides[i] + ext - xs[2 + i] - pads[i]);
  }
  Int8Output out = MatchOutput(b, node.outputs[0], out_shape);
  std::vector<float> scales(O);
  for (int64_t o = 0; o < O; ++o) scales[o] = xq.scale * ws[o];
  try {
    memory::dims wdims = group > 1 ? memory::dims{group, O / group, C / group, kernel[0], kernel[1]}
                                   : memory::dims{O, C, kernel[0], kernel[1]};
    const memory::desc w_plain = PlainDesc(Shape(wdims.begin(), wdims.end()), DType::kInt8);
    const memory::desc src_any(ToDims(xs), ToDnnl(xq.dtype), tag::any);
    const memory::desc w_any(wdims, memory::data_type::s8, tag::any);
    const memory::desc b_md({O}, memory::data_type::f32, tag::a);
    const memory::desc dst_any(ToDims(out_shape), OutType(out), tag::any);
    memory::dims dil;
    for (int64_t d : dilations) dil.push_back(d - 1);
    dnnl::convolution_forward::desc d(prop_kind::forward_inference, algorithm::convolution_direct, src_any, w_any, b_md,
                                      dst_any, memory::dims(strides.begin(), strides.end()), dil, pl, pr);
    dnnl::convolution_forward::primitive_desc pd(d, MakeAttr(b, out, scales, 1 << 1, xq.zero_point), b.engine());
    ACT_ASSIGN_OR_RETURN(int src, b.Reordered(x, pd.src_desc()));
    auto k = std::make_unique<DnnlKernel>();
    k->primitive = dnnl::convolution_forward(pd);
    ACT_ASSIGN_OR_RETURN(k->owned_args[DNNL_ARG_WEIGHTS], ReorderConstant(b.engine(), wq->raw_data(), w_plain, pd.weights_desc()));
    ACT_ASSIGN_OR_RETURN(k->owned_args[DNNL_ARG_BIAS], ReorderConstant(b.engine(), bias_acc.data(), b_md, b_md));
    k->AddInput(DNNL_ARG_SRC, src);
    k->AddOutput(DNNL_ARG_DST, AddOutputValue(b, out, out_shape, pd.dst_desc()));
    k->label = Label("Conv", out);
    k->node_name = node.name;
    b.AddKernel(std::move(k));
  } catch (const dnnl::error& e) {
    return Internal(node.Describe() + ": oneDNN refused the INT8 convolution (" + e.what() + ")");
  }
  return true;
}

// ---- DQ(x), DQ(w) → MatMul / Gemm → [element-wise] → [Q] ------------------------------------------------

Expected<bool> BuildMatMulInt8(PlanBuilder& b, int index) {
  const ir::Node& node = b.graph().nodes[index];
  const bool gemm = node.op_type == "Gemm";
  int x = -1;
  QParams xq;
  if (!QuantizedActivation(b, node.inputs[0], &x, &xq)) return false;
  const Shape as = b.V(x).shape;
  const int dq_w = b.DeferredDequantize(node.Input(1));
  if (dq_w < 0) return false;
  const Tensor* probe = b.Const(b.graph().nodes[dq_w].inputs[0]);
  if (!probe || probe->rank() != 2 || as.size() < 2) return false;
  const bool tb = gemm && node.GetInt("transB", 0) != 0;
  if (gemm && (node.GetInt("transA", 0) != 0 || node.GetFloat("alpha", 1.f) != 1.f || as.size() != 2)) return false;
  const int64_t K = tb ? probe->dim(1) : probe->dim(0), N = tb ? probe->dim(0) : probe->dim(1);
  if (as.back() != K) return false;
  const Tensor* wq = nullptr;
  std::vector<float> ws;
  if (!QuantizedWeights(b, node.Input(1), tb ? 0 : 1, N, &wq, &ws)) return false;
  std::vector<float> bias_acc;
  std::string produced = node.outputs[0];
  const std::string bias_name = gemm ? node.Input(2) : "";
  if (!bias_name.empty()) {
    const Tensor* bias = b.Const(bias_name);
    if (!bias || bias->dtype() != DType::kFloat32 || bias->numel() != N || node.GetFloat("beta", 1.f) != 1.f) return false;
    bias_acc.resize(N);
    for (int64_t n = 0; n < N; ++n) bias_acc[n] = bias->data<float>()[n] / (xq.scale * ws[n]);
  }
  Shape out_shape = as;
  out_shape.back() = N;
  const size_t rank = as.size();
  Int8Output out = MatchOutput(b, produced, out_shape);
  std::vector<float> scales(N);
  for (int64_t n = 0; n < N; ++n) scales[n] = xq.scale * ws[n];
  try {
    Shape a2 = as, w2(rank, 1);
    w2[rank - 2] = K;
    w2[rank - 1] = N;
    const memory::desc a_md = PlainDesc(a2, xq.dtype);
    const memory::desc w_plain = tb ? memory::desc(ToDims(w2), memory::data_type::s8, [&] {
      memory::dims st(rank, K * N);
      st[rank - 2] = 1;
      st[rank - 1] = K;
      return st;
    }()) : PlainDesc(w2, DType::kInt8);
    const memory::desc w_any(ToDims(w2), memory::data_type::s8, tag::any);
    const memory::desc dst_md = PlainDesc(out_shape, out.quantized ? out.q.dtype : DType::kFloat32);
    memory::desc b_md;
    if (!bias_acc.empty()) {
      Shape bd(rank, 1);
      bd[rank - 1] = N;
      b_md = PlainDesc(bd, DType::kFloat32);
    }
    dnnl::matmul::desc d = bias_acc.empty() ? dnnl::matmul::desc(a_md, w_any, dst_md) : dnnl::matmul::desc(a_md, w_any, b_md, dst_md);
    dnnl::matmul::primitive_desc pd(d, MakeAttr(b, out, scales, 1 << (rank - 1), xq.zero_point), b.engine());
    ACT_ASSIGN_OR_RETURN(int src, b.Plain(x));
    auto k = std::make_unique<DnnlKernel>();
    k->primitive = dnnl::matmul(pd);
    ACT_ASSIGN_OR_RETURN(k->owned_args[DNNL_ARG_WEIGHTS], ReorderConstant(b.engine(), wq->raw_data(), w_plain, pd.weights_desc()));
    if (!bias_acc.empty()) {
      ACT_ASSIGN_OR_RETURN(k->owned_args[DNNL_ARG_BIAS], ReorderConstant(b.engine(), bias_acc.data(), b_md, b_md));
    }
    k->AddInput(DNNL_ARG_SRC, src);
    k->AddOutput(DNNL_ARG_DST, AddOutputValue(b, out, out_shape, dst_md));
    k->label = Label(node.op_type, out);
    k->node_name = node.name;
    b.AddKernel(std::move(k));
  } catch (const dnnl::error& e) {
    return Internal(node.Describe() + ": oneDNN refused the INT8 matmul (" + e.what() + ")");
  }
  return true;
}

// ---- DQ → data movement → Q with the same parameters: the op runs on the quantized tensor ----------------

bool IsDataMovement(const std::string& op) {
  static const char* kOps[] = {"Reshape", "Flatten", "Squeeze", "Unsqueeze", "Transpose", "Slice", "Gather",
                               "Concat", "Identity", "Resize", "Upsample", "Split", "Expand", "Tile"};
  for (const char* o : kOps) if (op == o) return true;
  return false;
}

Expected<bool> BuildDataMovementInt8(PlanBuilder& b, int index) {
  const ir::Node& node = b.graph().nodes[index];
  if (node.op_type == "Resize" && node.GetString("mode", "nearest") != "nearest") return false;
  if (node.op_type == "Upsample" && node.GetString("mode", "nearest") != "nearest") return false;
  // Inputs carrying data: all of Concat's, the first of the others.
  const size_t data_inputs = node.op_type == "Concat" ? node.inputs.size() : 1;
  std::vector<std::string> inputs = node.inputs;
  QParams common;
  for (size_t i = 0; i < data_inputs; ++i) {
    int id;
    QParams p;
    if (!QuantizedActivation(b, node.inputs[i], &id, &p)) return false;
    if (i > 0 && !(p == common)) return false;
    common = p;
    inputs[i] = b.V(id).name;
  }
  // Every output must be re-quantized with the same parameters.
  std::vector<std::string> outputs = node.outputs;
  std::vector<int> quantizers;
  for (size_t i = 0; i < node.outputs.size(); ++i) {
    QParams p;
    const int qi = QuantizeAfter(b, node.outputs[i], &p);
    if (qi < 0 || !(p == common)) return false;
    quantizers.push_back(qi);
    outputs[i] = b.graph().nodes[qi].outputs[0];
  }
  for (int qi : quantizers) b.Consume(qi);
  ACT_RETURN_IF_ERROR(b.BuildReference(index, &inputs, &outputs));
  for (const std::string& name : outputs) {
    ACT_ASSIGN_OR_RETURN(int id, b.Id(name));
    b.V(id).quant = {common.scale, common.zero_point};
  }
  // Name the kernel as INT8 in the profile.
  if (!b.plan().kernels.empty() && b.plan().kernels.back()->node_name == node.name) {
    b.plan().kernels.back()->label = node.op_type + "(int8)";
  }
  return true;
}

// DQ → MaxPool → Q (same parameters): oneDNN max pooling on the quantized tensor (max commutes with the
// monotonic dequantization).
Expected<bool> BuildMaxPoolInt8(PlanBuilder& b, int index) {
  const ir::Node& node = b.graph().nodes[index];
  if (node.outputs.size() > 1 && !node.outputs[1].empty()) return false;
  int x;
  QParams xq, yq;
  if (!QuantizedActivation(b, node.inputs[0], &x, &xq)) return false;
  const int qi = QuantizeAfter(b, node.outputs[0], &yq);
  if (qi < 0 || !(yq == xq)) return false;
  const Shape xs = b.V(x).shape;
  if (xs.size() != 4 || node.GetString("auto_pad", "NOTSET") != "NOTSET" || node.GetInt("ceil_mode", 0) != 0) return false;
  const std::vector<int64_t> kernel = node.GetInts("kernel_shape");
  const std::vector<int64_t> strides = node.GetInts("strides", {1, 1});
  const std::vector<int64_t> pads = node.GetInts("pads", {0, 0, 0, 0});
  const std::vector<int64_t> dilations = node.GetInts("dilations", {1, 1});
  if (kernel.size() != 2 || pads.size() != 4 || dilations != std::vector<int64_t>{1, 1}) return false;
  Shape out_shape = {xs[0], xs[1]};
  memory::dims pl, pr;
  for (int i = 0; i < 2; ++i) {
    const int64_t out = (xs[2 + i] + pads[i] + pads[i + 2] - kernel[i]) / strides[i] + 1;
    out_shape.push_back(out);
    pl.push_back(pads[i]);
    pr.push_back((out - 1) * strides[i] + kernel[i] - xs[2 + i] - pads[i]);
  }
  b.Consume(qi);
  try {
    const memory::desc dst_any(ToDims(out_shape), ToDnnl(xq.dtype), tag::any);
    dnnl::pooling_forward::desc d(prop_kind::forward_inference, algorithm::pooling_max, b.V(x).md, dst_any,
                                  memory::dims(strides.begin(), strides.end()), memory::dims(kernel.begin(), kernel.end()),
                                  pl, pr);
    dnnl::pooling_forward::primitive_desc pd(d, b.engine());
    auto k = std::make_unique<DnnlKernel>();
    k->primitive = dnnl::pooling_forward(pd);
    k->AddInput(DNNL_ARG_SRC, x);
    const int out = b.AddValue(b.graph().nodes[qi].outputs[0], xq.dtype, out_shape, pd.dst_desc());
    b.V(out).quant = {xq.scale, xq.zero_point};
    k->AddOutput(DNNL_ARG_DST, out);
    k->label = "MaxPool(int8)";
    k->node_name = node.name;
    b.AddKernel(std::move(k));
  } catch (const dnnl::error& e) {
    return Internal(node.Describe() + ": oneDNN refused the INT8 max pooling (" + e.what() + ")");
  }
  return true;
}

}  // namespace

Expected<bool> TryBuildInt8(PlanBuilder& b, int index) {
  const ir::Node& node = b.graph().nodes[index];
  const std::string& op = node.op_type;
  if (op == "DequantizeLinear") {
    // Deferred: INT8 kernels read the quantized input; float readers make it run (see PlanBuilder::Id).
    if (node.inputs.empty() || node.outputs.size() != 1) return false;
    b.DeferDequantize(index);
    return true;
  }
  if (op == "Conv") return BuildConvInt8(b, index);
  if (op == "MatMul" || op == "Gemm") return BuildMatMulInt8(b, index);
  if (op == "MaxPool") return BuildMaxPoolInt8(b, index);
  if (IsDataMovement(op)) return BuildDataMovementInt8(b, index);
  return false;
}

}  // namespace act::runtime::onednn
