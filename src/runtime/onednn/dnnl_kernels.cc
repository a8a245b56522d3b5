#include "runtime/onednn/dnnl_kernels.h"

#include <algorithm>
#include <cmath>
#include <cstring>

#include "runtime/onednn/fused_float_ops.h"
#include "runtime/onednn/post_ops.h"
#include "runtime/onednn/reference_ops.h"

namespace act::runtime::onednn {

using dnnl::algorithm;
using dnnl::memory;
using dnnl::prop_kind;
using tag = dnnl::memory::format_tag;

// ---- DnnlKernel -----------------------------------------------------------------------------------------

Status DnnlKernel::Bind(Plan& plan) {
  args_ = owned_args;
  for (const ValueArg& a : value_args) {
    const Value& v = plan.values[a.value];
    if (a.view_md.data.ndims > 0) {
      args_[a.arg] = memory(a.view_md, plan.engine(), v.data ? v.data : DNNL_MEMORY_NONE);
    } else {
      args_[a.arg] = plan.Mem(a.value);
    }
  }
  return Status::Ok();
}

Status DnnlKernel::Execute(Plan& plan) {
  primitive.execute(plan.stream(), args_);
  return Status::Ok();
}

std::unique_ptr<Kernel> MakeReorderKernel(Plan& plan, int src, int dst) {
  auto k = std::make_unique<DnnlKernel>();
  const Value& s = plan.values[src];
  const Value& d = plan.values[dst];
  k->primitive = dnnl::reorder(dnnl::reorder::primitive_desc(plan.engine(), s.md, plan.engine(), d.md));
  k->AddInput(DNNL_ARG_FROM, src);
  k->AddOutput(DNNL_ARG_TO, dst);
  k->label = "Reorder";
  k->node_name = s.name;
  return k;
}

Expected<memory> ReorderConstant(dnnl::engine& engine, const void* data, const memory::desc& plain_md,
                                 const memory::desc& md) {
  memory src(plain_md, engine, const_cast<void*>(data));
  memory dst(md, engine);
  dnnl::stream stream(engine);
  dnnl::reorder(src, dst).execute(stream, src, dst);
  stream.wait();
  return dst;
}

namespace {

memory::dims Dims(const Shape& s) { return ToDims(s); }

// Row-major dims padded with leading ones to `rank`.
Shape PadShape(const Shape& s, size_t rank) {
  Shape r(rank - std::min(rank, s.size()), 1);
  r.insert(r.end(), s.begin(), s.end());
  return r;
}

// Spatial geometry of a convolution or pooling window along one axis.
struct Window {
  int64_t out, pad_l, pad_r;
};

// Output size and paddings for Conv/pooling with ONNX's auto_pad, pads and ceil_mode.
Expected<std::vector<Window>> ConvGeometry(const ir::Node& node, const Shape& in_spatial, const std::vector<int64_t>& kernel,
                                           const std::vector<int64_t>& strides, const std::vector<int64_t>& dilations,
                                           bool ceil_mode, const PlanBuilder::PadFold* fold = nullptr) {
  const size_t n = in_spatial.size();
  std::vector<int64_t> pads = node.GetInts("pads", std::vector<int64_t>(2 * n, 0));
  if (pads.size() != 2 * n) return InvalidInput(node.Describe() + ": pads must have " + std::to_string(2 * n) + " entries");
  if (fold) {
    // A folded Pad adds its spatial pads (its axes 2.. in ONNX order: begins, then ends).
    const size_t r = fold->pads.size() / 2;
    for (size_t i = 0; i < n; ++i) {
      pads[i] += fold->pads[2 + i];
      pads[i + n] += fold->pads[r + 2 + i];
    }
  }
  const std::string auto_pad = node.GetString("auto_pad", "NOTSET");
  std::vector<Window> w(n);
  for (size_t i = 0; i < n; ++i) {
    const int64_t ext = (kernel[i] - 1) * dilations[i] + 1;
    if (auto_pad == "SAME_UPPER" || auto_pad == "SAME_LOWER") {
      const int64_t out = (in_spatial[i] + strides[i] - 1) / strides[i];
      const int64_t total = std::max<int64_t>((out - 1) * strides[i] + ext - in_spatial[i], 0);
      const int64_t small = total / 2;
      w[i] = {out, auto_pad == "SAME_UPPER" ? small : total - small, auto_pad == "SAME_UPPER" ? total - small : small};
      continue;
    }
    int64_t pl = pads[i], pr = pads[i + n];
    if (auto_pad == "VALID") pl = pr = 0;
    const int64_t span = in_spatial[i] + pl + pr - ext;
    int64_t out = (ceil_mode ? (span + strides[i] - 1) / strides[i] : span / strides[i]) + 1;
    // A window must start inside the input or its left padding (ONNX / PyTorch ceil_mode rule).
    if (ceil_mode && (out - 1) * strides[i] >= in_spatial[i] + pl) --out;
    if (out <= 0) return InvalidInput(node.Describe() + ": the window is larger than the padded input");
    // oneDNN wants the right padding that makes the last window fit exactly.
    const int64_t pr_fit = (out - 1) * strides[i] + ext - in_spatial[i] - pl;
    w[i] = {out, pl, pr_fit};
  }
  return w;
}

memory::dims SubDims(const std::vector<Window>& w, int which) {
  memory::dims d;
  for (const Window& x : w) d.push_back(which == 0 ? x.pad_l : x.pad_r);
  return d;
}

// A sum post-op accumulates into the output buffer: copy (reorder) the residual there first.
void AddSumCopy(PlanBuilder& b, const PostOpChain& post, int out, Kernel* kernel) {
  const int residual = post.SumSource();
  if (residual < 0) return;
  b.AddKernel(MakeReorderKernel(b.plan(), residual, out));
  kernel->reads.push_back(out);
}

Status CatchDnnl(const ir::Node& node, const dnnl::error& e) {
  return Internal(node.Describe() + ": oneDNN refused the primitive (" + std::string(e.what()) + ")");
}

// Per-output-channel constants that follow a convolution: y = x·scale[o] + shift[o] (BatchNormalization,
// and Mul/Add/Sub/Div by a scalar or a per-channel constant). Folded into the weights and bias.
struct ChannelAffine {
  std::vector<float> scale, shift;
  std::string output;
  std::string label;
};

// Reads a constant that is a scalar or a per-channel vector ([O], [O,1,1], [1,O,1,1]) for `rank`-D data.
bool PerChannel(PlanBuilder& b, const std::string& name, int64_t channels, size_t rank, std::vector<float>* v) {
  const Tensor* t = b.Const(name);
  if (!t || t->dtype() != DType::kFloat32) return false;
  if (t->numel() == 1) { v->assign(channels, t->data<float>()[0]); return true; }
  if (t->numel() != channels || t->rank() > rank) return false;
  const Shape s = PadShape(t->shape(), rank);
  for (size_t i = 0; i < rank; ++i) if (i != 1 && s[i] != 1) return false;
  v->assign(t->data<float>(), t->data<float>() + channels);
  return true;
}

ChannelAffine AbsorbChannelAffine(PlanBuilder& b, const std::string& value, int64_t channels, size_t rank) {
  ChannelAffine a{std::vector<float>(channels, 1.f), std::vector<float>(channels, 0.f), value, ""};
  const auto& g = b.graph().nodes;
  while (true) {
    const int ci = b.SoleConsumer(a.output);
    if (ci < 0) break;
    const ir::Node& n = g[ci];
    if (n.outputs.size() != 1 && !(n.op_type == "BatchNormalization" && n.outputs.size() > 1 && n.outputs[1].empty())) break;
    std::vector<float> c;
    if (n.op_type == "BatchNormalization") {
      std::vector<float> gamma, beta, mean, var;
      if (n.inputs[0] != a.output || !PerChannel(b, n.Input(1), channels, rank, &gamma) ||
          !PerChannel(b, n.Input(2), channels, rank, &beta) || !PerChannel(b, n.Input(3), channels, rank, &mean) ||
          !PerChannel(b, n.Input(4), channels, rank, &var)) break;
      const float eps = n.GetFloat("epsilon", 1e-5f);
      for (int64_t o = 0; o < channels; ++o) {
        const float k = gamma[o] / std::sqrt(var[o] + eps);
        a.scale[o] *= k;
        a.shift[o] = (a.shift[o] - mean[o]) * k + beta[o];
      }
    } else if ((n.op_type == "Mul" || n.op_type == "Add" || n.op_type == "Sub" || n.op_type == "Div") && n.inputs.size() == 2) {
      const bool x_first = n.inputs[0] == a.output;
      if (!PerChannel(b, x_first ? n.inputs[1] : n.inputs[0], channels, rank, &c)) break;
      for (int64_t o = 0; o < channels; ++o) {
        if (n.op_type == "Mul") { a.scale[o] *= c[o]; a.shift[o] *= c[o]; }
        else if (n.op_type == "Add") a.shift[o] += c[o];
        else if (n.op_type == "Sub" && x_first) a.shift[o] -= c[o];
        else if (n.op_type == "Sub") { a.scale[o] = -a.scale[o]; a.shift[o] = c[o] - a.shift[o]; }
        else if (x_first && c[o] != 0) { a.scale[o] /= c[o]; a.shift[o] /= c[o]; }
        else return a;  // c / x is not affine
      }
    } else {
      break;
    }
    b.Consume(ci);
    a.label += "+" + n.op_type;
    a.output = n.outputs[0];
  }
  return a;
}

// ---- Conv / ConvTranspose -------------------------------------------------------------------------------

Expected<bool> BuildConv(PlanBuilder& b, int index) {
  const ir::Node& node = b.graph().nodes[index];
  const bool transposed = node.op_type == "ConvTranspose";
  const PlanBuilder::PadFold* fold = b.FoldedPad(node.inputs[0]);
  ACT_ASSIGN_OR_RETURN(int x, b.Id(fold ? fold->input : node.inputs[0]));
  if (b.V(x).dtype != DType::kFloat32) return false;
  const Tensor* w = b.Const(node.Input(1));
  if (!w || w->dtype() != DType::kFloat32) {
    return Unsupported(node.Describe() + ": the onednn backend needs float32 constant weights (input '" + node.Input(1) + "')");
  }
  const Tensor* bias = node.Input(2).empty() ? nullptr : b.Const(node.Input(2));
  if (!node.Input(2).empty() && !bias) return Unsupported(node.Describe() + ": the bias must be a constant");
  const Shape xs = b.V(x).shape;
  const Shape ws = w->shape();
  const size_t rank = xs.size();
  if (rank < 3 || rank > 5 || ws.size() != rank) return Unsupported(node.Describe() + ": only 1-D, 2-D and 3-D convolutions are supported");
  const size_t nsp = rank - 2;
  const int64_t group = node.GetInt("group", 1);
  const int64_t C = xs[1];
  const int64_t O = transposed ? ws[1] * group : ws[0];
  if ((transposed ? ws[0] : ws[1] * group) != C) {
    return InvalidInput(node.Describe() + ": input has " + std::to_string(C) + " channels but the weights " + ShapeToString(ws) + " expect otherwise");
  }
  std::vector<int64_t> kernel(ws.begin() + 2, ws.end());
  const std::vector<int64_t> strides = node.GetInts("strides", std::vector<int64_t>(nsp, 1));
  const std::vector<int64_t> dilations = node.GetInts("dilations", std::vector<int64_t>(nsp, 1));
  Shape out_shape = {xs[0], O};
  memory::dims pad_l, pad_r;
  if (!transposed) {
    ACT_ASSIGN_OR_RETURN(auto geo, ConvGeometry(node, Shape(xs.begin() + 2, xs.end()), kernel, strides, dilations, false, fold));
    for (const Window& g : geo) out_shape.push_back(g.out);
    pad_l = SubDims(geo, 0);
    pad_r = SubDims(geo, 1);
  } else {
    // out = s·(in − 1) + output_padding + (k − 1)·d + 1 − pad_l − pad_r; oneDNN folds output_padding into pad_r.
    std::vector<int64_t> pads = node.GetInts("pads", std::vector<int64_t>(2 * nsp, 0));
    const std::vector<int64_t> out_pad = node.GetInts("output_padding", std::vector<int64_t>(nsp, 0));
    const std::vector<int64_t> given = node.GetInts("output_shape");
    const std::string auto_pad = node.GetString("auto_pad", "NOTSET");
    for (size_t i = 0; i < nsp; ++i) {
      const int64_t full = strides[i] * (xs[2 + i] - 1) + out_pad[i] + (kernel[i] - 1) * dilations[i] + 1;
      int64_t pl = pads[i], pr = pads[i + nsp];
      if (!given.empty() || auto_pad == "SAME_UPPER" || auto_pad == "SAME_LOWER") {
        const int64_t target = !given.empty() ? given[given.size() - nsp + i] : xs[2 + i] * strides[i];
        const int64_t total = full - target;
        pl = auto_pad == "SAME_UPPER" ? total / 2 : total - total / 2;
        pr = total - pl;
      }
      out_shape.push_back(full - pl - pr);
      pad_l.push_back(pl);
      pad_r.push_back(pr - out_pad[i]);
    }
  }

  // Fold the affine ops after the convolution into its weights and bias:
  //   w'[o] = w[o]·scale[o],  b'[o] = b[o]·scale[o] + shift[o]
  ChannelAffine affine = AbsorbChannelAffine(b, node.outputs[0], O, rank);
  std::vector<float> wf = w->ToVector<float>();
  std::vector<float> bf = bias ? bias->ToVector<float>() : std::vector<float>(O, 0.f);
  const int64_t kvol = NumElements(kernel);
  if (!transposed) {
    const int64_t per_o = NumElements(ws) / O;
    for (int64_t o = 0; o < O; ++o) for (int64_t i = 0; i < per_o; ++i) wf[o * per_o + i] *= affine.scale[o];
  } else {
    const int64_t cg = C / group, og = O / group;
    for (int64_t gi = 0; gi < group; ++gi)
      for (int64_t ci = 0; ci < cg; ++ci)
        for (int64_t o = 0; o < og; ++o)
          for (int64_t k = 0; k < kvol; ++k) wf[((gi * cg + ci) * og + o) * kvol + k] *= affine.scale[gi * og + o];
  }
  for (int64_t o = 0; o < O; ++o) bf[o] = bf[o] * affine.scale[o] + affine.shift[o];

  PostOpChain post = AbsorbPostOps(b, affine.output, out_shape, true);

  // Weights as oneDNN sees them: {O, C/g, k…} or {g, O/g, C/g, k…}; ConvTranspose's ONNX layout is
  // {C, O/g, k…}, described to oneDNN with strides.
  memory::dims wdims;
  if (group > 1) wdims = {group, O / group, C / group};
  else wdims = {O, C};
  wdims.insert(wdims.end(), kernel.begin(), kernel.end());
  memory::desc w_plain;
  if (!transposed) {
    w_plain = PlainDesc(Shape(wdims.begin(), wdims.end()), DType::kFloat32);
  } else {
    const int64_t cg = C / group, og = O / group;
    memory::dims st;
    memory::dims kst(nsp, 1);
    for (int i = static_cast<int>(nsp) - 2; i >= 0; --i) kst[i] = kst[i + 1] * kernel[i + 1];
    if (group > 1) st = {cg * og * kvol, kvol, og * kvol};
    else st = {kvol, O * kvol};
    st.insert(st.end(), kst.begin(), kst.end());
    w_plain = memory::desc(wdims, memory::data_type::f32, st);
  }
  try {
    const memory::desc src_any(Dims(xs), memory::data_type::f32, tag::any);
    const memory::desc dst_any(Dims(out_shape), memory::data_type::f32, tag::any);
    const memory::desc w_any(wdims, memory::data_type::f32, tag::any);
    const memory::desc b_md({O}, memory::data_type::f32, tag::a);
    memory::dims st(strides.begin(), strides.end()), dil;
    for (int64_t d : dilations) dil.push_back(d - 1);

    auto make_pd = [&](const dnnl::post_ops& po) {
      dnnl::primitive_attr attr;
      attr.set_post_ops(po);
      if (transposed) {
        dnnl::deconvolution_forward::desc d(prop_kind::forward_inference, algorithm::deconvolution_direct, src_any,
                                            w_any, b_md, dst_any, st, dil, pad_l, pad_r);
        auto pd = dnnl::deconvolution_forward::primitive_desc(d, attr, b.engine());
        return std::make_tuple(dnnl::primitive(dnnl::deconvolution_forward(pd)), pd.src_desc(), pd.weights_desc(), pd.dst_desc());
      }
      dnnl::convolution_forward::desc d(prop_kind::forward_inference, algorithm::convolution_direct, src_any, w_any,
                                        b_md, dst_any, st, dil, pad_l, pad_r);
      auto pd = dnnl::convolution_forward::primitive_desc(d, attr, b.engine());
      return std::make_tuple(dnnl::primitive(dnnl::convolution_forward(pd)), pd.src_desc(), pd.weights_desc(), pd.dst_desc());
    };
    const bool threads = ComputeWorthThreads(NumElements(out_shape) * (C / group) * kvol, false);
    auto [prim, src_md, w_md, dst_md] = [&] {
      SingleThreadScope one_thread(!threads);
      return make_pd(post.ToDnnl(b));
    }();
    ACT_ASSIGN_OR_RETURN(int src, b.Reordered(x, src_md));
    auto k = std::make_unique<DnnlKernel>();
    k->threads = threads ? Kernel::Threads::kAll : Kernel::Threads::kOne;
    k->primitive = prim;
    ACT_ASSIGN_OR_RETURN(k->owned_args[DNNL_ARG_WEIGHTS], ReorderConstant(b.engine(), wf.data(), w_plain, w_md));
    ACT_ASSIGN_OR_RETURN(k->owned_args[DNNL_ARG_BIAS], ReorderConstant(b.engine(), bf.data(), b_md, b_md));
    k->AddInput(DNNL_ARG_SRC, src);
    for (const auto& [arg, id] : post.BinaryArgs()) k->AddInput(arg, id);
    const int out = b.AddValue(post.output, DType::kFloat32, out_shape, dst_md);
    AddSumCopy(b, post, out, k.get());
    k->AddOutput(DNNL_ARG_DST, out);
    k->label = node.op_type + affine.label + post.Label();
    k->node_name = node.name;
    b.AddKernel(std::move(k));
  } catch (const dnnl::error& e) {
    return CatchDnnl(node, e);
  }
  return true;
}

// ---- MatMul / Gemm --------------------------------------------------------------------------------------

Expected<bool> BuildMatMul(PlanBuilder& b, int index) {
  const ir::Node& node = b.graph().nodes[index];
  const bool gemm = node.op_type == "Gemm";
  ACT_ASSIGN_OR_RETURN(int a, b.Id(node.inputs[0]));
  if (b.V(a).dtype != DType::kFloat32) return false;
  ACT_ASSIGN_OR_RETURN(a, b.Plain(a));
  const Tensor* w_const = b.Const(node.inputs[1]);
  int w_id = -1;
  if (!w_const) {
    ACT_ASSIGN_OR_RETURN(w_id, b.Id(node.inputs[1]));
    if (b.V(w_id).dtype != DType::kFloat32) return false;
    ACT_ASSIGN_OR_RETURN(w_id, b.Plain(w_id));
  } else if (w_const->dtype() != DType::kFloat32) {
    return false;
  }
  const Shape as = b.V(a).shape;
  const Shape bs = w_const ? w_const->shape() : b.V(w_id).shape;
  memory::desc a_md, w_plain;
  Shape out_shape, prim_out;
  std::vector<float> w_scaled;
  const void* w_data = w_const ? w_const->raw_data() : nullptr;
  std::vector<float> bias;
  std::string produced = node.outputs[0];
  int64_t N = 0;
  size_t rank = 2;
  if (gemm) {
    if (as.size() != 2 || bs.size() != 2) return InvalidInput(node.Describe() + ": Gemm inputs must be 2-D");
    const bool ta = node.GetInt("transA", 0) != 0, tb = node.GetInt("transB", 0) != 0;
    const float alpha = node.GetFloat("alpha", 1.f), beta = node.GetFloat("beta", 1.f);
    const int64_t M = ta ? as[1] : as[0], K = ta ? as[0] : as[1];
    N = tb ? bs[0] : bs[1];
    if ((tb ? bs[1] : bs[0]) != K) return InvalidInput(node.Describe() + ": inner dimensions differ");
    a_md = ta ? memory::desc({M, K}, memory::data_type::f32, memory::dims{1, M}) : PlainDesc({M, K}, DType::kFloat32);
    w_plain = tb ? memory::desc({K, N}, memory::data_type::f32, memory::dims{1, K}) : PlainDesc({K, N}, DType::kFloat32);
    if (alpha != 1.f) {
      if (!w_const) return Unsupported(node.Describe() + ": alpha ≠ 1 with a non-constant B is not supported");
      w_scaled = w_const->ToVector<float>();
      for (float& v : w_scaled) v *= alpha;
      w_data = w_scaled.data();
    }
    out_shape = prim_out = {M, N};
    if (!node.Input(2).empty()) {
      const Tensor* c = b.Const(node.Input(2));
      if (!c || c->dtype() != DType::kFloat32 || c->numel() != N || (c->rank() == 2 && c->dim(1) != N)) {
        return Unsupported(node.Describe() + ": C must be a constant of N elements");
      }
      bias = c->ToVector<float>();
      for (float& v : bias) v *= beta;
    }
  } else {
    Shape a2 = as, b2 = bs;
    if (a2.size() == 1) a2.insert(a2.begin(), 1);
    if (b2.size() == 1) b2.push_back(1);
    rank = std::max(a2.size(), b2.size());
    a2 = PadShape(a2, rank);
    b2 = PadShape(b2, rank);
    if (a2[rank - 1] != b2[rank - 2]) {
      return InvalidInput(node.Describe() + ": cannot multiply " + ShapeToString(as) + " by " + ShapeToString(bs));
    }
    N = b2[rank - 1];
    prim_out = a2;
    for (size_t i = 0; i + 2 < rank; ++i) {
      if (a2[i] != b2[i] && a2[i] != 1 && b2[i] != 1) return InvalidInput(node.Describe() + ": batch dimensions do not broadcast");
      prim_out[i] = std::max(a2[i], b2[i]);
    }
    prim_out[rank - 1] = N;
    // oneDNN broadcasts weights' batch dims only; a broadcast src batch falls back to the reference path.
    for (size_t i = 0; i + 2 < rank; ++i) if (a2[i] != prim_out[i]) return false;
    out_shape = Shape(prim_out.begin(), prim_out.end() - 2);
    if (as.size() >= 2) out_shape.push_back(a2[rank - 2]);
    if (bs.size() >= 2) out_shape.push_back(N);
    a_md = PlainDesc(a2, DType::kFloat32);
    w_plain = PlainDesc(b2, DType::kFloat32);
    // MatMul followed by Add of a constant [N] vector: a bias.
    const int ci = b.SoleConsumer(node.outputs[0]);
    if (ci >= 0) {
      const ir::Node& add = b.graph().nodes[ci];
      const std::string other = add.inputs.size() == 2 ? (add.inputs[0] == node.outputs[0] ? add.inputs[1] : add.inputs[0]) : "";
      const Tensor* c = add.op_type == "Add" ? b.Const(other) : nullptr;
      if (c && c->dtype() == DType::kFloat32 && c->numel() == N && c->rank() >= 1 && c->shape().back() == N &&
          c->rank() <= out_shape.size()) {
        bias = c->ToVector<float>();
        b.Consume(ci);
        produced = add.outputs[0];
      }
    }
  }
  PostOpChain post = AbsorbPostOps(b, produced, out_shape, out_shape.size() == prim_out.size());
  try {
    const memory::desc dst_md = PlainDesc(prim_out, DType::kFloat32);
    memory::desc w_md = w_const ? memory::desc(w_plain.dims(), memory::data_type::f32, tag::any) : w_plain;
    memory::desc b_md;
    if (!bias.empty()) {
      memory::dims bd(rank, 1);
      bd[rank - 1] = N;
      b_md = PlainDesc(Shape(bd.begin(), bd.end()), DType::kFloat32);
    }
    dnnl::primitive_attr attr;
    attr.set_post_ops(post.ToDnnl(b));
    dnnl::matmul::desc d = bias.empty() ? dnnl::matmul::desc(a_md, w_md, dst_md) : dnnl::matmul::desc(a_md, w_md, b_md, dst_md);
    const bool threads = ComputeWorthThreads(NumElements(prim_out) * a_md.dims()[a_md.dims().size() - 1], false);
    SingleThreadScope one_thread(!threads);
    dnnl::matmul::primitive_desc pd(d, attr, b.engine());
    auto k = std::make_unique<DnnlKernel>();
    k->threads = threads ? Kernel::Threads::kAll : Kernel::Threads::kOne;
    k->primitive = dnnl::matmul(pd);
    k->AddInput(DNNL_ARG_SRC, a, a_md);
    if (w_const) {
      ACT_ASSIGN_OR_RETURN(k->owned_args[DNNL_ARG_WEIGHTS], ReorderConstant(b.engine(), w_data, w_plain, pd.weights_desc()));
    } else {
      k->AddInput(DNNL_ARG_WEIGHTS, w_id, w_plain);
    }
    if (!bias.empty()) {
      ACT_ASSIGN_OR_RETURN(k->owned_args[DNNL_ARG_BIAS], ReorderConstant(b.engine(), bias.data(), b_md, b_md));
    }
    for (const auto& [arg, id] : post.BinaryArgs()) k->AddInput(arg, id);
    const int out = b.AddPlainValue(post.output, DType::kFloat32, out_shape);
    AddSumCopy(b, post, out, k.get());
    k->AddOutput(DNNL_ARG_DST, out, dst_md);
    k->label = node.op_type + std::string(bias.empty() || gemm ? "" : "+Add") + post.Label();
    k->node_name = node.name;
    b.AddKernel(std::move(k));
  } catch (const dnnl::error& e) {
    return CatchDnnl(node, e);
  }
  return true;
}

// ---- pooling --------------------------------------------------------------------------------------------

Expected<bool> BuildPool(PlanBuilder& b, int index) {
  const ir::Node& node = b.graph().nodes[index];
  const PlanBuilder::PadFold* fold = b.FoldedPad(node.inputs[0]);
  ACT_ASSIGN_OR_RETURN(int x, b.Id(fold ? fold->input : node.inputs[0]));
  if (b.V(x).dtype != DType::kFloat32) return false;
  if (node.outputs.size() > 1 && !node.outputs[1].empty()) return false;  // MaxPool indices
  const Shape xs = b.V(x).shape;
  if (xs.size() < 3 || xs.size() > 5) return false;
  const size_t nsp = xs.size() - 2;
  const bool global = node.op_type.rfind("Global", 0) == 0;
  const bool is_max = node.op_type == "MaxPool" || node.op_type == "GlobalMaxPool";
  std::vector<int64_t> kernel = global ? std::vector<int64_t>(xs.begin() + 2, xs.end()) : node.GetInts("kernel_shape");
  if (kernel.size() != nsp) return InvalidInput(node.Describe() + ": kernel_shape must have " + std::to_string(nsp) + " entries");
  const std::vector<int64_t> strides = global ? std::vector<int64_t>(nsp, 1) : node.GetInts("strides", std::vector<int64_t>(nsp, 1));
  const std::vector<int64_t> dilations = global ? std::vector<int64_t>(nsp, 1) : node.GetInts("dilations", std::vector<int64_t>(nsp, 1));
  ACT_ASSIGN_OR_RETURN(auto geo, ConvGeometry(node, Shape(xs.begin() + 2, xs.end()), kernel, strides, dilations,
                                              !global && node.GetInt("ceil_mode", 0) != 0, fold));
  Shape out_shape = {xs[0], xs[1]};
  for (const Window& g : geo) out_shape.push_back(g.out);
  const algorithm alg = is_max ? algorithm::pooling_max
                               : (node.GetInt("count_include_pad", 0) || fold ? algorithm::pooling_avg_include_padding
                                                                       : algorithm::pooling_avg_exclude_padding);
  PostOpChain post = AbsorbPostOps(b, node.outputs[0], out_shape, false);
  try {
    memory::dims dil;
    for (int64_t d : dilations) dil.push_back(d - 1);
    const memory::desc dst_any(Dims(out_shape), memory::data_type::f32, tag::any);
    dnnl::pooling_v2_forward::desc d(prop_kind::forward_inference, alg, b.V(x).md, dst_any,
                                     memory::dims(strides.begin(), strides.end()), memory::dims(kernel.begin(), kernel.end()),
                                     dil, SubDims(geo, 0), SubDims(geo, 1));
    dnnl::primitive_attr attr;
    attr.set_post_ops(post.ToDnnl(b));
    dnnl::pooling_v2_forward::primitive_desc pd(d, attr, b.engine());
    auto k = std::make_unique<DnnlKernel>();
    k->primitive = dnnl::pooling_v2_forward(pd);
    k->AddInput(DNNL_ARG_SRC, x);
    const int out = b.AddValue(post.output, DType::kFloat32, out_shape, pd.dst_desc());
    k->AddOutput(DNNL_ARG_DST, out);
    k->label = node.op_type + post.Label();
    k->node_name = node.name;
    b.AddKernel(std::move(k));
  } catch (const dnnl::error& e) {
    return CatchDnnl(node, e);
  }
  return true;
}

// ---- softmax --------------------------------------------------------------------------------------------

Expected<bool> BuildSoftmax(PlanBuilder& b, int index) {
  // Long rows over the last axis: our AVX-512 softmax (fused_float_ops.h), faster there than oneDNN 2.6.3's.
  ACT_ASSIGN_OR_RETURN(bool own, TryBuildSoftmaxLastAxis(b, index));
  if (own) return true;
  const ir::Node& node = b.graph().nodes[index];
  ACT_ASSIGN_OR_RETURN(int x, b.Id(node.inputs[0]));
  if (b.V(x).dtype != DType::kFloat32) return false;
  ACT_ASSIGN_OR_RETURN(x, b.Plain(x));
  const Shape xs = b.V(x).shape;
  const int64_t rank = xs.size();
  int64_t axis = node.GetInt("axis", b.opset() < 13 ? 1 : -1);
  if (axis < 0) axis += rank;
  Shape view = xs;
  if (b.opset() < 13 && axis != rank - 1) {
    // Opset < 13: the input is seen as 2-D [prod(:axis), prod(axis:)], softmax over the second.
    view = {NumElements(Shape(xs.begin(), xs.begin() + axis)), NumElements(Shape(xs.begin() + axis, xs.end()))};
    axis = 1;
  }
  try {
    const memory::desc md = PlainDesc(view, DType::kFloat32);
    dnnl::softmax_forward::desc d(prop_kind::forward_inference, md, static_cast<int>(axis));
    dnnl::softmax_forward::primitive_desc pd(d, b.engine());
    auto k = std::make_unique<DnnlKernel>();
    k->primitive = dnnl::softmax_forward(pd);
    k->AddInput(DNNL_ARG_SRC, x, md);
    const int out = b.AddPlainValue(node.outputs[0], DType::kFloat32, xs);
    k->AddOutput(DNNL_ARG_DST, out, md);
    k->label = node.op_type;
    k->node_name = node.name;
    b.AddKernel(std::move(k));
  } catch (const dnnl::error& e) {
    return CatchDnnl(node, e);
  }
  return true;
}

// ---- element-wise: a chain of eltwise primitives (the first out of place, the rest in place) -------------

class EltwiseChainKernel : public Kernel {
 public:
  std::vector<dnnl::primitive> stages;
  int src = -1, dst = -1;
  Status Execute(Plan& plan) override {
    for (size_t i = 0; i < stages.size(); ++i) {
      stages[i].execute(plan.stream(), {{DNNL_ARG_SRC, plan.Mem(i == 0 ? src : dst)}, {DNNL_ARG_DST, plan.Mem(dst)}});
    }
    return Status::Ok();
  }
};

Status AddEltwiseChain(PlanBuilder& b, const ir::Node& node, int x, std::vector<PostOp> ops, const std::string& first_label) {
  PostOpChain rest = AbsorbPostOps(b, node.outputs[0], b.V(x).shape, false);
  ops.insert(ops.end(), rest.ops.begin(), rest.ops.end());
  try {
    const memory::desc md = b.V(x).md;
    auto k = std::make_unique<EltwiseChainKernel>();
    for (const PostOp& op : ops) {
      dnnl::eltwise_forward::desc d(prop_kind::forward_inference, op.alg, md, op.alpha, op.beta);
      k->stages.push_back(dnnl::eltwise_forward(dnnl::eltwise_forward::primitive_desc(d, b.engine())));
    }
    k->src = x;
    k->dst = b.AddValue(rest.output, DType::kFloat32, b.V(x).shape, md);
    k->reads = {x};
    k->writes = {k->dst};
    k->label = first_label + rest.Label();
    k->node_name = node.name;
    b.AddKernel(std::move(k));
  } catch (const dnnl::error& e) {
    return CatchDnnl(node, e);
  }
  return Status::Ok();
}

Expected<bool> BuildEltwise(PlanBuilder& b, int index) {
  const ir::Node& node = b.graph().nodes[index];
  ACT_ASSIGN_OR_RETURN(int x, b.Id(node.inputs[0]));
  if (b.V(x).dtype != DType::kFloat32) return false;
  const std::string& op = node.op_type;
  std::vector<PostOp> ops;
  auto add = [&](algorithm alg, float alpha, float beta) { ops.push_back({false, alg, alpha, beta, -1, op}); };
  if (op == "Relu") add(algorithm::eltwise_relu, 0, 0);
  else if (op == "LeakyRelu") add(algorithm::eltwise_relu, node.GetFloat("alpha", 0.01f), 0);
  else if (op == "Sigmoid") add(algorithm::eltwise_logistic, 0, 0);
  else if (op == "Tanh") add(algorithm::eltwise_tanh, 0, 0);
  else if (op == "Exp") add(algorithm::eltwise_exp, 0, 0);
  else if (op == "Log") add(algorithm::eltwise_log, 0, 0);
  else if (op == "Sqrt") add(algorithm::eltwise_sqrt, 0, 0);
  else if (op == "Abs") add(algorithm::eltwise_abs, 0, 0);
  else if (op == "Neg") add(algorithm::eltwise_linear, -1, 0);
  else if (op == "Elu") add(algorithm::eltwise_elu, node.GetFloat("alpha", 1.f), 0);
  else if (op == "Softplus") add(algorithm::eltwise_soft_relu, 0, 0);
  else if (op == "HardSwish") add(algorithm::eltwise_hardswish, 0, 0);
  else if (op == "HardSigmoid") {
    add(algorithm::eltwise_linear, node.GetFloat("alpha", 0.2f), node.GetFloat("beta", 0.5f));
    add(algorithm::eltwise_clip, 0, 1);
  } else if (op == "Clip") {
    float lo = -std::numeric_limits<float>::max(), hi = std::numeric_limits<float>::max();
    if (node.HasAttr("min")) lo = node.GetFloat("min", lo);
    if (node.HasAttr("max")) hi = node.GetFloat("max", hi);
    if (!node.Input(1).empty() && !ConstScalar(b, node.Input(1), &lo)) return false;
    if (!node.Input(2).empty() && !ConstScalar(b, node.Input(2), &hi)) return false;
    add(algorithm::eltwise_clip, lo, hi);
  } else {
    return false;
  }
  // x · Sigmoid(x) and x · HardSigmoid(x) are matched from x's producer; here they run as written.
  ACT_RETURN_IF_ERROR(AddEltwiseChain(b, node, x, ops, op));
  return true;
}

// ---- binary ---------------------------------------------------------------------------------------------

Expected<bool> BuildBinary(PlanBuilder& b, int index) {
  const ir::Node& node = b.graph().nodes[index];
  if (node.inputs.size() != 2) return false;
  const std::string& op = node.op_type;
  std::string an = node.inputs[0], bn = node.inputs[1];
  ACT_ASSIGN_OR_RETURN(int a, b.Id(an));
  ACT_ASSIGN_OR_RETURN(int c, b.Id(bn));
  if (b.V(a).dtype != DType::kFloat32 || b.V(c).dtype != DType::kFloat32) return false;
  const bool commutative = op == "Add" || op == "Mul" || op == "Max" || op == "Min";
  // Scalar constant operand: an eltwise linear (a·x + b), possibly with more element-wise ops after it.
  float s;
  if (op != "Max" && op != "Min") {
    const bool b_scalar = ConstScalar(b, bn, &s), a_scalar = !b_scalar && ConstScalar(b, an, &s);
    if (b_scalar || a_scalar) {
      const int x = b_scalar ? a : c;
      PostOp lin{false, algorithm::eltwise_linear, 1.f, 0.f, -1, op};
      if (op == "Add") lin.beta = s;
      else if (op == "Mul") lin.alpha = s;
      else if (op == "Sub") { lin.alpha = b_scalar ? 1.f : -1.f; lin.beta = b_scalar ? -s : s; }
      else if (op == "Div" && b_scalar && s != 0) lin.alpha = 1.f / s;
      else return false;
      ACT_RETURN_IF_ERROR(AddEltwiseChain(b, node, x, {lin}, op));
      return true;
    }
  }
  ACT_ASSIGN_OR_RETURN(Shape out_shape, BroadcastShapes(b.V(a).shape, b.V(c).shape));
  if (out_shape != b.V(a).shape) {
    if (!commutative || out_shape != b.V(c).shape) return false;
    std::swap(a, c);
  }
  const Shape as = b.V(a).shape;
  memory::desc src1_md;
  if (b.V(c).shape == as) {
    if (!(b.V(c).md == b.V(a).md)) { ACT_ASSIGN_OR_RETURN(c, b.Reordered(c, b.V(a).md)); }
    src1_md = b.V(c).md;
  } else {
    ACT_ASSIGN_OR_RETURN(c, b.Plain(c));
    src1_md = PlainDesc(PadShape(b.V(c).shape, as.size()), DType::kFloat32);
  }
  const algorithm alg = op == "Add" ? algorithm::binary_add : op == "Sub" ? algorithm::binary_sub
                      : op == "Mul" ? algorithm::binary_mul : op == "Div" ? algorithm::binary_div
                      : op == "Max" ? algorithm::binary_max : algorithm::binary_min;
  PostOpChain post = AbsorbPostOps(b, node.outputs[0], as, true);
  try {
    const memory::desc src0_md = b.V(a).md;
    auto make = [&]() {
      dnnl::primitive_attr attr;
      attr.set_post_ops(post.ToDnnl(b));
      dnnl::binary::desc d(alg, src0_md, src1_md, src0_md);
      return dnnl::binary::primitive_desc(d, attr, b.engine());
    };
    auto pd = make();
    auto k = std::make_unique<DnnlKernel>();
    k->primitive = dnnl::binary(pd);
    k->AddInput(DNNL_ARG_SRC_0, a);
    k->AddInput(DNNL_ARG_SRC_1, c, src1_md);
    for (const auto& [arg, id] : post.BinaryArgs()) k->AddInput(arg, id);
    const int out = b.AddValue(post.output, DType::kFloat32, as, src0_md);
    AddSumCopy(b, post, out, k.get());
    k->AddOutput(DNNL_ARG_DST, out);
    k->label = op + post.Label();
    k->node_name = node.name;
    b.AddKernel(std::move(k));
  } catch (const dnnl::error& e) {
    return CatchDnnl(node, e);
  }
  return true;
}

// Pow(x, constant scalar e) = x^e as eltwise pow (α·x^β with α = 1).
Expected<bool> BuildPow(PlanBuilder& b, int index) {
  const ir::Node& node = b.graph().nodes[index];
  ACT_ASSIGN_OR_RETURN(int x, b.Id(node.inputs[0]));
  const Tensor* e = b.Const(node.Input(1));
  if (b.V(x).dtype != DType::kFloat32 || !e || e->numel() != 1) return false;
  const float p = static_cast<float>(e->ElementAsDouble(0));
  PostOp op{false, p == 2.f ? algorithm::eltwise_square : algorithm::eltwise_pow, 1.f, p, -1, "Pow"};
  if (p == 2.f) op.alpha = 0;
  ACT_RETURN_IF_ERROR(AddEltwiseChain(b, node, x, {op}, "Pow"));
  return true;
}

// ---- reductions -----------------------------------------------------------------------------------------

Expected<bool> BuildReduce(PlanBuilder& b, int index) {
  const ir::Node& node = b.graph().nodes[index];
  ACT_ASSIGN_OR_RETURN(int x, b.Id(node.inputs[0]));
  if (b.V(x).dtype != DType::kFloat32) return false;
  ACT_ASSIGN_OR_RETURN(x, b.Plain(x));
  const Shape xs = b.V(x).shape;
  const int64_t rank = xs.size();
  std::vector<int64_t> axes = node.GetInts("axes");
  if (!node.Input(1).empty()) {
    const Tensor* t = b.Const(node.Input(1));
    if (!t) return false;
    axes.clear();
    for (int64_t i = 0; i < t->numel(); ++i) axes.push_back(static_cast<int64_t>(t->ElementAsDouble(i)));
  }
  if (axes.empty()) for (int64_t i = 0; i < rank; ++i) axes.push_back(i);
  const bool keep = node.GetInt("keepdims", 1) != 0;
  std::vector<bool> reduced(rank, false);
  for (int64_t a : axes) reduced[a < 0 ? a + rank : a] = true;
  Shape kept = xs, out_shape;
  for (int64_t i = 0; i < rank; ++i) {
    if (reduced[i]) kept[i] = 1;
    if (!reduced[i] || keep) out_shape.push_back(kept[i]);
  }
  const std::string& op = node.op_type;
  algorithm alg;
  if (op == "ReduceMean") alg = algorithm::reduction_mean;
  else if (op == "ReduceSum") alg = algorithm::reduction_sum;
  else if (op == "ReduceMax") alg = algorithm::reduction_max;
  else if (op == "ReduceMin") alg = algorithm::reduction_min;
  else return false;
  try {
    const memory::desc src_md = b.V(x).md, dst_md = PlainDesc(kept, DType::kFloat32);
    dnnl::reduction::desc d(alg, src_md, dst_md, 0.f, 0.f);
    dnnl::reduction::primitive_desc pd(d, b.engine());
    auto k = std::make_unique<DnnlKernel>();
    k->primitive = dnnl::reduction(pd);
    k->AddInput(DNNL_ARG_SRC, x);
    const int out = b.AddPlainValue(node.outputs[0], DType::kFloat32, out_shape);
    k->AddOutput(DNNL_ARG_DST, out, dst_md);
    k->label = op;
    k->node_name = node.name;
    b.AddKernel(std::move(k));
  } catch (const dnnl::error& e) {
    return CatchDnnl(node, e);
  }
  return true;
}

// ReduceMean may start a decomposed LayerNorm, run as one kernel (fused_float_ops.h).
Expected<bool> BuildReduceMean(PlanBuilder& b, int index) {
  ACT_ASSIGN_OR_RETURN(bool fused, TryBuildLayerNorm(b, index));
  if (fused) return true;
  return BuildReduce(b, index);
}

// Reshape may start SVTR's attention core, run as one kernel (fused_float_ops.h); otherwise it stays a
// view (the reference kernel's alias).
Expected<bool> BuildReshape(PlanBuilder& b, int index) { return TryBuildAttention(b, index); }

// ---- concat ---------------------------------------------------------------------------------------------

Expected<bool> BuildConcat(PlanBuilder& b, int index) {
  const ir::Node& node = b.graph().nodes[index];
  std::vector<int> ids;
  bool any_blocked = false;
  for (const std::string& name : node.inputs) {
    ACT_ASSIGN_OR_RETURN(int id, b.Id(name));
    if (b.V(id).dtype != DType::kFloat32 || b.V(id).shape.empty()) return false;
    if (NumElements(b.V(id).shape) == 0) return false;
    any_blocked |= b.V(id).blocked;
    ids.push_back(id);
  }
  if (!any_blocked) return false;  // plain inputs: the reference kernel's row copies are as fast
  const Shape s0 = b.V(ids[0]).shape;
  int64_t axis = node.GetInt("axis", 0);
  if (axis < 0) axis += s0.size();
  Shape out_shape = s0;
  out_shape[axis] = 0;
  for (int id : ids) {
    if (b.V(id).shape.size() != s0.size()) return false;
    out_shape[axis] += b.V(id).shape[axis];
  }
  try {
    std::vector<memory::desc> srcs;
    for (int id : ids) srcs.push_back(b.V(id).md);
    const memory::desc dst_any(Dims(out_shape), memory::data_type::f32, tag::any);
    dnnl::concat::primitive_desc pd(dst_any, static_cast<int>(axis), srcs, b.engine());
    auto k = std::make_unique<DnnlKernel>();
    k->primitive = dnnl::concat(pd);
    for (size_t i = 0; i < ids.size(); ++i) k->AddInput(DNNL_ARG_MULTIPLE_SRC + static_cast<int>(i), ids[i]);
    const int out = b.AddValue(node.outputs[0], DType::kFloat32, out_shape, pd.dst_desc());
    k->AddOutput(DNNL_ARG_DST, out);
    k->label = "Concat";
    k->node_name = node.name;
    b.AddKernel(std::move(k));
  } catch (const dnnl::error& e) {
    return CatchDnnl(node, e);
  }
  return true;
}

}  // namespace

const std::vector<DnnlOpInfo>& DnnlOps() {
  static const std::vector<DnnlOpInfo> kOps = {
      {"Conv", &BuildConv},           {"ConvTranspose", &BuildConv},
      {"MatMul", &BuildMatMul},       {"Gemm", &BuildMatMul},
      {"MaxPool", &BuildPool},        {"AveragePool", &BuildPool},
      {"GlobalAveragePool", &BuildPool}, {"GlobalMaxPool", &BuildPool},
      {"Softmax", &BuildSoftmax},
      {"Add", &BuildBinary},          {"Sub", &BuildBinary},
      {"Mul", &BuildBinary},          {"Div", &BuildBinary},
      {"Max", &BuildBinary},          {"Min", &BuildBinary},
      {"Pow", &BuildPow},
      {"Relu", &BuildEltwise},        {"LeakyRelu", &BuildEltwise},
      {"Sigmoid", &BuildEltwise},     {"Tanh", &BuildEltwise},
      {"Exp", &BuildEltwise},         {"Log", &BuildEltwise},
      {"Sqrt", &BuildEltwise},        {"Abs", &BuildEltwise},
      {"Neg", &BuildEltwise},         {"Elu", &BuildEltwise},
      {"Softplus", &BuildEltwise},    {"HardSwish", &BuildEltwise},
      {"HardSigmoid", &BuildEltwise}, {"Clip", &BuildEltwise},
      {"ReduceMean", &BuildReduceMean}, {"ReduceSum", &BuildReduce},
      {"ReduceMax", &BuildReduce},    {"ReduceMin", &BuildReduce},
      {"Concat", &BuildConcat},
      {"Reshape", &BuildReshape},
  };
  return kOps;
}

const DnnlOpInfo* FindDnnlOp(const std::string& op_type) {
  for (const auto& op : DnnlOps()) if (op_type == op.op_type) return &op;
  return nullptr;
}

}  // namespace act::runtime::onednn
