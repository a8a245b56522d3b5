#include "runtime/onednn/int8_lowering.h"

#include <algorithm>
#include <array>
#include <numeric>
#include <optional>
#include <immintrin.h>
#include <omp.h>
#include <cmath>
#include <cstring>
#include <cstdlib>

#include "runtime/onednn/simd_rows.h"
#include "runtime/onednn/dnnl_kernels.h"
#include "runtime/onednn/fused_float_ops.h"
#include "runtime/onednn/int8_depthwise.h"
#include "runtime/onednn/post_ops.h"
#include "runtime/onednn/reference_ops.h"
#include "runtime/onednn/split_conv.h"
#include "runtime/onednn/table_readers.h"

namespace act::runtime::onednn {
namespace {

using dnnl::algorithm;
using dnnl::memory;
using dnnl::prop_kind;
using tag = dnnl::memory::format_tag;

// Bytes of a value's buffer for element-wise kernels: its own size, or for an alias (Reshape & co., which
// records no size of its own) the dense size of its shape.
size_t BufferBytes(const Value& v) {
  return std::max(v.nbytes, static_cast<size_t>(NumElements(v.shape)) * DTypeSize(v.dtype));
}

memory::desc NhwcDesc(const Shape& shape, DType dtype) { return memory::desc(ToDims(shape), ToDnnl(dtype), tag::nhwc); }

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
// quantized value's id and parameters. Also when a float reader already made that DequantizeLinear run
// (MaterializedView): the lowering of this reader must not depend on where the float reader stands in
// the node order.
bool QuantizedActivation(PlanBuilder& b, const std::string& value, int* id, QParams* p) {
  const PlanBuilder::QuantizedView* view = b.DeferredView(value);
  if (!view) view = b.MaterializedView(value);
  if (view) {
    Expected<int> q = b.Id(view->quantized);
    if (!q.ok()) return false;
    *id = *q;
    *p = QParams{view->scale, view->zero_point, b.V(*q).dtype};
    return true;
  }
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
  PostOpChain chain;            // after the accumulator (or after the middle dequantization, see mid)
  bool quantized = false;
  QParams q;
  std::string name;
  // Q → DQ read only by float ops: the kernel writes the dequantized value (float) itself,
  // clip(round(y/s_y), qmin − zp, qmax − zp)·s_y — the bytes the Q would write, dequantized as DQ does —
  // optionally followed by the constant bias of an Add (a binary post-op).
  bool dequantized = false;
  const Tensor* bias_add = nullptr;  // per last-axis constant of the Add after the DequantizeLinear
  Shape bias_shape;                  // [1, …, 1, N] of the output's rank
};

float QMin(DType t) { return t == DType::kInt8 ? -128.f : 0.f; }
float QMax(DType t) { return t == DType::kInt8 ? 127.f : 255.f; }

// True when every post-op commutes with a positive scale (Relu, Clip with scaled bounds): then 1/s_y
// goes into the output scale itself, s_x·s_w[o]/s_y computed in float as ONNX Runtime's QLinearConv does,
// so that both engines round the same products.
bool ScaleCommutes(const PostOpChain& chain) {
  for (const PostOp& op : chain.ops) {
    if (op.binary || op.sum) return false;
    if (!(op.alg == algorithm::eltwise_relu && op.alpha == 0.f) && op.alg != algorithm::eltwise_clip) return false;
  }
  return true;
}

// The eltwise post-ops of a chain that does not commute with the output scale, in real units, followed
// by y/s_y (merged into a last linear step) and a rounding when the output is quantized.
std::vector<PostOp> RealUnitPostOps(const Int8Output& out) {
  std::vector<PostOp> ops = out.chain.ops;
  if (out.quantized) {
    ops.push_back({false, algorithm::eltwise_linear, 1.f / out.q.scale, 0.f, -1, ""});
    MergeLastEltwise(&ops);
    ops.push_back({false, algorithm::eltwise_round, 0.f, 0.f, -1, ""});
  }
  return ops;
}

bool IsLutOp(const std::string& op);
bool IsDataMovement(const std::string& op);

// True when node `c` reading `value` certainly runs in float (no INT8 lowering can take the quantized
// tensor instead): not a compute, pooling, quantization or data-movement op, and not an element-wise op
// that could start a table lookup (all its other inputs scalar constants).
bool FloatReader(PlanBuilder& b, int c, const std::string& value) {
  const ir::Node& n = b.graph().nodes[c];
  static const char* kInt8Ops[] = {"Conv", "ConvTranspose", "MatMul", "Gemm", "MaxPool", "QuantizeLinear",
                                   "DequantizeLinear", "Pad"};
  for (const char* o : kInt8Ops) if (n.op_type == o) return false;
  if (IsDataMovement(n.op_type)) return false;
  if (IsLutOp(n.op_type)) {
    for (const std::string& in : n.inputs) {
      if (in.empty() || in == value) continue;
      const Tensor* t = b.Const(in);
      if (!t || t->numel() != 1) return true;  // a tensor operand: no table region can hold this node
    }
    return false;
  }
  return true;
}

// The quantized output's only reader is one DequantizeLinear (same parameters) whose readers all run in
// float: fold the dequantization into the kernel (Int8Output::dequantized), and a following Add of a
// constant per-last-axis bias too. Only for chains commuting with the scale and holding no clip or linear
// step (the folded clip and linear would repeat an algorithm: the oneDNN 2.6.3 post-op fault).
void MatchDequantizedOutput(PlanBuilder& b, const Shape& shape, bool allow_bias_add, Int8Output* out) {
  if (!ScaleCommutes(out->chain)) return;
  for (const PostOp& op : out->chain.ops) if (op.alg == algorithm::eltwise_clip) return;
  const int dq = b.SoleConsumer(out->name);
  if (dq < 0 || b.graph().nodes[dq].op_type != "DequantizeLinear") return;
  const ir::Node& dn = b.graph().nodes[dq];
  QParams p;
  if (dn.inputs[0] != out->name || !PerTensorParams(b, dn, &p) || !(p == out->q)) return;
  const std::string& value = dn.outputs[0];
  if (b.IsGraphOutput(value)) return;
  const std::vector<int> readers = b.Consumers(value);
  if (readers.empty()) return;
  for (int c : readers) if (!FloatReader(b, c, value)) return;
  out->dequantized = true;
  b.Consume(dq);
  out->name = value;
  // DQ → Add(constant bias along the last axis).
  const int add = b.SoleConsumer(value);
  if (!allow_bias_add || add < 0 || b.graph().nodes[add].op_type != "Add" || shape.empty()) return;
  const ir::Node& an = b.graph().nodes[add];
  const std::string& other = an.inputs[0] == value ? an.Input(1) : an.inputs[0];
  const Tensor* bias = b.Const(other);
  if (!bias || bias->dtype() != DType::kFloat32 || bias->numel() != shape.back() || bias->numel() < 2) return;
  for (size_t d = 0; d + 1 < bias->rank(); ++d) if (bias->dim(d) != 1) return;
  if (bias->rank() > shape.size()) return;
  out->bias_add = bias;
  out->bias_shape = Shape(shape.size(), 1);
  out->bias_shape.back() = shape.back();
  b.Consume(add);
  out->name = an.outputs[0];
}

Int8Output MatchOutput(PlanBuilder& b, const std::string& value, const Shape& shape, bool allow_bias_add = false) {
  Int8Output out;
  out.chain = AbsorbPostOps(b, value, shape, false);
  out.name = out.chain.output;
  const int qi = QuantizeAfter(b, out.chain.output, &out.q);
  if (qi < 0) return out;
  out.quantized = true;
  if (!ScaleCommutes(out.chain) && !EltwiseRepresentable(RealUnitPostOps(out))) {
    out.quantized = false;  // the QuantizeLinear runs on its own
    return out;
  }
  b.Consume(qi);
  out.name = b.graph().nodes[qi].outputs[0];
  // A Q → DQ → element-wise chain → Q after this is a table lookup on the quantized output (TryBuildLut).
  MatchDequantizedOutput(b, shape, allow_bias_add, &out);
  return out;
}

// The primitive attributes of an INT8 compute kernel. `scales` are s_x·s_w[o] (per output channel with
// `mask`, or one). oneDNN computes dst = saturate(post_ops(output_scale[o] · (acc + bias_acc[o])) + zp_dst)
// and converts with round-half-even. Two cases:
//   - a chain commuting with a positive scale (Relu, Clip): output scale s_x·s_w[o]/s_y (computed in
//     float as ORT's QLinearConv does), clip bounds divided by s_y;
//   - any other chain: output scale s_x·s_w[o] (real units), the chain, then y/s_y (RealUnitPostOps).
// Quantized outputs end in an explicit round before the dst zero point: ORT computes round(x) + zp, while
// rounding x + zp differs on exact ties (x = k + 0.5) when zp is odd.
// The input zero point is never given to oneDNN: callers fold −zp_x·Σw into the bias (and pad explicitly).
dnnl::primitive_attr MakeAttr(PlanBuilder& b, const Int8Output& out, std::vector<float> scales, int mask,
                              float x_scale, const std::vector<float>& w_scales) {
  dnnl::primitive_attr attr;
  dnnl::post_ops po;
  if (out.quantized && ScaleCommutes(out.chain)) {
    for (size_t o = 0; o < scales.size(); ++o) scales[o] = x_scale * w_scales[o] / out.q.scale;
    for (const PostOp& op : out.chain.ops) {
      const float k = op.alg == algorithm::eltwise_clip ? 1.f / out.q.scale : 1.f;
      po.append_eltwise(1.f, op.alg, op.alpha * k, op.beta * k);
    }
    if (out.dequantized) {
      // (saturate(round(y) + zp) − zp)·s_y = clip(round(y), qmin − zp, qmax − zp)·s_y, then + bias.
      const float zp = static_cast<float>(out.q.zero_point);
      po.append_eltwise(1.f, algorithm::eltwise_round, 0.f, 0.f);
      po.append_eltwise(1.f, algorithm::eltwise_clip, QMin(out.q.dtype) - zp, QMax(out.q.dtype) - zp);
      po.append_eltwise(1.f, algorithm::eltwise_linear, out.q.scale, 0.f);
      if (out.bias_add) po.append_binary(algorithm::binary_add, PlainDesc(out.bias_shape, DType::kFloat32));
      attr.set_output_scales(mask, scales);
      attr.set_post_ops(po);
      return attr;
    }
    if (out.q.zero_point != 0) po.append_eltwise(1.f, algorithm::eltwise_round, 0.f, 0.f);
  } else {
    for (const PostOp& op : RealUnitPostOps(out)) po.append_eltwise(1.f, op.alg, op.alpha, op.beta);
  }
  if (out.quantized && out.q.zero_point != 0) attr.set_zero_points(DNNL_ARG_DST, 0, {out.q.zero_point});
  attr.set_output_scales(mask, scales);
  attr.set_post_ops(po);
  return attr;
}

// Bias in accumulator units: the int32 values themselves when it is DequantizeLinear(int32, s_x·s_w[o])
// (what quantizers write: exact, as ONNX Runtime adds it), else the float bias rounded as ORT rounds it.
bool BiasInAccumulatorUnits(PlanBuilder& b, const std::string& name, int64_t channels, float x_scale,
                            const std::vector<float>& w_scales, std::vector<float>* bias) {
  bias->assign(channels, 0.f);
  if (name.empty()) return true;
  if (int dq = b.DeferredDequantize(name); dq >= 0) {
    const ir::Node& node = b.graph().nodes[dq];
    const Tensor* q = b.Const(node.inputs[0]);
    const Tensor* s = b.Const(node.Input(1));
    bool exact = q && s && q->dtype() == DType::kInt32 && q->numel() == channels && node.Input(2).empty() &&
                 (s->numel() == 1 || s->numel() == channels) && s->dtype() == DType::kFloat32;
    for (int64_t o = 0; exact && o < channels; ++o) {
      const float expected = x_scale * w_scales[o], got = s->data<float>()[s->numel() == 1 ? 0 : o];
      exact = std::abs(got - expected) <= 1e-5f * expected && std::abs(q->data<int32_t>()[o]) < (1 << 24);
    }
    if (exact) {
      for (int64_t o = 0; o < channels; ++o) (*bias)[o] = static_cast<float>(q->data<int32_t>()[o]);
      return true;
    }
  }
  const Tensor* real = b.Const(name);  // folds its DequantizeLinear
  if (!real || real->dtype() != DType::kFloat32 || real->numel() != channels) return false;
  // A float bias is rounded to int32 as ONNX Runtime's BiasQuantization pass does when it fuses the
  // Conv/Gemm: Cast(Round(b / (s_x·s_w[o]))), float product and quotient, round half to even.
  for (int64_t o = 0; o < channels; ++o) {
    const float scale = x_scale * w_scales[o];
    (*bias)[o] = std::nearbyint(real->data<float>()[o] / scale);
  }
  return true;
}

memory::data_type OutType(const Int8Output& out) {
  return out.quantized && !out.dequantized ? ToDnnl(out.q.dtype) : memory::data_type::f32;
}

int AddOutputValue(PlanBuilder& b, const Int8Output& out, const Shape& shape, const memory::desc& md) {
  const bool q = out.quantized && !out.dequantized;
  const int id = b.AddValue(out.name, q ? out.q.dtype : DType::kFloat32, shape, md);
  if (q) b.V(id).quant = {out.q.scale, out.q.zero_point};
  return id;
}

std::string Label(const std::string& op, const Int8Output& out) {
  return op + "(int8)" + out.chain.Label() + (out.quantized ? "+Quantize" : "") +
         (out.dequantized ? "+Dequantize" : "") + (out.bias_add ? "+Add" : "");
}


// Pads an NHWC u8/s8 tensor spatially with its zero point: dst[n, h, w, c] = src[n, h − top, w − left, c]
// inside, zero_point outside.
class ZeroPointPadKernel : public Kernel {
 public:
  int src = -1, dst = -1;
  std::array<int64_t, 2> begin{}, end{};
  uint8_t zero_point = 0;
  Status Execute(Plan& plan) override {
    const Value& in = plan.values[src];
    const Value& out = plan.values[dst];
    const int64_t N = in.shape[0], C = in.shape[1], H = in.shape[2], W = in.shape[3];
    const int64_t OH = out.shape[2], OW = out.shape[3];
    const auto* x = static_cast<const uint8_t*>(in.data);
    auto* y = static_cast<uint8_t*>(out.data);
    const int64_t row = OW * C;
    for (int64_t n = 0; n < N; ++n) {
      for (int64_t h = 0; h < OH; ++h) {
        uint8_t* d = y + (n * OH + h) * row;
        const int64_t ih = h - begin[0];
        if (ih < 0 || ih >= H) {
          std::memset(d, zero_point, row);
          continue;
        }
        std::memset(d, zero_point, begin[1] * C);
        std::memcpy(d + begin[1] * C, x + (n * H + ih) * W * C, W * C);
        std::memset(d + (begin[1] + W) * C, zero_point, end[1] * C);
      }
    }
    return Status::Ok();
  }
};

// q_out = table[q_in] over the whole buffer (any layout: the map is element-wise). With `padded`, the
// source is NHWC and the output is written into the interior of a spatially padded NHWC buffer whose
// border holds `pad_byte` (the input of a padded INT8 convolution, see PadInProducer).
class LookupKernel : public Kernel {
 public:
  int src = -1, dst = -1;
  std::array<uint8_t, 256> table{};
  bool padded = false;
  std::array<int64_t, 2> begin{}, end{};
  uint8_t pad_byte = 0;
  static void Lookup(const uint8_t* x, uint8_t* y, int64_t n, const uint8_t* table) {
    if (HasVbmi()) {
      LookupVbmi(x, y, n, table);
    } else {
      for (int64_t i = 0; i < n; ++i) y[i] = table[x[i]];
    }
  }
  Status Execute(Plan& plan) override {
    const Value& in = plan.values[src];
    const auto* x = static_cast<const uint8_t*>(in.data);
    auto* y = static_cast<uint8_t*>(plan.values[dst].data);
    if (padded) {
      const int64_t rows = in.shape[0] * in.shape[2], W = in.shape[3];
#pragma omp parallel for schedule(static) if (rows * W * in.shape[1] > (1 << 17))
      for (int64_t r = 0; r < rows; ++r) PaddedPositions(in, x, y, r * W, (r + 1) * W);
      return Status::Ok();
    }
    const int64_t n = static_cast<int64_t>(BufferBytes(in));
    // Chunks of 64 KiB over the session's OpenMP threads (one chunk: no parallel region).
    const int64_t chunk = 1 << 16, chunks = (n + chunk - 1) / chunk;
#pragma omp parallel for schedule(static) if (chunks > 1)
    for (int64_t c = 0; c < chunks; ++c) {
      const int64_t begin = c * chunk, len = std::min(chunk, n - begin);
      Lookup(x + begin, y + begin, len, table.data());
    }
    return Status::Ok();
  }
  // Split execution (plan.h): part p maps a p-th of the source positions (padded: and the border next to
  // them), so that it reads what the same thread's part of the producer wrote.
  bool Splittable() const override { return split_bytes >= kMinSplitBytes; }
  Status ExecutePart(Plan& plan, int part, int parts) override {
    const Value& in = plan.values[src];
    const auto* x = static_cast<const uint8_t*>(in.data);
    auto* y = static_cast<uint8_t*>(plan.values[dst].data);
    if (padded) {
      const int64_t C = in.shape[1];
      const Range r = PartRange(in.shape[0] * in.shape[2] * in.shape[3], part, parts, 64 / std::gcd<int64_t>(C, 64));
      if (r.end > r.begin) PaddedPositions(in, x, y, r.begin, r.end);
      return Status::Ok();
    }
    const Range r = PartRange(static_cast<int64_t>(BufferBytes(in)), part, parts, 64);
    if (r.end > r.begin) Lookup(x + r.begin, y + r.begin, r.end - r.begin, table.data());
    return Status::Ok();
  }
  int64_t split_bytes = 0;  // bytes of the source (set by the builder)

