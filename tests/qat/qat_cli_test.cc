// `onnx-act compress` with QuantAware: bad distillation / training settings stop with a one-line error and
// exit code 2 (DESIGN.md §5) before any training — wrong origin_metric (the FP32 model is scored first), a node
// name that does not exist, and an odd-length (teacher, student) pair list. And quant_post_first after a
// QuantPost section: the training starts from the PTQ model the pipeline chose.
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

// The number after `label` in `text` (-1 when absent).
double NumberAfter(const std::string& text, const std::string& label) {
  const size_t at = text.find(label);
  return at == std::string::npos ? -1.0 : std::atof(text.c_str() + at + label.size());
}

TEST_F(QatCli, QuantPostFirstStartsFromTheChosenPtq) {
  const std::string dir = TempDir("qat_cli_start");
  std::string path = Config(dir, "QuantPost: {algo: mse, bias_correction: true, batch_size: 32, batch_nums: 2}\n");
  {
    std::ifstream in(path);
    std::string text((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
    const std::string from = "QuantAware: {weight_bits: 4}";
    text.replace(text.find(from), from.size(), "QuantAware: {quant_post_first: true}");
    std::ofstream(path) << text;
  }
  auto r = RunOnnxAct("compress --quiet --engine onednn --config " + path);
  ASSERT_EQ(r.exit_code, 0) << r.err;
  std::ifstream in(dir + "/out/report.json");
  const std::string report((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
  EXPECT_NE(report.find("training starts from the best PTQ so far (mse, bias correction)"), std::string::npos)
      << report;
  // Step 0 is the PTQ model simulated by the executor (fake quantization replaying ORT's fused kernels);
  // quant_post's score is the exported QDQ file run by the oneDNN runtime: two implementations, one model.
  const double ptq = NumberAfter(report, "quant_post: top1 ");
  const double start = NumberAfter(report, "step 0 (the PTQ start) simulated: ");
  ASSERT_GT(ptq, 0.9) << report;
  EXPECT_NEAR(start, ptq, 1e-4) << report;
}

}  // namespace
}  // namespace act::test
