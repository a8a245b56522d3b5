// The fused float kernels (src/runtime/onednn/fused_float_ops.h): each row kernel against its formula
// evaluated in double on PP-OCRv4 rec's shapes (LayerNorm over [40, 120], softmax over [40, 6625] and
// [320, 40], attention with 8 heads of 40 x 15), and each plan-builder fusion against the unfused plan — the `reference` backend, or the same
// graph with an extra reader that blocks the fusion — with a check, through the kernel profile, that the
// pattern was (or was not) fused.
#include <gtest/gtest.h>

#include <cmath>
#include <random>

#include "act/runtime.h"
#include "ir/graph.h"
#include "runtime/onednn/fused_float_ops.h"
#include "runtime/graph_builder.h"
#include "test_support.h"

namespace act::runtime {
namespace {

using onednn::DequantizeBias;
using onednn::LayerNormParams;

std::vector<float> RandomVector(int64_t n, uint32_t seed, float lo, float hi) {
  std::vector<float> v(n);
  std::mt19937 rng(seed);
  std::uniform_real_distribution<float> dist(lo, hi);
  for (float& x : v) x = dist(rng);
  return v;
}

// Softmax of one row in double.
std::vector<double> SoftmaxDouble(const std::vector<double>& x) {
  double max = -INFINITY, sum = 0;
  for (double v : x) max = std::max(max, v);
  std::vector<double> y(x.size());
  for (size_t i = 0; i < x.size(); ++i) sum += (y[i] = std::exp(x[i] - max));
  for (double& v : y) v /= sum;
  return y;
}

// Largest |a − r| / |r| over all elements (every element counts, not only the largest).
double ElementwiseRelativeError(const float* a, const std::vector<double>& r, size_t offset = 0) {
  double worst = 0;
  for (size_t i = 0; i < r.size(); ++i) {
    if (r[i] == 0) continue;
    worst = std::max(worst, std::abs(a[offset + i] - r[i]) / std::abs(r[i]));
  }
  return worst;
}

TEST(FusedFloatOps, VectorExpRelativeErrorBelowOneMillionth) {
  // The exponential's own error is 2e-7 (fused_float_ops.cc); 1e-6 leaves room for the float input's
  // rounding being amplified by |x| ulp-wise (none here: x is exact and the reference is in double).
  std::vector<float> x;
  for (double v = -87.0; v <= 88.0; v += 0.000731) x.push_back(static_cast<float>(v));
  std::vector<float> y(x.size());
  onednn::VectorExp(x.data(), y.data(), static_cast<int64_t>(x.size()));
  double worst = 0;
  for (size_t i = 0; i < x.size(); ++i) {
    const double r = std::exp(static_cast<double>(x[i]));
    worst = std::max(worst, std::abs(y[i] - r) / r);
  }
  EXPECT_LT(worst, 1e-6) << "AVX-512 path: " << onednn::FusedFloatOpsUseAvx512();
  // −∞ and very negative inputs give 0, not NaN; 0 gives the polynomial's constant term, 1 + 1.2e-7 (the
  // minimax fit does not pin it to 1).
  const float edge[3] = {-INFINITY, -500.f, 0.f};
  float out[3];
  onednn::VectorExp(edge, out, 3);
  EXPECT_EQ(out[0], 0.f);
  EXPECT_EQ(out[1], 0.f);
  EXPECT_NEAR(out[2], 1.f, 2e-7);
}

TEST(FusedFloatOps, SoftmaxRowsMatchDoubleOnHeadAndAttentionShapes) {
  // Per element relative error ≤ 2e-6: the exponential's 2e-7 plus the float sum of up to 6625 terms
  // (relative error about n·2^-24 in the worst case, far less with random signs of the rounding).
  // Rows up to 128 take the register kernel (40, 17, 1, 128), longer ones the streaming kernel; 5000 x 40
  // is split over the OpenMP threads in blocks of 64 rows.
  for (auto [rows, n] : {std::pair<int64_t, int64_t>{40, 6625}, {320, 40}, {3, 17}, {2, 1}, {4, 128}, {3, 129},
                         {5000, 40}}) {
    const std::vector<float> x = RandomVector(rows * n, 7 + static_cast<uint32_t>(n), -12.f, 12.f);
    std::vector<float> y(x.size());
    onednn::SoftmaxRows(x.data(), y.data(), rows, n);
    double worst = 0;
    for (int64_t r = 0; r < rows; ++r) {
      const std::vector<double> row(x.begin() + r * n, x.begin() + (r + 1) * n);
      worst = std::max(worst, ElementwiseRelativeError(y.data(), SoftmaxDouble(row), r * n));
    }
    EXPECT_LT(worst, 2e-6) << rows << "x" << n;
    // In place gives the same bytes.
    std::vector<float> z = x;
    onednn::SoftmaxRows(z.data(), z.data(), rows, n);
    EXPECT_EQ(z, y) << rows << "x" << n;
  }
}

TEST(FusedFloatOps, DequantizeBiasSoftmaxMatchesTableThenSoftmax) {
  // The fused head against its two steps run apart: y0 = (q − zp)·s + bias as float, then SoftmaxRows,
  // within 5e-6: the same operations, except that the compiler may contract the scalar loop's
  // multiply-add into an fma, moving a logit (|x| ≤ 11 here) by one ulp (1e-6), which moves exp(x − max)
  // by up to 2e-6 relative, and the sum a little. Against double: ≤ 2e-6 as above. u8 and s8 bytes; 6625 is not a
  // multiple of 16, so the tail path runs.
  const int64_t rows = 40, n = 6625;
  std::mt19937 rng(3);
  std::vector<uint8_t> q(rows * n);
  for (uint8_t& v : q) v = static_cast<uint8_t>(rng() & 0xFF);
  const std::vector<float> bias = RandomVector(n, 5, -2.f, 2.f);
  for (bool is_signed : {false, true}) {
    DequantizeBias d;
    d.scale = 0.07f;
    d.zero_point = is_signed ? -3 : 131;
    d.is_signed = is_signed;
    d.bias = bias.data();
    std::vector<float> fused(rows * n), two_step(rows * n);
    onednn::DequantizeBiasSoftmaxRows(q.data(), fused.data(), rows, n, d);
    std::vector<double> exact;
    double worst_exact = 0;
    for (int64_t r = 0; r < rows; ++r) {
      std::vector<double> row(n);
      for (int64_t i = 0; i < n; ++i) {
        const uint8_t byte = q[r * n + i];
        const int32_t v = is_signed ? static_cast<int8_t>(byte) : byte;
        two_step[r * n + i] = static_cast<float>(v - d.zero_point) * d.scale + bias[i];
        row[i] = (static_cast<double>(v) - d.zero_point) * d.scale + bias[i];
      }
      worst_exact = std::max(worst_exact, ElementwiseRelativeError(fused.data(), SoftmaxDouble(row), r * n));
    }
    onednn::SoftmaxRows(two_step.data(), two_step.data(), rows, n);
    double worst = 0;
    for (size_t i = 0; i < fused.size(); ++i) worst = std::max(worst, static_cast<double>(std::abs(fused[i] - two_step[i]) / two_step[i]));
    EXPECT_LT(worst, 5e-6) << (is_signed ? "s8" : "u8");
    EXPECT_LT(worst_exact, 2e-6) << (is_signed ? "s8" : "u8");
  }
}

TEST(FusedFloatOps, LayerNormRowsMatchDouble) {
  // ≤ 1e-6 of the row's largest output: float sums of 120 terms and one division per element.
  for (auto [rows, n] : {std::pair<int64_t, int64_t>{40, 120}, {5, 37}}) {
    const std::vector<float> x = RandomVector(rows * n, 11, -3.f, 5.f);
    const std::vector<float> gamma = RandomVector(n, 12, 0.5f, 1.5f), beta = RandomVector(n, 13, -1.f, 1.f);
    for (int variant = 0; variant < 3; ++variant) {  // γ and β vectors; none; scalar γ only
      LayerNormParams p;
      p.eps = 1e-6f;
      const float scalar_gamma = 1.7f;
      if (variant == 0) { p.gamma = gamma.data(); p.gamma_size = n; p.beta = beta.data(); p.beta_size = n; }
      if (variant == 2) { p.gamma = &scalar_gamma; p.gamma_size = 1; }
      std::vector<float> y(x.size());
      onednn::LayerNormRows(x.data(), y.data(), rows, n, p);
      double worst = 0;
      for (int64_t r = 0; r < rows; ++r) {
        double mean = 0, var = 0, max_out = 0;
        for (int64_t i = 0; i < n; ++i) mean += x[r * n + i];
        mean /= n;
        for (int64_t i = 0; i < n; ++i) var += (x[r * n + i] - mean) * (x[r * n + i] - mean);
        var /= n;
        std::vector<double> ref(n);
        for (int64_t i = 0; i < n; ++i) {
          double v = (x[r * n + i] - mean) / std::sqrt(var + p.eps);
          if (p.gamma) v *= p.gamma[p.gamma_size == 1 ? 0 : i];
          if (p.beta) v += p.beta[p.beta_size == 1 ? 0 : i];
          ref[i] = v;
          max_out = std::max(max_out, std::abs(v));
        }
        for (int64_t i = 0; i < n; ++i) worst = std::max(worst, std::abs(y[r * n + i] - ref[i]) / max_out);
      }
      EXPECT_LT(worst, 1e-6) << rows << "x" << n << " variant " << variant;
    }
  }
}

// ---- fusions in the plan --------------------------------------------------------------------------------

using Graph = test::GraphBuilder;

Tensor FloatTensor(const Shape& shape, const std::vector<float>& v) { return Tensor::FromVector<float>(shape, v); }

struct RunResult {
  std::map<std::string, Tensor> outputs;
  std::vector<std::string> labels;  // kernel labels of the onednn plan
};

RunResult RunOn(const ir::Graph& graph, const std::string& backend, const Tensor& x) {
  SessionOptions options;
  options.backend = backend;
  options.profile = true;
  auto session = Session::Create(graph, options);
  EXPECT_TRUE(session.ok()) << session.status().message();
  if (!session.ok()) return {};
  auto out = (*session)->Run({{"x", x}});
  EXPECT_TRUE(out.ok()) << out.status().message();
  if (!out.ok()) return {};
  RunResult result{*out, {}};
  for (const OpProfile& p : (*session)->Profile()) result.labels.push_back(p.op_type);
  return result;
}

bool HasLabel(const RunResult& r, const std::string& prefix) {
  for (const std::string& l : r.labels) if (l.rfind(prefix, 0) == 0) return true;
  return false;
}

// ReduceMean → Sub → Pow(2) | Mul(d, d) → ReduceMean → Add(eps) → Sqrt → Div → Mul(γ) → Add(β), as
// Paddle2ONNX exports PP-OCRv4's SVTR LayerNorms, on [1, 40, 120].
struct LayerNormGraph {
  Graph gb{{1, 40, 120}};
  std::string d, y;
  LayerNormGraph(bool square_as_mul, bool affine) {
    const auto axes = std::map<std::string, ir::Attribute>{{"axes", ir::Attribute::Ints({-1})}};
    const std::string mean = gb.Op("ReduceMean", {"x"}, axes);
    d = gb.Op("Sub", {"x", mean});
    const std::string sq = square_as_mul ? gb.Op("Mul", {d, d}) : gb.Op("Pow", {d, gb.Init(FloatTensor({}, {2.f}))});
    const std::string var = gb.Op("ReduceMean", {sq}, axes);
    const std::string denom = gb.Op("Sqrt", {gb.Op("Add", {var, gb.Init(FloatTensor({}, {1e-6f}))})});
    y = gb.Op("Div", {d, denom});
    if (affine) {
      y = gb.Op("Mul", {y, gb.Init(FloatTensor({120}, RandomVector(120, 21, 0.5f, 1.5f)))});
      y = gb.Op("Add", {y, gb.Init(FloatTensor({120}, RandomVector(120, 22, -1.f, 1.f)))});
    }
  }
};

Tensor InputX(const Shape& shape, uint32_t seed) {
  return FloatTensor(shape, RandomVector(NumElements(shape), seed, -2.f, 3.f));
}

TEST(FusedFloatOps, DecomposedLayerNormRunsAsOneKernel) {
  // Fused against the reference backend (every node on its own plain kernel): ≤ 1e-5 of the largest output,
  // the brief's bound; the two differ by float summation order and fma (observed ~1e-7).
  for (bool square_as_mul : {false, true}) {
    for (bool affine : {true, false}) {
      LayerNormGraph ln(square_as_mul, affine);
      const ir::Graph graph = ln.gb.Finish({ln.y});
      const Tensor x = InputX({1, 40, 120}, 31);
      const RunResult fused = RunOn(graph, "onednn", x), ref = RunOn(graph, "reference", x);
      ASSERT_EQ(fused.outputs.count(ln.y), 1u);
      EXPECT_LE(test::MaxRelativeError(fused.outputs.at(ln.y), ref.outputs.at(ln.y)), 1e-5);
      EXPECT_TRUE(HasLabel(fused, "LayerNorm(")) << "square_as_mul " << square_as_mul << " affine " << affine;
      EXPECT_FALSE(HasLabel(fused, "Sqrt"));
      EXPECT_FALSE(HasLabel(fused, "ReduceMean"));
    }
  }
}

TEST(FusedFloatOps, LayerNormNotFusedWhenAnIntermediateHasAnotherReader) {
  // x − mean also feeds a graph output through a Relu: the Sub's result must exist, so nothing is fused;
  // the outputs still match the reference backend.
  LayerNormGraph ln(false, true);
  const std::string extra = ln.gb.Op("Relu", {ln.d});
  const ir::Graph graph = ln.gb.Finish({ln.y, extra});
  const Tensor x = InputX({1, 40, 120}, 33);
  const RunResult fast = RunOn(graph, "onednn", x), ref = RunOn(graph, "reference", x);
  ASSERT_EQ(fast.outputs.size(), 2u);
  EXPECT_FALSE(HasLabel(fast, "LayerNorm("));
  EXPECT_LE(test::MaxRelativeError(fast.outputs.at(ln.y), ref.outputs.at(ln.y)), 1e-5);
  EXPECT_LE(test::MaxRelativeError(fast.outputs.at(extra), ref.outputs.at(extra)), 1e-5);

  // The Div's result as a graph output too: the LayerNorm ends at the Div (its output is the kernel's)
  // and the Mul(γ)/Add(β) run apart.
  LayerNormGraph ln2(false, true);
  const std::string div_out = ln2.gb.g.nodes[6].outputs[0];
  ASSERT_EQ(ln2.gb.g.nodes[6].op_type, "Div");
  const ir::Graph graph2 = ln2.gb.Finish({ln2.y, div_out});
  const RunResult fast2 = RunOn(graph2, "onednn", x), ref2 = RunOn(graph2, "reference", x);
  EXPECT_TRUE(HasLabel(fast2, "LayerNorm(ReduceMean+Sub+Pow+ReduceMean+Add+Sqrt+Div)"));
  EXPECT_LE(test::MaxRelativeError(fast2.outputs.at(ln2.y), ref2.outputs.at(ln2.y)), 1e-5);
  EXPECT_LE(test::MaxRelativeError(fast2.outputs.at(div_out), ref2.outputs.at(div_out)), 1e-5);
}

TEST(FusedFloatOps, SoftmaxOverTheLastAxisUsesOwnKernel) {
  // [1, 40, 6625] (the CTC head) and [1, 8, 40, 40] (attention) on our kernels, rows of 200 still on
  // oneDNN; all against the reference backend within 1e-5 of the largest output.
  for (const Shape& shape : {Shape{1, 40, 6625}, Shape{1, 8, 40, 40}, Shape{1, 3, 200}}) {
    Graph gb(shape);
    const std::string y = gb.Op("Softmax", {"x"}, {{"axis", ir::Attribute::Int(-1)}});
    const ir::Graph graph = gb.Finish({y});
    const Tensor x = FloatTensor(shape, RandomVector(NumElements(shape), 41, -8.f, 8.f));
    const RunResult fast = RunOn(graph, "onednn", x), ref = RunOn(graph, "reference", x);
    EXPECT_LE(test::MaxRelativeError(fast.outputs.at(y), ref.outputs.at(y)), 1e-5);
    EXPECT_EQ(HasLabel(fast, "Softmax(own)"), shape.back() != 200);
  }
}

// The INT8 CTC head: DQ(x u8) · DQ(w s8) → Q → DQ → Add(bias) → Softmax, on [1, 40, 120] · [120, 6625].
// With `add_is_output` the Add's result is also a graph output, which blocks the fusion: that unfused plan
// (same INT8 matmul, same bytes) is the reference for the fused one.
ir::Graph Int8Head(bool add_is_output, std::string* softmax_out) {
  Graph gb({1, 40, 120});
  const std::string s_x = gb.Init(FloatTensor({}, {0.02f})), s_y = gb.Init(FloatTensor({}, {0.09f}));
  const std::string zp_x = gb.Init(Tensor::FromVector<uint8_t>({}, {128})), zp_y = gb.Init(Tensor::FromVector<uint8_t>({}, {120}));
  const std::string qx = gb.Op("QuantizeLinear", {"x", s_x, zp_x});
  const std::string dx = gb.Op("DequantizeLinear", {qx, s_x, zp_x});
  std::vector<int8_t> w(120 * 6625);
  std::mt19937 rng(51);
  for (int8_t& v : w) v = static_cast<int8_t>(static_cast<int>(rng() % 255) - 127);
  const std::vector<float> ws = RandomVector(6625, 52, 0.001f, 0.004f);
  const std::string dw = gb.Op("DequantizeLinear", {gb.Init(Tensor::FromVector<int8_t>({120, 6625}, w)),
                                                    gb.Init(FloatTensor({6625}, ws))},
                               {{"axis", ir::Attribute::Int(1)}});
  std::string y = gb.Op("MatMul", {dx, dw});
  y = gb.Op("DequantizeLinear", {gb.Op("QuantizeLinear", {y, s_y, zp_y}), s_y, zp_y});
  const std::string logits = gb.Op("Add", {y, gb.Init(FloatTensor({6625}, RandomVector(6625, 53, -1.f, 1.f)))});
  *softmax_out = gb.Op("Softmax", {logits}, {{"axis", ir::Attribute::Int(-1)}});
  if (add_is_output) return gb.Finish({*softmax_out, logits});
  return gb.Finish({*softmax_out});
}

TEST(FusedFloatOps, Int8HeadDequantizeBiasSoftmaxFused) {
  std::string y, y2;
  const ir::Graph fused_graph = Int8Head(false, &y), unfused_graph = Int8Head(true, &y2);
  ASSERT_EQ(y, y2);
  const Tensor x = InputX({1, 40, 120}, 61);
  const RunResult fused = RunOn(fused_graph, "onednn", x), unfused = RunOn(unfused_graph, "onednn", x);
  EXPECT_TRUE(HasLabel(fused, "DequantizeLinear(table)+Add+Softmax"));
  EXPECT_FALSE(HasLabel(unfused, "DequantizeLinear(table)+Add+Softmax"));
  EXPECT_TRUE(HasLabel(unfused, "DequantizeLinear(table)+Add"));
  // Same bytes from the INT8 matmul, then the same float arithmetic in another order: 1e-5 of the largest
  // probability (observed ~1e-7).
  EXPECT_LE(test::MaxRelativeError(fused.outputs.at(y), unfused.outputs.at(y)), 1e-5);
  // And against the reference backend (float matmul, then Q/DQ as ops): a requantization tie may round one
  // step apart (0.09 in logit → up to ~9% in that probability), so only a loose check: 0.1 of the largest.
  const RunResult ref = RunOn(fused_graph, "reference", x);
  EXPECT_LE(test::MaxRelativeError(fused.outputs.at(y), ref.outputs.at(y)), 0.1);
}

// An SVTR block's first half on the INT8 path: LayerNorm → Q → DQ → MatMul (int8 weights) → Q → DQ → Add(bias)
// → Add(x, the residual). The LayerNorm writes the quantized bytes itself and the residual is added in
// the table+bias kernel — unless their float outputs are also graph outputs.
ir::Graph SvtrResidual(bool float_outputs, std::string* out, std::string* ln_out, std::string* biased) {
  LayerNormGraph ln(false, true);
  Graph& gb = ln.gb;
  auto qdq = [&](const std::string& v, float s, uint8_t zp) {
    const std::string sv = gb.Init(FloatTensor({}, {s})), zv = gb.Init(Tensor::FromVector<uint8_t>({}, {zp}));
    return gb.Op("DequantizeLinear", {gb.Op("QuantizeLinear", {v, sv, zv}), sv, zv});
  };
  std::vector<int8_t> w(120 * 120);
  std::mt19937 rng(71);
  for (int8_t& v : w) v = static_cast<int8_t>(static_cast<int>(rng() % 255) - 127);
  const std::string dw = gb.Op("DequantizeLinear", {gb.Init(Tensor::FromVector<int8_t>({120, 120}, w)),
                                                    gb.Init(FloatTensor({120}, RandomVector(120, 72, 0.001f, 0.004f)))},
                               {{"axis", ir::Attribute::Int(1)}});
  *ln_out = ln.y;
  const std::string y = qdq(gb.Op("MatMul", {qdq(ln.y, 0.03f, 128), dw}), 0.05f, 120);
  *biased = gb.Op("Add", {y, gb.Init(FloatTensor({120}, RandomVector(120, 73, -1.f, 1.f)))});
  *out = gb.Op("Add", {*biased, "x"});
  if (float_outputs) return gb.Finish({*out, *ln_out, *biased});
  return gb.Finish({*out});
}

TEST(FusedFloatOps, LayerNormQuantizedAndResidualAddFused) {
  const Tensor x = InputX({1, 40, 120}, 75);
  for (bool float_outputs : {false, true}) {
    std::string out, ln_out, biased;
    const ir::Graph graph = SvtrResidual(float_outputs, &out, &ln_out, &biased);
    const RunResult fast = RunOn(graph, "onednn", x), ref = RunOn(graph, "reference", x);
    ASSERT_EQ(fast.outputs.count(out), 1u);
    // Same quantization points on both sides; a requantization tie may round one step (0.05) apart.
    EXPECT_LE(test::MaxRelativeError(fast.outputs.at(out), ref.outputs.at(out)), 0.02) << float_outputs;
    EXPECT_EQ(HasLabel(fast, "LayerNorm(ReduceMean+Sub+Pow+ReduceMean+Add+Sqrt+Div+Mul+Add)+QuantizeLinear"), !float_outputs);
    EXPECT_EQ(HasLabel(fast, "DequantizeLinear(table)+Add+Add"), !float_outputs);
    EXPECT_FALSE(HasLabel(fast, "QuantizeLinear") && !float_outputs);
    if (float_outputs) {
      EXPECT_LE(test::MaxRelativeError(fast.outputs.at(ln_out), ref.outputs.at(ln_out)), 1e-5);
      EXPECT_LE(test::MaxRelativeError(fast.outputs.at(biased), ref.outputs.at(biased)), 0.02);
    }
  }
}

}  // namespace
}  // namespace act::runtime

