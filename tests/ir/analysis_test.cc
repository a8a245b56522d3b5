#include "ir/analysis.h"

#include <gtest/gtest.h>

#include "ir/graph_builder.h"
#include "ir/passes/pass.h"

namespace act::ir {
namespace {

using test::MakeNode;

// x → LN-ish → MatMul(q) / MatMul(k) → MatMul(q,kᵀ) → Div → Softmax → MatMul(·,v) → MatMul(o) → Add(x) : an attention block.
Graph Attention(bool residual) {
  Graph g = test::EmptyGraph(14);
  g.inputs.push_back(test::FloatValue("x", {1, 8, 16}));
  g.outputs.push_back(test::FloatValue("y", {1, 8, 16}));
  for (const char* w : {"wq", "wk", "wv", "wo"}) g.initializers[w] = Tensor(DType::kFloat32, {16, 16});
  g.initializers["scale"] = Tensor::Scalar<float>(4.0f);
  g.nodes.push_back(MakeNode("MatMul", {"x", "wq"}, {"q"}));
  g.nodes.push_back(MakeNode("MatMul", {"x", "wk"}, {"k"}));
  g.nodes.push_back(MakeNode("MatMul", {"x", "wv"}, {"v"}));
  Node t = MakeNode("Transpose", {"k"}, {"kt"});
  t.attributes["perm"] = Attribute::Ints({0, 2, 1});
  g.nodes.push_back(t);
  g.nodes.push_back(MakeNode("MatMul", {"q", "kt"}, {"s"}));
  g.nodes.push_back(MakeNode("Div", {"s", "scale"}, {"sd"}));
  g.nodes.push_back(MakeNode("Softmax", {"sd"}, {"p"}));
  g.nodes.push_back(MakeNode("MatMul", {"p", "v"}, {"ctx"}));
  g.nodes.push_back(MakeNode("MatMul", {"ctx", "wo"}, {"o"}));
  if (residual) g.nodes.push_back(MakeNode("Add", {"o", "x"}, {"y"}));
  else g.nodes.push_back(MakeNode("Relu", {"o"}, {"y"}));
  return g;
}

TEST(AnalysisTest, DetectsAttentionUnderResidualAdd) {
  Graph g = Attention(true);
  auto blocks = FindAttentionBlocks(g);
  ASSERT_EQ(blocks.size(), 1u);
  EXPECT_EQ(g.nodes[blocks[0].softmax].op_type, "Softmax");
  EXPECT_EQ(g.nodes[blocks[0].score_matmul].outputs[0], "s");
  EXPECT_EQ(g.nodes[blocks[0].context_matmul].outputs[0], "ctx");
  EXPECT_EQ(g.nodes[blocks[0].residual_add].outputs[0], "y");
  EXPECT_EQ(DetectModelType(g), ModelType::kTransformer);
}

TEST(AnalysisTest, SoftmaxWithoutResidualIsNotATransformer) {
  EXPECT_EQ(DetectModelType(Attention(false)), ModelType::kCnn);
}

TEST(AnalysisTest, QuantizableNodesAreWeightedOnes) {
  Graph g = Attention(true);
  // q, k, v and output projections have constant weights; the two attention MatMuls do not.
  std::vector<std::string> names;
  for (int i : QuantizableNodes(g)) names.push_back(g.nodes[i].outputs[0]);
  EXPECT_EQ(names, (std::vector<std::string>{"q", "k", "v", "o"}));
}

TEST(AnalysisTest, ConstantNodesBecomeInitializers) {
  Graph g = Attention(true);
  Node c = MakeNode("Constant", {}, {"wq2"}, "const");
  c.attributes["value"] = Attribute::TensorValue(Tensor(DType::kFloat32, {16, 16}));
  g.nodes.insert(g.nodes.begin(), c);
  g.nodes[1].inputs[1] = "wq2";
  g.RebuildIndex();
  EXPECT_EQ(CountConstantNodes(g).weight_elements, 256);
  EXPECT_EQ(QuantizableNodes(g).size(), 4u);  // a Constant-node operand counts as constant
  auto changed = ConstantToInitializer(g);
  ASSERT_TRUE(changed.ok());
  EXPECT_TRUE(*changed);
  EXPECT_TRUE(g.IsInitializer("wq2"));
  EXPECT_EQ(CountConstantNodes(g).nodes, 0);
  EXPECT_FALSE(*ConstantToInitializer(g));  // idempotent
  EXPECT_TRUE(g.Validate().ok());
}

}  // namespace
}  // namespace act::ir
