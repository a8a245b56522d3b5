// Element-wise ONNX ops (unary, binary with NumPy broadcasting, variadic, activations, casts and the
// QuantizeLinear/DequantizeLinear pair). Each lowering states the formula it computes.
#include <cmath>
#include <limits>
#include <map>

#include "exec/lowering.h"

namespace act::exec {
namespace {

using Tensors = std::vector<at::Tensor>;
using UnaryFn = at::Tensor (*)(const at::Tensor&);
using BinaryFn = at::Tensor (*)(const at::Tensor&, const at::Tensor&);

Kernel One(UnaryFn fn) {
  return [fn](const Tensors& in) { return Tensors{fn(in[0])}; };
}

// y = f(x) for ops without attributes.
Expected<Kernel> BuildUnary(const LoweringContext& ctx) {
  static const std::map<std::string, UnaryFn> kFns = {
      {"Neg", [](const at::Tensor& x) { return at::neg(x); }},
      {"Abs", [](const at::Tensor& x) { return at::abs(x); }},
      {"Exp", [](const at::Tensor& x) { return at::exp(x); }},
      {"Log", [](const at::Tensor& x) { return at::log(x); }},
      {"Sqrt", [](const at::Tensor& x) { return at::sqrt(x); }},
      {"Reciprocal", [](const at::Tensor& x) { return at::reciprocal(x); }},
      {"Relu", [](const at::Tensor& x) { return at::relu(x); }},
      {"Sigmoid", [](const at::Tensor& x) { return at::sigmoid(x); }},
      {"Tanh", [](const at::Tensor& x) { return at::tanh(x); }},
      {"Erf", [](const at::Tensor& x) { return at::erf(x); }},
      {"Floor", [](const at::Tensor& x) { return at::floor(x); }},
      {"Ceil", [](const at::Tensor& x) { return at::ceil(x); }},
      {"Round", [](const at::Tensor& x) { return at::round(x); }},  // half to even, as ONNX
      {"Sign", [](const at::Tensor& x) { return at::sign(x); }},
      {"Sin", [](const at::Tensor& x) { return at::sin(x); }},
      {"Cos", [](const at::Tensor& x) { return at::cos(x); }},
      {"Not", [](const at::Tensor& x) { return at::logical_not(x); }},
      {"Softplus", [](const at::Tensor& x) { return at::softplus(x); }},        // log(1 + e^x)
      {"Softsign", [](const at::Tensor& x) { return x / (at::abs(x) + 1); }},   // x / (1 + |x|)
      {"HardSwish", [](const at::Tensor& x) { return at::hardswish(x); }},     // x * max(0, min(1, x/6 + 1/2))
      {"IsNaN", [](const at::Tensor& x) { return at::isnan(x); }},
      {"Identity", [](const at::Tensor& x) { return x; }},
  };
  auto it = kFns.find(ctx.node().op_type);
  if (it == kFns.end()) return ctx.UnsupportedError("no unary function");
  return One(it->second);
}

// y = a ∘ b with NumPy broadcasting. Integer Div truncates toward zero (as ONNX Runtime does); Pow keeps
// the base's dtype.
Expected<Kernel> BuildBinary(const LoweringContext& ctx) {
  static const std::map<std::string, BinaryFn> kFns = {
      {"Add", [](const at::Tensor& a, const at::Tensor& b) { return at::add(a, b); }},
      {"Sub", [](const at::Tensor& a, const at::Tensor& b) { return at::sub(a, b); }},
      {"Mul", [](const at::Tensor& a, const at::Tensor& b) { return at::mul(a, b); }},
      {"Div", [](const at::Tensor& a, const at::Tensor& b) {
         return a.is_floating_point() ? at::div(a, b) : at::div(a, b, "trunc");
       }},
      {"Pow", [](const at::Tensor& a, const at::Tensor& b) {
         at::Tensor y = at::pow(a, b);
         return y.scalar_type() == a.scalar_type() ? y : y.to(a.scalar_type());
       }},
      {"Equal", [](const at::Tensor& a, const at::Tensor& b) { return at::eq(a, b); }},
      {"Less", [](const at::Tensor& a, const at::Tensor& b) { return at::lt(a, b); }},
      {"LessOrEqual", [](const at::Tensor& a, const at::Tensor& b) { return at::le(a, b); }},
      {"Greater", [](const at::Tensor& a, const at::Tensor& b) { return at::gt(a, b); }},
      {"GreaterOrEqual", [](const at::Tensor& a, const at::Tensor& b) { return at::ge(a, b); }},
      {"And", [](const at::Tensor& a, const at::Tensor& b) { return at::logical_and(a, b); }},
      {"Or", [](const at::Tensor& a, const at::Tensor& b) { return at::logical_or(a, b); }},
      {"Xor", [](const at::Tensor& a, const at::Tensor& b) { return at::logical_xor(a, b); }},
  };
  auto it = kFns.find(ctx.node().op_type);
  if (it == kFns.end()) return ctx.UnsupportedError("no binary function");
  if (ctx.num_inputs() != 2) return ctx.Error("expects 2 inputs, has " + std::to_string(ctx.num_inputs()));
  BinaryFn fn = it->second;
  // Pow with a constant scalar exponent of 2 or 0.5 (the decomposed LayerNorm) uses the cheaper kernels.
  if (ctx.node().op_type == "Pow" && ctx.ConstantInput(1) && ctx.ConstantInput(1)->numel() == 1) {
    const double e = ctx.ConstantInput(1)->to(at::kDouble).item<double>();
    return Kernel([e](const Tensors& in) {
      if (!in[0].is_floating_point()) return Tensors{at::pow(in[0], e).to(in[0].scalar_type())};
      if (e == 2.0) return Tensors{in[0] * in[0]};
      return Tensors{at::pow(in[0], e)};
    });
  }
  return Kernel([fn](const Tensors& in) { return Tensors{fn(in[0], in[1])}; });
}

// Mod: fmod=1 → C fmod (sign of the dividend); fmod=0 → sign of the divisor (Python %).
Expected<Kernel> BuildMod(const LoweringContext& ctx) {
  const bool fmod = ctx.node().GetInt("fmod", 0) != 0;
  return Kernel([fmod](const Tensors& in) {
    return Tensors{fmod ? at::fmod(in[0], in[1]) : at::remainder(in[0], in[1])};
  });
}

// Sum / Mean / Max / Min over any number of broadcast inputs.
Expected<Kernel> BuildVariadic(const LoweringContext& ctx) {
  const std::string op = ctx.node().op_type;
  return Kernel([op](const Tensors& in) {
    at::Tensor y = in[0];
    for (size_t i = 1; i < in.size(); ++i) {
      if (op == "Sum" || op == "Mean") y = y + in[i];
      else if (op == "Max") y = at::maximum(y, in[i]);
      else y = at::minimum(y, in[i]);
    }
    if (op == "Mean") y = y / static_cast<double>(in.size());
    return Tensors{y};
  });
}

// Where(c, x, y) = c ? x : y.
Expected<Kernel> BuildWhere(const LoweringContext&) {
  return Kernel([](const Tensors& in) { return Tensors{at::where(in[0], in[1], in[2])}; });
}

at::Scalar ScalarFor(const at::Tensor& x, double v) {
  if (x.is_floating_point()) return at::Scalar(v);
  return at::Scalar(static_cast<int64_t>(v));
}

// Clip: y = min(max(x, lo), hi). Before opset 11 the bounds are attributes; from 11 optional inputs.
Expected<Kernel> BuildClip(const LoweringContext& ctx) {
  constexpr double kInf = std::numeric_limits<double>::infinity();
  if (ctx.opset() < 11) {
    const double lo = ctx.node().GetFloat("min", -std::numeric_limits<float>::max());
    const double hi = ctx.node().GetFloat("max", std::numeric_limits<float>::max());
    return Kernel([lo, hi](const Tensors& in) {
      return Tensors{at::clamp(in[0], ScalarFor(in[0], lo), ScalarFor(in[0], hi))};
    });
  }
  // Constant bounds are read once; others at run time.
  std::optional<double> lo, hi;
  const bool has_lo = ctx.HasInput(1), has_hi = ctx.HasInput(2);
  if (has_lo && ctx.ConstantInput(1)) lo = ctx.ConstantInput(1)->to(at::kDouble).item<double>();
  if (has_hi && ctx.ConstantInput(2)) hi = ctx.ConstantInput(2)->to(at::kDouble).item<double>();
  return Kernel([=](const Tensors& in) {
    double l = -kInf, h = kInf;
    if (has_lo) l = lo ? *lo : in[1].to(at::kDouble).item<double>();
    if (has_hi) h = hi ? *hi : in[2].to(at::kDouble).item<double>();
    c10::optional<at::Scalar> ls, hs;
    if (has_lo) ls = ScalarFor(in[0], l);
    if (has_hi) hs = ScalarFor(in[0], h);
    if (!ls && !hs) return Tensors{in[0]};
    return Tensors{at::clamp(in[0], ls, hs)};
  });
}

// LeakyRelu: y = x ≥ 0 ? x : alpha·x (alpha 0.01).
Expected<Kernel> BuildLeakyRelu(const LoweringContext& ctx) {
  const double alpha = ctx.node().GetFloat("alpha", 0.01f);
  return Kernel([alpha](const Tensors& in) { return Tensors{at::leaky_relu(in[0], alpha)}; });
}

// Elu: y = x ≥ 0 ? x : alpha·(e^x − 1).  Selu: gamma · Elu(x, alpha).
Expected<Kernel> BuildElu(const LoweringContext& ctx) {
  const bool selu = ctx.node().op_type == "Selu";
  const double alpha = ctx.node().GetFloat("alpha", selu ? 1.67326319217681884765625f : 1.0f);
  const double gamma = selu ? ctx.node().GetFloat("gamma", 1.05070102214813232421875f) : 1.0;
  return Kernel([alpha, gamma](const Tensors& in) {
    at::Tensor y = at::elu(in[0], alpha);
    return Tensors{gamma == 1.0 ? y : y * gamma};
  });
}

// HardSigmoid: y = max(0, min(1, alpha·x + beta)) (alpha 0.2, beta 0.5).
Expected<Kernel> BuildHardSigmoid(const LoweringContext& ctx) {
  const double alpha = ctx.node().GetFloat("alpha", 0.2f);
  const double beta = ctx.node().GetFloat("beta", 0.5f);
  return Kernel([alpha, beta](const Tensors& in) { return Tensors{at::clamp(in[0] * alpha + beta, 0.0, 1.0)}; });
}

// PRelu: y = x < 0 ? slope·x : x, slope broadcast to x (unidirectionally).
Expected<Kernel> BuildPRelu(const LoweringContext&) {
  return Kernel([](const Tensors& in) { return Tensors{at::where(in[0] < 0, in[0] * in[1], in[0])}; });
}

// Gelu (opset 20): 0.5·x·(1 + erf(x/√2)), or the tanh approximation.
Expected<Kernel> BuildGelu(const LoweringContext& ctx) {
  const std::string approximate = ctx.node().GetString("approximate", "none");
  return Kernel([approximate](const Tensors& in) { return Tensors{at::gelu(in[0], approximate)}; });
}

// Cast: converts to the `to` dtype (float → int truncates toward zero, as ONNX).
Expected<Kernel> BuildCast(const LoweringContext& ctx) {
  at::ScalarType type;
  const int64_t to = ctx.node().GetInt("to", 0);
  if (!OnnxDTypeToScalarType(to, &type)) return ctx.UnsupportedError("cast to ONNX dtype " + std::to_string(to));
  return Kernel([type](const Tensors& in) { return Tensors{in[0].to(type)}; });
}

Expected<Kernel> BuildCastLike(const LoweringContext&) {
  return Kernel([](const Tensors& in) { return Tensors{in[0].to(in[1].scalar_type())}; });
}

// Dropout at inference is the identity; the optional mask output is all true.
Expected<Kernel> BuildDropout(const LoweringContext& ctx) {
  const bool want_mask = ctx.node().outputs.size() > 1 && !ctx.node().outputs[1].empty();
  return Kernel([want_mask](const Tensors& in) {
    if (!want_mask) return Tensors{in[0]};
    return Tensors{in[0], at::ones(in[0].sizes(), at::TensorOptions().dtype(at::kBool))};
  });
}

// Shape [D] tensor along `axis` of a rank-`rank` input: [1,..,D,..,1].
at::Tensor AlongAxis(const at::Tensor& v, int64_t axis, int64_t rank) {
  if (v.dim() == 0 || rank == 0) return v;
  std::vector<int64_t> shape(rank, 1);
  shape[axis] = v.numel();
  return v.reshape(shape);
}

// DequantizeLinear: y = (x − zero_point) · scale, per tensor or per `axis` (default 1).
Expected<Kernel> BuildDequantizeLinear(const LoweringContext& ctx) {
  const int64_t axis = ctx.node().GetInt("axis", 1);
  const ir::Node node = ctx.node();
  return Kernel([axis, node](const Tensors& in) {
    const int64_t rank = in[0].dim();
    const int64_t a = in[1].dim() > 0 ? NormalizeAxis(axis, rank, node) : 0;
    at::Tensor x = in[0].to(at::kFloat);
    if (in.size() > 2 && in[2].defined()) x = x - AlongAxis(in[2].to(at::kFloat), a, rank);
    return Tensors{x * AlongAxis(in[1], a, rank)};
  });
}

// QuantizeLinear: y = saturate(round_half_even(x / scale) + zero_point), dtype of zero_point (uint8 default).
Expected<Kernel> BuildQuantizeLinear(const LoweringContext& ctx) {
  const int64_t axis = ctx.node().GetInt("axis", 1);
  const ir::Node node = ctx.node();
  return Kernel([axis, node](const Tensors& in) {
    const int64_t rank = in[0].dim();
    const int64_t a = in[1].dim() > 0 ? NormalizeAxis(axis, rank, node) : 0;
    const bool has_zp = in.size() > 2 && in[2].defined();
    const at::ScalarType type = has_zp ? in[2].scalar_type() : at::kByte;
    at::Tensor q = at::round(in[0] / AlongAxis(in[1], a, rank));
    if (has_zp) q = q + AlongAxis(in[2].to(at::kFloat), a, rank);
    const double lo = type == at::kChar ? -128 : 0, hi = type == at::kChar ? 127 : 255;
    return Tensors{at::clamp(q, lo, hi).to(type)};
  });
}

}  // namespace

void RegisterElementwiseLowerings(LoweringTable& t) {
  auto add = [&t](const char* op, LoweringBuilder build, int64_t since = 1, int64_t until = 1000) {
    Status s = t.Add({"", op, since, until, build});
    assert(s.ok() && "duplicate built-in lowering");
    (void)s;
  };
  for (const char* op : {"Neg", "Abs", "Exp", "Log", "Sqrt", "Reciprocal", "Relu", "Sigmoid", "Tanh", "Erf",
                         "Floor", "Ceil", "Round", "Sign", "Sin", "Cos", "Not", "Softplus", "Softsign",
                         "HardSwish", "IsNaN", "Identity"}) {
    add(op, &BuildUnary);
  }
  for (const char* op : {"Add", "Sub", "Mul", "Div", "Pow", "Equal", "Less", "LessOrEqual", "Greater",
                         "GreaterOrEqual", "And", "Or", "Xor"}) {
    add(op, &BuildBinary);
  }
  add("Mod", &BuildMod);
  for (const char* op : {"Sum", "Mean", "Max", "Min"}) add(op, &BuildVariadic);
  add("Where", &BuildWhere);
  add("Clip", &BuildClip);
  add("LeakyRelu", &BuildLeakyRelu);
  add("Elu", &BuildElu);
  add("Selu", &BuildElu);
  add("HardSigmoid", &BuildHardSigmoid);
  add("PRelu", &BuildPRelu);
  add("Gelu", &BuildGelu, 20);
  add("Cast", &BuildCast);
  add("CastLike", &BuildCastLike, 15);
  add("Dropout", &BuildDropout);
  add("DequantizeLinear", &BuildDequantizeLinear, 10);
  add("QuantizeLinear", &BuildQuantizeLinear, 10);
}

}  // namespace act::exec
