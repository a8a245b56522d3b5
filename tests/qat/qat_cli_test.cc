// `onnx-act compress` with QuantAware: bad distillation / training settings stop with a one-line error and
// exit code 2 (DESIGN.md §5) before any training — wrong origin_metric (the FP32 model is scored first), a node
// name that does not exist, and an odd-length (teacher, student) pair list.
#include <gtest/gtest.h>

#include <cstdlib>
#include <fstream>

#include "test_support.h"

namespace act::test {
namespace {

std::string Config(const std::string& dir, const std::string& extra) {
  const std::string images = SharedDataPath("mnist/t10k-images-idx3-ubyte.gz");
  const std::string labels = SharedDataPath("mnist/t10k-labels-idx1-ubyte.gz");
  const std::string data = "    type: idx\n    images: " + images + "\n    labels: " + labels +
                           "\n    transforms: [{normalize: {scale: 0.0039215686, mean: [0.5], std: [0.5]}}]\n";
  const std::string text = "Global:\n  model: " + SharedDataPath("mnist/mnist_cnn.onnx") + "\n  save_dir: " + dir +
                           "/out\n  train_data:\n" + data + "    limit: 64\n  eval_data:\n" + data +
                           "    skip: 1000\n    limit: 200\n    batch_size: 200\n  eval: {metric: top1}\n"
                           "QuantAware: {weight_bits: 4}\nTrainConfig: {train_iter: 2, eval_iter: 1}\n" + extra;
  const std::string path = dir + "/config.yaml";
  std::ofstream(path) << text;
  if (const char* keep = std::getenv("ACT_QAT_KEEP_CONFIG")) std::ofstream(keep) << text;
  return path;
}

class QatCli : public ::testing::Test {
 protected:
  void SetUp() override {
    if (SharedDataPath("mnist/mnist_cnn.onnx").empty()) GTEST_SKIP() << "../shared/data missing; skipping";
  }
};

TEST_F(QatCli, WrongOriginMetricIsExit2) {
  const std::string dir = TempDir("qat_cli_origin");
  const std::string path = Config(dir, "");  // the FP32 model scores ~0.98; origin_metric 0.5 is far off
  {
    std::ifstream in(path);
    std::string text((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
    const std::string from = "TrainConfig: {train_iter: 2, eval_iter: 1}";
    text.replace(text.find(from), from.size(), "TrainConfig: {train_iter: 2, eval_iter: 1, origin_metric: 0.5}");
    std::ofstream(path) << text;
  }
  auto r = RunOnnxAct("compress --quiet --config " + path);
  EXPECT_EQ(r.exit_code, 2) << r.err;
  EXPECT_NE(r.err.find("origin_metric"), std::string::npos) << r.err;
  EXPECT_NE(r.err.find("probably wrong"), std::string::npos) << r.err;
}

TEST_F(QatCli, UnknownNodeIsExit2NamingIt) {
  const std::string dir = TempDir("qat_cli_node");
  auto r = RunOnnxAct("compress --quiet --config " + Config(dir, "Distillation: {node: [fc9_nope]}\n"));
  EXPECT_EQ(r.exit_code, 2) << r.err;
  EXPECT_NE(r.err.find("fc9_nope"), std::string::npos) << r.err;
}

TEST_F(QatCli, OddPairListIsExit2) {
  const std::string dir = TempDir("qat_cli_pairs");
  const std::string teacher = SharedDataPath("mnist/mnist_cnn_b.onnx");
  auto r = RunOnnxAct("compress --quiet --config " +
                      Config(dir, "Distillation: {teacher_model_dir: " + teacher + ", node: [output, output, output]}\n"));
  EXPECT_EQ(r.exit_code, 2) << r.err;
  EXPECT_NE(r.err.find("even length"), std::string::npos) << r.err;
}

}  // namespace
}  // namespace act::test