 private:
  // Source positions [p0, p1) of the flattened N·H·W grid into the padded output, with the border cells of
  // the rows they touch: a row's left border goes with its first position, its right border with its last
  // one, an image's top/bottom border rows with its first/last position.
  void PaddedPositions(const Value& in, const uint8_t* x, uint8_t* y, int64_t p0, int64_t p1) const {
    const int64_t C = in.shape[1], H = in.shape[2], W = in.shape[3];
    const int64_t OH = H + begin[0] + end[0], OW = W + begin[1] + end[1], row = OW * C;
    for (int64_t r = p0 / W; r * W < p1; ++r) {
      const int64_t n = r / H, h = r % H;
      const int64_t c0 = std::max<int64_t>(p0 - r * W, 0), c1 = std::min<int64_t>(p1 - r * W, W);
      uint8_t* d = y + (n * OH + h + begin[0]) * row;
      if (c0 == 0 && h == 0) std::memset(y + n * OH * row, pad_byte, begin[0] * row);
      if (c1 == W && h == H - 1) std::memset(d + row, pad_byte, end[0] * row);
      if (c0 == 0) std::memset(d, pad_byte, begin[1] * C);
      Lookup(x + (r * W + c0) * C, d + (begin[1] + c0) * C, (c1 - c0) * C, table.data());
      if (c1 == W) std::memset(d + (begin[1] + W) * C, pad_byte, end[1] * C);
    }
  }
};

// When the kernel that wrote the NHWC quantized value `x` (the last one added) can write its output into
// the interior of a spatially padded buffer (LookupKernel, QuantizeNhwcKernel), and the convolution
// `conv_index` is the only reader of `x`: retargets that kernel to a new padded value (border = the zero
// point; begins/ends are top, left / bottom, right) and returns its id. −1 otherwise (the caller pads with a
// ZeroPointPadKernel). Saves one pass over the tensor per padded depthwise convolution.
int PadInProducer(PlanBuilder& b, int x, int conv_index, const std::array<int64_t, 2>& begin,
                  const std::array<int64_t, 2>& end, uint8_t zero_point);

// ---- DQ(x), DQ(w), [DQ(b)] → Conv → [element-wise] → [Q] -----------------------------------------------

// Fewest output positions per thread for a position-split 1x1 convolution (split_conv.h), and rows per
// thread for a split INT8 MatMul (PP-OCRv4's 40x120·120x6625 head: 20 rows each).
constexpr int64_t kMinSplitConvPositions = 64;
constexpr int64_t kMinSplitMatMulRows = 8;

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
  std::vector<float> bias_acc;
  if (!BiasInAccumulatorUnits(b, node.Input(2), O, xq.scale, ws, &bias_acc)) return false;
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
  // A non-zero input zero point: the bias takes −zp·Σw (below), so the padding must hold zp (real 0)
  // rather than oneDNN's 0: the input is padded explicitly (ZeroPointPadKernel) and the convolution
  // itself is unpadded.
  const bool any_pad = std::any_of(pads.begin(), pads.end(), [](int64_t p) { return p != 0; });
  bool explicit_pad = xq.zero_point != 0 && any_pad;
  if (explicit_pad && (pr[0] < 0 || pr[1] < 0)) return false;
  Int8Output out = MatchOutput(b, node.outputs[0], out_shape);
  // Depthwise u8 → u8, quantized output without an element-wise chain: our VNNI kernel
  // (int8_depthwise.h), on an explicitly padded input also when the zero point is 0.
  // ACT_RUNTIME_ONEDNN_DEPTHWISE=1 keeps oneDNN's (for comparisons).
  const bool depthwise = group == C && O == C && xq.dtype == DType::kUInt8 && out.quantized && !out.dequantized &&
                         out.q.dtype == DType::kUInt8 && out.chain.ops.empty() &&
                         dilations == std::vector<int64_t>{1, 1} &&
                         DepthwiseInt8Kernel::Supported(kernel[0], kernel[1], strides[1]) &&
                         !std::getenv("ACT_RUNTIME_ONEDNN_DEPTHWISE");
  if (depthwise && any_pad && pr[0] >= 0 && pr[1] >= 0) explicit_pad = true;
  int src_value = x;
  Shape src_shape = xs;
  // An input already in NHWC (the INT8 kernels' layout) is read as it is.
  const bool src_nhwc = b.V(x).md == memory::desc(ToDims(xs), ToDnnl(xq.dtype), tag::nhwc);
  if (explicit_pad) src_value = PadInProducer(b, x, index, {pl[0], pl[1]}, {pr[0], pr[1]},
                                             static_cast<uint8_t>(xq.zero_point));
  if (explicit_pad && src_value >= 0) {
    src_shape = b.V(src_value).shape;
    pl = {0, 0};
    pr = {0, 0};
  } else if (explicit_pad) {
    ACT_ASSIGN_OR_RETURN(int nhwc, b.Reordered(x, memory::desc(ToDims(xs), ToDnnl(xq.dtype), tag::nhwc)));
    auto pk = std::make_unique<ZeroPointPadKernel>();
    pk->src = nhwc;
    pk->begin = {pl[0], pl[1]};
    pk->end = {pr[0], pr[1]};
    pk->zero_point = static_cast<uint8_t>(xq.zero_point);
    src_shape = {xs[0], xs[1], xs[2] + pl[0] + pr[0], xs[3] + pl[1] + pr[1]};
    pk->dst = b.AddValue(node.outputs[0] + "#zp_pad", xq.dtype, src_shape,
                         memory::desc(ToDims(src_shape), ToDnnl(xq.dtype), tag::nhwc));
    b.V(pk->dst).quant = {xq.scale, xq.zero_point};
    pk->reads = {nhwc};
    pk->writes = {pk->dst};
    pk->label = "Pad(int8, zero point)";
    pk->node_name = node.name;
    src_value = pk->dst;
    b.AddKernel(std::move(pk));
    pl = {0, 0};
    pr = {0, 0};
  }
  std::vector<float> scales(O);
  for (int64_t o = 0; o < O; ++o) scales[o] = xq.scale * ws[o];
  // Σ (x_q − zp)·w = Σ x_q·w − zp·Σ w: the input zero point goes into the bias (exact in float up to 2^24).
  if (xq.zero_point != 0) {
    const int64_t per_o = wq->numel() / O;
    const int8_t* w = wq->data<int8_t>();
    for (int64_t o = 0; o < O; ++o) {
      int64_t sum = 0;
      for (int64_t k = 0; k < per_o; ++k) sum += w[o * per_o + k];
      bias_acc[o] -= static_cast<float>(xq.zero_point * sum);
    }
  }
  const bool unpadded = pl == memory::dims{0, 0} && pr == memory::dims{0, 0};
  if (depthwise && unpadded) {
    ACT_ASSIGN_OR_RETURN(int src, b.Reordered(src_value, NhwcDesc(src_shape, DType::kUInt8)));
    std::vector<float> requant(O);
    for (int64_t o = 0; o < O; ++o) requant[o] = xq.scale * ws[o] / out.q.scale;  // as MakeAttr
    const int dst = AddOutputValue(b, out, out_shape, NhwcDesc(out_shape, DType::kUInt8));
    auto k = std::make_unique<DepthwiseInt8Kernel>(src, dst, C, kernel[0], kernel[1], strides[0], strides[1],
                                                   wq->data<int8_t>(), bias_acc, requant, out.q.zero_point);
    k->SetOutputPositions(NumElements(out_shape) / O);
    k->label = "Conv(int8, depthwise)+Quantize";
    k->node_name = node.name;
    b.AddKernel(std::move(k));
    return true;
  }
  // A 1x1 stride-1 convolution from NHWC bytes, with several threads: split by output positions
  // (split_conv.h) so that each thread keeps working on the positions it wrote.
  const int64_t positions = NumElements(out_shape) / O;
  const int parts = SplitExecution() ? omp_get_max_threads() : 1;
  if (parts > 1 && group == 1 && kernel == std::vector<int64_t>{1, 1} && strides == std::vector<int64_t>{1, 1} &&
      unpadded && !explicit_pad && src_nhwc && src_value == x && !out.bias_add &&
      positions >= kMinSplitConvPositions * parts && positions * C * O >= kMinSplitMacs) {
    try {
      const memory::desc b_md({O}, memory::data_type::f32, tag::a);
      const dnnl::primitive_attr attr = MakeAttr(b, out, scales, 1 << 1, xq.scale, ws);
      auto make_pd = [&](int64_t n) {
        const memory::desc s_md({1, C, 1, n}, ToDnnl(xq.dtype), tag::nhwc);
        const memory::desc d_md({1, O, 1, n}, OutType(out), tag::nhwc);
        const memory::desc w_any({O, C, 1, 1}, memory::data_type::s8, tag::any);
        dnnl::convolution_forward::desc d(prop_kind::forward_inference, algorithm::convolution_direct, s_md, w_any, b_md,
                                          d_md, {1, 1}, {0, 0}, {0, 0}, {0, 0});
        return dnnl::convolution_forward::primitive_desc(d, attr, b.engine());
      };
      const DType out_dtype = out.quantized && !out.dequantized ? out.q.dtype : DType::kFloat32;
      const int dst = AddOutputValue(b, out, out_shape, NhwcDesc(out_shape, out_dtype));
      const int elem = static_cast<int>(DTypeSize(out_dtype));
      ACT_ASSIGN_OR_RETURN(auto k, PositionSplitConvKernel::Create(b.engine(), x, dst, positions, C, O, elem, parts,
                                                                   make_pd, wq->raw_data(), bias_acc));
      k->label = Label("Conv", out) + "(split)";
      k->node_name = node.name;
      b.AddKernel(std::move(k));
      return true;
    } catch (const dnnl::error& e) {
      return Internal(node.Describe() + ": oneDNN refused the INT8 convolution (" + e.what() + ")");
    }
  }
  try {
    memory::dims wdims = group > 1 ? memory::dims{group, O / group, C / group, kernel[0], kernel[1]}
                                   : memory::dims{O, C, kernel[0], kernel[1]};
    const memory::desc w_plain = PlainDesc(Shape(wdims.begin(), wdims.end()), DType::kInt8);
    const memory::desc src_any(ToDims(src_shape), ToDnnl(xq.dtype), explicit_pad || src_nhwc ? tag::nhwc : tag::any);
    const memory::desc w_any(wdims, memory::data_type::s8, tag::any);
    const memory::desc b_md({O}, memory::data_type::f32, tag::a);
    const memory::desc dst_any(ToDims(out_shape), OutType(out), tag::any);
    memory::dims dil;
    for (int64_t d : dilations) dil.push_back(d - 1);
    dnnl::convolution_forward::desc d(prop_kind::forward_inference, algorithm::convolution_direct, src_any, w_any, b_md,
                                      dst_any, memory::dims(strides.begin(), strides.end()), dil, pl, pr);
    const bool threads = ComputeWorthThreads(NumElements(out_shape) * (C / group) * kernel[0] * kernel[1], true);
    SingleThreadScope one_thread(!threads);
    dnnl::convolution_forward::primitive_desc pd(d, MakeAttr(b, out, scales, 1 << 1, xq.scale, ws), b.engine());
    ACT_ASSIGN_OR_RETURN(int src, b.Reordered(src_value, pd.src_desc()));
    auto k = std::make_unique<DnnlKernel>();
    k->threads = threads ? Kernel::Threads::kAll : Kernel::Threads::kOne;
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

// y = (q − zp)·s + bias[last axis] of the plain quantized value `quantized` as a new plain float value
// `name` (a 256-entry table, then the bias: the DequantizeLinear and the Add's float arithmetic).
Expected<int> AddDequantizeWithBias(PlanBuilder& b, int quantized, const QParams& q, const Tensor& bias,
                                    const std::string& name);

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
    if (node.GetFloat("beta", 1.f) != 1.f || !BiasInAccumulatorUnits(b, bias_name, N, xq.scale, ws, &bias_acc)) return false;
  }
  // Σ_k (x_q − zp)·w[k][n] = Σ_k x_q·w[k][n] − zp·Σ_k w[k][n]: the input zero point goes into the bias.
  if (xq.zero_point != 0) {
    if (bias_acc.empty()) bias_acc.assign(N, 0.f);
    const int8_t* w = wq->data<int8_t>();
    for (int64_t n = 0; n < N; ++n) {
      int64_t sum = 0;
      for (int64_t k = 0; k < K; ++k) sum += tb ? w[n * K + k] : w[k * N + n];
      bias_acc[n] -= static_cast<float>(xq.zero_point * sum);
    }
  }
  Shape out_shape = as;
  out_shape.back() = N;
  const size_t rank = as.size();
  Int8Output out = MatchOutput(b, produced, out_shape, /*allow_bias_add=*/true);
  // Q → DQ → Add(bias) after a MatMul: the MatMul writes its bytes and one table pass dequantizes them
  // and adds the bias (the round/clip/linear/binary post-ops made oneDNN's brgemm matmul slower than
  // both: PP-OCRv4's 40x6625 head 0.42 ms against 0.23 + 0.03).
  const Tensor* table_bias = nullptr;
  std::string table_out;
  if (out.dequantized && out.bias_add) {
    table_bias = out.bias_add;
    table_out = out.name;
    out.dequantized = false;
    out.bias_add = nullptr;
    out.name = table_out + "#q";
  }
  std::vector<float> scales(N);
  for (int64_t n = 0; n < N; ++n) scales[n] = xq.scale * ws[n];
  if (!out.dequantized) {
    // Rows × K as a 1x1 convolution over an NHWC image of 1 x rows pixels (the same bytes): oneDNN 2.6.3's
    // brgconv_1x1 ran PP-OCRv4's 40x120 · 120x6625 head in 0.12 ms against its int8 matmul's 0.21 (same
    // integer arithmetic and requantization: the outputs are identical).
    const int64_t rows = NumElements(as) / K;
    try {
      const memory::desc src_md({1, K, 1, rows}, ToDnnl(xq.dtype), tag::nhwc);
      const memory::desc dst_md({1, N, 1, rows}, OutType(out), tag::nhwc);
      const memory::desc w_any({N, K, 1, 1}, memory::data_type::s8, tag::any);
      const memory::desc w_plain({N, K, 1, 1}, memory::data_type::s8, tag::abcd);
      const memory::desc b_md({N}, memory::data_type::f32, tag::a);
      std::vector<int8_t> wt(N * K);
      const int8_t* w = wq->data<int8_t>();
      for (int64_t n = 0; n < N; ++n)
        for (int64_t k = 0; k < K; ++k) wt[n * K + k] = tb ? w[n * K + k] : w[k * N + n];
      if (bias_acc.empty()) bias_acc.assign(N, 0.f);
      const bool threads = ComputeWorthThreads(rows * K * N, true);
      // With several threads, a large one is split by rows (split_conv.h), as the kernel after it can be.
      const int parts = SplitExecution() ? omp_get_max_threads() : 1;
      if (parts > 1 && rows >= kMinSplitMatMulRows * parts && rows * K * N >= kMinSplitMacs) {
        ACT_ASSIGN_OR_RETURN(int src, b.Plain(x));
        const dnnl::primitive_attr attr = MakeAttr(b, out, scales, 1 << 1, xq.scale, ws);
        auto make_pd = [&](int64_t n) {
          const memory::desc s_md({1, K, 1, n}, ToDnnl(xq.dtype), tag::nhwc);
          const memory::desc d_md({1, N, 1, n}, OutType(out), tag::nhwc);
          dnnl::convolution_forward::desc d(prop_kind::forward_inference, algorithm::convolution_direct, s_md, w_any,
                                            b_md, d_md, {1, 1}, {0, 0}, {0, 0}, {0, 0});
          return dnnl::convolution_forward::primitive_desc(d, attr, b.engine());
        };
        const DType out_dtype = out.quantized ? out.q.dtype : DType::kFloat32;
        const int dst = AddOutputValue(b, out, out_shape, PlainDesc(out_shape, out_dtype));
        ACT_ASSIGN_OR_RETURN(auto k, PositionSplitConvKernel::Create(b.engine(), src, dst, rows, K, N,
                                                                     static_cast<int>(DTypeSize(out_dtype)), parts,
                                                                     make_pd, wt.data(), bias_acc));
        k->label = Label(node.op_type, out) + "(1x1 conv, split)";
        k->node_name = node.name;
        b.AddKernel(std::move(k));
        if (table_bias) {
          ACT_RETURN_IF_ERROR(AddDequantizeWithBias(b, dst, out.q, *table_bias, table_out).status());
        }
        return true;
      }
      dnnl::convolution_forward::desc d(prop_kind::forward_inference, algorithm::convolution_direct, src_md, w_any, b_md,
                                        dst_md, {1, 1}, {0, 0}, {0, 0}, {0, 0});
      SingleThreadScope one_thread(!threads);
      dnnl::convolution_forward::primitive_desc pd(d, MakeAttr(b, out, scales, 1 << 1, xq.scale, ws), b.engine());
      ACT_ASSIGN_OR_RETURN(int src, b.Plain(x));
      auto k = std::make_unique<DnnlKernel>();
      k->threads = threads ? Kernel::Threads::kAll : Kernel::Threads::kOne;
      k->primitive = dnnl::convolution_forward(pd);
      ACT_ASSIGN_OR_RETURN(k->owned_args[DNNL_ARG_WEIGHTS], ReorderConstant(b.engine(), wt.data(), w_plain, pd.weights_desc()));
      ACT_ASSIGN_OR_RETURN(k->owned_args[DNNL_ARG_BIAS], ReorderConstant(b.engine(), bias_acc.data(), b_md, b_md));
      k->AddInput(DNNL_ARG_SRC, src, src_md);
      const int dst = AddOutputValue(b, out, out_shape, PlainDesc(out_shape, out.quantized ? out.q.dtype : DType::kFloat32));
      k->AddOutput(DNNL_ARG_DST, dst, dst_md);
      k->label = Label(node.op_type, out) + "(1x1 conv)";
      k->node_name = node.name;
      b.AddKernel(std::move(k));
      if (table_bias) {
        ACT_RETURN_IF_ERROR(AddDequantizeWithBias(b, dst, out.q, *table_bias, table_out).status());
      }
    } catch (const dnnl::error& e) {
      return Internal(node.Describe() + ": oneDNN refused the INT8 matmul as a convolution (" + e.what() + ")");
    }
    return true;
  }
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
    const memory::desc dst_md = PlainDesc(out_shape, out.quantized && !out.dequantized ? out.q.dtype : DType::kFloat32);
    memory::desc b_md;
    if (!bias_acc.empty()) {
      Shape bd(rank, 1);
      bd[rank - 1] = N;
      b_md = PlainDesc(bd, DType::kFloat32);
    }
    dnnl::matmul::desc d = bias_acc.empty() ? dnnl::matmul::desc(a_md, w_any, dst_md) : dnnl::matmul::desc(a_md, w_any, b_md, dst_md);
    const bool threads = ComputeWorthThreads(NumElements(out_shape) * K, true);
    SingleThreadScope one_thread(!threads);
    dnnl::matmul::primitive_desc pd(d, MakeAttr(b, out, scales, 1 << (rank - 1), xq.scale, ws), b.engine());
    ACT_ASSIGN_OR_RETURN(int src, b.Plain(x));
    auto k = std::make_unique<DnnlKernel>();
    k->threads = threads ? Kernel::Threads::kAll : Kernel::Threads::kOne;
    k->primitive = dnnl::matmul(pd);
    ACT_ASSIGN_OR_RETURN(k->owned_args[DNNL_ARG_WEIGHTS], ReorderConstant(b.engine(), wq->raw_data(), w_plain, pd.weights_desc()));
    if (!bias_acc.empty()) {
      ACT_ASSIGN_OR_RETURN(k->owned_args[DNNL_ARG_BIAS], ReorderConstant(b.engine(), bias_acc.data(), b_md, b_md));
    }
    if (out.bias_add) {
      const int last = pd.get_primitive_attr().get_post_ops().len() - 1;
      const memory::desc add_md = PlainDesc(out.bias_shape, DType::kFloat32);
      ACT_ASSIGN_OR_RETURN(k->owned_args[DNNL_ARG_ATTR_MULTIPLE_POST_OP(last) | DNNL_ARG_SRC_1],
                           ReorderConstant(b.engine(), out.bias_add->raw_data(), add_md, add_md));
    }
    k->AddInput(DNNL_ARG_SRC, src);
    const int dst = AddOutputValue(b, out, out_shape, dst_md);
    k->AddOutput(DNNL_ARG_DST, dst);
    k->label = Label(node.op_type, out);
    k->node_name = node.name;
    b.AddKernel(std::move(k));
    if (table_bias) {
      ACT_RETURN_IF_ERROR(AddDequantizeWithBias(b, dst, out.q, *table_bias, table_out).status());
    }
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

// Concat of quantized inputs with their own parameters into one quantized output: each input byte is
// requantized through a 256-entry table, q_out = saturate(round((q_in − zp_in) · s_in / s_out) + zp_out).
class RequantizeConcatKernel : public Kernel {
 public:
  std::vector<int> inputs;
  int output = -1;
  int64_t axis = 0;
  std::vector<std::vector<uint8_t>> tables;  // per input; empty when its parameters equal the output's
  Status Execute(Plan& plan) override {
    const View out = plan.ViewOf(output);
    const int64_t outer = NumElements(Shape(out.shape.begin(), out.shape.begin() + axis));
    const int64_t inner = NumElements(Shape(out.shape.begin() + axis + 1, out.shape.end()));
    const int64_t row = out.shape[axis] * inner;
    uint8_t* dst = out.as<uint8_t>();
    int64_t col = 0;
    for (size_t i = 0; i < inputs.size(); ++i) {
      const View in = plan.ViewOf(inputs[i]);
      const int64_t chunk = in.shape[axis] * inner;
      const uint8_t* src = in.as<uint8_t>();
      for (int64_t o = 0; o < outer; ++o) {
        uint8_t* d = dst + o * row + col;
        const uint8_t* s = src + o * chunk;
        if (tables[i].empty()) {
          std::memcpy(d, s, chunk);
        } else {
          const uint8_t* t = tables[i].data();
          for (int64_t k = 0; k < chunk; ++k) d[k] = t[s[k]];
        }
      }
      col += chunk;
    }
    return Status::Ok();
  }
};

// t[v] = QuantizeLinear(real[v]) with `out`'s parameters (a float table region's bytes into a quantized value).
std::vector<uint8_t> QuantizeTable(const std::array<float, 256>& real, const QParams& out) {
  std::vector<uint8_t> t(256);
  const float lo = QMin(out.dtype), hi = QMax(out.dtype);
  for (int v = 0; v < 256; ++v) {
    const float r = std::clamp(std::nearbyint(real[v] / out.scale) + out.zero_point, lo, hi);
    t[v] = out.dtype == DType::kInt8 ? static_cast<uint8_t>(static_cast<int8_t>(r)) : static_cast<uint8_t>(r);
  }
  return t;
}

std::vector<uint8_t> RequantTable(const QParams& in, const QParams& out) {
  std::array<float, 256> real;
  for (int v = 0; v < 256; ++v) {
    const int q = in.dtype == DType::kInt8 ? static_cast<int8_t>(v) : v;
    real[v] = static_cast<float>(q - in.zero_point) * in.scale;  // DequantizeLinear
  }
  return QuantizeTable(real, out);
}


// count runs of len bytes: dst + i·dst_stride ← src + i·src_stride. Runs of at most 64 bytes (the
// channel groups of ShuffleNet blocks) take one masked AVX-512 load and store each instead of a memcpy call.
__attribute__((target("avx512f,avx512bw"))) void CopyRunsAvx512(uint8_t* dst, int64_t dst_stride, const uint8_t* src,
                                                               int64_t src_stride, int64_t len, int64_t count) {
  const __mmask64 mask = len >= 64 ? ~__mmask64{0} : ((__mmask64{1} << len) - 1);
  for (int64_t i = 0; i < count; ++i) {
    _mm512_mask_storeu_epi8(dst + i * dst_stride, mask, _mm512_maskz_loadu_epi8(mask, src + i * src_stride));
  }
}

void CopyRuns(uint8_t* dst, int64_t dst_stride, const uint8_t* src, int64_t src_stride, int64_t len, int64_t count) {
  if (len <= 64 && HasVbmi()) return CopyRunsAvx512(dst, dst_stride, src, src_stride, len, count);
  for (int64_t i = 0; i < count; ++i) std::memcpy(dst + i * dst_stride, src + i * src_stride, len);
}

// Channel Concat / Split of 4-D int8 tensors in NHWC, the layout the INT8 convolutions read and write:
// per pixel, each part's channels are a contiguous run, so no reorder to NCHW and back is needed around
// the channel shuffles of ShuffleNet-style models. Concat parts with other quantization parameters go
// through a 256-entry requantization table (RequantTable).
class NhwcChannelKernel : public Kernel {
 public:
  std::vector<int> inputs, outputs;              // Concat: many → one; Split: one → many
  std::vector<std::vector<uint8_t>> tables;      // Concat: per input, empty when copied as is
  Status Bind(Plan& plan) override {
    size_t most = 0;
    for (int in : inputs) most = std::max(most, plan.values[in].nbytes);
    scratch_.assign(most, 0);  // once, not per Run
    return Status::Ok();
  }
  Status Execute(Plan& plan) override {
    const Value& first = plan.values[inputs.size() > 1 ? outputs[0] : inputs[0]];
    const int64_t pixels = first.shape[0] * first.shape[2] * first.shape[3];
    const int64_t C = first.shape[1];
    if (inputs.size() > 1 || outputs.size() == 1) {
      auto* y = static_cast<uint8_t*>(plan.values[outputs[0]].data);
      int64_t off = 0;
      for (size_t i = 0; i < inputs.size(); ++i) {
        const Value& in = plan.values[inputs[i]];
        const int64_t ci = in.shape[1];
        const auto* x = static_cast<const uint8_t*>(in.data);
        if (!tables[i].empty()) {
          // Requantize the whole part first (vectorized table lookup), then place it.
          if (HasVbmi()) LookupVbmi(x, scratch_.data(), pixels * ci, tables[i].data());
          else for (int64_t e = 0; e < pixels * ci; ++e) scratch_[e] = tables[i][x[e]];
          x = scratch_.data();
        }
        CopyRuns(y + off, C, x, ci, ci, pixels);
        off += ci;
      }
    } else {
      const auto* x = static_cast<const uint8_t*>(first.data);
      int64_t off = 0;
      for (int out : outputs) {
        const Value& o = plan.values[out];
        const int64_t co = o.shape[1];
        auto* y = static_cast<uint8_t*>(o.data);
        CopyRuns(y, co, x + off, C, co, pixels);
        off += co;
      }
    }
    return Status::Ok();
  }

