// fold_channel_shuffle on FastestDet (../shared/data): the 13 ShuffleNetV2 channel shuffles fold into
// the producing Convs' output-channel order; ONNX Runtime's outputs before and after agree. The sinks of
// every shuffle region hold the same values as before, and only the source Convs' output order changes,
// so differences come from ORT choosing another summation blocking at most: 1e-5 relative to the
// largest output (the head ends in Sigmoid/Softmax, which do not amplify them).
#include <gtest/gtest.h>

#include <iostream>

#include "ir/checker.h"
#include "ir/onnx_io.h"
#include "ir/passes/pass.h"
#include "quant/test_graphs.h"

namespace act::test {
namespace {

TEST(FoldChannelShuffle, FastestDetSameOutputsInOrt) {
  const std::string model = SharedDataPath("fastestdet/FastestDet.onnx");
  ACT_SKIP_IF_EMPTY(model, "FastestDet");
  if (!OrtAvailable()) GTEST_SKIP() << "onnxruntime-node is not installed (deps/); skipping";
  auto loaded = ir::LoadModel(model);
  ASSERT_TRUE(loaded.ok()) << loaded.status().message();
  ir::Graph g = *loaded;
  ASSERT_TRUE(ir::Normalize(g, model).ok());
  const ir::Graph original = g;
  auto changed = ir::FoldChannelShuffle(g);
  ASSERT_TRUE(changed.ok()) << changed.status().message();
  EXPECT_TRUE(*changed);
  // 13 shuffles (Reshape, Transpose, Reshape, 2 Gathers each) gone; the head's two Transposes around its
  // Softmax stay.
  EXPECT_EQ(CountOps(g, "Gather"), 0);
  EXPECT_EQ(CountOps(g, "Reshape"), 0);
  EXPECT_EQ(CountOps(g, "Transpose"), 2);
  EXPECT_EQ(CountOps(g, "Conv"), 70);
  std::cout << "FastestDet nodes " << original.nodes.size() << " -> " << g.nodes.size() << ": Split "
            << CountOps(g, "Split") << ", Concat " << CountOps(original, "Concat") << " -> " << CountOps(g, "Concat")
            << "\n";
  ASSERT_TRUE(ir::CheckModel(g, "folded").ok());
  const std::string dir = TempDir("fold_channel_shuffle_fastestdet");
  const std::map<std::string, Tensor> inputs = {{"input.1", Random({1, 3, 352, 352}, 7, 0.0f, 1.0f)}};
  auto before = SaveAndRunOrt(original, dir, "before.onnx", inputs);
  ASSERT_TRUE(before.ok()) << before.status().message();
  auto after = SaveAndRunOrt(g, dir, "after.onnx", inputs);
  ASSERT_TRUE(after.ok()) << after.status().message();
  ExpectSameOutputs(*before, *after, 1e-5);
}

}  // namespace
}  // namespace act::test