namespace act::runtime {
namespace {

// softmax((q·scale)·kᵀ)·v per (batch, head) in double, from qkv [B, N, 3, H, D].
std::vector<double> AttentionDouble(const std::vector<float>& qkv, const onednn::AttentionShape& s, float scale) {
  const int64_t n = s.tokens, d = s.dim, h = s.heads, stride = 3 * h * d;
  std::vector<double> out(s.batch * h * n * d);
  for (int64_t b = 0; b < s.batch; ++b) {
    for (int64_t head = 0; head < h; ++head) {
      const float* base = qkv.data() + b * n * stride + head * d;
      for (int64_t i = 0; i < n; ++i) {
        std::vector<double> scores(n);
        for (int64_t j = 0; j < n; ++j) {
          double acc = 0;
          for (int64_t c = 0; c < d; ++c) acc += static_cast<double>(base[i * stride + c] * scale) * base[j * stride + h * d + c];
          scores[j] = acc;
        }
        const std::vector<double> p = SoftmaxDouble(scores);
        for (int64_t c = 0; c < d; ++c) {
          double acc = 0;
          for (int64_t j = 0; j < n; ++j) acc += p[j] * base[j * stride + 2 * h * d + c];
          out[((b * h + head) * n + i) * d + c] = acc;
        }
      }
    }
  }
  return out;
}

TEST(FusedFloatOps, AttentionHeadsMatchDouble) {
  // ≤ 1e-5 of the largest output: float dot products of D ≤ 20 terms, the 2e-7 exponential, and sums of
  // N ≤ 129 probabilities times values (a few float roundings each, relative to outputs of order 1).
  // PP-OCRv4's 8 heads of 40 x 15; two score and two output vectors; N > 128 (the scalar loops).
  for (const onednn::AttentionShape& s : {onednn::AttentionShape{1, 40, 8, 15}, onednn::AttentionShape{2, 20, 3, 20},
                                          onednn::AttentionShape{1, 129, 2, 4}}) {
    const std::vector<float> qkv = RandomVector(s.batch * s.tokens * 3 * s.heads * s.dim, 71, -1.5f, 1.5f);
    std::vector<float> out(s.batch * s.heads * s.tokens * s.dim);
    onednn::AttentionHeads(qkv.data(), out.data(), s, 0.258f);
    const std::vector<double> ref = AttentionDouble(qkv, s, 0.258f);
    double max_ref = 0, max_diff = 0;
    for (size_t i = 0; i < ref.size(); ++i) {
      max_ref = std::max(max_ref, std::abs(ref[i]));
      max_diff = std::max(max_diff, std::abs(out[i] - ref[i]));
    }
    EXPECT_LT(max_diff / max_ref, 1e-5) << s.tokens << " tokens, " << s.heads << " heads of " << s.dim;
  }
}

// SVTR's attention core as Paddle2ONNX writes it, on qkv [1, 40, 360] (8 heads of 15). With
// `v_is_output`, v is also a graph output, which must block the fusion.
ir::Graph SvtrAttention(bool v_is_output, std::string* out, std::string* v_name) {
  Graph gb({1, 40, 360});
  auto ints = [&](const std::vector<int64_t>& v) { return gb.Init(Tensor::FromVector<int64_t>({static_cast<int64_t>(v.size())}, v)); };
  const std::string r = gb.Op("Reshape", {"x", ints({0, -1, 3, 8, 15})});
  const std::string t = gb.Op("Transpose", {r}, {{"perm", ir::Attribute::Ints({2, 0, 3, 1, 4})}});
  std::string part[3];
  for (int64_t i = 0; i < 3; ++i) {
    const std::string s = gb.Op("Slice", {t, ints({i}), ints({i + 1}), ints({0})});
    part[i] = gb.Op("Squeeze", {s, ints({0})});
  }
  const std::string q = gb.Op("Mul", {part[0], gb.Init(FloatTensor({}, {0.2581989f}))});
  const std::string kt = gb.Op("Transpose", {part[1]}, {{"perm", ir::Attribute::Ints({0, 1, 3, 2})}});
  const std::string p = gb.Op("Softmax", {gb.Op("MatMul", {q, kt})}, {{"axis", ir::Attribute::Int(-1)}});
  *out = gb.Op("MatMul", {p, part[2]});
  *v_name = part[2];
  if (v_is_output) return gb.Finish({*out, part[2]});
  return gb.Finish({*out});
}

TEST(FusedFloatOps, SvtrAttentionRunsAsOneKernel) {
  // Against the reference backend (each node on its own kernel): 1e-5 of the largest output, as above.
  std::string y, v;
  const ir::Graph graph = SvtrAttention(false, &y, &v);
  const Tensor x = FloatTensor({1, 40, 360}, RandomVector(40 * 360, 81, -2.f, 2.f));
  const RunResult fused = RunOn(graph, "onednn", x), ref = RunOn(graph, "reference", x);
  ASSERT_EQ(fused.outputs.count(y), 1u);
  EXPECT_EQ(fused.outputs.at(y).shape(), (Shape{1, 8, 40, 15}));
  EXPECT_LE(test::MaxRelativeError(fused.outputs.at(y), ref.outputs.at(y)), 1e-5);
  EXPECT_TRUE(HasLabel(fused, "Attention("));
  EXPECT_FALSE(HasLabel(fused, "MatMul"));

  // v read outside the pattern: nothing fused, same results.
  const ir::Graph blocked = SvtrAttention(true, &y, &v);
  const RunResult fast = RunOn(blocked, "onednn", x), ref2 = RunOn(blocked, "reference", x);
  EXPECT_FALSE(HasLabel(fast, "Attention("));
  EXPECT_LE(test::MaxRelativeError(fast.outputs.at(y), ref2.outputs.at(y)), 1e-5);
  EXPECT_LE(test::MaxRelativeError(fast.outputs.at(v), ref2.outputs.at(v)), 1e-6);
}

}  // namespace
}  // namespace act::runtime