 private:
  std::vector<uint8_t> scratch_;
};


// Split sizes along `axis` of a Split node (input 1, the `split` attribute, or equal parts); empty when
// they are not known when planning.
std::vector<int64_t> SplitSizes(PlanBuilder& b, const ir::Node& node, int64_t dim) {
  std::vector<int64_t> split;
  if (!node.Input(1).empty()) {
    const Tensor* t = b.Const(node.Input(1));
    if (!t) return {};
    for (int64_t i = 0; i < t->numel(); ++i) split.push_back(static_cast<int64_t>(t->ElementAsDouble(i)));
  } else {
    split = node.GetInts("split");
  }
  const int64_t n = static_cast<int64_t>(node.outputs.size());
  if (split.empty()) {
    if (dim % n) return {};
    split.assign(n, dim / n);
  }
  int64_t sum = 0;
  for (int64_t v : split) sum += v;
  if (static_cast<int64_t>(split.size()) != n || sum != dim) return {};
  return split;
}

// A Transpose that only moves size-1 axes relative to the order its input's bytes are in is a view of
// the same bytes, as a plain tensor or, for 4-D, as NHWC (PP-OCRv4's neck: [1,1,40,120] → [1,120,1,40]
// read by a 1x1 convolution in NHWC, and back after it). Adds that view as `name` and returns its id; −1
// when the bytes must move.
int TransposeView(PlanBuilder& b, const ir::Node& node, int x, const std::string& name) {
  const Value& in = b.V(x);
  const Shape& s = in.shape;
  const size_t rank = s.size();
  std::vector<int64_t> order(rank);  // the input's axes from the outermost in memory
  for (size_t i = 0; i < rank; ++i) order[i] = static_cast<int64_t>(i);
  if (rank == 4 && in.md == NhwcDesc(s, in.dtype)) {
    order = {0, 2, 3, 1};
  } else if (!(in.md == PlainDesc(s, in.dtype))) {
    return -1;
  }
  std::vector<int64_t> perm = node.GetInts("perm", {});
  if (perm.empty()) for (size_t i = 0; i < rank; ++i) perm.push_back(static_cast<int64_t>(rank - 1 - i));
  if (perm.size() != rank) return -1;
  Shape out(rank);
  for (size_t i = 0; i < rank; ++i) out[i] = s[perm[i]];
  auto non_unit = [&](const std::vector<int64_t>& axes) {  // input axes of size > 1, in the given order
    std::vector<int64_t> kept;
    for (int64_t a : axes) if (s[a] > 1) kept.push_back(a);
    return kept;
  };
  const std::vector<int64_t> want = non_unit(order);
  std::vector<std::pair<std::vector<int64_t>, memory::desc>> layouts = {{{}, PlainDesc(out, in.dtype)}};
  for (size_t i = 0; i < rank; ++i) layouts[0].first.push_back(static_cast<int64_t>(i));
  if (rank == 4) layouts.push_back({{0, 2, 3, 1}, NhwcDesc(out, in.dtype)});
  for (const auto& [out_order, md] : layouts) {
    std::vector<int64_t> axes;  // the input axis behind each output axis, in the output's memory order
    for (int64_t a : out_order) axes.push_back(perm[a]);
    if (non_unit(axes) != want) continue;
    const int id = b.AddValue(name, in.dtype, out, md);
    b.V(id).alias_of = x;
    b.V(id).nbytes = 0;
    b.V(id).quant = in.quant;
    return id;
  }
  return -1;
}

Expected<bool> BuildDataMovementInt8(PlanBuilder& b, int index) {
  const ir::Node& node = b.graph().nodes[index];
  if (node.op_type == "Resize" && node.GetString("mode", "nearest") != "nearest") return false;
  if (node.op_type == "Upsample" && node.GetString("mode", "nearest") != "nearest") return false;
  // Inputs carrying data: all of Concat's, the first of the others.
  const bool concat = node.op_type == "Concat";
  const size_t data_inputs = concat ? node.inputs.size() : 1;
  std::vector<std::string> inputs = node.inputs;
  std::vector<QParams> params;
  std::vector<int> ids;
  // A Concat input may also be a float table region's output left as bytes (PlanBuilder::TableView): its
  // bytes are requantized through Q(table) into the output.
  std::vector<std::optional<std::array<float, 256>>> float_tables(data_inputs);
  for (size_t i = 0; i < data_inputs; ++i) {
    int id;
    QParams p;
    if (!QuantizedActivation(b, node.inputs[i], &id, &p)) {
      const PlanBuilder::TableView* view = concat ? b.DeferredTable(node.inputs[i]) : nullptr;
      if (!view) return false;
      float_tables[i] = view->table;
      ACT_ASSIGN_OR_RETURN(id, b.Id(view->quantized));
      p = QParams{0.f, 0, DType::kUInt8};  // no parameters: the table maps the bytes
    }
    params.push_back(p);
    ids.push_back(id);
    inputs[i] = b.V(id).name;
  }
  const bool any_float_table = std::any_of(float_tables.begin(), float_tables.end(), [](const auto& t) { return t.has_value(); });
  bool same = !any_float_table;
  for (const QParams& p : params) same &= p == params[0];
  // Outputs re-quantized by a following QuantizeLinear take its name; the others stay quantized views.
  std::vector<std::string> outputs = node.outputs;
  std::vector<int> quantizers;
  std::vector<QParams> out_params;
  for (size_t i = 0; i < node.outputs.size(); ++i) {
    QParams p;
    const int qi = QuantizeAfter(b, node.outputs[i], &p);
    if (qi >= 0 && (p == params[0] || (concat && p.dtype == params[0].dtype))) {
      quantizers.push_back(qi);
      outputs[i] = b.graph().nodes[qi].outputs[0];
      out_params.push_back(p);
    } else {
      quantizers.push_back(-1);
      outputs[i] = node.outputs[i] + "#q";
      out_params.push_back(params[0]);
    }
  }
  // Channel Concat / Split of 4-D tensors: in NHWC (NhwcChannelKernel).
  const Shape s0 = b.V(ids[0]).shape;
  int64_t axis = node.GetInt("axis", node.op_type == "Split" ? 0 : 1);
  if (axis < 0) axis += static_cast<int64_t>(s0.size());
  const bool u8 = params[0].dtype == DType::kUInt8;
  bool channel = (concat || node.op_type == "Split") && s0.size() == 4 && axis == 1 && u8;
  for (int id : ids) channel &= b.V(id).shape.size() == 4 && b.V(id).dtype == DType::kUInt8;
  std::vector<int64_t> split;
  if (channel && !concat) {
    split = SplitSizes(b, node, s0[1]);
    channel = !split.empty() && same;
  }
  if (channel && concat && !same && quantizers[0] < 0) channel = false;  // mixed parameters need a Q to requantize into
  if (any_float_table && !channel) return false;  // the float reader materializes the table's output
  if (channel) {
    auto k = std::make_unique<NhwcChannelKernel>();
    for (size_t i = 0; i < ids.size(); ++i) {
      ACT_ASSIGN_OR_RETURN(int in, b.Reordered(ids[i], NhwcDesc(b.V(ids[i]).shape, DType::kUInt8)));
      k->inputs.push_back(in);
      k->reads.push_back(in);
      if (float_tables[i]) {
        k->tables.push_back(QuantizeTable(*float_tables[i], out_params[0]));
      } else {
        k->tables.push_back(params[i] == out_params[0] ? std::vector<uint8_t>() : RequantTable(params[i], out_params[0]));
      }
    }
    if (concat) {
      Shape out_shape = s0;
      out_shape[1] = 0;
      for (int id : ids) out_shape[1] += b.V(id).shape[1];
      const int out = b.AddValue(outputs[0], DType::kUInt8, out_shape, NhwcDesc(out_shape, DType::kUInt8));
      b.V(out).quant = {out_params[0].scale, out_params[0].zero_point};
      k->outputs.push_back(out);
    } else {
      for (size_t i = 0; i < outputs.size(); ++i) {
        Shape out_shape = s0;
        out_shape[1] = split[i];
        const int out = b.AddValue(outputs[i], DType::kUInt8, out_shape, NhwcDesc(out_shape, DType::kUInt8));
        b.V(out).quant = {out_params[i].scale, out_params[i].zero_point};
        k->outputs.push_back(out);
      }
    }
    k->writes = k->outputs;
    for (size_t i = 0; i < outputs.size(); ++i) {
      if (quantizers[i] >= 0) b.Consume(quantizers[i]);
      else b.DeferView(node.outputs[i], {outputs[i], params[0].scale, params[0].zero_point});
    }
    k->label = node.op_type + "(int8, NHWC)";
    k->node_name = node.name;
    b.AddKernel(std::move(k));
    return true;
  }
  if (!same || (concat && !(out_params[0] == params[0]))) {
    // Only Concat mixes parameters: requantize into the output's (which a QuantizeLinear must give).
    if (!concat || quantizers[0] < 0 || params[0].dtype != DType::kUInt8) return false;
    auto k = std::make_unique<RequantizeConcatKernel>();
    const Shape s0 = b.V(ids[0]).shape;
    k->axis = node.GetInt("axis", 0);
    if (k->axis < 0) k->axis += s0.size();
    Shape out_shape = s0;
    out_shape[k->axis] = 0;
    for (size_t i = 0; i < ids.size(); ++i) {
      if (b.V(ids[i]).dtype != DType::kUInt8 || b.V(ids[i]).shape.size() != s0.size()) return false;
      ACT_ASSIGN_OR_RETURN(int plain, b.Plain(ids[i]));
      k->inputs.push_back(plain);
      k->reads.push_back(plain);
      k->tables.push_back(params[i] == out_params[0] ? std::vector<uint8_t>() : RequantTable(params[i], out_params[0]));
      out_shape[k->axis] += b.V(ids[i]).shape[k->axis];
    }
    b.Consume(quantizers[0]);
    k->output = b.AddPlainValue(outputs[0], DType::kUInt8, out_shape);
    b.V(k->output).quant = {out_params[0].scale, out_params[0].zero_point};
    k->writes = {k->output};
    k->label = "Concat(int8, requantized)";
    k->node_name = node.name;
    b.AddKernel(std::move(k));
    return true;
  }
  if (node.op_type == "Transpose" && TransposeView(b, node, ids[0], outputs[0]) >= 0) {
    if (quantizers[0] >= 0) b.Consume(quantizers[0]);
    else b.DeferView(node.outputs[0], {outputs[0], params[0].scale, params[0].zero_point});
    return true;
  }
  for (int qi : quantizers) if (qi >= 0) b.Consume(qi);
  ACT_RETURN_IF_ERROR(b.BuildReference(index, &inputs, &outputs));
  for (size_t i = 0; i < outputs.size(); ++i) {
    ACT_ASSIGN_OR_RETURN(int id, b.Id(outputs[i]));
    b.V(id).quant = {params[0].scale, params[0].zero_point};
    if (quantizers[i] < 0) b.DeferView(node.outputs[i], {outputs[i], params[0].scale, params[0].zero_point});
  }
  // Name the kernel as INT8 in the profile.
  if (!b.plan().kernels.empty() && b.plan().kernels.back()->node_name == node.name) {
    b.plan().kernels.back()->label = node.op_type + "(int8)";
  }
  return true;
}

// q = saturate(round_half_even(x / s) + zero_point), per tensor, on plain data. Divides (rather than
// multiplying by 1/s) as ONNX Runtime does, so both engines quantize the model input identically.
class QuantizeKernel : public Kernel {
 public:
  int src = -1, dst = -1;
  QParams q;
  Status Execute(Plan& plan) override {
    const View in = plan.ViewOf(src), out = plan.ViewOf(dst);
    const float* x = in.as<float>();
    const int64_t n = in.numel();
    const float lo = q.dtype == DType::kInt8 ? -128.f : 0.f, hi = q.dtype == DType::kInt8 ? 127.f : 255.f;
    const float scale = q.scale, zp = static_cast<float>(q.zero_point);
    if (q.dtype == DType::kUInt8 && HasVbmi()) {
      QuantizeU8Vbmi(x, out.as<uint8_t>(), n, scale, zp);
    } else if (q.dtype == DType::kUInt8) {
      uint8_t* y = out.as<uint8_t>();
      for (int64_t i = 0; i < n; ++i) y[i] = static_cast<uint8_t>(std::min(std::max(std::nearbyint(x[i] / scale) + zp, lo), hi));
    } else {
      int8_t* y = out.as<int8_t>();
      for (int64_t i = 0; i < n; ++i) y[i] = static_cast<int8_t>(std::min(std::max(std::nearbyint(x[i] / scale) + zp, lo), hi));
    }
    return Status::Ok();
  }
};

// q = saturate(round_half_even(x / s) + zero_point) from a plain float NCHW tensor into an NHWC tensor
// with `out_channels` ≥ C channels and spatial padding (begin: top, left; end: bottom, right); the extra
// channels and the border hold the zero point (the quantization of a zero pad). The model input's
// Pad(channels) → QuantizeLinear → [the first convolution's zero-point padding] in one pass, with the same
// arithmetic as QuantizeKernel (so the same bytes).
class QuantizeNhwcKernel : public Kernel {
 public:
  int src = -1, dst = -1;
  QParams q;
  int64_t out_channels = 0;
  std::array<int64_t, 2> begin{}, end{};
  Status Execute(Plan& plan) override {
    const Value& in = plan.values[src];
    const float* x = static_cast<const float*>(in.data);
    auto* y = static_cast<uint8_t*>(plan.values[dst].data);
    const int64_t N = in.shape[0], C = in.shape[1], H = in.shape[2], W = in.shape[3], CO = out_channels;
    const int64_t OH = H + begin[0] + end[0], OW = W + begin[1] + end[1], row = OW * CO;
    const uint8_t zp_byte = static_cast<uint8_t>(q.zero_point);
    const bool vector = q.dtype == DType::kUInt8 && CO == 4 && HasVbmi();
#pragma omp parallel for schedule(static) if (N * OH * row > (1 << 17))
    for (int64_t r = 0; r < N * OH; ++r) {
      const int64_t n = r / OH, ih = r % OH - begin[0];
      uint8_t* d = y + r * row;
      if (ih < 0 || ih >= H) {
        std::memset(d, zp_byte, row);
        continue;
      }
      std::memset(d, zp_byte, begin[1] * CO);
      std::memset(d + (begin[1] + W) * CO, zp_byte, end[1] * CO);
      d += begin[1] * CO;
      const float* xr = x + (n * C * H + ih) * W;  // channel c's row at xr + c·H·W
      int64_t w = 0;
      if (vector) w = QuantizeRowNhwc4(xr, H * W, C, d, W, q.scale, static_cast<float>(q.zero_point));
      const float lo = QMin(q.dtype), hi = QMax(q.dtype), zp = static_cast<float>(q.zero_point);
      for (; w < W; ++w) {
        for (int64_t c = 0; c < CO; ++c) {
          const float v = c < C ? std::min(std::max(std::nearbyint(xr[c * H * W + w] / q.scale) + zp, lo), hi) : zp;
          d[w * CO + c] = q.dtype == DType::kInt8 ? static_cast<uint8_t>(static_cast<int8_t>(v)) : static_cast<uint8_t>(v);
        }
      }
    }
    return Status::Ok();
  }

