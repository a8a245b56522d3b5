// fold_batchnorm and fold_affine on tiny graphs: op counts before/after, idempotence, and outputs equal to
// the unfolded graph's in ONNX Runtime. Tolerance 1e-5 relative: folding reorders float32 products
// (s·(W·x) vs (s·W)·x), a few ulps per accumulation over ≤ 27 terms.
#include <gtest/gtest.h>

#include "ir/checker.h"
#include "ir/passes/pass.h"
#include "test_graphs.h"

namespace act::test {
namespace {

using ir::Attribute;

void AddBatchNorm(ir::Graph& g, const std::string& in, const std::string& out, int64_t c, uint32_t seed) {
  g.initializers[out + "_gamma"] = Random({c}, seed, 0.5f, 1.5f);
  g.initializers[out + "_beta"] = Random({c}, seed + 1);
  g.initializers[out + "_mean"] = Random({c}, seed + 2);
  g.initializers[out + "_var"] = Random({c}, seed + 3, 0.1f, 2.0f);
  g.AddNode(Op("BatchNormalization", {in, out + "_gamma", out + "_beta", out + "_mean", out + "_var"}, {out},
               {{"epsilon", Attribute::Float(1e-3f)}}));
}

ir::Graph BatchNormGraph() {
  ir::Graph g = NewGraph();
  g.inputs = {Value("x", {1, 3, 8, 8}), Value("v", {2, 5})};
  g.initializers["w1"] = Random({4, 3, 3, 3}, 1);
  g.initializers["b1"] = Random({4}, 2);
  g.AddNode(Op("Conv", {"x", "w1", "b1"}, {"c1"}, {{"pads", Attribute::Ints({1, 1, 1, 1})}}));
  AddBatchNorm(g, "c1", "bn1", 4, 10);
  g.AddNode(Op("Relu", {"bn1"}, {"r1"}));
  // ConvTranspose, 2 groups: W [C_in=4, C_out/g=3, 2, 2] → 6 output channels; no bias (the fold adds one).
  g.initializers["w2"] = Random({4, 3, 2, 2}, 3);
  g.AddNode(Op("ConvTranspose", {"r1", "w2"}, {"c2"}, {{"group", Attribute::Int(2)}, {"strides", Attribute::Ints({2, 2})}}));
  AddBatchNorm(g, "c2", "y", 6, 20);
  // Gemm with transB, alpha and beta.
  g.initializers["wg"] = Random({6, 5}, 4);
  g.initializers["bg"] = Random({6}, 5);
  g.AddNode(Op("Gemm", {"v", "wg", "bg"}, {"g1"},
               {{"transB", Attribute::Int(1)}, {"alpha", Attribute::Float(0.7f)}, {"beta", Attribute::Float(0.5f)}}));
  AddBatchNorm(g, "g1", "z", 6, 30);
  g.outputs = {Value("y", {1, 6, 16, 16}), Value("z", {2, 6})};
  return g;
}

std::map<std::string, Tensor> Inputs() { return {{"x", Random({1, 3, 8, 8}, 99)}, {"v", Random({2, 5}, 98)}}; }

TEST(FoldBatchNorm, ConvConvTransposeAndGemm) {
  if (!OrtAvailable()) GTEST_SKIP() << "onnxruntime-node is not installed (deps/); skipping";
  const std::string dir = TempDir("fold_bn");
  ir::Graph g = BatchNormGraph();
  ASSERT_TRUE(ir::CheckModel(g, "bn graph").ok());
  auto before = SaveAndRunOrt(g, dir, "before.onnx", Inputs());
  ASSERT_TRUE(before.ok()) << before.status().message();

  auto changed = ir::RunPass("fold_batchnorm", g);
  ASSERT_TRUE(changed.ok()) << changed.status().message();
  EXPECT_TRUE(*changed);
  EXPECT_EQ(CountOps(g, "BatchNormalization"), 0);
  EXPECT_EQ(CountOps(g, "Conv"), 1);
  EXPECT_EQ(CountOps(g, "ConvTranspose"), 1);
  EXPECT_EQ(CountOps(g, "Gemm"), 1);
  EXPECT_EQ(g.nodes.size(), 4u);
  // The BN parameters are gone, so the model shrank.
  EXPECT_EQ(g.initializers.count("bn1_gamma"), 0u);
  ASSERT_TRUE(g.Validate().ok());
  ASSERT_TRUE(ir::CheckModel(g, "folded").ok());
  EXPECT_FALSE(*ir::RunPass("fold_batchnorm", g));  // idempotent

  auto after = SaveAndRunOrt(g, dir, "after.onnx", Inputs());
  ASSERT_TRUE(after.ok()) << after.status().message();
  for (const char* out : {"y", "z"}) {
    EXPECT_LE(MaxRelativeError(after->at(out), before->at(out)), 1e-5) << out;
  }
}

// ir::Graph copies share tensor storage: a fold must write new weight tensors, never edit the shared ones.
TEST(FoldBatchNorm, CopyOnWriteLeavesTheCallersGraphUnchanged) {
  const ir::Graph original = BatchNormGraph();
  const std::vector<float> w1 = original.initializers.at("w1").ToVector<float>();
  const std::vector<float> wg = original.initializers.at("wg").ToVector<float>();
  ir::Graph copy = original;  // shares the initializers' storage
  auto changed = ir::RunPass("fold_batchnorm", copy);
  ASSERT_TRUE(changed.ok()) << changed.status().message();
  EXPECT_TRUE(*changed);
  EXPECT_EQ(original.initializers.at("w1").ToVector<float>(), w1);
  EXPECT_EQ(original.initializers.at("wg").ToVector<float>(), wg);
  EXPECT_EQ(CountOps(original, "BatchNormalization"), 3);
}

TEST(FoldBatchNorm, LeavesSharedOutputsAndTrainingBnAlone) {
  ir::Graph g = NewGraph();
  g.inputs = {Value("x", {1, 3, 8, 8})};
  g.initializers["w1"] = Random({4, 3, 1, 1}, 1);
  g.AddNode(Op("Conv", {"x", "w1"}, {"c1"}));
  AddBatchNorm(g, "c1", "y", 4, 10);
  g.AddNode(Op("Relu", {"c1"}, {"r"}));  // the Conv output has a second reader
  g.outputs = {Value("y", {1, 4, 8, 8}), Value("r", {1, 4, 8, 8})};
  EXPECT_FALSE(*ir::RunPass("fold_batchnorm", g));
  EXPECT_EQ(CountOps(g, "BatchNormalization"), 1);
}

ir::Graph AffineGraph() {
  ir::Graph g = NewGraph();
  g.inputs = {Value("x", {1, 3, 8, 8}), Value("v", {2, 5})};
  g.initializers["w1"] = Random({4, 3, 3, 3}, 1);
  g.initializers["b1"] = Random({4}, 2);
  g.AddNode(Op("Conv", {"x", "w1", "b1"}, {"c1"}, {{"pads", Attribute::Ints({1, 1, 1, 1})}}));
  g.initializers["m1"] = Random({1, 4, 1, 1}, 5, 0.5f, 2.0f);
  g.AddNode(Op("Mul", {"c1", "m1"}, {"p1"}));
  g.initializers["a1"] = Random({4, 1, 1}, 6);
  g.AddNode(Op("Add", {"a1", "p1"}, {"q1"}));  // constant first: Add commutes
  g.initializers["s1"] = Tensor::FromVector<float>({1}, {0.25f});
  g.AddNode(Op("Sub", {"q1", "s1"}, {"y"}));
  // Gemm (transB = 0) → Div by a per-column constant.
  g.initializers["wg"] = Random({5, 6}, 7);
  g.AddNode(Op("Gemm", {"v", "wg"}, {"g1"}));
  g.initializers["d1"] = Random({6}, 8, 0.5f, 2.0f);
  g.AddNode(Op("Div", {"g1", "d1"}, {"z"}));
  // Not per-channel: a full-size constant must stay.
  g.initializers["w3"] = Random({2, 3, 1, 1}, 9);
  g.AddNode(Op("Conv", {"x", "w3"}, {"c3"}));
  g.initializers["full"] = Random({1, 2, 8, 8}, 10);
  g.AddNode(Op("Mul", {"c3", "full"}, {"u"}));
  g.outputs = {Value("y", {1, 4, 8, 8}), Value("z", {2, 6}), Value("u", {1, 2, 8, 8})};
  return g;
}

TEST(FoldAffine, MulAddSubDivChainsFoldPerChannelOnly) {
  if (!OrtAvailable()) GTEST_SKIP() << "onnxruntime-node is not installed (deps/); skipping";
  const std::string dir = TempDir("fold_affine");
  ir::Graph g = AffineGraph();
  ASSERT_TRUE(ir::CheckModel(g, "affine graph").ok());
  auto before = SaveAndRunOrt(g, dir, "before.onnx", Inputs());
  ASSERT_TRUE(before.ok()) << before.status().message();

  auto changed = ir::RunPass("fold_affine", g);
  ASSERT_TRUE(changed.ok()) << changed.status().message();
  EXPECT_TRUE(*changed);
  EXPECT_EQ(CountOps(g, "Add"), 0);
  EXPECT_EQ(CountOps(g, "Sub"), 0);
  EXPECT_EQ(CountOps(g, "Div"), 0);
  EXPECT_EQ(CountOps(g, "Mul"), 1);  // the full-size one
  EXPECT_EQ(g.nodes.size(), 4u);     // Conv, Gemm, Conv, Mul
  ASSERT_TRUE(g.Validate().ok());
  ASSERT_TRUE(ir::CheckModel(g, "folded").ok());
  EXPECT_FALSE(*ir::RunPass("fold_affine", g));

  auto after = SaveAndRunOrt(g, dir, "after.onnx", Inputs());
  ASSERT_TRUE(after.ok()) << after.status().message();
  for (const char* out : {"y", "z", "u"}) {
    EXPECT_LE(MaxRelativeError(after->at(out), before->at(out)), 1e-5) << out;
  }
}

TEST(FoldAffine, SharedWeightsAreCopiedNotChanged) {
  // Two Convs read the same weight; only one is followed by a Mul. The other must keep the original.
  ir::Graph g = NewGraph();
  g.inputs = {Value("x", {1, 3, 4, 4})};
  g.initializers["w"] = Random({2, 3, 1, 1}, 1);
  g.AddNode(Op("Conv", {"x", "w"}, {"c1"}));
  g.AddNode(Op("Conv", {"x", "w"}, {"c2"}));
  g.initializers["m"] = Tensor::FromVector<float>({2, 1, 1}, {2.0f, 3.0f});
  g.AddNode(Op("Mul", {"c1", "m"}, {"y"}));
  g.outputs = {Value("y", {1, 2, 4, 4}), Value("c2", {1, 2, 4, 4})};
  const Tensor original = g.initializers["w"].Clone();
  ASSERT_TRUE(*ir::RunPass("fold_affine", g));
  EXPECT_EQ(g.nodes[1].inputs[1], "w");
  EXPECT_NE(g.nodes[0].inputs[1], "w");
  EXPECT_EQ(g.initializers["w"].ToVector<float>(), original.ToVector<float>());
  EXPECT_FLOAT_EQ(g.initializers[g.nodes[0].inputs[1]].data<float>()[3], 3.0f * original.data<float>()[3]);
}

}  // namespace
}  // namespace act::test
