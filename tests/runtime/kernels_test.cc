// Conformance of the onednn backend's kernels (oneDNN primitives with fused post-ops, layouts, folds)
// against the `reference` backend (the same planner with every node on its plain C++ kernel), on tiny
// graphs built here. Tolerance 1e-5 of the output's largest magnitude: both sides compute in float32 but
// sum in different orders (the reference accumulates convolutions and products in double); with at most a
// few hundred terms per output the difference stays near 1e-6, while a wrong index, padding or fused
// post-op gives errors of order 1.
#include <gtest/gtest.h>

#include <cstdlib>
#include <map>
#include <random>

#include "act/runtime.h"
#include "ir/graph.h"
#include "runtime/graph_builder.h"
#include "test_support.h"

namespace act::runtime {
namespace {

using test::GraphBuilder;
using test::Random;
using ir::Attribute;

// Runs `graph` on both backends; returns the onednn output's max relative error against the reference.
double CompareBackends(const ir::Graph& graph, const Tensor& x, int expected_kernels_at_most = -1) {
  auto fast = Session::Create(graph, {"onednn", 1});
  auto ref = Session::Create(graph, {"reference", 1});
  EXPECT_TRUE(fast.ok()) << fast.status().message();
  EXPECT_TRUE(ref.ok()) << ref.status().message();
  if (!fast.ok() || !ref.ok()) return INFINITY;
  auto a = (*fast)->Run({{"x", x}});
  auto b = (*ref)->Run({{"x", x}});
  EXPECT_TRUE(a.ok()) << a.status().message();
  EXPECT_TRUE(b.ok()) << b.status().message();
  if (!a.ok() || !b.ok()) return INFINITY;
  const std::string& y = graph.outputs[0].name;
  EXPECT_EQ(a->at(y).shape(), b->at(y).shape());
  return test::MaxRelativeError(a->at(y), b->at(y));
}

constexpr double kTolerance = 1e-5;

// Runs `graph` at 1 and 2 threads: output `y` must be the same bytes (the split kernels cut the work at
// other places, not the arithmetic). Returns the 1-thread profile's calls per kernel label.
std::map<std::string, int> OneAndTwoThreadsAgree(const ir::Graph& graph, const Tensor& x, const std::string& y) {
  auto one = Session::Create(graph, {"onednn", 1, true});
  auto two = Session::Create(graph, {"onednn", 2});
  EXPECT_TRUE(one.ok() && two.ok());
  if (!one.ok() || !two.ok()) return {};
  auto a = (*one)->Run({{"x", x}});
  auto c = (*two)->Run({{"x", x}});
  EXPECT_TRUE(a.ok() && c.ok());
  if (!a.ok() || !c.ok()) return {};
  EXPECT_EQ(test::MaxRelativeError(c->at(y), a->at(y)), 0.0);
  std::map<std::string, int> calls;
  for (const OpProfile& p : (*one)->Profile()) calls[p.op_type] += p.calls;
  return calls;
}

TEST(OnednnKernels, ConvBatchNormReluFolded) {
  GraphBuilder gb({1, 5, 9, 11});
  std::string y = gb.Op("Conv", {"x", gb.Weight({8, 5, 3, 3}), gb.Weight({8})},
                        {{"pads", Attribute::Ints({1, 0, 1, 2})}, {"strides", Attribute::Ints({2, 1})}});
  y = gb.Op("BatchNormalization", {y, gb.Weight({8}), gb.Weight({8}), gb.Weight({8}), gb.Weight({8}, 0.5f, 2.f)});
  y = gb.Op("Relu", {y});
  EXPECT_LE(CompareBackends(gb.Finish(y), Random({1, 5, 9, 11}, 7)), kTolerance);
}

TEST(OnednnKernels, DepthwiseConvHardSwishChain) {
  // Paddle's export: Mul/Add by scalars (folded into the weights), x·Clip(x+3,0,6)/6, then Mul/Add by
  // scalars again (two linear post-ops merged into one).
  GraphBuilder gb({1, 16, 12, 12});
  std::string y = gb.Op("Conv", {"x", gb.Weight({16, 1, 3, 3}), gb.Weight({16})},
                        {{"group", Attribute::Int(16)}, {"pads", Attribute::Ints({1, 1, 1, 1})}});
  y = gb.Op("Mul", {gb.Const<float>({1}, {1.38f}), y});
  y = gb.Op("Add", {y, gb.Const<float>({1}, {0.58f})});
  const std::string x3 = gb.Op("Add", {y, gb.Const<float>({}, {3.f})});
  const std::string clip = gb.Op("Clip", {x3, gb.Const<float>({}, {0.f}), gb.Const<float>({}, {6.f})});
  std::string hs = gb.Op("Div", {gb.Op("Mul", {y, clip}), gb.Const<float>({}, {6.f})});
  hs = gb.Op("Mul", {gb.Const<float>({1}, {0.17f}), hs});
  hs = gb.Op("Add", {hs, gb.Const<float>({1}, {-0.2f})});
  EXPECT_LE(CompareBackends(gb.Finish(hs), Random({1, 16, 12, 12}, 3, -4.f, 4.f)), kTolerance);
}

TEST(OnednnKernels, RepeatedEltwiseStepsWithOtherParameters) {
  // oneDNN 2.6.3 runs a second eltwise post-op of one algorithm with the first one's alpha/beta:
  // linear → relu → linear and clip → clip with other bounds must still compute both steps.
  GraphBuilder gb({1, 16, 8, 8});
  std::string y = gb.Op("Conv", {"x", gb.Weight({16, 16, 1, 1}), gb.Weight({16})});
  y = gb.Op("Relu", {gb.Op("Add", {y, gb.Const<float>({}, {-0.3f})})});
  y = gb.Op("Add", {gb.Op("Mul", {y, gb.Const<float>({}, {2.5f})}), gb.Const<float>({}, {0.7f})});
  y = gb.Op("Clip", {y, gb.Const<float>({}, {-1.f}), gb.Const<float>({}, {2.f})});
  y = gb.Op("Sigmoid", {y});
  y = gb.Op("Clip", {y, gb.Const<float>({}, {0.f}), gb.Const<float>({}, {0.8f})});
  EXPECT_LE(CompareBackends(gb.Finish(y), Random({1, 16, 8, 8}, 5, -2.f, 2.f)), kTolerance);
}

TEST(OnednnKernels, ConvResidualSumRelu) {
  GraphBuilder gb({1, 24, 10, 10});
  const std::string a = gb.Op("Conv", {"x", gb.Weight({24, 24, 1, 1})});
  std::string y = gb.Op("Conv", {a, gb.Weight({24, 24, 3, 3}), gb.Weight({24})}, {{"pads", Attribute::Ints({1, 1, 1, 1})}});
  y = gb.Op("Relu", {gb.Op("Add", {y, a})});
  EXPECT_LE(CompareBackends(gb.Finish(y), Random({1, 24, 10, 10}, 5)), kTolerance);
}

TEST(OnednnKernels, Int8ConvQuantizedWithZeroPointThenDequantizedIntoAResidualAdd) {
  // Fashion-MNIST's quantized residual block: DQ(x, zp 0) and DQ(Conv → Q with zero point 128) → Add →
  // Relu → Q → DQ, the conv output u8 in NHWC. oneDNN 2.6.3's reorder u8 NHWC → f32 NCHW with a src zero
  // point dropped the zero point on this shape (every element off by 128 steps). Tolerance 0.02 of the
  // largest output (about 2 quantization steps): the INT8 conv and the reference's float conv may
  // requantize a rounding tie one step apart; a dropped zero point is off by ~1.
  const Shape xs = {4, 64, 7, 7};
  GraphBuilder gb(xs);
  const std::string s_x = gb.Const<float>({}, {0.02f}), z0 = gb.Const<uint8_t>({}, {0});
  const std::string s_c = gb.Const<float>({}, {0.03f}), z128 = gb.Const<uint8_t>({}, {128});
  const std::string s_y = gb.Const<float>({}, {0.05f});
  const std::string qx = gb.Op("QuantizeLinear", {"x", s_x, z0});
  const std::string dx = gb.Op("DequantizeLinear", {qx, s_x, z0});
  std::vector<int8_t> w(64 * 64 * 9);
  std::mt19937 rng(21);
  for (auto& v : w) v = static_cast<int8_t>(static_cast<int>(rng() % 255) - 127);
  std::vector<float> ws(64);
  for (int o = 0; o < 64; ++o) ws[o] = 0.0004f + 0.00001f * static_cast<float>(o);
  const std::string dw = gb.Op("DequantizeLinear", {gb.Const<int8_t>({64, 64, 3, 3}, w), gb.Const<float>({64}, ws)},
                               {{"axis", Attribute::Int(0)}});
  std::string c = gb.Op("Conv", {dx, dw, gb.Weight({64}, -0.5f, 0.5f)}, {{"pads", Attribute::Ints({1, 1, 1, 1})}});
  c = gb.Op("DequantizeLinear", {gb.Op("QuantizeLinear", {c, s_c, z128}), s_c, z128});
  const std::string residual = gb.Op("DequantizeLinear", {qx, s_x, z0});
  std::string y = gb.Op("Relu", {gb.Op("Add", {residual, c})});
  y = gb.Op("DequantizeLinear", {gb.Op("QuantizeLinear", {y, s_y, z0}), s_y, z0});
  EXPECT_LE(CompareBackends(gb.Finish(y), Random(xs, 23, 0.f, 2.f)), 0.02);
}

TEST(OnednnKernels, ConvTransposeGroupedWithOutputPadding) {
  GraphBuilder gb({1, 4, 5, 6});
  std::string y = gb.Op("ConvTranspose", {"x", gb.Weight({4, 3, 3, 3}), gb.Weight({6})},
                        {{"group", Attribute::Int(2)}, {"strides", Attribute::Ints({2, 2})},
                         {"pads", Attribute::Ints({1, 0, 1, 1})}, {"output_padding", Attribute::Ints({1, 0})}});
  y = gb.Op("Sigmoid", {y});
  EXPECT_LE(CompareBackends(gb.Finish(y), Random({1, 4, 5, 6}, 9)), kTolerance);
}

TEST(OnednnKernels, MatMulBiasReluAndBatchedActivations) {
  GraphBuilder gb({2, 5, 8});
  std::string y = gb.Op("MatMul", {"x", gb.Weight({8, 6})});
  y = gb.Op("Relu", {gb.Op("Add", {y, gb.Weight({6})})});
  const std::string t = gb.Op("Transpose", {y}, {{"perm", Attribute::Ints({0, 2, 1})}});  // [2,6,5]
  y = gb.Op("MatMul", {y, t});                                                            // [2,5,5]
  EXPECT_LE(CompareBackends(gb.Finish(y), Random({2, 5, 8}, 11)), kTolerance);
}

TEST(OnednnKernels, GemmTransposedWithAlphaBeta) {
  GraphBuilder gb({3, 7});
  std::string y = gb.Op("Gemm", {"x", gb.Weight({4, 7}), gb.Weight({4})},
                        {{"transB", Attribute::Int(1)}, {"alpha", Attribute::Float(0.5f)}, {"beta", Attribute::Float(2.f)}});
  EXPECT_LE(CompareBackends(gb.Finish(y), Random({3, 7}, 13)), kTolerance);
}

TEST(OnednnKernels, PoolingCeilModePadsAndGlobal) {
  for (const std::string op : {"MaxPool", "AveragePool"}) {
    GraphBuilder gb({1, 3, 11, 10});
    std::string y = gb.Op(op, {"x"}, {{"kernel_shape", Attribute::Ints({3, 3})}, {"strides", Attribute::Ints({2, 2})},
                                      {"pads", Attribute::Ints({1, 1, 1, 1})}, {"ceil_mode", Attribute::Int(1)}});
    EXPECT_LE(CompareBackends(gb.Finish(y), Random({1, 3, 11, 10}, 17)), kTolerance) << op;
  }
  GraphBuilder gb({2, 3, 7, 5});
  std::string y = gb.Op("GlobalAveragePool", {"x"});
  EXPECT_LE(CompareBackends(gb.Finish(y), Random({2, 3, 7, 5}, 19)), kTolerance);
}

TEST(OnednnKernels, ZeroPadFoldedIntoAveragePoolAndConv) {
  GraphBuilder gb({1, 4, 8, 8});
  std::string p = gb.Op("Pad", {"x", gb.Const<int64_t>({8}, {0, 0, 1, 1, 0, 0, 1, 1})});
  std::string a = gb.Op("AveragePool", {p}, {{"kernel_shape", Attribute::Ints({3, 3})}, {"strides", Attribute::Ints({2, 2})}});
  std::string q = gb.Op("Pad", {a, gb.Const<int64_t>({8}, {0, 0, 2, 0, 0, 0, 0, 1})});
  std::string y = gb.Op("Conv", {q, gb.Weight({5, 4, 3, 3})});
  EXPECT_LE(CompareBackends(gb.Finish(y), Random({1, 4, 8, 8}, 23)), kTolerance);
}

TEST(OnednnKernels, SoftmaxLegacyAndCurrentAxis) {
  GraphBuilder legacy({2, 3, 4}, 11);  // opset 11: softmax over the flattened axes 1..
  EXPECT_LE(CompareBackends(legacy.Finish(legacy.Op("Softmax", {"x"}, {{"axis", Attribute::Int(1)}})),
                            Random({2, 3, 4}, 29, -3.f, 3.f)), kTolerance);
  GraphBuilder current({2, 3, 4});
  EXPECT_LE(CompareBackends(current.Finish(current.Op("Softmax", {"x"}, {{"axis", Attribute::Int(1)}})),
                            Random({2, 3, 4}, 31, -3.f, 3.f)), kTolerance);
}

TEST(OnednnKernels, BroadcastBinaryOnBlockedLayoutAndScalarOnTheLeft) {
  // Squeeze-and-excitation: x · HardSigmoid(conv(GAP(x))), then 1 − y.
  GraphBuilder gb({1, 32, 6, 6});
  const std::string x = gb.Op("Conv", {"x", gb.Weight({32, 32, 1, 1})});
  std::string s = gb.Op("GlobalAveragePool", {x});
  s = gb.Op("HardSigmoid", {gb.Op("Conv", {s, gb.Weight({32, 32, 1, 1}), gb.Weight({32})})});
  std::string y = gb.Op("Mul", {x, s});
  y = gb.Op("Sub", {gb.Const<float>({}, {1.f}), y});
  EXPECT_LE(CompareBackends(gb.Finish(y), Random({1, 32, 6, 6}, 37)), kTolerance);
}

TEST(OnednnKernels, DecomposedLayerNorm) {
  GraphBuilder gb({1, 6, 16});
  const std::string mean = gb.Op("ReduceMean", {"x"}, {{"axes", Attribute::Ints({-1})}});
  const std::string d = gb.Op("Sub", {"x", mean});
  std::string var = gb.Op("ReduceMean", {gb.Op("Pow", {d, gb.Const<float>({}, {2.f})})}, {{"axes", Attribute::Ints({-1})}});
  std::string y = gb.Op("Div", {d, gb.Op("Sqrt", {gb.Op("Add", {var, gb.Const<float>({}, {1e-5f})})})});
  y = gb.Op("Add", {gb.Op("Mul", {y, gb.Weight({16})}), gb.Weight({16})});
  EXPECT_LE(CompareBackends(gb.Finish(y), Random({1, 6, 16}, 41)), kTolerance);
}

TEST(OnednnKernels, ConcatOfBlockedTensorsThenChannelShuffle) {
  // FastestDet's shuffle block on 24 channels (not a multiple of oneDNN's 16-channel blocks).
  GraphBuilder gb({1, 24, 8, 8});
  const std::string a = gb.Op("Conv", {"x", gb.Weight({24, 24, 1, 1})});
  const std::string b = gb.Op("Relu", {gb.Op("Conv", {"x", gb.Weight({24, 24, 1, 1})})});
  std::string c = gb.Op("Concat", {a, b}, {{"axis", Attribute::Int(1)}});
  c = gb.Op("Reshape", {c, gb.Const<int64_t>({3}, {24, 2, 64})});
  c = gb.Op("Transpose", {c}, {{"perm", Attribute::Ints({1, 0, 2})}});
  c = gb.Op("Reshape", {c, gb.Const<int64_t>({5}, {2, -1, 24, 8, 8})});
  const std::string second = gb.Op("Gather", {c, gb.Const<int64_t>({}, {1})}, {{"axis", Attribute::Int(0)}});
  std::string y = gb.Op("Conv", {second, gb.Weight({8, 24, 3, 3})}, {{"pads", Attribute::Ints({1, 1, 1, 1})}});
  EXPECT_LE(CompareBackends(gb.Finish(y), Random({1, 24, 8, 8}, 43)), kTolerance);
}

TEST(OnednnKernels, UnsupportedOpFailsNamingTheNode) {
  GraphBuilder gb({2, 3});
  std::string y = gb.Op("NonMaxSuppression", {"x"});
  auto session = Session::Create(gb.Finish(y), {"onednn", 1});
  ASSERT_TRUE(session.ok()) << session.status().message();
  auto out = (*session)->Run({{"x", Random({2, 3}, 1)}});
  ASSERT_FALSE(out.ok());
  EXPECT_NE(out.status().message().find("NonMaxSuppression 'NonMaxSuppression_0'"), std::string::npos)
      << out.status().message();
}

TEST(OnednnKernels, WrongInputShapeIsAnError) {
  GraphBuilder gb({1, 3, 4, 4});
  auto session = Session::Create(gb.Finish(gb.Op("Relu", {"x"})), {"onednn", 1});
  ASSERT_TRUE(session.ok());
  auto out = (*session)->Run({{"x", Random({1, 3, 5, 4}, 1)}});
  ASSERT_FALSE(out.ok());
  EXPECT_NE(out.status().message().find("input 'x'"), std::string::npos) << out.status().message();
  auto unknown = (*session)->Run({{"y", Random({1, 3, 4, 4}, 1)}});
  EXPECT_FALSE(unknown.ok());
}

TEST(OnednnKernels, PlansAreReusedAndShapesReplanned) {
  GraphBuilder gb({-1, 3, 4, 4});
  gb.g.inputs[0].shape->at(0) = ir::Dim{-1, "batch"};
  auto graph = gb.Finish(gb.Op("Conv", {"x", gb.Weight({2, 3, 1, 1})}));
  auto session = Session::Create(graph, {"onednn", 1});
  ASSERT_TRUE(session.ok());
  for (int64_t batch : {1, 3, 1}) {
    const Tensor x = Random({batch, 3, 4, 4}, static_cast<uint32_t>(batch));
    auto out = (*session)->Run({{"x", x}});
    ASSERT_TRUE(out.ok()) << out.status().message();
    EXPECT_EQ(out->begin()->second.dim(0), batch);
  }
}

// Run refills the tensors it returned last time once the caller has let go of them, and never writes into
// a result the caller still holds: for an output copied out of the plan (a oneDNN convolution's) and for one
// our softmax writes straight into the returned tensor (Kernel::WritesThroughValueData).
TEST(OnednnKernels, OutputTensorsAreReusedOnlyWhenReleased) {
  for (const char* op : {"Conv", "Softmax"}) {
    GraphBuilder gb({1, 3, 4, 4});
    const std::string y = op == std::string("Conv") ? gb.Op("Conv", {"x", gb.Weight({2, 3, 1, 1})})
                                                    : gb.Op("Softmax", {"x"}, {{"axis", Attribute::Int(-1)}});
    auto graph = gb.Finish(y);
    auto fast = Session::Create(graph, {"onednn", 1});
    auto ref = Session::Create(graph, {"reference", 1});
    ASSERT_TRUE(fast.ok() && ref.ok());
    auto run = [](Session& s, uint32_t seed) {
      auto out = s.Run({{"x", Random({1, 3, 4, 4}, seed)}});
      EXPECT_TRUE(out.ok()) << out.status().message();
      return out.ok() ? out->begin()->second : Tensor();
    };
    const Tensor first = run(**fast, 1);
    const std::vector<float> first_values = first.ToVector<float>();
    const void* second_storage = nullptr;
    {
      const Tensor second = run(**fast, 2);  // `first` is held: a tensor of its own
      EXPECT_NE(second.raw_data(), first.raw_data()) << op;
      EXPECT_LE(test::MaxRelativeError(second, run(**ref, 2)), kTolerance) << op;
      second_storage = second.raw_data();
    }
    EXPECT_EQ(first.ToVector<float>(), first_values) << op;
    const Tensor third = run(**fast, 3);  // `second` was released: its storage is refilled
    EXPECT_EQ(third.raw_data(), second_storage) << op;
    EXPECT_LE(test::MaxRelativeError(third, run(**ref, 3)), kTolerance) << op;
    EXPECT_EQ(first.ToVector<float>(), first_values) << op;
  }
}

// A PP-OCRv4-style INT8 chain: Pad(channels) → Q → conv → Q → table (Relu) → depthwise 5x5 stride (2, 1)
// and 3x3 stride 2 with input zero points (the table writes the padded input) → u8 max pooling → MatMul
// whose Q → DQ → Add(bias) is folded. Our depthwise kernel (int8_depthwise.h) must give oneDNN's bytes
// exactly (ACT_RUNTIME_ONEDNN_DEPTHWISE=1 plans oneDNN's); against the float reference, within 0.03 of
// the largest output (a few quantization steps: requantization ties may round apart).
TEST(OnednnKernels, Int8DepthwiseChainMatchesOneDnnExactly) {
  const Shape xs = {1, 3, 13, 37};
  GraphBuilder gb(xs);
  std::mt19937 rng(5);
  auto q = [&](const std::string& v, float s, int zp) {
    const std::string sc = gb.Const<float>({}, {s}), z = gb.Const<uint8_t>({}, {static_cast<uint8_t>(zp)});
    return gb.Op("DequantizeLinear", {gb.Op("QuantizeLinear", {v, sc, z}), sc, z});
  };
  auto weights = [&](const Shape& shape) {
    std::vector<int8_t> w(NumElements(shape));
    for (auto& v : w) v = static_cast<int8_t>(static_cast<int>(rng() % 255) - 127);
    std::vector<float> ws(shape[0]);
    for (int64_t o = 0; o < shape[0]; ++o) ws[o] = 0.002f + 0.0001f * static_cast<float>(o % 7);
    return gb.Op("DequantizeLinear", {gb.Const<int8_t>(shape, w), gb.Const<float>({shape[0]}, ws)},
                 {{"axis", Attribute::Int(0)}});
  };
  const std::string pads = gb.Const<int64_t>({8}, {0, 0, 0, 0, 0, 1, 0, 0});
  std::string y = q(gb.Op("Pad", {"x", pads}), 0.01f, 7);
  y = gb.Op("Conv", {y, weights({40, 4, 3, 3}), gb.Weight({40})}, {{"pads", Attribute::Ints({1, 1, 1, 1})}});
  y = q(gb.Op("Relu", {q(y, 0.02f, 100)}), 0.015f, 3);
  y = gb.Op("Conv", {y, weights({40, 1, 5, 5}), gb.Weight({40})},
            {{"group", Attribute::Int(40)}, {"pads", Attribute::Ints({2, 2, 2, 2})}, {"strides", Attribute::Ints({2, 1})}});
  y = q(gb.Op("Relu", {q(y, 0.03f, 90)}), 0.02f, 5);
  y = gb.Op("Conv", {y, weights({40, 1, 3, 3}), gb.Weight({40})},
            {{"group", Attribute::Int(40)}, {"pads", Attribute::Ints({1, 1, 1, 1})}, {"strides", Attribute::Ints({2, 2})}});
  y = q(y, 0.03f, 128);
  y = q(gb.Op("MaxPool", {y}, {{"kernel_shape", Attribute::Ints({2, 2})}, {"strides", Attribute::Ints({1, 2})}}), 0.03f, 128);
  y = gb.Op("Reshape", {y, gb.Const<int64_t>({3}, {1, 40, -1})});
  y = q(y, 0.03f, 128);
  y = gb.Op("MatMul", {y, gb.Op("DequantizeLinear", {gb.Const<int8_t>({27, 6}, std::vector<int8_t>(162, 3)),
                                                     gb.Const<float>({}, {0.01f})})});
  y = gb.Op("Add", {q(y, 0.01f, 60), gb.Weight({6})});
  const ir::Graph graph = gb.Finish(y);
  const Tensor x = Random(xs, 31);
  auto run = [&](const char* backend) -> Tensor {
    auto session = Session::Create(graph, {backend, 1});
    EXPECT_TRUE(session.ok()) << session.status().message();
    if (!session.ok()) return {};
    auto out = (*session)->Run({{"x", x}});
    EXPECT_TRUE(out.ok()) << out.status().message();
    return out.ok() ? out->at(y) : Tensor();
  };
  const Tensor ours = run("onednn");
  setenv("ACT_RUNTIME_ONEDNN_DEPTHWISE", "1", 1);
  const Tensor onednn = run("onednn");
  unsetenv("ACT_RUNTIME_ONEDNN_DEPTHWISE");
  const Tensor ref = run("reference");
  ASSERT_EQ(ours.shape(), (Shape{1, 40, 6}));
  EXPECT_EQ(test::MaxRelativeError(ours, onednn), 0.0);
  EXPECT_LE(test::MaxRelativeError(ours, ref), 0.03);
}

// A quantized tensor reshaped on the INT8 path (an alias of its buffer, with no byte count of its own),
// dequantized with zero point 0 into a graph output: the table kernel must cover the whole tensor (it
// once read the alias's size, 0, and returned zeros). Exact: DequantizeLinear is (q − zp)·s both ways.
TEST(OnednnKernels, DequantizeOfAReshapedQuantizedTensor) {
  GraphBuilder gb({1, 4, 6, 5});
  const std::string s = gb.Const<float>({}, {0.01f}), z = gb.Const<uint8_t>({}, {0});
  std::string y = gb.Op("DequantizeLinear", {gb.Op("QuantizeLinear", {"x", s, z}), s, z});
  y = gb.Op("Reshape", {y, gb.Const<int64_t>({2}, {4, 30})});
  y = gb.Op("DequantizeLinear", {gb.Op("QuantizeLinear", {y, s, z}), s, z});
  EXPECT_EQ(CompareBackends(gb.Finish(y), Random({1, 4, 6, 5}, 41, 0.f, 2.f)), 0.0);
}

// A squeeze-excite block on the INT8 path: conv → Q → DQ → Relu (a table to float) → GlobalAveragePool →
// Q → 1x1 conv → Q → DQ → HardSigmoid → Mul(x, per-channel) → Q → next conv. The float Relu output is never written: the pool sums the
// table over the bytes in fixed blocks and the Mul+Q reads the bytes through the table (table_readers.h).
// Against the float reference within 0.03 of the largest output (requantization ties may round apart; a
// layout error is off by O(1)); 2 threads = 1 thread bit for bit (a 24x60 image: large enough for the split
// thresholds in plan.h); the profile shows the two kernels from bytes and no float table lookup.
TEST(OnednnKernels, Int8SqueezeExciteStaysNhwc) {
  const Shape xs = {1, 48, 24, 60};
  GraphBuilder gb(xs);
  auto q = [&](const std::string& v, float s, int zp) { return gb.QDQ(v, s, zp); };
  std::mt19937 rng(7);
  auto weights = [&](const Shape& shape) { return gb.Int8Weights(shape, 0.003f, rng); };
  std::string y = gb.Op("Conv", {q("x", 0.01f, 20), weights({48, 48, 1, 1}), gb.Weight({48})});
  const std::string r = gb.Op("Relu", {q(y, 0.02f, 110)});
  const std::string pooled = q(gb.Op("GlobalAveragePool", {r}), 0.01f, 30);
  std::string se = gb.Op("HardSigmoid", {q(gb.Op("Conv", {pooled, weights({48, 48, 1, 1}), gb.Weight({48})}), 0.02f, 128)});
  y = q(gb.Op("Mul", {r, se}), 0.01f, 0);
  y = gb.Op("Conv", {y, weights({16, 48, 1, 1}), gb.Weight({16})});
  y = q(y, 0.02f, 128);
  const ir::Graph graph = gb.Finish(y);
  const Tensor x = Random(xs, 43, 0.f, 2.f);
  EXPECT_LE(CompareBackends(graph, x), 0.03);
  // At 2 threads the block sums and the Mul+Q run split by pixels (plan.h): the same bytes.
  std::map<std::string, int> calls = OneAndTwoThreadsAgree(graph, x, y);
  EXPECT_EQ(calls["Lookup(int8->float)+GlobalAveragePool(block sums)"], 1);
  EXPECT_EQ(calls["Lookup(int8->float)+Mul+QuantizeLinear(NHWC)"], 1);
  EXPECT_EQ(calls["Lookup(int8->float)+Relu"], 0);
  // The excite side: DequantizeLinear → HardSigmoid as one table to float, read by the Mul in float.
  EXPECT_EQ(calls["Lookup(int8->float)+HardSigmoid"], 1);
  EXPECT_EQ(calls["HardSigmoid"], 0);
}

// The same block whose Mul takes a full tensor instead of one value per channel: the pool still reads the
// bytes, the Mul makes the float Relu output be written after all (PlanBuilder::TableView).
TEST(OnednnKernels, Int8SqueezeExciteInputIsWrittenForAnotherReader) {
  const Shape xs = {1, 16, 12, 20};
  GraphBuilder gb(xs);
  auto q = [&](const std::string& v, float s, int zp) { return gb.QDQ(v, s, zp); };
  std::mt19937 rng(5);
  auto weights = [&](const Shape& shape) { return gb.Int8Weights(shape, 0.003f, rng); };
  const std::string qx = q("x", 0.01f, 20);
  const std::string r = gb.Op("Relu", {q(gb.Op("Conv", {qx, weights({16, 16, 1, 1}), gb.Weight({16})}), 0.02f, 110)});
  const std::string other = q(gb.Op("Conv", {qx, weights({16, 16, 1, 1}), gb.Weight({16})}), 0.02f, 100);
  const std::string pooled = gb.Op("GlobalAveragePool", {r});
  std::string y = q(gb.Op("Mul", {r, other}), 0.01f, 0);
  y = gb.Op("Add", {gb.Op("Conv", {y, weights({16, 16, 1, 1}), gb.Weight({16})}), pooled});
  const ir::Graph graph = gb.Finish(y);
  EXPECT_LE(CompareBackends(graph, Random(xs, 45, 0.f, 2.f)), 0.03);
}

// PP-OCRv4 rec's pooled head on the INT8 path: conv → Q → DQ → Relu (a table to float) → AveragePool 3x2
// stride 3x2 → Q → next conv. The pool and its Q read the bytes through the table (table_readers.h): no
// float tensor, one kernel. Against the float reference within 0.03 of the largest output.
TEST(OnednnKernels, Int8AveragePoolOfATableReadsTheBytes) {
  const Shape xs = {1, 24, 6, 20};
  GraphBuilder gb(xs);
  auto q = [&](const std::string& v, float s, int zp) { return gb.QDQ(v, s, zp); };
  std::mt19937 rng(9);
  auto weights = [&](const Shape& shape) { return gb.Int8Weights(shape, 0.003f, rng); };
  std::string y = gb.Op("Relu", {q(gb.Op("Conv", {q("x", 0.01f, 20), weights({24, 24, 1, 1}), gb.Weight({24})}), 0.02f, 110)});
  y = q(gb.Op("AveragePool", {y}, {{"kernel_shape", Attribute::Ints({3, 2})}, {"strides", Attribute::Ints({3, 2})}}),
        0.01f, 5);
  y = q(gb.Op("Conv", {y, weights({8, 24, 1, 1}), gb.Weight({8})}), 0.02f, 128);
  const ir::Graph graph = gb.Finish(y);
  const Tensor x = Random(xs, 47, 0.f, 2.f);
  EXPECT_LE(CompareBackends(graph, x), 0.03);
  std::map<std::string, int> calls = OneAndTwoThreadsAgree(graph, x, y);
  EXPECT_EQ(calls["Lookup(int8->float)+AveragePool+QuantizeLinear(NHWC)"], 1);
  EXPECT_EQ(calls["AveragePool"], 0);
}

// PP-OCRv4 rec's neck: Concat(swish(DQ(conv)), DQ(shortcut)) → Q → conv. The swish region's float output
// is not written: the channel Concat requantizes its bytes through Q(table) and the shortcut's through a
// requantization table, in NHWC (no float Concat, QuantizeLinear or reorder). Against the float reference
// within 0.03 of the largest output; 2 threads = 1 thread.
TEST(OnednnKernels, Int8ConcatOfATableRegionAndAQuantizedTensor) {
  const Shape xs = {1, 16, 1, 40};
  GraphBuilder gb(xs);
  auto q = [&](const std::string& v, float s, int zp) { return gb.QDQ(v, s, zp); };
  std::mt19937 rng(13);
  auto weights = [&](const Shape& shape) { return gb.Int8Weights(shape, 0.003f, rng); };
  const std::string qx = q("x", 0.01f, 20);
  const std::string v = q(gb.Op("Conv", {qx, weights({24, 16, 1, 1}), gb.Weight({24})}), 0.02f, 110);
  const std::string swish = gb.Op("Mul", {v, gb.Op("Sigmoid", {v})});
  std::string y = q(gb.Op("Concat", {swish, qx}, {{"axis", Attribute::Int(1)}}), 0.015f, 30);
  y = q(gb.Op("Conv", {y, weights({8, 40, 1, 1}), gb.Weight({8})}), 0.02f, 128);
  const ir::Graph graph = gb.Finish(y);
  const Tensor x = Random(xs, 49, 0.f, 2.f);
  EXPECT_LE(CompareBackends(graph, x), 0.03);
  std::map<std::string, int> calls = OneAndTwoThreadsAgree(graph, x, y);
  EXPECT_EQ(calls["Concat(int8, NHWC)"], 1);
  EXPECT_EQ(calls["Lookup(int8->float)+Sigmoid+Mul"], 0);
  EXPECT_EQ(calls["Concat"], 0);
}

// Split execution at 2 threads (plan.h): an INT8 1x1 convolution split by output positions
// (split_conv.h), the table + zero-point pad after it and our depthwise convolution, each thread computing
// half of every output — on a 26x75 image, so the halves end in the middle of a row. The integer kernels
// must give the same bytes however the work is cut: 2 threads equal 1 thread exactly; both within 0.03 of
// the float reference (a few quantization steps). The profile must show the split convolution ran.
TEST(OnednnKernels, Int8SplitChainAtTwoThreadsEqualsOneThread) {
  const Shape xs = {1, 32, 26, 75};
  GraphBuilder gb(xs);
  auto q = [&](const std::string& v, float s, int zp) { return gb.QDQ(v, s, zp); };
  std::mt19937 rng(11);
  auto weights = [&](const Shape& shape) { return gb.Int8Weights(shape, 0.004f, rng); };
  std::string y = gb.Op("Conv", {q("x", 0.01f, 20), weights({48, 32, 1, 1}), gb.Weight({48})});
  y = q(gb.Op("Relu", {q(y, 0.02f, 110)}), 0.015f, 3);
  y = gb.Op("Conv", {y, weights({48, 1, 5, 5}), gb.Weight({48})},
            {{"group", Attribute::Int(48)}, {"pads", Attribute::Ints({2, 2, 2, 2})}, {"strides", Attribute::Ints({2, 1})}});
  y = q(gb.Op("Relu", {q(y, 0.03f, 90)}), 0.02f, 5);
  y = gb.Op("Conv", {y, weights({64, 48, 1, 1}), gb.Weight({64})});
  y = q(y, 0.05f, 128);
  const ir::Graph graph = gb.Finish(y);
  const Tensor x = Random(xs, 47, 0.f, 2.f);
  auto run = [&](const char* backend, int threads, std::vector<OpProfile>* profile) -> Tensor {
    auto session = Session::Create(graph, {backend, threads, profile != nullptr});
    EXPECT_TRUE(session.ok()) << session.status().message();
    if (!session.ok()) return {};
    auto out = (*session)->Run({{"x", x}});
    EXPECT_TRUE(out.ok()) << out.status().message();
    if (profile) *profile = (*session)->Profile();
    return out.ok() ? out->at(y) : Tensor();
  };
  std::vector<OpProfile> profile;
  const Tensor one = run("onednn", 1, nullptr);
  const Tensor two = run("onednn", 2, &profile);
  const Tensor two_unprofiled = run("onednn", 2, nullptr);
  const Tensor ref = run("reference", 1, nullptr);
  ASSERT_EQ(one.shape(), (Shape{1, 64, 13, 75}));
  EXPECT_EQ(test::MaxRelativeError(two, one), 0.0);
  EXPECT_EQ(test::MaxRelativeError(two_unprofiled, one), 0.0);
  EXPECT_LE(test::MaxRelativeError(one, ref), 0.03);
  int split_convs = 0;
  for (const OpProfile& p : profile) split_convs += p.op_type.find("(split)") != std::string::npos ? p.calls : 0;
  EXPECT_EQ(split_convs, 1);  // the second 1x1 (the first reads the plain, not NHWC, quantized input)
}

// A quantized [1, 1, 40, 24] tensor transposed to [1, 24, 1, 40] for a 1x1 convolution (PP-OCRv4's neck):
// its bytes are already that tensor in NHWC, so the Transpose is a view (no kernel, no reorder). Against
// the float reference within 0.03 of the largest output; the profile must show no Transpose kernel.
TEST(OnednnKernels, Int8TransposeIntoNhwcIsAView) {
  const Shape xs = {1, 1, 40, 24};
  GraphBuilder gb(xs);
  std::mt19937 rng(13);
  std::string y = gb.Op("Transpose", {gb.QDQ("x", 0.01f, 100)}, {{"perm", Attribute::Ints({0, 3, 1, 2})}});
  y = gb.Op("Conv", {y, gb.Int8Weights({32, 24, 1, 1}, 0.004f, rng), gb.Weight({32})});
  y = gb.QDQ(y, 0.02f, 128);
  const ir::Graph graph = gb.Finish(y);
  const Tensor x = Random(xs, 53);
  EXPECT_LE(CompareBackends(graph, x), 0.03);
  auto session = Session::Create(graph, {"onednn", 1, true});
  ASSERT_TRUE(session.ok()) << session.status().message();
  ASSERT_TRUE((*session)->Run({{"x", x}}).ok());
  for (const OpProfile& p : (*session)->Profile()) {
    EXPECT_EQ(p.op_type.find("Transpose"), std::string::npos) << p.op_type;
    EXPECT_EQ(p.op_type.find("Reorder"), std::string::npos) << p.op_type;
  }
}

}  // namespace
}  // namespace act::runtime
