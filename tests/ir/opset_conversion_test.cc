// convert_opset_13 on tiny old-opset graphs: each adapter's rewrite is checked by running the original and the
// converted model in ONNX Runtime on the same input (≤ 1e-6 relative: identical arithmetic), and by op counts.
#include <gtest/gtest.h>

#include "ir/analysis.h"
#include "ir/checker.h"
#include "ir/graph_builder.h"
#include "ir/onnx_io.h"
#include "ir/passes/pass.h"
#include "test_support.h"

namespace act::ir {
namespace {

using test::MakeNode;

Tensor Ramp(Shape shape) {
  Tensor t(DType::kFloat32, shape);
  for (int64_t i = 0; i < t.numel(); ++i) t.data<float>()[i] = 0.37f * static_cast<float>(i % 11) - 1.5f;
  return t;
}

// Saves `g` before and after conversion and compares ORT's outputs.
void ExpectSameInOrt(Graph g, const Tensor& x) {
  if (!test::OrtAvailable()) GTEST_SKIP() << "ONNX Runtime not installed";
  const std::string dir = test::TempDir("opset");
  ASSERT_TRUE(SaveModel(g, dir + "/old.onnx").ok());
  auto changed = ConvertOpsetTo13(g);
  ASSERT_TRUE(changed.ok()) << changed.status().message();
  EXPECT_TRUE(*changed);
  EXPECT_EQ(g.opset(), 13);
  ASSERT_TRUE(CheckModel(g, "converted").ok()) << CheckModel(g, "converted").message();
  ASSERT_TRUE(SaveModel(g, dir + "/new.onnx").ok());
  auto before = test::RunOrt(dir + "/old.onnx", {{"x", x}});
  auto after = test::RunOrt(dir + "/new.onnx", {{"x", x}});
  ASSERT_TRUE(before.ok()) << before.status().message();
  ASSERT_TRUE(after.ok()) << after.status().message();
  EXPECT_LE(test::MaxRelativeError(after->at("y"), before->at("y")), 1e-6);
  EXPECT_FALSE(*ConvertOpsetTo13(g));  // idempotent
}

TEST(OpsetConversionTest, Opset9SliceClipSqueezeBecomeInputs) {
  Graph g = test::EmptyGraph(9);
  g.inputs.push_back(test::FloatValue("x", {1, 3, 4}));
  g.outputs.push_back(test::FloatValue("y", {2, 2}));
  Node slice = MakeNode("Slice", {"x"}, {"s"}, "slice");
  slice.attributes["starts"] = Attribute::Ints({1, 0});
  slice.attributes["ends"] = Attribute::Ints({3, 2});
  slice.attributes["axes"] = Attribute::Ints({1, 2});
  Node clip = MakeNode("Clip", {"s"}, {"c"}, "clip");
  clip.attributes["min"] = Attribute::Float(-0.5f);
  clip.attributes["max"] = Attribute::Float(1.0f);
  Node squeeze = MakeNode("Squeeze", {"c"}, {"y"}, "squeeze");
  squeeze.attributes["axes"] = Attribute::Ints({0});
  g.nodes = {slice, clip, squeeze};
  ExpectSameInOrt(g, Ramp({1, 3, 4}));
}

TEST(OpsetConversionTest, Opset11SoftmaxOnInnerAxisKeepsFlattenMeaning) {
  // Softmax-11 with axis=1 on a rank-3 input normalises over axes 1 and 2 together.
  Graph g = test::EmptyGraph(11);
  g.inputs.push_back(test::FloatValue("x", {2, 3, 4}));
  g.outputs.push_back(test::FloatValue("y", {2, 3, 4}));
  Node softmax = MakeNode("Softmax", {"x"}, {"y"}, "softmax");
  softmax.attributes["axis"] = Attribute::Int(1);
  g.nodes = {softmax};
  ExpectSameInOrt(g, Ramp({2, 3, 4}));
}

TEST(OpsetConversionTest, Opset11SoftmaxOnLastAxisStaysOneNode) {
  Graph g = test::EmptyGraph(11);
  g.inputs.push_back(test::FloatValue("x", {2, 3, 4}));
  g.outputs.push_back(test::FloatValue("y", {2, 3, 4}));
  Node softmax = MakeNode("Softmax", {"x"}, {"y"}, "softmax");
  softmax.attributes["axis"] = Attribute::Int(2);
  g.nodes = {softmax};
  Graph converted = g;
  ASSERT_TRUE(ConvertOpsetTo13(converted).ok());
  EXPECT_EQ(OpHistogram(converted), (std::map<std::string, int>{{"Softmax", 1}}));
  ExpectSameInOrt(g, Ramp({2, 3, 4}));
}

TEST(OpsetConversionTest, Opset10PadAndResizeConvert) {
  Graph g = test::EmptyGraph(10);
  g.inputs.push_back(test::FloatValue("x", {1, 1, 3, 3}));
  g.outputs.push_back(test::FloatValue("y", {1, 1, 10, 10}));
  Node pad = MakeNode("Pad", {"x"}, {"p"}, "pad");
  pad.attributes["pads"] = Attribute::Ints({0, 0, 1, 1, 0, 0, 1, 1});
  pad.attributes["value"] = Attribute::Float(0.25f);
  g.initializers["scales"] = Tensor::FromVector<float>({4}, {1, 1, 2, 2});
  Node resize = MakeNode("Resize", {"p", "scales"}, {"y"}, "resize");
  resize.attributes["mode"] = Attribute::String("nearest");
  g.nodes = {pad, resize};
  ExpectSameInOrt(g, Ramp({1, 1, 3, 3}));
}

TEST(OpsetConversionTest, TooOldOpsetIsRefusedWithAHint) {
  Graph g = test::EmptyGraph(6);
  auto r = ConvertOpsetTo13(g);
  ASSERT_FALSE(r.ok());
  EXPECT_NE(r.status().message().find("re-export"), std::string::npos);
}

TEST(OpsetConversionTest, PaddleOcrRecognizerSoftmaxesStaySingleNodes) {
  const std::string path = test::OcrModelPath("ch_PP-OCRv4_rec_infer.onnx");
  ACT_SKIP_IF_EMPTY(path, "PP-OCRv4 rec");
  auto g = LoadModel(path);
  ASSERT_TRUE(g.ok());
  ASSERT_TRUE(Normalize(*g, path).ok());
  auto histogram = OpHistogram(*g);
  EXPECT_EQ(histogram["Softmax"], 3);
  EXPECT_EQ(histogram.count("Flatten"), 0u);  // every Softmax acts on the last axis: no flatten rewrite needed
}

}  // namespace
}  // namespace act::ir
