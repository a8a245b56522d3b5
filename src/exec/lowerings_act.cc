// Lowerings of the `act` domain: the training-only nodes that compression passes insert (fake
// quantization with straight-through gradients, int32 bias rounding, PACT clipping, pruning masks). Export turns them into
// standard ONNX. Add each op here as {"act", "<OpType>", since, until, &Build<OpType>}.
// The ops' definitions (formulas, attributes, observers) are in src/quant/qat_ops.h.
#include <ATen/ATen.h>
#include <ATen/core/grad_mode.h>

#include <algorithm>
#include <cmath>
#include <string>

#include "exec/lowering.h"
#include "quant/qat_ops.h"

namespace act::exec {
namespace {

using Tensors = std::vector<at::Tensor>;

struct FakeQuantAttrs {
  int64_t qmin = 0, qmax = 255, axis = -1, window = 1;
  bool symmetric = false, learnable = false;
  double moving_rate = 0.9;
  std::string observer;
};

// s and z for the range [lo, hi] (widened to contain 0), as quant::ParamsForRange computes them.
void ParamsFor(float lo, float hi, const FakeQuantAttrs& a, float* scale, float* zero_point) {
  lo = std::min(lo, 0.0f);
  hi = std::max(hi, 0.0f);
  if (a.symmetric) {
    *scale = std::max(std::max(std::fabs(lo), std::fabs(hi)) / static_cast<float>(a.qmax), quant::kFakeQuantMinScale);
    *zero_point = 0;
    return;
  }
  *scale = std::max((hi - lo) / static_cast<float>(a.qmax - a.qmin), quant::kFakeQuantMinScale);
  const float z = std::nearbyint(static_cast<float>(a.qmin) - lo / *scale);
  *zero_point = std::min(std::max(z, static_cast<float>(a.qmin)), static_cast<float>(a.qmax));
}

// Updates the activation observer in `state` with batch extremes (bmin, bmax) and returns the range.
void Observe(const FakeQuantAttrs& a, at::Tensor& state, float bmin, float bmax, float* lo, float* hi) {
  float* s = state.data_ptr<float>();
  if (a.observer == quant::kObserverMovingAverage) {
    const float r = static_cast<float>(a.moving_rate);
    s[0] = r * s[0] + bmin;
    s[1] = r * s[1] + bmax;
    s[2] = r * s[2] + 1.0f;
    *lo = s[0] / s[2];
    *hi = s[1] / s[2];
  } else if (a.observer == quant::kObserverRangeAbsMax) {
    const int64_t w = a.window;
    const int64_t seen = static_cast<int64_t>(s[2]);
    s[3 + seen % w] = bmin;
    s[3 + w + seen % w] = bmax;
    s[2] = static_cast<float>(seen + 1);
    const int64_t n = std::min(seen + 1, w);
    *lo = *std::min_element(s + 3, s + 3 + n);
    *hi = *std::max_element(s + 3 + w, s + 3 + w + n);
  } else {  // abs_max
    *lo = bmin;
    *hi = bmax;
  }
  if (a.symmetric) {
    const float m = std::max(std::fabs(*lo), std::fabs(*hi));
    *lo = -m;
    *hi = m;
  }
}

// (clamp(round_half_even(x / s) + z, qmin, qmax) - z) · s with the straight-through gradient (1 where
// round(x / s) + z lies in [qmin, qmax]). x / s is a true division, as ONNX QuantizeLinear (and ORT) compute
// it: libtorch's fake_quantize multiplies by 1/s instead, which rounds exact ties (x / s = k + 0.5, common
// when x is itself on a grid) the other way. So x / s is formed here and fake_quantize runs at scale 1.
at::Tensor QuantizeDequantize(const at::Tensor& x, const at::Tensor& scale, const at::Tensor& zero_point,
                              const FakeQuantAttrs& a) {
  if (a.axis >= 0) {
    std::vector<int64_t> shape(static_cast<size_t>(x.dim()), 1);
    shape[static_cast<size_t>(a.axis)] = -1;
    const at::Tensor s = scale.reshape(shape);
    const at::Tensor ones = at::ones({scale.numel()}, scale.options());
    return at::fake_quantize_per_channel_affine(x / s, ones, zero_point.reshape({-1}).to(at::kInt), a.axis, a.qmin,
                                                a.qmax) * s;
  }
  const at::Tensor s = scale.reshape({});
  return at::fake_quantize_per_tensor_affine(x / s, 1.0, static_cast<int64_t>(zero_point.item<float>()), a.qmin,
                                             a.qmax) * s;
}

// The QDQ export's int32 guard: s_c = max(s_c, |b_c| / (sx · 2^30)) (one scale: the largest over c).
at::Tensor RaiseForBias(const at::Tensor& scales, const at::Tensor& bias, const at::Tensor& x_scale) {
  const at::Tensor need = bias.abs() / (x_scale.reshape({}) * 1073741824.0f);
  if (need.numel() == scales.numel()) return at::maximum(scales, need.reshape(scales.sizes()));
  return at::maximum(scales, need.max());
}

// act.FakeQuant: see quant/qat_ops.h.
Expected<Kernel> BuildFakeQuant(const LoweringContext& ctx) {
  const ir::Node& node = ctx.node();
  FakeQuantAttrs a;
  a.qmin = node.GetInt("qmin", 0);
  a.qmax = node.GetInt("qmax", 255);
  a.axis = node.GetInt("axis", -1);
  a.symmetric = node.GetInt("symmetric", 0) != 0;
  a.learnable = node.GetInt("learnable", 0) != 0;
  a.moving_rate = node.GetFloat("moving_rate", 0.9f);
  a.window = std::max<int64_t>(1, node.GetInt("window_size", 1));
  a.observer = node.GetString("observer", quant::kObserverFixed);
  if (a.qmin >= a.qmax) return ctx.Error("qmin must be below qmax");
  if (ctx.num_inputs() < 3) return ctx.Error("expects inputs (x, scale, zero_point[, state])");
  const std::string& o = a.observer;
  if (o != quant::kObserverWeight && o != quant::kObserverMovingAverage && o != quant::kObserverRangeAbsMax &&
      o != quant::kObserverAbsMax && o != quant::kObserverFixed) {
    return ctx.Error("unknown observer '" + o + "'");
  }
  const bool activation_observer = o == quant::kObserverMovingAverage || o == quant::kObserverRangeAbsMax ||
                                   o == quant::kObserverAbsMax;
  if (activation_observer && !ctx.HasInput(3)) return ctx.Error("observer '" + o + "' needs the state input");
  if (a.learnable && a.axis >= 0) return ctx.Error("a learnable scale is per-tensor only");
  const bool extra = ctx.HasInput(4) && ctx.HasInput(5);
  const bool bias_guard = extra && o == quant::kObserverWeight;
  const int64_t requant_axis = node.GetInt("requant_axis", 1);
  const bool requant = extra && !bias_guard;
  return Kernel([a, activation_observer, bias_guard, requant, requant_axis](const Tensors& in) -> Tensors {
    const at::Tensor& x = in[0];
    at::Tensor scale = in[1], zero_point = in[2];
    const bool training = at::GradMode::is_enabled();
    if (a.learnable && training) {
      // LSQ: gradient to the scale scaled by 1 / sqrt(numel · qmax).
      const double grad_factor = 1.0 / std::sqrt(static_cast<double>(std::max<int64_t>(x.numel(), 1)) * a.qmax);
      if (training) {
        at::NoGradGuard no_grad;
        scale.clamp_min_(quant::kFakeQuantMinScale);
      }
      return {at::_fake_quantize_learnable_per_tensor_affine(x, scale, zero_point, a.qmin, a.qmax, grad_factor)};
    }
    // (Evaluation with a learnable scale takes the exact QuantizeLinear rounding below.)
    if (a.observer == quant::kObserverWeight) {  // always from the current weights, as the export computes it
      at::NoGradGuard no_grad;
      at::Tensor w = x.detach().abs();
      at::Tensor m;
      if (a.axis >= 0) {
        const int64_t axis = a.axis;
        std::vector<int64_t> dims;
        for (int64_t d = 0; d < w.dim(); ++d) if (d != axis) dims.push_back(d);
        m = dims.empty() ? w : w.amax(dims);
      } else {
        m = w.max().reshape({1});
      }
      m = (m / static_cast<float>(a.qmax)).clamp_min(quant::kFakeQuantMinScale).reshape(scale.sizes());
      if (bias_guard) m = RaiseForBias(m, in[4].detach(), in[5].detach());
      scale.copy_(m);
      zero_point.zero_();
    } else if (training && activation_observer) {
      at::NoGradGuard no_grad;
      at::Tensor state = in[3];
      const auto mm = at::aminmax(x.detach());
      float lo = 0, hi = 0, s = 1, z = 0;
      Observe(a, state, std::get<0>(mm).item<float>(), std::get<1>(mm).item<float>(), &lo, &hi);
      ParamsFor(lo, hi, a, &s, &z);
      scale.fill_(s);
      zero_point.fill_(z);
    }
    if (requant && !training && x.dim() > requant_axis) {
      // The output of an integer Conv/Gemm, as ONNX Runtime's fused kernel computes it: the int32 accumulator
      // acc_c = x / (sx·sw_c) (exact integers up to float rounding of our float conv), requantized with the
      // float multiplier M_c = sx·sw_c / s: q = clamp(round_half_even(acc_c · M_c) + z, qmin, qmax).
      std::vector<int64_t> shape(static_cast<size_t>(x.dim()), 1);
      shape[static_cast<size_t>(requant_axis)] = -1;
      const at::Tensor bs = (in[4].reshape({}) * in[5].reshape({-1})).reshape(shape);
      const at::Tensor multiplier = bs / scale.reshape({});
      const at::Tensor acc = at::round(x / bs);
      const float z = zero_point.item<float>();
      return {(at::clamp(at::round(acc * multiplier) + z, static_cast<double>(a.qmin), static_cast<double>(a.qmax)) - z) *
              scale.reshape({})};
    }
    // Copies: the autograd graph keeps s, and a later node may update the stored scale in place (a follower
    // runs before its leader's observer).
    if (training) {
      // Training: libtorch's one-pass fake quantization (x · (1/s); it differs from x / s only at exact ties,
      // which do not matter to the gradient) — a third faster on FastestDet than the exact form below.
      if (a.axis >= 0) {
        return {at::fake_quantize_per_channel_affine(x, scale.detach().reshape({-1}),
                                                     zero_point.detach().reshape({-1}).to(at::kInt), a.axis, a.qmin,
                                                     a.qmax)};
      }
      return {at::fake_quantize_per_tensor_affine(x, scale.item<float>(),
                                                  static_cast<int64_t>(zero_point.item<float>()), a.qmin, a.qmax)};
    }
    return {QuantizeDequantize(x, scale.detach().clone(), zero_point.detach(), a)};
  });
}

// act.QuantizeBias: see quant/qat_ops.h.
Expected<Kernel> BuildQuantizeBias(const LoweringContext& ctx) {
  const ir::Node& node = ctx.node();
  if (ctx.num_inputs() != 3) return ctx.Error("expects inputs (bias, x_scale, weight)");
  const int64_t axis = node.GetInt("axis", -1);
  const int64_t qmax = node.GetInt("qmax", 127);
  if (qmax <= 0) return ctx.Error("qmax must be positive");
  return Kernel([axis, qmax](const Tensors& in) -> Tensors {
    const at::Tensor& b = in[0];
    at::Tensor bq;
    {
      at::NoGradGuard no_grad;
      const at::Tensor x_scale = in[1].detach().clone();
      const at::Tensor w = in[2].detach().abs();
      at::Tensor m;
      if (axis >= 0 && w.dim() > axis) {
        std::vector<int64_t> dims;
        for (int64_t d = 0; d < w.dim(); ++d) if (d != axis) dims.push_back(d);
        m = dims.empty() ? w : w.amax(dims);
      } else {
        m = w.max().reshape({1});
      }
      at::Tensor sw = RaiseForBias((m / static_cast<float>(qmax)).clamp_min(quant::kFakeQuantMinScale), b.detach(),
                                   x_scale);
      const int64_t channels = b.numel(), count = sw.numel();
      if (count != channels) {  // output channel o uses scale o % count (ConvTranspose groups; one scale)
        sw = sw.repeat({(channels + count - 1) / count}).narrow(0, 0, channels);
      }
      const at::Tensor bs = x_scale.reshape({}) * sw.reshape(b.sizes());
      bq = at::round(b.detach() / bs) * bs;
    }
    if (!at::GradMode::is_enabled()) return {bq};
    return {b + (bq - b.detach())};
  });
}

// act.PactClip: y = x - relu(x - alpha) + relu(-alpha - x).
Expected<Kernel> BuildPactClip(const LoweringContext& ctx) {
  if (ctx.num_inputs() != 2) return ctx.Error("expects inputs (x, alpha)");
  return Kernel([](const Tensors& in) -> Tensors {
    const at::Tensor& x = in[0];
    const at::Tensor& alpha = in[1];
    return {x - at::relu(x - alpha) + at::relu(-alpha - x)};
  });
}

}  // namespace

void RegisterActLowerings(LoweringTable& table) {
  const LoweringEntry entries[] = {
      {quant::kActDomain, quant::kFakeQuantOp, 1, 1000, &BuildFakeQuant},
      {quant::kActDomain, quant::kPactClipOp, 1, 1000, &BuildPactClip},
      {quant::kActDomain, quant::kQuantizeBiasOp, 1, 1000, &BuildQuantizeBias},
  };
  for (const auto& e : entries) {
    Status s = table.Add(e);
    (void)s;  // the entries never overlap
  }
}

}  // namespace act::exec