 private:
  // 16 pixels per step into 4-channel NHWC u8 (channels ≥ C hold the zero point); returns the pixels done.
  __attribute__((target("avx512f,avx512bw"))) static int64_t QuantizeRowNhwc4(const float* x, int64_t plane, int64_t C,
                                                                              uint8_t* y, int64_t W, float scale,
                                                                              float zp) {
    const __m512 s = _mm512_set1_ps(scale), z = _mm512_set1_ps(zp);
    const __m512 lo = _mm512_set1_ps(0.f), hi = _mm512_set1_ps(255.f);
    const __m512i zpi = _mm512_set1_epi32(static_cast<int>(zp));
    int64_t w = 0;
    for (; w + 16 <= W; w += 16) {
      __m512i packed = _mm512_setzero_si512();
      for (int64_t c = 0; c < 4; ++c) {
        __m512i qc = zpi;
        if (c < C) {
          __m512 v = _mm512_div_ps(_mm512_loadu_ps(x + c * plane + w), s);
          v = _mm512_add_ps(_mm512_roundscale_ps(v, _MM_FROUND_TO_NEAREST_INT | _MM_FROUND_NO_EXC), z);
          qc = _mm512_cvtps_epi32(_mm512_min_ps(_mm512_max_ps(v, lo), hi));
        }
        packed = _mm512_or_si512(packed, _mm512_slli_epi32(qc, static_cast<unsigned>(8 * c)));
      }
      _mm512_storeu_si512(y + w * 4, packed);
    }
    return w;
  }
};

int PadInProducer(PlanBuilder& b, int x, int conv_index, const std::array<int64_t, 2>& begin,
                  const std::array<int64_t, 2>& end, uint8_t zero_point) {
  auto& kernels = b.plan().kernels;
  if (kernels.empty() || kernels.back()->writes != std::vector<int>{x}) return -1;
  const Value& xv = b.V(x);
  if (xv.shape.size() != 4 || !(xv.md == NhwcDesc(xv.shape, xv.dtype)) || b.IsGraphOutput(xv.name)) return -1;
  // The convolution must be the only reader: x → (one DequantizeLinear) → this Conv alone.
  std::vector<int> readers = b.graph().Consumers(xv.name);
  std::sort(readers.begin(), readers.end());
  readers.erase(std::unique(readers.begin(), readers.end()), readers.end());
  if (readers.size() != 1 || b.graph().nodes[readers[0]].op_type != "DequantizeLinear") return -1;
  const std::string& dq_out = b.graph().nodes[readers[0]].outputs[0];
  std::vector<int> conv_readers = b.graph().Consumers(dq_out);
  for (int c : conv_readers) if (c != conv_index) return -1;
  if (b.IsGraphOutput(dq_out) || b.DeferredDequantize(dq_out) != readers[0]) return -1;
  auto* lookup = dynamic_cast<LookupKernel*>(kernels.back().get());
  auto* quantize = dynamic_cast<QuantizeNhwcKernel*>(kernels.back().get());
  if (lookup ? lookup->padded : quantize ? (quantize->begin != std::array<int64_t, 2>{} || quantize->end != std::array<int64_t, 2>{}) : true) return -1;
  const Shape padded = {xv.shape[0], xv.shape[1], xv.shape[2] + begin[0] + end[0], xv.shape[3] + begin[1] + end[1]};
  const int id = b.AddValue(xv.name + "#zp_padded", xv.dtype, padded, NhwcDesc(padded, xv.dtype));
  b.V(id).quant = b.V(x).quant;
  if (lookup) {
    lookup->padded = true;
    lookup->begin = begin;
    lookup->end = end;
    lookup->pad_byte = zero_point;
    lookup->dst = id;
    lookup->label += "+Pad";
  } else {
    quantize->begin = begin;
    quantize->end = end;
    quantize->dst = id;
    quantize->label += "+Pad";
  }
  kernels.back()->writes = {id};
  return id;
}

// The QuantizeLinear `index` reads x, written by the oneDNN Mul kernel just added (x = a · c with a float
// NHWC and c one value per channel) and read by nothing else: replaces that kernel by a
// ChannelMulQuantizeKernel.
Expected<bool> TryFuseChannelMul(PlanBuilder& b, int index, int x, const QParams& p) {
  auto& kernels = b.plan().kernels;
  auto* mul = kernels.empty() ? nullptr : dynamic_cast<DnnlKernel*>(kernels.back().get());
  if (!mul || mul->label != "Mul" || mul->writes != std::vector<int>{x}) return false;
  const std::string& name = b.V(x).name;
  std::vector<int> readers = b.graph().Consumers(name);
  if (b.IsGraphOutput(name) || readers.size() != 1 || readers[0] != index) return false;
  int a = -1, c = -1;
  for (const auto& arg : mul->value_args) {
    if (arg.arg == DNNL_ARG_SRC_0) a = arg.value;
    if (arg.arg == DNNL_ARG_SRC_1) c = arg.value;
  }
  if (a < 0 || c < 0 || mul->reads.size() != 2) return false;
  const Shape xs = b.V(a).shape;
  if (xs.size() != 4 || !(b.V(a).md == NhwcDesc(xs, DType::kFloat32)) || b.V(c).blocked ||
      b.V(c).dtype != DType::kFloat32) {
    return false;
  }
  Shape cs = b.V(c).shape;
  while (cs.size() < 4) cs.insert(cs.begin(), 1);
  if (cs != Shape{1, xs[1], 1, 1}) return false;
  const std::string mul_node = mul->node_name;
  kernels.pop_back();
  ACT_RETURN_IF_ERROR(
      AddChannelMulQuantize(b, a, nullptr, c, p.scale, p.zero_point, b.graph().nodes[index].outputs[0], mul_node).status());
  return true;
}

Expected<bool> BuildQuantize(PlanBuilder& b, int index) {
  const ir::Node& node = b.graph().nodes[index];
  QParams p;
  if (b.Const(node.inputs[0]) || !PerTensorParams(b, node, &p)) return false;
  ACT_ASSIGN_OR_RETURN(int x, b.Id(node.inputs[0]));
  if (b.V(x).dtype != DType::kFloat32) return false;
  // A float NHWC input (see TryBuildLut) is quantized in place of layout: element-wise, NHWC out.
  const Shape xs = b.V(x).shape;
  const bool nhwc = xs.size() == 4 && b.V(x).md == NhwcDesc(xs, DType::kFloat32);
  if (nhwc && p.dtype == DType::kUInt8 && HasVbmi()) {
    ACT_ASSIGN_OR_RETURN(bool fused, TryFuseChannelMul(b, index, x, p));
    if (fused) return true;
  }
  if (p.dtype == DType::kUInt8 && QuantizeLayerNormOutput(b, x, p.scale, p.zero_point, node.outputs[0])) return true;
  if (!nhwc) {
    ACT_ASSIGN_OR_RETURN(x, b.Plain(x));
  }
  auto k = std::make_unique<QuantizeKernel>();
  k->src = x;
  k->q = p;
  k->dst = nhwc ? b.AddValue(node.outputs[0], p.dtype, xs, NhwcDesc(xs, p.dtype))
                : b.AddPlainValue(node.outputs[0], p.dtype, b.V(x).shape);
  b.V(k->dst).quant = {p.scale, p.zero_point};
  k->reads = {x};
  k->writes = {k->dst};
  k->label = "QuantizeLinear";
  k->node_name = node.name;
  b.AddKernel(std::move(k));
  return true;
}

// Pad(x, zeros) → Q with zero point 0 (a PTQ padding the input's channels for the first convolution):
// quantize x first, then pad the quantized tensor with 0 (= the zero point): same bytes, a quarter of the
// data moved by the pad.
Expected<bool> BuildPadThenQuantize(PlanBuilder& b, int index) {
  const ir::Node& node = b.graph().nodes[index];
  if (node.GetString("mode", "constant") != "constant" || node.inputs.empty() || b.Const(node.inputs[0])) return false;
  if (node.Input(1).empty() || !b.Const(node.Input(1))) return false;
  if (!node.Input(2).empty()) {
    const Tensor* v = b.Const(node.Input(2));
    if (!v || v->numel() != 1 || v->ElementAsDouble(0) != 0) return false;
  }
  if (!node.Input(3).empty()) return false;
  QParams q;
  const int qi = QuantizeAfter(b, node.outputs[0], &q);
  if (qi < 0) return false;
  ACT_ASSIGN_OR_RETURN(int x, b.Id(node.inputs[0]));
  if (b.V(x).dtype != DType::kFloat32) return false;
  const Tensor* pads = b.Const(node.Input(1));
  const Shape xs = b.V(x).shape;
  if (xs.size() == 4 && pads->numel() == 8 && pads->dtype() == DType::kInt64) {
    // Pad on the channel axis's end (and spatially), 4-D: quantize straight into NHWC (the INT8
    // convolutions' layout) with the pad bytes = the zero point.
    const int64_t* p = pads->data<int64_t>();
    const bool channel_end_only = p[0] == 0 && p[1] == 0 && p[4] == 0 && p[5] >= 0 && p[2] == 0 && p[3] == 0 &&
                                  p[6] == 0 && p[7] == 0;
    if (channel_end_only) {
      ACT_ASSIGN_OR_RETURN(x, b.Plain(x));
      auto k = std::make_unique<QuantizeNhwcKernel>();
      k->src = x;
      k->q = q;
      k->out_channels = xs[1] + p[5];
      const Shape out_shape = {xs[0], k->out_channels, xs[2], xs[3]};
      k->dst = b.AddValue(b.graph().nodes[qi].outputs[0], q.dtype, out_shape, NhwcDesc(out_shape, q.dtype));
      b.V(k->dst).quant = {q.scale, q.zero_point};
      k->reads = {x};
      k->writes = {k->dst};
      k->label = "Pad+QuantizeLinear(NHWC)";
      k->node_name = node.name;
      b.AddKernel(std::move(k));
      b.Consume(qi);
      return true;
    }
  }
  if (q.zero_point != 0) return false;
  ACT_ASSIGN_OR_RETURN(x, b.Plain(x));
  auto k = std::make_unique<QuantizeKernel>();
  k->src = x;
  k->q = q;
  const std::string quantized = node.outputs[0] + "#unpadded_q";
  k->dst = b.AddPlainValue(quantized, q.dtype, b.V(x).shape);
  b.V(k->dst).quant = {q.scale, q.zero_point};
  k->reads = {x};
  k->writes = {k->dst};
  k->label = "QuantizeLinear";
  k->node_name = node.name;
  b.AddKernel(std::move(k));
  b.Consume(qi);
  std::vector<std::string> inputs = {quantized, node.Input(1)};
  std::vector<std::string> outputs = {b.graph().nodes[qi].outputs[0]};
  ACT_RETURN_IF_ERROR(b.BuildReference(index, &inputs, &outputs));
  ACT_ASSIGN_OR_RETURN(int out, b.Id(outputs[0]));
  b.V(out).quant = {q.scale, q.zero_point};
  if (!b.plan().kernels.empty() && b.plan().kernels.back()->node_name == node.name) {
    b.plan().kernels.back()->label = "Pad(int8)";
  }
  return true;
}

// Max pooling of an NHWC u8/s8 tensor: y[n, oh, ow, c] = max over the window taps inside the input
// (padding never wins, as ONNX pads with −inf), 64 channels per AVX-512 step (masked for the rest).
class MaxPoolNhwcKernel : public Kernel {
 public:
  int src = -1, dst = -1;
  std::array<int64_t, 2> kernel{}, strides{}, begin{};
  bool is_signed = false;
  Status Execute(Plan& plan) override {
    const Value& in = plan.values[src];
    const Value& out = plan.values[dst];
    const int64_t N = in.shape[0], C = in.shape[1], H = in.shape[2], W = in.shape[3];
    const int64_t OH = out.shape[2], OW = out.shape[3];
    const auto* x = static_cast<const uint8_t*>(in.data);
    auto* y = static_cast<uint8_t*>(out.data);
#pragma omp parallel for schedule(static) if (N * OH * OW * C > (1 << 17))
    for (int64_t r = 0; r < N * OH; ++r) {
      const int64_t n = r / OH, oh = r % OH;
      const int64_t h0 = std::max<int64_t>(oh * strides[0] - begin[0], 0);
      const int64_t h1 = std::min<int64_t>(oh * strides[0] - begin[0] + kernel[0], H);
      for (int64_t ow = 0; ow < OW; ++ow) {
        const int64_t w0 = std::max<int64_t>(ow * strides[1] - begin[1], 0);
        const int64_t w1 = std::min<int64_t>(ow * strides[1] - begin[1] + kernel[1], W);
        Window(x + n * H * W * C, W, C, h0, h1, w0, w1, y + (r * OW + ow) * C, is_signed);
      }
    }
    return Status::Ok();
  }

