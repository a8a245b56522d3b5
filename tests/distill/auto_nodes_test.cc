// Automatic distillation nodes on the real models (issue 7's acceptance: MNIST → last Gemm, FastestDet → its
// head's final convs, PP-OCRv4 rec → the node before its Softmax).
#include "distill/auto_nodes.h"

#include <gtest/gtest.h>

#include "ir/onnx_io.h"
#include "ir/passes/pass.h"
#include "test_support.h"

namespace act::distill {
namespace {

std::vector<DistillNode> NodesOf(const std::string& path) {
  auto g = ir::LoadModel(path);
  EXPECT_TRUE(g.ok()) << g.status().message();
  if (!g.ok()) return {};
  EXPECT_TRUE(ir::Normalize(*g, path).ok());
  return FindDistillationNodes(*g);
}

TEST(AutoDistillNodesTest, MnistCnnYieldsItsLastGemm) {
  const std::string path = test::SharedDataPath("mnist/mnist_cnn.onnx");
  ACT_SKIP_IF_EMPTY(path, "MNIST CNN");
  auto nodes = NodesOf(path);
  ASSERT_EQ(nodes.size(), 1u);
  EXPECT_EQ(nodes[0].node, "/fc2/Gemm");
  EXPECT_EQ(nodes[0].value, "output");
}

TEST(AutoDistillNodesTest, FastestDetYieldsItsHeadConvs) {
  const std::string path = test::SharedDataPath("fastestdet/FastestDet.onnx");
  ACT_SKIP_IF_EMPTY(path, "FastestDet");
  auto nodes = NodesOf(path);
  std::vector<std::string> names;
  for (const auto& n : nodes) names.push_back(n.node);
  // FastestDet's detection head ends in three 1x1 convs: objectness (1 channel, then Sigmoid), box regression
  // (4 channels) and class scores (80 channels, then Softmax); their outputs are concatenated into `758`.
  EXPECT_EQ(names, (std::vector<std::string>{"Conv_253", "Conv_257", "Conv_260"}));
}

TEST(AutoDistillNodesTest, PaddleOcrRecognizerYieldsTheLogitsBeforeSoftmax) {
  const std::string path = test::OcrModelPath("ch_PP-OCRv4_rec_infer.onnx");
  ACT_SKIP_IF_EMPTY(path, "PP-OCRv4 rec");
  auto g = ir::LoadModel(path);
  ASSERT_TRUE(g.ok());
  ASSERT_TRUE(ir::Normalize(*g, path).ok());
  auto nodes = FindDistillationNodes(*g);
  ASSERT_EQ(nodes.size(), 1u);
  // The value feeds the final Softmax that produces the model's output.
  auto consumers = g->Consumers(nodes[0].value);
  ASSERT_EQ(consumers.size(), 1u);
  EXPECT_EQ(g->nodes[consumers[0]].op_type, "Softmax");
  EXPECT_TRUE(g->IsGraphOutput(g->nodes[consumers[0]].outputs[0]));
}

}  // namespace
}  // namespace act::distill
