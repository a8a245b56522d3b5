// The act-domain training ops (src/quant/qat_ops.h) against their formulas, computed by hand here:
//   FakeQuant per-tensor u8: y = (clamp(round_half_even(x / s) + z, 0, 255) - z) * s; gradient 1 inside the
//   representable range, 0 outside (straight-through estimator);
//   FakeQuant weight observer, 4-bit per channel: s_c = max|w_c| / 7, values on the grid s_c · {-8..7};
//   moving_average_abs_max: range = Σ r^k v_k / Σ r^k (Paddle's bias-corrected average), frozen under NoGrad;
//   PactClip: y = clip(x, -alpha, alpha), dy/dalpha = 1 above alpha, -1 below -alpha;
//   exact ties x / s = k + 0.5 round half to even on the true quotient, as QuantizeLinear does (x · (1/s)
//   lands just above the tie for these values and would round up);
//   QuantizeBias: b on the grid x_scale · s_w[c] (round half even), the weight observer's int32 guard.
// Exact equality where the op is exact (grids, clips); 1e-6 relative where float division rounds.
#include <gtest/gtest.h>

#include <cmath>

#include "exec/graph_builder.h"
#include "exec/module.h"
#include "quant/qat_ops.h"

namespace act::test {
namespace {

using exec::test::GraphBuilder;

ir::Graph FakeQuantGraph(const std::string& observer, float scale, float zp, int64_t qmin, int64_t qmax,
                         int64_t axis = -1, int64_t channels = 1) {
  std::map<std::string, ir::Attribute> attrs = {
      {"qmin", ir::Attribute::Int(qmin)},       {"qmax", ir::Attribute::Int(qmax)},
      {"axis", ir::Attribute::Int(axis)},       {"symmetric", ir::Attribute::Int(qmin < 0 ? 1 : 0)},
      {"observer", ir::Attribute::String(observer)}, {"moving_rate", ir::Attribute::Float(0.5f)}};
  ir::Graph g = GraphBuilder()
                    .Input("x", DType::kFloat32, {-1, channels})
                    .Init("s", Tensor::FromVector<float>({channels}, std::vector<float>(channels, scale)))
                    .Init("z", Tensor::FromVector<float>({channels}, std::vector<float>(channels, zp)))
                    .Init("state", Tensor::FromVector<float>({3}, {0, 0, 0}))
                    .Node("FakeQuant", {"x", "s", "z", "state"}, {"y"}, attrs, quant::kActDomain)
                    .Output("y", DType::kFloat32)
                    .Build();
  g.opset_imports[quant::kActDomain] = 1;
  return g;
}

TEST(FakeQuantOps, FixedPerTensorMatchesFormulaAndStraightThroughGradient) {
  auto m = exec::Module::Create(FakeQuantGraph(quant::kObserverFixed, 0.1f, 10.0f, 0, 255));
  ASSERT_TRUE(m.ok()) << m.status().message();
  at::Tensor x = at::tensor({-5.0f, -1.0f, -0.04f, 0.06f, 0.25f, 3.14f, 25.0f, 30.0f}).reshape({8, 1});
  x.set_requires_grad(true);
  auto out = (*m)->Forward({{"x", x}});
  ASSERT_TRUE(out.ok()) << out.status().message();
  at::Tensor y = out->at("y");
  const float* px = x.data_ptr<float>();
  const float* py = y.data_ptr<float>();
  for (int i = 0; i < 8; ++i) {
    const float q = std::min(std::max(std::nearbyint(px[i] / 0.1f) + 10.0f, 0.0f), 255.0f);
    EXPECT_NEAR(py[i], (q - 10.0f) * 0.1f, 1e-6f) << "x = " << px[i];
  }
  y.sum().backward();
  const float* g = x.grad().data_ptr<float>();
  // Representable range: [(0 - 10) · 0.1, (255 - 10) · 0.1] = [-1, 24.5].
  for (int i = 0; i < 8; ++i) EXPECT_EQ(g[i], (px[i] >= -1.0f && px[i] <= 24.5f) ? 1.0f : 0.0f) << "x = " << px[i];
}

TEST(FakeQuantOps, WeightObserverFourBitPerChannel) {
  auto m = exec::Module::Create(FakeQuantGraph(quant::kObserverWeight, 1.0f, 0.0f, -8, 7, /*axis=*/1, 2));
  ASSERT_TRUE(m.ok()) << m.status().message();
  at::Tensor w = at::tensor({0.7f, -0.02f, -0.35f, 0.01f, 0.1f, 0.03f}).reshape({3, 2});
  at::NoGradGuard no_grad;  // the weight observer recomputes its scales in evaluation too
  auto out = (*m)->Forward({{"x", w}});
  ASSERT_TRUE(out.ok()) << out.status().message();
  const float s0 = 0.7f / 7, s1 = 0.03f / 7;
  const at::Tensor y = out->at("y");
  for (int r = 0; r < 3; ++r) {
    for (int c = 0; c < 2; ++c) {
      const float s = c == 0 ? s0 : s1;
      const float v = w[r][c].item<float>();
      const float q = std::min(std::max(std::nearbyint(v / s), -8.0f), 7.0f);
      EXPECT_NEAR(y[r][c].item<float>(), q * s, 1e-6f);
    }
  }
  EXPECT_NEAR((*m)->buffers().at("s")[0].item<float>(), s0, 1e-7f);  // the stored scale is what export reads
}

TEST(FakeQuantOps, MovingAverageObserverUpdatesOnlyWhileTraining) {
  auto m = exec::Module::Create(FakeQuantGraph(quant::kObserverMovingAverage, 1.0f, 0.0f, 0, 255));
  ASSERT_TRUE(m.ok()) << m.status().message();
  // Batch 1: range [0, 2]; batch 2: [-1, 4]. r = 0.5: max = (0.5·2 + 4) / (0.5 + 1) = 10/3, min = -1/1.5.
  ASSERT_TRUE((*m)->Forward({{"x", at::tensor({0.0f, 2.0f}).reshape({2, 1})}}).ok());
  ASSERT_TRUE((*m)->Forward({{"x", at::tensor({-1.0f, 4.0f}).reshape({2, 1})}}).ok());
  const float lo = -1.0f / 1.5f, hi = 10.0f / 3.0f;
  const float s = (hi - lo) / 255.0f;
  const at::Tensor& scale = (*m)->buffers().at("s");
  EXPECT_NEAR(scale.item<float>(), s, 1e-6f * s);
  EXPECT_EQ((*m)->buffers().at("z").item<float>(), std::nearbyint(-lo / s));
  at::NoGradGuard no_grad;  // evaluation: frozen
  ASSERT_TRUE((*m)->Forward({{"x", at::tensor({-50.0f, 50.0f}).reshape({2, 1})}}).ok());
  EXPECT_NEAR(scale.item<float>(), s, 1e-6f * s);
}

TEST(FakeQuantOps, PactClipsAndTrainsItsThreshold) {
  ir::Graph g = GraphBuilder()
                    .Input("x", DType::kFloat32, {-1})
                    .Init("alpha", Tensor::FromVector<float>({1}, {2.0f}))
                    .Node("PactClip", {"x", "alpha"}, {"y"}, {}, quant::kActDomain)
                    .Output("y", DType::kFloat32)
                    .Build();
  g.opset_imports[quant::kActDomain] = 1;
  exec::ModuleOptions options;
  options.extra_parameters = {"alpha"};
  auto m = exec::Module::Create(g, options);
  ASSERT_TRUE(m.ok()) << m.status().message();
  at::Tensor x = at::tensor({-3.0f, -1.0f, 0.5f, 2.5f, 4.0f});
  auto out = (*m)->Forward({{"x", x}});
  ASSERT_TRUE(out.ok()) << out.status().message();
  const at::Tensor y = out->at("y");
  const float expected[] = {-2.0f, -1.0f, 0.5f, 2.0f, 2.0f};
  for (int i = 0; i < 5; ++i) EXPECT_EQ(y[i].item<float>(), expected[i]);
  y.sum().backward();
  // dy/dalpha: +1 for the two values above alpha, -1 for the one below -alpha.
  EXPECT_EQ((*m)->parameters().at("alpha").grad().item<float>(), 1.0f);
}

TEST(FakeQuantOps, TiesRoundLikeQuantizeLinear) {
  const float s = 0.0117647061f;
  auto m = exec::Module::Create(FakeQuantGraph(quant::kObserverFixed, s, 0.0f, 0, 255));
  ASSERT_TRUE(m.ok()) << m.status().message();
  std::vector<float> xs;
  for (int k : {6, 12, 22, 24}) {
    const float x = (static_cast<float>(k) + 0.5f) * s;
    ASSERT_EQ(x / s, static_cast<float>(k) + 0.5f);                     // an exact tie of the true quotient
    ASSERT_GT(x * (1.0f / s), static_cast<float>(k) + 0.5f);            // which x · (1/s) would miss
    xs.push_back(x);
  }
  at::NoGradGuard no_grad;
  auto out = (*m)->Forward({{"x", at::tensor(xs).reshape({4, 1})}});
  ASSERT_TRUE(out.ok()) << out.status().message();
  const int even[] = {6, 12, 22, 24};
  for (int i = 0; i < 4; ++i) EXPECT_EQ(out->at("y")[i][0].item<float>(), static_cast<float>(even[i]) * s);
}

TEST(FakeQuantOps, QuantizeBiasOnTheInt32GridAndWeightGuard) {
  // Conv-like weight [2, 3] per output channel (axis 0); channel 1 is nearly dead, so the int32 guard
  // raises its scale to |b_1| / (sx · 2^30).
  const std::vector<float> w = {0.5f, -0.25f, 0.127f, 1e-12f, -2e-12f, 0.0f};
  const std::vector<float> b = {0.3337f, 0.9f};
  const float sx = 0.02f;
  std::map<std::string, ir::Attribute> wattrs = {
      {"qmin", ir::Attribute::Int(-128)}, {"qmax", ir::Attribute::Int(127)}, {"axis", ir::Attribute::Int(0)},
      {"symmetric", ir::Attribute::Int(1)}, {"observer", ir::Attribute::String(quant::kObserverWeight)}};
  ir::Graph g = GraphBuilder()
                    .Input("x", DType::kFloat32, {2, 3})
                    .Init("b", Tensor::FromVector<float>({2}, b))
                    .Init("sx", Tensor::FromVector<float>({1}, {sx}))
                    .Init("s", Tensor::FromVector<float>({2}, {1.0f, 1.0f}))
                    .Init("z", Tensor::FromVector<float>({2}, {0.0f, 0.0f}))
                    .Node("FakeQuant", {"x", "s", "z", "", "b", "sx"}, {"wq"}, wattrs, quant::kActDomain)
                    .Node("QuantizeBias", {"b", "sx", "x"}, {"bq"},
                          {{"axis", ir::Attribute::Int(0)}, {"qmax", ir::Attribute::Int(127)}}, quant::kActDomain)
                    .Output("wq", DType::kFloat32)
                    .Output("bq", DType::kFloat32)
                    .Build();
  g.opset_imports[quant::kActDomain] = 1;
  exec::ModuleOptions options;
  options.extra_parameters = {"b"};
  auto m = exec::Module::Create(g, options);
  ASSERT_TRUE(m.ok()) << m.status().message();
  auto out = (*m)->Forward({{"x", at::tensor(w).reshape({2, 3})}});
  ASSERT_TRUE(out.ok()) << out.status().message();
  const float sw0 = 0.5f / 127.0f;
  const float sw1 = std::max(std::max(2e-12f / 127.0f, 1e-10f), 0.9f / (sx * 1073741824.0f));
  EXPECT_EQ((*m)->buffers().at("s")[0].item<float>(), sw0);
  EXPECT_EQ((*m)->buffers().at("s")[1].item<float>(), sw1);
  const at::Tensor bq = out->at("bq");
  EXPECT_EQ(bq[0].item<float>(), std::nearbyint(b[0] / (sx * sw0)) * (sx * sw0));
  EXPECT_EQ(bq[1].item<float>(), std::nearbyint(b[1] / (sx * sw1)) * (sx * sw1));
  EXPECT_NE(bq[0].item<float>(), b[0]);  // really rounded
  bq.sum().backward();                   // straight-through to the bias
  const at::Tensor grad = (*m)->parameters().at("b").grad();
  EXPECT_EQ(grad[0].item<float>(), 1.0f);
  EXPECT_EQ(grad[1].item<float>(), 1.0f);
}

}  // namespace
}  // namespace act::test
