// `onnx-act inspect` end to end: real models, JSON output, and one clear line with exit code 2 for each kind
// of bad input.
#include <gtest/gtest.h>

#include <nlohmann/json.hpp>

#include "core/file_util.h"
#include "ir/graph_builder.h"
#include "ir/onnx_io.h"
#include "test_support.h"

namespace act {
namespace {

TEST(CliInspectTest, MnistCnnTextAndJson) {
  const std::string model = test::SharedDataPath("mnist/mnist_cnn.onnx");
  ACT_SKIP_IF_EMPTY(model, "MNIST CNN");
  auto r = test::RunOnnxAct("inspect " + model);
  ASSERT_EQ(r.exit_code, 0) << r.err;
  EXPECT_NE(r.out.find("model type: cnn/other"), std::string::npos) << r.out;
  EXPECT_NE(r.out.find("parameters: 421642"), std::string::npos) << r.out;
  EXPECT_NE(r.out.find("input                    float32  [batch_size,1,28,28]"), std::string::npos) << r.out;

  r = test::RunOnnxAct("inspect --json " + model);
  ASSERT_EQ(r.exit_code, 0) << r.err;
  auto j = nlohmann::json::parse(r.out);
  EXPECT_EQ(j["opset"], 11);
  EXPECT_EQ(j["op_histogram"]["Conv"], 2);
  EXPECT_EQ(j["op_histogram"]["Gemm"], 2);
  EXPECT_EQ(j["quantizable_nodes"].size(), 4u);
  EXPECT_EQ(j["quantizable_nodes"][3]["name"], "/fc2/Gemm");
  EXPECT_EQ(j["initializers"]["by_dtype"]["float32"]["bytes"], 421642 * 4);
}

TEST(CliInspectTest, PaddleOcrWeightsInConstantNodesAreCounted) {
  const std::string model = test::OcrModelPath("ch_PP-OCRv4_rec_infer.onnx");
  ACT_SKIP_IF_EMPTY(model, "PP-OCRv4 rec");
  auto r = test::RunOnnxAct("inspect --json " + model);
  ASSERT_EQ(r.exit_code, 0) << r.err;
  auto j = nlohmann::json::parse(r.out);
  EXPECT_EQ(j["constant_nodes"]["weight_elements"], 2690109);
  EXPECT_EQ(j["initializers"]["count"], 0);
  EXPECT_EQ(j["model_type"], "transformer");
  EXPECT_EQ(j["attention_blocks"], 2);
}

struct BadInput {
  std::string file;
  std::string expected_fragment;
};

TEST(CliInspectTest, BadInputsGetOneLineErrorAndExitCode2) {
  const std::string dir = test::TempDir("cli_bad");
  std::vector<BadInput> cases;
  cases.push_back({dir + "/missing.onnx", "no such file"});

  ASSERT_TRUE(AtomicWriteFile(dir + "/notonnx.onnx", "name,value\nthis is a csv file\n").ok());
  cases.push_back({dir + "/notonnx.onnx", "not a valid ONNX model"});

  ir::Graph g = test::EmptyGraph();
  g.inputs.push_back(test::FloatValue("x", {1, 4}));
  g.outputs.push_back(test::FloatValue("y", {1, 4}));
  g.nodes.push_back(test::MakeNode("Relu", {"x"}, {"y"}, "relu"));
  ASSERT_TRUE(ir::SaveModel(g, dir + "/good.onnx").ok());
  std::string bytes = *ReadFileToString(dir + "/good.onnx");
  ASSERT_TRUE(AtomicWriteFile(dir + "/truncated.onnx", bytes.substr(0, bytes.size() - 9)).ok());
  cases.push_back({dir + "/truncated.onnx", "truncated"});

  ir::Graph domain = g;
  domain.nodes[0].domain = "org.unknown";
  ASSERT_TRUE(ir::SaveModel(domain, dir + "/domain.onnx").ok());
  cases.push_back({dir + "/domain.onnx", "unknown domain 'org.unknown'"});

  ir::Graph dangling = g;
  dangling.nodes[0].inputs[0] = "ghost";
  ASSERT_TRUE(ir::SaveModel(dangling, dir + "/dangling.onnx").ok());
  cases.push_back({dir + "/dangling.onnx", "Relu 'relu' reads 'ghost'"});

  ir::Graph duplicate = g;
  duplicate.nodes.push_back(test::MakeNode("Abs", {"x"}, {"y"}, "abs"));
  ASSERT_TRUE(ir::SaveModel(duplicate, dir + "/duplicate.onnx").ok());
  cases.push_back({dir + "/duplicate.onnx", "value 'y' is produced twice"});

  for (const auto& c : cases) {
    auto r = test::RunOnnxAct("inspect " + c.file);
    EXPECT_EQ(r.exit_code, 2) << c.file << ": " << r.err;
    EXPECT_NE(r.err.find(c.file), std::string::npos) << "error must name the file: " << r.err;
    EXPECT_NE(r.err.find(c.expected_fragment), std::string::npos) << r.err;
    EXPECT_EQ(std::count(r.err.begin(), r.err.end(), '\n'), 1) << "one line expected: " << r.err;
    EXPECT_TRUE(r.out.empty()) << r.out;
  }
}

TEST(CliInspectTest, UsageErrorsExitWith2) {
  EXPECT_EQ(test::RunOnnxAct("inspect").exit_code, 2);
  EXPECT_EQ(test::RunOnnxAct("no-such-command").exit_code, 2);
  auto r = test::RunOnnxAct("--help");
  EXPECT_EQ(r.exit_code, 0);
  EXPECT_NE(r.out.find("inspect"), std::string::npos);
}

}  // namespace
}  // namespace act
