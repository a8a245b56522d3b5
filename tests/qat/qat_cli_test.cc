// `onnx-act compress` with QuantAware: bad distillation / training settings stop with a one-line error and
// exit code 2 (DESIGN.md §5) before any training — wrong origin_metric (the FP32 model is scored first), a node
// name that does not exist, and an odd-length (teacher, student) pair list. And quant_post_first after a
// QuantPost section: the training starts from the PTQ model the pipeline chose. And a run killed with
// SIGKILL after its second checkpoint continues with --resume.
#include <gtest/gtest.h>

#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <chrono>
#include <cstdlib>
#include <fstream>
#include <thread>
#include <utility>
#include <vector>

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

std::string ReadAll(const std::string& path) {
  std::ifstream in(path);
  return std::string((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
}

// Rewrites the file at `path` with each `from` replaced by its `to` (the config variants of the tests below).
void Edit(const std::string& path, const std::vector<std::pair<std::string, std::string>>& edits) {
  std::string text = ReadAll(path);
  for (const auto& [from, to] : edits) text.replace(text.find(from), from.size(), to);
  std::ofstream(path) << text;
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
  Edit(path, {{"TrainConfig: {train_iter: 2, eval_iter: 1}",
               "TrainConfig: {train_iter: 2, eval_iter: 1, origin_metric: 0.5}"}});
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
  Edit(path, {{"QuantAware: {weight_bits: 4}", "QuantAware: {quant_post_first: true}"}});
  auto r = RunOnnxAct("compress --quiet --engine onednn --config " + path);
  ASSERT_EQ(r.exit_code, 0) << r.err;
  const std::string report = ReadAll(dir + "/out/report.json");
  EXPECT_NE(report.find("training starts from the best PTQ so far (mse, bias correction)"), std::string::npos)
      << report;
  // Step 0 is the PTQ model simulated by the executor (fake quantization replaying ORT's fused kernels);
  // quant_post's score is the exported QDQ file run by the oneDNN runtime: two implementations, one model.
  const double ptq = NumberAfter(report, "quant_post: top1 ");
  const double start = NumberAfter(report, "step 0 (the PTQ start) simulated: ");
  ASSERT_GT(ptq, 0.9) << report;
  EXPECT_NEAR(start, ptq, 1e-4) << report;
}

// The "step" of the checkpoint's JSON header line (-1 while there is no checkpoint).
int64_t CheckpointStep(const std::string& path) {
  std::ifstream in(path);
  std::string header;
  if (!in || !std::getline(in, header)) return -1;
  const size_t at = header.find("\"step\":");
  return at == std::string::npos ? -1 : std::atoll(header.c_str() + at + 7);
}

TEST_F(QatCli, SigkillAfterSecondCheckpointThenResume) {
  const std::string dir = TempDir("qat_cli_kill");
  std::string path = Config(dir, "");
  // 4-bit weights lose ~1.5 points here: a wide budget.
  Edit(path, {{"TrainConfig: {train_iter: 2, eval_iter: 1}", "TrainConfig: {train_iter: 120, eval_iter: 30}"},
              {"  eval: {metric: top1}\n", "  eval: {metric: top1}\n  max_metric_loss: 0.1\n"}});
  const std::string command = ShellQuote(OnnxActBinary()) + " compress --quiet --threads 2 --config " + ShellQuote(path);
  // 1. Start the run, SIGKILL it as soon as its checkpoint holds the 2nd evaluation (step 60).
  const std::string checkpoint = dir + "/out/qat_checkpoint.bin";
  const pid_t pid = fork();
  ASSERT_GE(pid, 0);
  if (pid == 0) {
    const std::string shell = "exec " + command + " > " + ShellQuote(dir + "/killed.out") + " 2>&1";
    execl("/bin/sh", "sh", "-c", shell.c_str(), static_cast<char*>(nullptr));
    _exit(127);
  }
  int64_t step_at_kill = -1;
  const auto deadline = std::chrono::steady_clock::now() + std::chrono::minutes(10);
  int status = 0;
  bool exited = false;
  while (std::chrono::steady_clock::now() < deadline) {
    step_at_kill = CheckpointStep(checkpoint);
    if (step_at_kill >= 60) break;
    if (waitpid(pid, &status, WNOHANG) == pid) {
      exited = true;
      break;
    }
    std::this_thread::sleep_for(std::chrono::milliseconds(20));
  }
  if (!exited) {
    kill(pid, SIGKILL);
    waitpid(pid, &status, 0);
  }
  ASSERT_FALSE(exited) << "the run ended before its 2nd checkpoint: " << ReadAll(dir + "/killed.out");
  ASSERT_TRUE(WIFSIGNALED(status) && WTERMSIG(status) == SIGKILL);
  ASSERT_GE(step_at_kill, 60);
  EXPECT_FALSE(std::ifstream(dir + "/out/model.onnx").good()) << "a killed run must not leave a model";

  // 2. Resume: it starts from the checkpoint (at most one eval interval lost) and finishes.
  auto resumed = RunCommand(command + " --resume");
  ASSERT_EQ(resumed.exit_code, 0) << resumed.err;
  const std::string report = ReadAll(dir + "/out/report.json");
  const double resumed_from = NumberAfter(report, "\"resumed_from_step\": \"");
  EXPECT_GE(resumed_from, static_cast<double>(step_at_kill)) << report;
  EXPECT_LT(resumed_from, static_cast<double>(step_at_kill) + 30) << report;
  EXPECT_NE(report.find("\"steps\": \"120\""), std::string::npos) << report;

  // 3. Against an uninterrupted run of the same config: the same metric within noise (200 eval images, two
  //    training threads: not bit-reproducible; 1 point = 2 images).
  const std::string straight_dir = TempDir("qat_cli_straight");
  std::ofstream(straight_dir + "/config.yaml") << ReadAll(path);
  Edit(straight_dir + "/config.yaml", {{"save_dir: " + dir + "/out", "save_dir: " + straight_dir + "/out"}});
  auto straight = RunOnnxAct("compress --quiet --threads 2 --config " + ShellQuote(straight_dir + "/config.yaml"));
  ASSERT_EQ(straight.exit_code, 0) << straight.err;
  const double resumed_int8 = NumberAfter(resumed.out, " int8=");
  const double straight_int8 = NumberAfter(straight.out, " int8=");
  std::cout << "killed at checkpoint step " << step_at_kill << ", resumed from " << resumed_from << "; INT8 top-1 "
            << resumed_int8 << " resumed vs " << straight_int8 << " uninterrupted\n";
  ASSERT_GT(straight_int8, 0.9);
  EXPECT_NEAR(resumed_int8, straight_int8, 0.01);
}

}  // namespace
}  // namespace act::test
