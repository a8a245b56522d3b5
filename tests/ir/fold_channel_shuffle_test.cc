// fold_channel_shuffle: a ShuffleNetV2-like tiny graph (two Concat → Reshape/Transpose/Reshape/Gather
// shuffles) and FastestDet itself, run in ONNX Runtime before and after the pass. The pass only permutes
// the order in which the source Convs produce their channels and rebuilds every tensor read outside the
// shuffle region from the same values, so outputs must agree to float rounding of identical sums:
// each output channel of a permuted Conv is the same dot product over the same inputs, so we allow 1e-6
// relative (ORT may pick a different blocking for a Conv whose weights moved, reordering the sum).
#include <gtest/gtest.h>

#include "ir/checker.h"
#include "ir/onnx_io.h"
#include "ir/passes/pass.h"
#include "quant/test_graphs.h"

namespace act::test {
namespace {

ir::Graph ShuffleGraph() {
  ir::Graph g = NewGraph();
  g.inputs.push_back(Value("x", {1, 4, 6, 6}));
  uint32_t seed = 1;
  auto conv = [&](const std::string& in, const std::string& out, int64_t cin, int64_t cout, int64_t k) {
    g.initializers[out + "_w"] = Random({cout, cin, k, k}, seed++);
    g.initializers[out + "_b"] = Random({cout}, seed++);
    g.nodes.push_back(Op("Conv", {in, out + "_w", out + "_b"}, {out},
                         {{"kernel_shape", ir::Attribute::Ints({k, k})},
                          {"pads", ir::Attribute::Ints({k / 2, k / 2, k / 2, k / 2})}}));
  };
  // One ShuffleNet channel shuffle of t [1, 8, 6, 6] into its even and odd channels.
  g.initializers["shape3"] = Tensor::FromVector<int64_t>({3}, {4, 2, 36});
  g.initializers["shape5"] = Tensor::FromVector<int64_t>({5}, {2, -1, 4, 6, 6});
  g.initializers["zero"] = Tensor::Scalar<int64_t>(0);
  g.initializers["one"] = Tensor::Scalar<int64_t>(1);
  auto shuffle = [&](const std::string& t, const std::string& even, const std::string& odd) {
    g.nodes.push_back(Op("Reshape", {t, "shape3"}, {t + "_r"}));
    g.nodes.push_back(Op("Transpose", {t + "_r"}, {t + "_t"}, {{"perm", ir::Attribute::Ints({1, 0, 2})}}));
    g.nodes.push_back(Op("Reshape", {t + "_t", "shape5"}, {t + "_r5"}));
    g.nodes.push_back(Op("Gather", {t + "_r5", "zero"}, {even}, {{"axis", ir::Attribute::Int(0)}}));
    g.nodes.push_back(Op("Gather", {t + "_r5", "one"}, {odd}, {{"axis", ir::Attribute::Int(0)}}));
  };
  const auto axis1 = std::map<std::string, ir::Attribute>{{"axis", ir::Attribute::Int(1)}};
  conv("x", "a_pre", 4, 4, 1);
  g.nodes.push_back(Op("Relu", {"a_pre"}, {"a"}));
  conv("x", "b", 4, 4, 3);
  g.nodes.push_back(Op("Concat", {"a", "b"}, {"t0"}, axis1));
  shuffle("t0", "e1", "o1");
  conv("o1", "m1_pre", 4, 4, 1);
  g.nodes.push_back(Op("Relu", {"m1_pre"}, {"m1"}));
  g.nodes.push_back(Op("Concat", {"e1", "m1"}, {"t1"}, axis1));
  shuffle("t1", "e2", "o2");
  conv("o2", "m2", 4, 4, 3);
  g.nodes.push_back(Op("Concat", {"e2", "m2"}, {"y"}, axis1));
  conv("y", "z", 8, 3, 3);  // y is read outside the region and is a graph output
  g.outputs.push_back(Value("y", {1, 8, 6, 6}));
  g.outputs.push_back(Value("z", {1, 3, 6, 6}));
  return g;
}

TEST(FoldChannelShuffle, TinyShuffleNetSameOutputsInOrt) {
  if (!OrtAvailable()) GTEST_SKIP() << "onnxruntime-node is not installed (deps/); skipping";
  ir::Graph g = ShuffleGraph();
  ASSERT_TRUE(ir::InferShapes(g, "test").ok());
  ir::Graph original = g;
  const std::map<std::string, Tensor> original_weights(g.initializers.begin(), g.initializers.end());
  std::vector<std::vector<float>> weight_values;
  for (const auto& [name, t] : original_weights) if (t.dtype() == DType::kFloat32) weight_values.push_back(t.ToVector<float>());

  auto changed = ir::FoldChannelShuffle(g);
  ASSERT_TRUE(changed.ok()) << changed.status().message();
  EXPECT_TRUE(*changed);
  EXPECT_EQ(CountOps(g, "Transpose"), 0);
  EXPECT_EQ(CountOps(g, "Gather"), 0);
  EXPECT_EQ(CountOps(g, "Reshape"), 0);
  EXPECT_GE(CountOps(g, "Split"), 1);
  EXPECT_EQ(CountOps(g, "Conv"), 5);
  ASSERT_TRUE(g.Validate().ok());
  ASSERT_TRUE(ir::CheckModel(g, "folded").ok());
  // Copy-on-write: the original graph's weights are untouched.
  size_t k = 0;
  for (const auto& [name, t] : original_weights) {
    if (t.dtype() != DType::kFloat32) continue;
    EXPECT_EQ(original.initializers.at(name).ToVector<float>(), weight_values[k++]) << name;
  }
  // Idempotent.
  ir::Graph again = g;
  auto second = ir::FoldChannelShuffle(again);
  ASSERT_TRUE(second.ok());
  EXPECT_FALSE(*second);

  const std::string dir = TempDir("fold_channel_shuffle");
  const std::map<std::string, Tensor> inputs = {{"x", Random({1, 4, 6, 6}, 99)}};
  auto before = SaveAndRunOrt(original, dir, "before.onnx", inputs);
  ASSERT_TRUE(before.ok()) << before.status().message();
  auto after = SaveAndRunOrt(g, dir, "after.onnx", inputs);
  ASSERT_TRUE(after.ok()) << after.status().message();
  ExpectSameOutputs(*before, *after, 1e-6);
}

TEST(FoldChannelShuffle, LeavesPlainConcatAlone) {
  ir::Graph g = NewGraph();
  g.inputs.push_back(Value("x", {1, 2, 4, 4}));
  g.initializers["w"] = Random({2, 2, 1, 1}, 5);
  g.nodes.push_back(Op("Conv", {"x", "w"}, {"a"}));
  g.nodes.push_back(Op("Concat", {"a", "x"}, {"y"}, {{"axis", ir::Attribute::Int(1)}}));
  g.outputs.push_back(Value("y", {1, 4, 4, 4}));
  ASSERT_TRUE(ir::InferShapes(g, "test").ok());
  auto changed = ir::FoldChannelShuffle(g);
  ASSERT_TRUE(changed.ok());
  EXPECT_FALSE(*changed);
}

TEST(PadConvInputChannels, ImageConvSameOutputsInOrt) {
  if (!OrtAvailable()) GTEST_SKIP() << "onnxruntime-node is not installed (deps/); skipping";
  ir::Graph g = NewGraph();
  g.inputs.push_back(Value("x", {1, 3, 9, 9}));
  g.initializers["w"] = Random({5, 3, 3, 3}, 3);
  g.initializers["b"] = Random({5}, 4);
  g.nodes.push_back(Op("Conv", {"x", "w", "b"}, {"y"},
                       {{"pads", ir::Attribute::Ints({1, 1, 1, 1})}, {"strides", ir::Attribute::Ints({2, 2})}}));
  g.initializers["w2"] = Random({2, 5, 1, 1}, 5);
  g.nodes.push_back(Op("Conv", {"y", "w2"}, {"z"}));  // 5 input channels: left alone
  g.outputs.push_back(Value("z", {1, 2, 5, 5}));
  ASSERT_TRUE(ir::InferShapes(g, "test").ok());
  const ir::Graph original = g;
  const std::vector<float> w = original.initializers.at("w").ToVector<float>();
  auto changed = ir::PadConvInputChannels(g);
  ASSERT_TRUE(changed.ok()) << changed.status().message();
  EXPECT_TRUE(*changed);
  EXPECT_EQ(CountOps(g, "Pad"), 1);
  EXPECT_EQ(g.Initializer(g.nodes.back().Input(1)) == nullptr, false);
  EXPECT_EQ(original.initializers.at("w").ToVector<float>(), w);  // copy-on-write
  ASSERT_TRUE(ir::CheckModel(g, "padded").ok());
  ir::Graph again = g;
  auto second = ir::PadConvInputChannels(again);
  ASSERT_TRUE(second.ok());
  EXPECT_FALSE(*second);
  const std::string dir = TempDir("pad_conv_input_channels");
  const std::map<std::string, Tensor> inputs = {{"x", Random({1, 3, 9, 9}, 11)}};
  auto before = SaveAndRunOrt(original, dir, "before.onnx", inputs);
  ASSERT_TRUE(before.ok()) << before.status().message();
  auto after = SaveAndRunOrt(g, dir, "after.onnx", inputs);
  ASSERT_TRUE(after.ok()) << after.status().message();
  // Zero channels times zero weights add exact zeros; ORT may sum in another order: 1e-6 relative.
  ExpectSameOutputs(*before, *after, 1e-6);
}

}  // namespace
}  // namespace act::test