 private:
  __attribute__((target("avx512f,avx512bw"))) static void Window(const uint8_t* x, int64_t W, int64_t C, int64_t h0,
                                                                 int64_t h1, int64_t w0, int64_t w1, uint8_t* y,
                                                                 bool is_signed) {
    for (int64_t c = 0; c < C; c += 64) {
      const int64_t len = std::min<int64_t>(64, C - c);
      const __mmask64 mask = len >= 64 ? ~__mmask64{0} : ((__mmask64{1} << len) - 1);
      __m512i m = _mm512_maskz_loadu_epi8(mask, x + (h0 * W + w0) * C + c);
      for (int64_t h = h0; h < h1; ++h) {
        for (int64_t w = w0; w < w1; ++w) {
          const __m512i v = _mm512_maskz_loadu_epi8(mask, x + (h * W + w) * C + c);
          m = is_signed ? _mm512_max_epi8(m, v) : _mm512_max_epu8(m, v);
        }
      }
      _mm512_mask_storeu_epi8(y + c, mask, m);
    }
  }
};

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
  const bool windows_inside = pl[0] < kernel[0] && pl[1] < kernel[1] && pr[0] < kernel[0] && pr[1] < kernel[1];
  if (b.V(x).md == NhwcDesc(xs, xq.dtype) && HasVbmi() && windows_inside) {
    // NHWC (what the INT8 convolutions write): our own kernel; oneDNN 2.6's u8 pooling was 8x slower
    // on FastestDet's 24-channel 176x176 MaxPool (0.19 ms).
    auto k = std::make_unique<MaxPoolNhwcKernel>();
    k->src = x;
    k->kernel = {kernel[0], kernel[1]};
    k->strides = {strides[0], strides[1]};
    k->begin = {pl[0], pl[1]};
    k->is_signed = xq.dtype == DType::kInt8;
    k->dst = b.AddValue(b.graph().nodes[qi].outputs[0], xq.dtype, out_shape, NhwcDesc(out_shape, xq.dtype));
    b.V(k->dst).quant = {xq.scale, xq.zero_point};
    k->reads = {x};
    k->writes = {k->dst};
    k->label = "MaxPool(int8, NHWC)";
    k->node_name = node.name;
    b.AddKernel(std::move(k));
    return true;
  }
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

// ---- DQ → element-wise region → Q: one table lookup on the quantized tensor -----------------------------
//
// When every node between a per-tensor DequantizeLinear and a QuantizeLinear is element-wise with scalar
// constants (Paddle's hard-swish x·Clip(x + 3, 0, 6)/6 then the affine Mul/Add, HardSigmoid, Relu, …), the
// output byte is a function of the input byte alone: q_out = T[q_in]. T is computed once when planning by
// running the region's own nodes (the reference kernels, float as ORT runs them) on all 256 input values,
// so the result is what the file computes, to the bit.

bool IsLutOp(const std::string& op) {
  static const char* kOps[] = {"Add", "Sub", "Mul", "Div", "Clip", "Relu", "LeakyRelu", "HardSigmoid", "HardSwish",
                               "Sigmoid", "Tanh", "Neg", "Abs", "Max", "Min", "Pow", "Exp", "Erf", "Softplus",
                               "Elu", "Identity"};
  for (const char* o : kOps) if (op == o) return true;
  return false;
}


class FloatLookupKernel : public Kernel {
 public:
  int src = -1, dst = -1;
  std::array<float, 256> table{};
  int64_t nhwc_channels = 0;  // > 0: the source is NHWC with this many channels, the output NCHW
  std::vector<float> bias;     // non-empty: plain source, y = table[x] + bias[index along the last axis]
  int residual = -1;           // with a bias: plain float value of y's shape added last (a residual Add)
  Status Bind(Plan&) override {
    FloatPlanes(table.data(), planes_);
    return Status::Ok();
  }
  Status Execute(Plan& plan) override {
    const Value& in = plan.values[src];
    const auto* x = static_cast<const uint8_t*>(in.data);
    auto* y = static_cast<float*>(plan.values[dst].data);
    const size_t n = BufferBytes(in);
    if (nhwc_channels > 0) {
      // NHWC → NCHW through 64 x 64 byte tiles (transposed in L1), then the table per channel row.
      const int64_t C = nhwc_channels, N = in.shape[0], HW = static_cast<int64_t>(n) / (C * N);
      const int64_t tiles = (HW + kTile - 1) / kTile;
#pragma omp parallel for collapse(2) schedule(static) if (n > (1 << 16))
      for (int64_t b = 0; b < N; ++b) {
        for (int64_t t = 0; t < tiles; ++t) {
          alignas(64) uint8_t tile[kTile][kTile];
          const int64_t p0 = t * kTile, np = std::min(kTile, HW - p0);
          for (int64_t c0 = 0; c0 < C; c0 += kTile) {
            const int64_t nc = std::min(kTile, C - c0);
            for (int64_t p = 0; p < np; ++p) {
              const uint8_t* xp = x + (b * HW + p0 + p) * C + c0;
              for (int64_t c = 0; c < nc; ++c) tile[c][p] = xp[c];
            }
            for (int64_t c = 0; c < nc; ++c) Lookup(tile[c], y + (b * C + c0 + c) * HW + p0, np);
          }
        }
      }
      return Status::Ok();
    }
    if (!bias.empty()) {
      // Rows of the last axis: the table, then + bias (in cache).
      const int64_t L = static_cast<int64_t>(bias.size()), rows = static_cast<int64_t>(n) / L;
      const float* res = residual >= 0 ? static_cast<const float*>(plan.values[residual].data) : nullptr;
      auto add = [](float* yr, const float* a, int64_t len) {
        if (HasVbmi()) {
          AddFloats(yr, a, len);
        } else {
          for (int64_t i = 0; i < len; ++i) yr[i] += a[i];
        }
      };
#pragma omp parallel for schedule(static) if (n > (1 << 16))
      for (int64_t r = 0; r < rows; ++r) {
        float* yr = y + r * L;
        Lookup(x + r * L, yr, L);
        add(yr, bias.data(), L);
        if (res) add(yr, res + r * L, L);
      }
      return Status::Ok();
    }
    const int64_t chunk = 1 << 16, chunks = (static_cast<int64_t>(n) + chunk - 1) / chunk;
#pragma omp parallel for schedule(static) if (chunks > 1)
    for (int64_t c = 0; c < chunks; ++c) {
      const int64_t begin = c * chunk;
      Lookup(x + begin, y + begin, std::min(chunk, static_cast<int64_t>(n) - begin));
    }
    return Status::Ok();
  }
  // Split execution (plan.h), for the plain element-wise map (a squeeze-excite block's NHWC input): part p
  // maps a p-th of the bytes.
  bool Splittable() const override { return nhwc_channels == 0 && bias.empty() && split_bytes >= kMinSplitBytes; }
  Status ExecutePart(Plan& plan, int part, int parts) override {
    const Range r = PartRange(split_bytes, part, parts, 64);
    if (r.end > r.begin) {
      Lookup(static_cast<const uint8_t*>(plan.values[src].data) + r.begin,
             static_cast<float*>(plan.values[dst].data) + r.begin, r.end - r.begin);
    }
    return Status::Ok();
  }
  int64_t split_bytes = 0;  // bytes of the source (set by the builder)

