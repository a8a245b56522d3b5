// fold_scalar_affine on a tiny graph shaped like PP-LCNetV3's blocks: hard-swish, then ·a + b (a Mul and an
// Add by scalars), read by a 1x1 Conv (unpadded: a and b both fold, the chain disappears) or by a padded
// depthwise Conv and a 1x1 Conv together (a folds; one Add(h, b/a) stays). Outputs equal the unfolded
// graph's in ONNX Runtime within 1e-5 relative (folding reorders float products; a few ulps).
#include <gtest/gtest.h>

#include "ir/checker.h"
#include "ir/passes/pass.h"
#include "test_graphs.h"

namespace act::test {
namespace {

using ir::Attribute;

// x → Conv → hard-swish (x·Clip(x + 3, 0, 6) / 6) → ·a → + b, output `out`.
void HardSwishAffine(ir::Graph& g, const std::string& in, const std::string& out, float a, float b) {
  g.initializers[out + "_three"] = Tensor::Scalar<float>(3.0f);
  g.initializers[out + "_zero"] = Tensor::Scalar<float>(0.0f);
  g.initializers[out + "_six"] = Tensor::Scalar<float>(6.0f);
  g.initializers[out + "_a"] = Tensor::Scalar<float>(a);
  g.initializers[out + "_b"] = Tensor::Scalar<float>(b);
  g.AddNode(Op("Add", {in, out + "_three"}, {out + "_p3"}));
  g.AddNode(Op("Clip", {out + "_p3", out + "_zero", out + "_six"}, {out + "_clip"}));
  g.AddNode(Op("Mul", {in, out + "_clip"}, {out + "_xm"}));
  g.AddNode(Op("Div", {out + "_xm", out + "_six"}, {out + "_hs"}));
  g.AddNode(Op("Mul", {out + "_a", out + "_hs"}, {out + "_scaled"}));  // constant first, as Paddle exports it
  g.AddNode(Op("Add", {out + "_scaled", out + "_b"}, {out}));
}

ir::Graph ScalarAffineGraph() {
  ir::Graph g = NewGraph();
  g.inputs = {Value("x", {1, 4, 6, 6})};
  g.initializers["w0"] = Random({4, 4, 1, 1}, 1);
  g.AddNode(Op("Conv", {"x", "w0"}, {"c0"}));
  HardSwishAffine(g, "c0", "t0", 1.3f, -0.4f);
  // Read by one unpadded 1x1 Conv with a bias: everything folds.
  g.initializers["w1"] = Random({4, 4, 1, 1}, 2);
  g.initializers["b1"] = Random({4}, 3);
  g.AddNode(Op("Conv", {"t0", "w1", "b1"}, {"c1"}));
  HardSwishAffine(g, "c1", "t1", 0.8f, 0.25f);
  // Read by a padded depthwise 3x3 Conv (no bias) and a 1x1 Conv: a folds, Add(h, b/a) stays.
  g.initializers["w2"] = Random({4, 1, 3, 3}, 4);
  g.AddNode(Op("Conv", {"t1", "w2"}, {"y"}, {{"group", Attribute::Int(4)}, {"pads", Attribute::Ints({1, 1, 1, 1})}}));
  g.initializers["w3"] = Random({2, 4, 1, 1}, 5);
  g.AddNode(Op("Conv", {"t1", "w3"}, {"z"}));
  g.outputs = {Value("y", {1, 4, 6, 6}), Value("z", {1, 2, 6, 6})};
  return g;
}

TEST(FoldScalarAffine, ChainsReadByConvsFoldIntoThemExactly) {
  if (!OrtAvailable()) GTEST_SKIP() << "onnxruntime-node is not installed (deps/); skipping";
  const std::string dir = TempDir("fold_scalar_affine");
  ir::Graph g = ScalarAffineGraph();
  ASSERT_TRUE(ir::CheckModel(g, "scalar affine graph").ok());
  const std::map<std::string, Tensor> inputs = {{"x", Random({1, 4, 6, 6}, 99, -4.0f, 4.0f)}};
  auto before = SaveAndRunOrt(g, dir, "before.onnx", inputs);
  ASSERT_TRUE(before.ok()) << before.status().message();

  auto changed = ir::RunPass("fold_scalar_affine", g);
  ASSERT_TRUE(changed.ok()) << changed.status().message();
  EXPECT_TRUE(*changed);
  // Per block: Div, Mul(a), Add(b) gone; the second block keeps one Add(h, b/a) for its padded reader.
  EXPECT_EQ(CountOps(g, "Div"), 0);
  EXPECT_EQ(CountOps(g, "Mul"), 2);  // the hard-swish products
  EXPECT_EQ(CountOps(g, "Add"), 3);  // two hard-swish "+ 3" and the one shift
  EXPECT_EQ(CountOps(g, "Conv"), 4);
  ASSERT_TRUE(g.Validate().ok());
  ASSERT_TRUE(ir::CheckModel(g, "folded").ok());
  EXPECT_FALSE(*ir::RunPass("fold_scalar_affine", g));

  auto after = SaveAndRunOrt(g, dir, "after.onnx", inputs);
  ASSERT_TRUE(after.ok()) << after.status().message();
  ExpectSameOutputs(*before, *after, 1e-5);
}

TEST(FoldScalarAffine, LeavesChainsWithOtherReadersAndSharedWeightsAlone) {
  ir::Graph g = NewGraph();
  g.inputs = {Value("x", {1, 2, 4, 4})};
  g.initializers["a"] = Tensor::Scalar<float>(2.0f);
  g.AddNode(Op("Mul", {"x", "a"}, {"t"}));
  g.initializers["w"] = Random({2, 2, 1, 1}, 1);
  g.AddNode(Op("Conv", {"t", "w"}, {"c1"}));
  g.AddNode(Op("Relu", {"t"}, {"r"}));  // a reader that is not a Conv: the Mul must stay
  g.initializers["m"] = Tensor::Scalar<float>(3.0f);
  g.AddNode(Op("Mul", {"r", "m"}, {"u"}));
  g.AddNode(Op("Conv", {"u", "w"}, {"c2"}));  // folds, but into a copy of the shared weight
  g.outputs = {Value("c1", {1, 2, 4, 4}), Value("c2", {1, 2, 4, 4})};
  const Tensor original = g.initializers["w"].Clone();
  ASSERT_TRUE(*ir::RunPass("fold_scalar_affine", g));
  EXPECT_EQ(CountOps(g, "Mul"), 1);
  EXPECT_EQ(g.nodes[g.Producer("c1")].inputs[1], "w");
  const std::string scaled = g.nodes[g.Producer("c2")].inputs[1];
  EXPECT_NE(scaled, "w");
  EXPECT_EQ(g.initializers["w"].ToVector<float>(), original.ToVector<float>());
  EXPECT_FLOAT_EQ(g.initializers[scaled].data<float>()[1], 3.0f * original.data<float>()[1]);
}

}  // namespace
}  // namespace act::test
