#include "ir/graph.h"

#include <gtest/gtest.h>

#include "ir/graph_builder.h"

namespace act::ir {
namespace {

using test::MakeNode;

Graph Chain() {
  Graph g = test::EmptyGraph();
  g.inputs.push_back(test::FloatValue("x", {1, 4}));
  g.outputs.push_back(test::FloatValue("z", {1, 4}));
  // Deliberately out of order: Relu reads y before Neg produces it.
  g.nodes.push_back(MakeNode("Relu", {"y"}, {"z"}, "relu"));
  g.nodes.push_back(MakeNode("Neg", {"x"}, {"y"}, "neg"));
  return g;
}

TEST(GraphTest, TopologicalSortOrdersProducersFirst) {
  Graph g = Chain();
  EXPECT_FALSE(g.Validate().ok());
  ASSERT_TRUE(g.TopologicalSort().ok());
  EXPECT_EQ(g.nodes[0].name, "neg");
  EXPECT_EQ(g.nodes[1].name, "relu");
  EXPECT_TRUE(g.Validate().ok());
  EXPECT_EQ(g.Producer("y"), 0);
  EXPECT_EQ(g.Consumers("y"), std::vector<int>{1});
}

TEST(GraphTest, CycleIsReportedWithANode) {
  Graph g = test::EmptyGraph();
  g.nodes.push_back(MakeNode("Neg", {"b"}, {"a"}, "n1"));
  g.nodes.push_back(MakeNode("Neg", {"a"}, {"b"}, "n2"));
  Status s = g.TopologicalSort();
  ASSERT_FALSE(s.ok());
  EXPECT_NE(s.message().find("cycle"), std::string::npos);
}

TEST(GraphTest, ValidateNamesDanglingInputAndDuplicateProducer) {
  Graph g = Chain();
  ASSERT_TRUE(g.TopologicalSort().ok());
  g.nodes[1].inputs[0] = "missing";
  Status s = g.Validate();
  EXPECT_NE(s.message().find("Relu 'relu'"), std::string::npos) << s.message();
  EXPECT_NE(s.message().find("'missing'"), std::string::npos);

  Graph h = Chain();
  ASSERT_TRUE(h.TopologicalSort().ok());
  h.nodes.push_back(MakeNode("Abs", {"x"}, {"y"}, "abs"));
  s = h.Validate();
  EXPECT_NE(s.message().find("produced twice"), std::string::npos) << s.message();
}

TEST(GraphTest, EditingHelpersKeepIndexAndNamesUnique) {
  Graph g = Chain();
  ASSERT_TRUE(g.TopologicalSort().ok());
  EXPECT_EQ(g.UniqueName("y"), "y_1");
  EXPECT_EQ(g.UniqueName("fresh"), "fresh");
  g.AddNode(MakeNode("Abs", {"z"}, {"w"}, "abs"));
  EXPECT_EQ(g.Consumers("z"), std::vector<int>{2});
  g.ReplaceAllUses("z", "y");
  EXPECT_EQ(g.Consumers("y").size(), 2u);
  g.RemoveNodes({2});
  EXPECT_EQ(g.nodes.size(), 2u);
  g.initializers["unused"] = Tensor(DType::kFloat32, {3});
  EXPECT_EQ(g.RemoveUnusedInitializers(), 1);
}

TEST(GraphTest, ValueInfoLookupCoversInitializers) {
  Graph g = Chain();
  g.initializers["w"] = Tensor(DType::kFloat32, {2, 5});
  auto info = g.FindValueInfo("w");
  ASSERT_TRUE(info.has_value());
  EXPECT_EQ(info->ShapeString(), "[2,5]");
  EXPECT_EQ(g.FindValueInfo("x")->ShapeString(), "[1,4]");
  EXPECT_FALSE(g.FindValueInfo("nothing").has_value());
  auto stats = g.ParameterStats();
  EXPECT_EQ(stats[DType::kFloat32].first, 10);
  EXPECT_EQ(stats[DType::kFloat32].second, 40);
}

}  // namespace
}  // namespace act::ir
