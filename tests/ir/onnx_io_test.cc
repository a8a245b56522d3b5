#include "ir/onnx_io.h"

#include <gtest/gtest.h>

#include <filesystem>

#include "core/file_util.h"
#include "ir/checker.h"
#include "ir/graph_builder.h"
#include "test_support.h"

namespace act::ir {
namespace {

using test::MakeNode;

Graph SmallConvGraph() {
  Graph g = test::EmptyGraph(13);
  g.inputs.push_back(test::FloatValue("x", {-1, 2, 5, 5}));
  g.outputs.push_back(test::FloatValue("y", {-1, 4, 5, 5}));
  std::vector<float> w(4 * 2 * 3 * 3);
  for (size_t i = 0; i < w.size(); ++i) w[i] = 0.01f * static_cast<float>(i) - 0.3f;
  g.initializers["w"] = Tensor::FromVector<float>({4, 2, 3, 3}, w);
  g.initializers["b"] = Tensor::FromVector<float>({4}, {0.1f, -0.2f, 0.3f, 0.0f});
  Node conv = MakeNode("Conv", {"x", "w", "b"}, {"c"}, "conv");
  conv.attributes["pads"] = Attribute::Ints({1, 1, 1, 1});
  conv.attributes["kernel_shape"] = Attribute::Ints({3, 3});
  g.nodes.push_back(conv);
  g.nodes.push_back(MakeNode("Relu", {"c"}, {"y"}, "relu"));
  return g;
}

TEST(OnnxIoTest, SaveLoadRoundTripKeepsEverything) {
  const std::string dir = test::TempDir("io_roundtrip");
  Graph g = SmallConvGraph();
  g.metadata_props.emplace_back("author", "test");
  ASSERT_TRUE(SaveModel(g, dir + "/m.onnx").ok());
  auto back = LoadModel(dir + "/m.onnx");
  ASSERT_TRUE(back.ok()) << back.status().message();
  EXPECT_EQ(back->opset(), 13);
  ASSERT_EQ(back->nodes.size(), 2u);
  EXPECT_EQ(back->nodes[0].GetInts("pads"), (std::vector<int64_t>{1, 1, 1, 1}));
  EXPECT_EQ(back->inputs[0].ShapeString(), "[N,2,5,5]");
  EXPECT_EQ(back->metadata_props.at(0).second, "test");
  EXPECT_EQ(test::MaxRelativeError(back->initializers.at("w"), g.initializers.at("w")), 0.0);
  EXPECT_TRUE(CheckModel(*back, "m.onnx").ok());
}

TEST(OnnxIoTest, ExternalDataIsWrittenAndReadBack) {
  const std::string dir = test::TempDir("io_external");
  Graph g = SmallConvGraph();
  SaveOptions options;
  options.force_external_data = true;
  options.external_min_bytes = 0;
  ASSERT_TRUE(SaveModel(g, dir + "/m.onnx", options).ok());
  ASSERT_TRUE(FileExists(dir + "/m.onnx.data"));
  // The weights live in the data file, so the model itself is small.
  EXPECT_LT(std::filesystem::file_size(dir + "/m.onnx"), 600u);
  auto back = LoadModel(dir + "/m.onnx");
  ASSERT_TRUE(back.ok()) << back.status().message();
  EXPECT_EQ(test::MaxRelativeError(back->initializers.at("w"), g.initializers.at("w")), 0.0);
  EXPECT_EQ(test::MaxRelativeError(back->initializers.at("b"), g.initializers.at("b")), 0.0);

  std::filesystem::remove(dir + "/m.onnx.data");
  auto missing = LoadModel(dir + "/m.onnx");
  ASSERT_FALSE(missing.ok());
  EXPECT_NE(missing.status().message().find("m.onnx.data"), std::string::npos) << missing.status().message();
}

TEST(OnnxIoTest, BadFilesGetClearErrors) {
  const std::string dir = test::TempDir("io_bad");
  auto r = LoadModel(dir + "/absent.onnx");
  EXPECT_EQ(r.status().code(), StatusCode::kNotFound);

  ASSERT_TRUE(AtomicWriteFile(dir + "/text.onnx", "this is plainly not a protobuf model\n").ok());
  r = LoadModel(dir + "/text.onnx");
  ASSERT_FALSE(r.ok());
  EXPECT_NE(r.status().message().find("text.onnx"), std::string::npos);
  EXPECT_EQ(r.status().ExitCode(), 2);

  ASSERT_TRUE(SaveModel(SmallConvGraph(), dir + "/good.onnx").ok());
  std::string bytes = *ReadFileToString(dir + "/good.onnx");
  ASSERT_TRUE(AtomicWriteFile(dir + "/cut.onnx", bytes.substr(0, bytes.size() * 2 / 3)).ok());
  r = LoadModel(dir + "/cut.onnx");
  ASSERT_FALSE(r.ok());
  EXPECT_NE(r.status().message().find("truncated"), std::string::npos) << r.status().message();
}

TEST(OnnxIoTest, UnknownDomainDanglingInputAndDuplicatesAreRefused) {
  const std::string dir = test::TempDir("io_invalid");
  Graph g = SmallConvGraph();
  g.nodes[1].domain = "com.example.custom";
  g.opset_imports["com.example.custom"] = 1;
  ASSERT_TRUE(SaveModel(g, dir + "/domain.onnx").ok());
  auto r = LoadModel(dir + "/domain.onnx");
  ASSERT_FALSE(r.ok());
  EXPECT_NE(r.status().message().find("com.example.custom"), std::string::npos);
  EXPECT_NE(r.status().message().find("relu"), std::string::npos);
  EXPECT_TRUE(LoadModel(dir + "/domain.onnx", LoadOptions{true}).ok());

  g = SmallConvGraph();
  g.nodes[1].inputs[0] = "nowhere";
  ASSERT_TRUE(SaveModel(g, dir + "/dangling.onnx").ok());
  r = LoadModel(dir + "/dangling.onnx");
  ASSERT_FALSE(r.ok());
  EXPECT_NE(r.status().message().find("dangling"), std::string::npos) << r.status().message();
  EXPECT_NE(r.status().message().find("'relu'"), std::string::npos);

  g = SmallConvGraph();
  g.nodes.push_back(MakeNode("Relu", {"c"}, {"y"}, "relu2"));
  ASSERT_TRUE(SaveModel(g, dir + "/duplicate.onnx").ok());
  r = LoadModel(dir + "/duplicate.onnx");
  ASSERT_FALSE(r.ok());
  EXPECT_NE(r.status().message().find("produced twice"), std::string::npos) << r.status().message();
}

TEST(OnnxIoTest, ShapeInferenceFillsIntermediateValues) {
  Graph g = SmallConvGraph();
  ASSERT_TRUE(InferShapes(g, "small").ok());
  ASSERT_TRUE(g.value_info.count("c"));
  EXPECT_EQ(g.value_info.at("c").ShapeString(), "[N,4,5,5]");
}

TEST(OnnxIoTest, ShapeInferenceFailureNamesTheNode) {
  Graph g = test::EmptyGraph(13);
  g.inputs.push_back(test::FloatValue("x", {1, 4}));
  g.outputs.push_back(test::FloatValue("y", {1, 2}));
  g.initializers["w"] = Tensor(DType::kFloat32, {3, 2});  // inner dimensions 4 and 3 do not match
  g.nodes.push_back(MakeNode("MatMul", {"x", "w"}, {"y"}, "proj"));
  Status s = InferShapes(g, "bad");
  ASSERT_FALSE(s.ok());
  EXPECT_NE(s.message().find("proj"), std::string::npos) << s.message();
}

}  // namespace
}  // namespace act::ir