 private:
  static constexpr int64_t kTile = 64;
  void Lookup(const uint8_t* x, float* y, int64_t n) const {
    if (HasVbmi()) {
      FloatLookupVbmi(x, y, static_cast<size_t>(n), planes_, table.data());
    } else {
      for (int64_t i = 0; i < n; ++i) y[i] = table[x[i]];
    }
  }
  uint8_t planes_[4][256] = {};  // byte k of table[v], for FloatLookupVbmi
};

Expected<int> AddDequantizeWithBias(PlanBuilder& b, int quantized, const QParams& q, const Tensor& bias,
                                    const std::string& name) {
  const Value& v = b.V(quantized);
  if (v.blocked || v.shape.empty() || bias.numel() != v.shape.back()) {
    return Internal("dequantizing '" + v.name + "' with a bias: expected a plain tensor whose last axis has " +
                    std::to_string(bias.numel()) + " elements");
  }
  // A Softmax over the last axis as the only reader: one kernel from the bytes (fused_float_ops.h).
  ACT_ASSIGN_OR_RETURN(int softmax, TryAddDequantizeBiasSoftmax(b, quantized, q.scale, q.zero_point,
                                                                 q.dtype == DType::kInt8, bias, name));
  if (softmax >= 0) return softmax;
  auto fk = std::make_unique<FloatLookupKernel>();
  for (int i = 0; i < 256; ++i) {
    const int32_t value = q.dtype == DType::kUInt8 ? i : static_cast<int32_t>(static_cast<int8_t>(static_cast<uint8_t>(i)));
    fk->table[i] = static_cast<float>(value - q.zero_point) * q.scale;
  }
  fk->bias.assign(bias.data<float>(), bias.data<float>() + bias.numel());
  fk->src = quantized;
  fk->dst = b.AddPlainValue(name, DType::kFloat32, v.shape);
  fk->reads = {quantized};
  fk->writes = {fk->dst};
  fk->label = "DequantizeLinear(table)+Add";
  fk->node_name = name;
  const int out = fk->dst;
  b.AddKernel(std::move(fk));
  return out;
}

// y = table[x] as float value `name`: NHWC when x is NHWC and `keep_nhwc` (its readers take any layout),
// else plain (an NHWC x is then transposed on the way).
Expected<int> AddFloatLookupKernel(PlanBuilder& b, int x, const std::array<float, 256>& table, const std::string& name,
                                   bool keep_nhwc, const std::string& label, const std::string& node_name) {
  const Shape shape = b.V(x).shape;
  const bool nhwc = shape.size() == 4 && b.V(x).md == NhwcDesc(shape, b.V(x).dtype);
  auto fk = std::make_unique<FloatLookupKernel>();
  fk->table = table;
  if (nhwc && !keep_nhwc) {
    fk->nhwc_channels = shape[1];  // read NHWC, write NCHW: the float readers want plain data
  } else if (!nhwc) {
    ACT_ASSIGN_OR_RETURN(x, b.Plain(x));
  }
  fk->src = x;
  fk->split_bytes = NumElements(shape);
  fk->dst = nhwc && keep_nhwc ? b.AddValue(name, DType::kFloat32, shape, NhwcDesc(shape, DType::kFloat32))
                              : b.AddPlainValue(name, DType::kFloat32, shape);
  fk->reads = {x};
  fk->writes = {fk->dst};
  fk->label = label;
  fk->node_name = node_name;
  const int out = fk->dst;
  b.AddKernel(std::move(fk));
  return out;
}

// AveragePool node `n` without padding, 2-D, floor: its kernel and strides (false when it is not such).
bool UnpaddedAveragePool(const ir::Node& n, std::array<int64_t, 2>* kernel, std::array<int64_t, 2>* strides) {
  const std::vector<int64_t> k = n.GetInts("kernel_shape"), s = n.GetInts("strides", {1, 1});
  const std::vector<int64_t> pads = n.GetInts("pads", {0, 0, 0, 0}), dilations = n.GetInts("dilations", {1, 1});
  const std::string auto_pad = n.GetString("auto_pad", "NOTSET");
  if (k.size() != 2 || s.size() != 2 || pads != std::vector<int64_t>{0, 0, 0, 0} ||
      dilations != std::vector<int64_t>{1, 1} || n.GetInt("ceil_mode", 0) != 0 ||
      (auto_pad != "NOTSET" && auto_pad != "VALID")) {
    return false;
  }
  *kernel = {k[0], k[1]};
  *strides = {s[0], s[1]};
  return true;
}

// The float value `f` (a table region's exit: the table applied to u8 NHWC x) need not be written: every
// reader is one that computes from the bytes — a GlobalAveragePool, a Mul whose only reader is a u8
// QuantizeLinear (a squeeze-excite block's; the Mul checks its other operand when it is built), an unpadded
// AveragePool quantized to u8 by its only reader (table_readers.h), or a Concat quantized to u8 by its only
// reader (NhwcChannelKernel, through Q(table)).
bool ReadableAsBytes(PlanBuilder& b, int x, const std::string& f, const std::vector<int>& region) {
  const Value& xv = b.V(x);
  if (!HasVbmi() || b.IsGraphOutput(f) || xv.dtype != DType::kUInt8 || xv.shape.size() != 4 ||
      !(xv.md == NhwcDesc(xv.shape, DType::kUInt8)) || xv.shape[1] > 1024 || xv.shape[2] * xv.shape[3] == 1) {
    return false;
  }
  int readers = 0;
  for (int c : b.Consumers(f)) {
    if (std::find(region.begin(), region.end(), c) != region.end()) continue;
    const ir::Node& n = b.graph().nodes[c];
    QParams q;
    std::array<int64_t, 2> kernel, strides;
    const bool quantized_u8 = QuantizeAfter(b, n.outputs[0], &q) >= 0 && q.dtype == DType::kUInt8;
    const bool readable = n.op_type == "GlobalAveragePool" ||
                          (n.op_type == "Mul" && n.inputs.size() == 2 && n.inputs[0] != n.inputs[1] && quantized_u8) ||
                          (n.op_type == "AveragePool" && UnpaddedAveragePool(n, &kernel, &strides) && quantized_u8) ||
                          (n.op_type == "Concat" && quantized_u8);
    if (!readable) return false;
    ++readers;
  }
  return readers > 0;
}

// GlobalAveragePool of a float value left as bytes and a table (ReadableAsBytes).
Expected<bool> TryBuildMeanOfTable(PlanBuilder& b, int index) {
  const ir::Node& node = b.graph().nodes[index];
  const PlanBuilder::TableView* view = node.inputs.empty() ? nullptr : b.DeferredTable(node.inputs[0]);
  if (!view) return false;
  ACT_ASSIGN_OR_RETURN(int x, b.Id(view->quantized));
  ACT_RETURN_IF_ERROR(AddChannelMeanOfTable(b, x, view->table, node.outputs[0], node.name).status());
  return true;
}

// Mul(f, s) → QuantizeLinear of a float value left as bytes and a table (ReadableAsBytes), s one float per
// channel (a squeeze-excite block's).
Expected<bool> TryBuildChannelMulOfTable(PlanBuilder& b, int index) {
  const ir::Node& node = b.graph().nodes[index];
  if (node.inputs.size() != 2) return false;
  const int side = b.DeferredTable(node.inputs[0]) ? 0 : b.DeferredTable(node.inputs[1]) ? 1 : -1;
  if (side < 0 || b.DeferredTable(node.inputs[1 - side])) return false;
  QParams q;
  const int qi = QuantizeAfter(b, node.outputs[0], &q);
  if (qi < 0 || q.dtype != DType::kUInt8) return false;
  const PlanBuilder::TableView view = *b.DeferredTable(node.inputs[side]);
  ACT_ASSIGN_OR_RETURN(int x, b.Id(view.quantized));
  ACT_ASSIGN_OR_RETURN(int s, b.Id(node.inputs[1 - side]));
  Shape ss = b.V(s).shape;
  while (ss.size() < 4) ss.insert(ss.begin(), 1);
  if (b.V(s).dtype != DType::kFloat32 || ss != Shape{1, b.V(x).shape[1], 1, 1}) return false;
  ACT_RETURN_IF_ERROR(AddChannelMulQuantize(b, x, &view.table, s, q.scale, q.zero_point,
                                            b.graph().nodes[qi].outputs[0], node.name)
                          .status());
  b.Consume(qi);
  return true;
}

// Add(a, r) where a is the output of the last kernel, a DequantizeLinear(table)+bias (a MatMul's output and
// bias, AddDequantizeWithBias) read by nothing else, and r a float tensor of a's shape: the residual is
// added in the same pass ((table[x] + bias) + r, the graph's order).
Expected<bool> TryFuseResidualAdd(PlanBuilder& b, int index) {
  const ir::Node& node = b.graph().nodes[index];
  auto& kernels = b.plan().kernels;
  auto* fk = kernels.empty() ? nullptr : dynamic_cast<FloatLookupKernel*>(kernels.back().get());
  if (!fk || fk->bias.empty() || fk->residual >= 0 || node.inputs.size() != 2 || node.inputs[0] == node.inputs[1]) {
    return false;
  }
  const std::string& a = b.V(fk->dst).name;
  const int side = node.inputs[0] == a ? 0 : node.inputs[1] == a ? 1 : -1;
  if (side < 0 || b.IsGraphOutput(a) || b.graph().Consumers(a).size() != 1) return false;
  if (!b.Has(node.inputs[1 - side]) || b.Const(node.inputs[1 - side])) return false;
  ACT_ASSIGN_OR_RETURN(int r, b.Id(node.inputs[1 - side]));
  if (b.V(r).dtype != DType::kFloat32 || b.V(r).shape != b.V(fk->dst).shape) return false;
  ACT_ASSIGN_OR_RETURN(r, b.Plain(r));
  if (kernels.back().get() != fk) return false;  // Plain added a reorder: keep the two kernels
  fk->residual = r;
  fk->reads.push_back(r);
  fk->dst = b.AddPlainValue(node.outputs[0], DType::kFloat32, b.V(fk->dst).shape);
  fk->writes = {fk->dst};
  fk->label += "+Add";
  return true;
}

// AveragePool(f) → QuantizeLinear of a float value left as bytes and a table (ReadableAsBytes).
Expected<bool> TryBuildAveragePoolOfTable(PlanBuilder& b, int index) {
  const ir::Node& node = b.graph().nodes[index];
  const PlanBuilder::TableView* view = node.inputs.empty() ? nullptr : b.DeferredTable(node.inputs[0]);
  std::array<int64_t, 2> kernel, strides;
  QParams q;
  const int qi = view ? QuantizeAfter(b, node.outputs[0], &q) : -1;
  if (qi < 0 || q.dtype != DType::kUInt8 || !UnpaddedAveragePool(node, &kernel, &strides)) return false;
  ACT_ASSIGN_OR_RETURN(int x, b.Id(view->quantized));
  ACT_RETURN_IF_ERROR(AddAveragePoolQuantizeOfTable(b, x, view->table, kernel, strides, q.scale, q.zero_point,
                                                    b.graph().nodes[qi].outputs[0], node.name)
                          .status());
  b.Consume(qi);
  return true;
}

Expected<bool> TryBuildLut(PlanBuilder& b, int index) {
  const ir::Node& start = b.graph().nodes[index];
  if (!IsLutOp(start.op_type)) return false;
  int x = -1;
  QParams xq;
  std::string source;
  for (const std::string& in : start.inputs) {
    if (!in.empty() && QuantizedActivation(b, in, &x, &xq)) {
      source = in;
      break;
    }
  }
  if (source.empty()) return false;
  // Grow the region over consumers until a QuantizeLinear ends it.
  const auto& g = b.graph().nodes;
  std::vector<std::string> values = {source};
  std::vector<int> region;
  int quantize = -1;
  std::string exit_value;
  for (size_t v = 0; v < values.size(); ++v) {
    if (b.IsGraphOutput(values[v])) return false;
    // Every reader of a region value must be in the region (the node being built counts as unconsumed).
    std::vector<int> consumers = b.graph().Consumers(values[v]);
    std::sort(consumers.begin(), consumers.end());
    consumers.erase(std::unique(consumers.begin(), consumers.end()), consumers.end());
    for (int c : consumers) {
      if (c != index && b.Consumed(c)) return false;
    }
    if (consumers.empty()) return false;
    bool external = false;  // a reader outside the element-wise region: this value leaves it in float
    for (int c : consumers) {
      const ir::Node& n = g[c];
      external |= n.op_type != "QuantizeLinear" && (!IsLutOp(n.op_type) || n.outputs.size() != 1);
      // An element-wise op with a tensor operand produced before the region (a squeeze-excite block's
      // Mul(x, HardSigmoid(…)) read from the HardSigmoid's side) cannot be in a table: it reads in float.
      for (const std::string& in : n.inputs) {
        if (in.empty() || std::find(values.begin(), values.end(), in) != values.end() || !b.Has(in)) continue;
        const Tensor* t = b.Const(in);
        external |= !t || t->numel() != 1;
      }
    }
    if (external) {
      if (quantize >= 0 || !exit_value.empty() || v == 0) return false;
      exit_value = values[v];
      continue;
    }
    for (int c : consumers) {
      const ir::Node& n = g[c];
      if (n.op_type == "QuantizeLinear") {
        if (consumers.size() != 1 || quantize >= 0 || n.inputs[0] != values[v]) return false;
        quantize = c;
        exit_value = values[v];
        continue;
      }
      if (!IsLutOp(n.op_type) || n.outputs.size() != 1) return false;
      if (std::find(region.begin(), region.end(), c) != region.end()) continue;
      if (region.size() >= 32) return false;
      region.push_back(c);
      values.push_back(n.outputs[0]);
    }
  }
  if (exit_value.empty() || exit_value == source) return false;
  QParams yq;
  if (quantize >= 0 && (!PerTensorParams(b, g[quantize], &yq) || yq.dtype != xq.dtype)) return false;
  // Every region input is a region value or a scalar constant.
  for (int c : region) {
    for (const std::string& in : g[c].inputs) {
      if (in.empty() || std::find(values.begin(), values.end(), in) != values.end()) continue;
      const Tensor* t = b.Const(in);
      if (!t || t->numel() != 1) return false;
    }
  }
  std::sort(region.begin(), region.end());  // graph order is topological
  // Evaluate the region on every byte value.
  std::map<std::string, Tensor> env;
  Tensor real(DType::kFloat32, {256});
  for (int v = 0; v < 256; ++v) {
    const int q = xq.dtype == DType::kInt8 ? static_cast<int8_t>(static_cast<uint8_t>(v)) : v;
    real.data<float>()[v] = static_cast<float>(q - xq.zero_point) * xq.scale;  // DequantizeLinear
  }
  env[source] = real;
  for (int c : region) {
    const ir::Node& n = g[c];
    std::vector<Tensor> inputs;
    for (const std::string& in : n.inputs) {
      if (in.empty()) inputs.emplace_back();
      else if (env.count(in)) inputs.push_back(env.at(in));
      else inputs.push_back(*b.Const(in));
    }
    Expected<std::vector<Tensor>> out = RunReferenceOp(n, b.opset(), inputs);
    if (!out.ok() || (*out)[0].dtype() != DType::kFloat32 || (*out)[0].numel() != 256) return false;
    env[n.outputs[0]] = (*out)[0];
  }
  std::array<float, 256> exit_table;
  std::copy_n(env.at(exit_value).data<float>(), 256, exit_table.begin());
  if (quantize < 0 && ReadableAsBytes(b, x, exit_value, region)) {
    // Not written: its readers read the bytes through the table (table_readers.h).
    for (int c : region) b.Consume(c);
    b.DeferTable(exit_value, {b.V(x).name, exit_table});
    return true;
  }
  if (quantize < 0) {
    // The region's value leaves in float: a 256-entry float table (its arithmetic is the file's, to the
    // bit), written in the source's NHWC layout when it has one and its readers take any layout (oneDNN
    // pooling, binary ops), else plain.
    bool any_layout_readers = !b.IsGraphOutput(exit_value);
    for (int c : b.Consumers(exit_value)) {
      if (std::find(region.begin(), region.end(), c) != region.end()) continue;
      const std::string& op = g[c].op_type;
      any_layout_readers &= op == "GlobalAveragePool" || op == "AveragePool" || op == "Mul" || op == "Add";
    }
    for (int c : region) b.Consume(c);
    std::string label = "Lookup(int8->float)";
    for (int c : region) label += "+" + g[c].op_type;
    ACT_RETURN_IF_ERROR(AddFloatLookupKernel(b, x, exit_table, exit_value, any_layout_readers, label, start.name).status());
    return true;
  }
  auto k = std::make_unique<LookupKernel>();
  const std::vector<uint8_t> quantized = QuantizeTable(exit_table, yq);
  std::copy(quantized.begin(), quantized.end(), k->table.begin());
  for (int c : region) b.Consume(c);
  b.Consume(quantize);
  // Right after our depthwise kernel that wrote x, read by nothing else: the table runs inside it.
  auto* dw = dynamic_cast<DepthwiseInt8Kernel*>(b.plan().kernels.back().get());
  std::vector<int> x_readers = b.graph().Consumers(b.V(x).name);
  std::sort(x_readers.begin(), x_readers.end());
  x_readers.erase(std::unique(x_readers.begin(), x_readers.end()), x_readers.end());
  if (dw && !dw->has_table() && dw->writes == std::vector<int>{x} && x_readers.size() == 1 &&
      g[x_readers[0]].outputs[0] == source && !b.IsGraphOutput(b.V(x).name) && yq.dtype == DType::kUInt8) {
    const int out = b.AddValue(g[quantize].outputs[0], yq.dtype, b.V(x).shape, b.V(x).md);
    b.V(out).quant = {yq.scale, yq.zero_point};
    dw->FuseTable(k->table.data(), out);
    dw->label += "+Lookup";
    for (int c : region) dw->label += "+" + g[c].op_type;
    return true;
  }
  k->src = x;
  k->dst = b.AddValue(g[quantize].outputs[0], yq.dtype, b.V(x).shape, b.V(x).md);
  b.V(k->dst).quant = {yq.scale, yq.zero_point};
  k->split_bytes = NumElements(b.V(x).shape);
  k->reads = {x};
  k->writes = {k->dst};
  std::string label = "Lookup(int8)";
  for (int c : region) label += "+" + g[c].op_type;
  k->label = label;
  k->node_name = start.name;
  b.AddKernel(std::move(k));
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
  if (op == "QuantizeLinear") return BuildQuantize(b, index);
  if (op == "Conv") return BuildConvInt8(b, index);
  if (op == "MatMul" || op == "Gemm") return BuildMatMulInt8(b, index);
  if (op == "MaxPool") return BuildMaxPoolInt8(b, index);
  if (op == "Pad") {
    ACT_ASSIGN_OR_RETURN(bool done, BuildPadThenQuantize(b, index));
    if (done) return true;
  }
  if (IsDataMovement(op)) return BuildDataMovementInt8(b, index);
  if (op == "GlobalAveragePool") return TryBuildMeanOfTable(b, index);
  if (op == "AveragePool") return TryBuildAveragePoolOfTable(b, index);
  if (op == "Mul") {
    ACT_ASSIGN_OR_RETURN(bool done, TryBuildChannelMulOfTable(b, index));
    if (done) return true;
  }
  if (op == "Add") {
    ACT_ASSIGN_OR_RETURN(bool done, TryFuseResidualAdd(b, index));
    if (done) return true;
  }
  return TryBuildLut(b, index);
}

Expected<int> AddFloatLookup(PlanBuilder& b, int quantized, const std::array<float, 256>& table,
                             const std::string& name) {
  return AddFloatLookupKernel(b, quantized, table, name, true, "Lookup(int8->float)", name);
}

Expected<int> AddDequantize(PlanBuilder& b, int quantized, float scale, int32_t zero_point, const std::string& name) {
  const Value q = b.V(quantized);
  if (q.dtype == DType::kUInt8 || q.dtype == DType::kInt8) {
    // y = (q − zp)·s as ORT computes it, as a 256-entry byte→float table. Not a oneDNN reorder with src
    // zero points: oneDNN 2.6.3's jit:uni reorder u8 NHWC → f32 NCHW ignored the zero point on some
    // shapes (4x64x7x7 read as zp 0, 4x32x14x14 right: Fashion-MNIST's second residual Add was off by
    // 128·s on every element). With zero point 0 too: the table is faster than oneDNN's reorder u8 NHWC →
    // f32 NCHW (same products: float(q)·s, one rounding).
    auto fk = std::make_unique<FloatLookupKernel>();
    for (int i = 0; i < 256; ++i) {
      const int32_t v = q.dtype == DType::kUInt8 ? i : static_cast<int32_t>(static_cast<int8_t>(static_cast<uint8_t>(i)));
      fk->table[i] = static_cast<float>(v - zero_point) * scale;
    }
    int src = quantized;
    if (q.shape.size() == 4 && q.md == NhwcDesc(q.shape, q.dtype)) {
      fk->nhwc_channels = q.shape[1];  // read NHWC, write NCHW
    } else {
      ACT_ASSIGN_OR_RETURN(src, b.Plain(quantized));
    }
    fk->src = src;
    fk->split_bytes = NumElements(q.shape);
    fk->dst = b.AddPlainValue(name, DType::kFloat32, q.shape);
    fk->reads = {src};
    fk->writes = {fk->dst};
    fk->label = "DequantizeLinear(table)";
    fk->node_name = name;
    const int out = fk->dst;
    b.AddKernel(std::move(fk));
    return out;
  }
  try {
    dnnl::primitive_attr attr;
    attr.set_output_scales(0, {scale});
    if (zero_point != 0) attr.set_zero_points(DNNL_ARG_SRC, 0, {zero_point});
    const memory::desc dst_md = PlainDesc(q.shape, DType::kFloat32);
    dnnl::reorder::primitive_desc pd(b.engine(), q.md, b.engine(), dst_md, attr);
    auto k = std::make_unique<DnnlKernel>();
    k->primitive = dnnl::reorder(pd);
    k->AddInput(DNNL_ARG_FROM, quantized);
    const int out = b.AddPlainValue(name, DType::kFloat32, q.shape);
    k->AddOutput(DNNL_ARG_TO, out);
    k->label = "DequantizeLinear";
    k->node_name = name;
    b.AddKernel(std::move(k));
    return out;
  } catch (const dnnl::error& e) {
    return Internal("dequantizing '" + q.name + "': oneDNN refused the reorder (" + e.what() + ")");
  }
}

}  // namespace act::runtime::onednn
