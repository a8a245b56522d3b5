// The lowering registry: every op the docs list has an entry over its stated opsets; overlapping entries are
// refused; an unsupported op fails naming the node, op type and opset; new lowerings can be registered.
#include <gtest/gtest.h>

#include <fstream>
#include <regex>

#include "core/file_util.h"
#include "exec/lowering.h"
#include "exec/module.h"
#include "exec/runner.h"
#include "graph_builder.h"
#include "test_support.h"

namespace act::exec {
namespace {

TEST(LoweringRegistry, EveryDocumentedOpHasAnEntry) {
  auto doc = ReadFileToString(act::test::RepoPath("src/exec/SUPPORTED_OPS.md"));
  ASSERT_TRUE(doc.ok()) << doc.status().ToString();
  // Rows look like: | `Conv` | 1–17 | notes |   or   | `LayerNormalization` | 17 | notes |
  std::regex row(R"(^\| `(\w+)` \| (\d+)(?:–(\d+))? \|)");
  std::istringstream lines(*doc);
  std::string line;
  int rows = 0;
  while (std::getline(lines, line)) {
    std::smatch m;
    if (!std::regex_search(line, m, row)) continue;
    ++rows;
    const std::string op = m[1];
    const int64_t since = std::stoll(m[2]);
    const int64_t until = m[3].matched ? std::stoll(m[3]) : since;
    EXPECT_NE(Lowerings().Find("", op, since), nullptr) << op << " at opset " << since;
    EXPECT_NE(Lowerings().Find("", op, until), nullptr) << op << " at opset " << until;
  }
  EXPECT_GT(rows, 90) << "SUPPORTED_OPS.md lost its table?";
}

TEST(LoweringRegistry, EveryOpOfTheRealModelsIsListed) {
  // The op types of the five real models and the exports the executor targets (issue 3).
  for (const char* op : {"Conv", "Relu", "MaxPool", "Gemm", "Reshape", "Add", "AveragePool", "Concat", "Gather",
                         "Pad", "Resize", "Sigmoid", "Softmax", "Transpose", "BatchNormalization", "Clip",
                         "ConvTranspose", "Div", "GlobalAveragePool", "HardSigmoid", "Mul", "Cast", "MatMul",
                         "Pow", "ReduceMean", "Shape", "Slice", "Sqrt", "Squeeze", "Sub", "Erf", "Tanh",
                         "LayerNormalization", "ConstantOfShape", "Expand", "Where", "Equal", "Range",
                         "Unsqueeze", "Split", "LeakyRelu", "PRelu", "HardSwish", "Flatten", "Identity",
                         "Dropout", "Upsample"}) {
    bool found = false;
    for (int64_t opset : {9, 11, 13, 17}) found = found || Lowerings().Find("", op, opset) != nullptr;
    EXPECT_TRUE(found) << op;
  }
}

TEST(LoweringRegistry, OverlappingEntryIsRefused) {
  LoweringTable table;
  auto build = [](const LoweringContext&) -> Expected<Kernel> {
    return Kernel([](const std::vector<at::Tensor>& in) { return in; });
  };
  ASSERT_TRUE(table.Add({"", "Foo", 1, 12, build}).ok());
  ASSERT_TRUE(table.Add({"", "Foo", 13, 17, build}).ok());
  Status s = table.Add({"", "Foo", 10, 14, build});
  EXPECT_FALSE(s.ok());
  EXPECT_NE(s.message().find("Foo"), std::string::npos) << s.message();
  EXPECT_NE(table.Find("", "Foo", 11), nullptr);
  EXPECT_EQ(table.Find("", "Foo", 18), nullptr);
}

TEST(LoweringRegistry, UnsupportedOpNamesNodeOpTypeAndOpset) {
  ir::Graph g = test::GraphBuilder(13)
                    .Input("x", DType::kFloat32, {-1, 4})
                    .Node("FancyOp", {"x"}, {"y"})
                    .Output("y")
                    .Build();
  g.nodes[0].name = "my_node";
  auto runner = Runner::Create(g);
  ASSERT_FALSE(runner.ok());
  const std::string& msg = runner.status().message();
  EXPECT_EQ(runner.status().code(), StatusCode::kUnsupported);
  EXPECT_NE(msg.find("my_node"), std::string::npos) << msg;
  EXPECT_NE(msg.find("FancyOp"), std::string::npos) << msg;
  EXPECT_NE(msg.find("opset 13"), std::string::npos) << msg;
}

// The act domain is open: a lowering registered at run time is used by Modules built afterwards.
Expected<Kernel> BuildTimesThree(const LoweringContext&) {
  return Kernel([](const std::vector<at::Tensor>& in) { return std::vector<at::Tensor>{in[0] * 3}; });
}

TEST(LoweringRegistry, RegisteredActLoweringIsUsed) {
  ASSERT_TRUE(RegisterLowering({"act", "TimesThreeForTest", 1, 1000, &BuildTimesThree}).ok());
  ir::Graph g = test::GraphBuilder(13)
                    .Input("x", DType::kFloat32, {2})
                    .Node("TimesThreeForTest", {"x"}, {"y"}, {}, "act")
                    .Output("y")
                    .Build();
  g.opset_imports["act"] = 1;
  auto runner = Runner::Create(g);
  ASSERT_TRUE(runner.ok()) << runner.status().ToString();
  auto out = (*runner)->Run({{"x", Tensor::FromVector<float>({2}, {1.f, -2.f})}});
  ASSERT_TRUE(out.ok()) << out.status().ToString();
  EXPECT_EQ(out->at("y").ToVector<float>(), (std::vector<float>{3.f, -6.f}));
}

}  // namespace
}  // namespace act::exec
