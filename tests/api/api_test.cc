// The C++ API (include/act/act.h) on the real MNIST CNN: a Dataset and an evaluation given in code (the
// file-form callback runs each candidate in ONNX Runtime), the report it returns; and an evaluation that
// returns NaN stops the job with a clear error and nothing written.
#include <gtest/gtest.h>

#include <cmath>
#include <filesystem>

#include "act/act.h"
#include "data/loader.h"
#include "data/registry.h"
#include "mnist_fixture.h"
#include "test_support.h"

namespace act::test {
namespace {

namespace fs = std::filesystem;

std::shared_ptr<data::Dataset> MakeDataset(const config::DatasetConfig& c) {
  auto d = data::CreateDataset(c);
  return d.ok() ? std::shared_ptr<data::Dataset>(std::move(d).value()) : nullptr;
}

config::Config PtqConfig() {
  config::Config config;
  config.global.max_metric_loss = 0.01;
  config::QuantPostConfig qp;
  qp.algo = "hist";
  qp.hist_percent = 0.9999;
  qp.batch_size = 32;
  qp.batch_nums = 8;
  config.quant_post = qp;
  return config;
}

size_t CountFiles(const std::string& dir) {
  std::error_code ec;
  if (!fs::exists(dir, ec)) return 0;
  return static_cast<size_t>(std::distance(fs::directory_iterator(dir), fs::directory_iterator()));
}

TEST(AutoCompression, DatasetAndFileCallbackInCode) {
  const std::string model = SharedDataPath("mnist/mnist_cnn.onnx");
  ACT_SKIP_IF_EMPTY(model, "mnist_cnn.onnx");
  if (!OrtAvailable()) GTEST_SKIP() << "onnxruntime-node is not installed (deps/); skipping";
  auto calibration = MakeDataset(MnistTestDigits(0, 256));
  ASSERT_NE(calibration, nullptr);
  // The evaluation: top-1 of the candidate file in ONNX Runtime on digits 1000-1999.
  auto eval_set = MakeDataset(MnistTestDigits(0, -1));
  data::LoaderOptions lo;
  lo.skip = 1000;
  lo.limit = 1000;
  lo.batch_size = 1000;
  auto loader = data::Loader::Create(*eval_set, lo);
  ASSERT_TRUE(loader.ok());
  auto batch = (*loader)->Next();
  ASSERT_TRUE(batch.ok() && batch->has_value());
  const data::Batch eval_batch = std::move(**batch);
  int calls = 0;
  auto callback = [&](const std::string& file) -> Expected<double> {
    ++calls;
    ACT_ASSIGN_OR_RETURN(auto outputs, RunOrt(file, eval_batch.inputs));
    const Tensor& logits = outputs.begin()->second;
    int64_t correct = 0;
    for (int64_t i = 0; i < eval_batch.size(); ++i) {
      const float* row = logits.data<float>() + i * 10;
      correct += std::max_element(row, row + 10) - row == eval_batch.labels[i]->class_id;
    }
    return static_cast<double>(correct) / eval_batch.size();
  };

  const std::string out = TempDir("api_mnist");
  Options options;
  options.model_path = model;
  options.save_dir = out;
  options.config = PtqConfig();
  options.train_data = calibration;
  options.eval_callback = callback;
  options.show_progress = false;
  AutoCompression ac(options);
  auto report = ac.Compress();
  ASSERT_TRUE(report.ok()) << report.status().message();
  EXPECT_EQ(calls, 3) << "FP32, the quant_post candidate, and the written file";
  EXPECT_EQ(report->metric_name, "eval_callback");
  EXPECT_GT(report->fp32_metric, 0.97);
  EXPECT_LE(report->fp32_metric - report->int8_metric, 0.01);
  EXPECT_TRUE(report->within_budget);
  EXPECT_LE(report->size_ratio, 0.26);
  EXPECT_EQ(report->quantized_nodes.size(), 4u);
  EXPECT_EQ(report->output_model, out + "/model.onnx");
  EXPECT_EQ(CountFiles(out), 5u);
}

TEST(AutoCompression, NanEvaluationStopsWithNothingWritten) {
  const std::string model = SharedDataPath("mnist/mnist_cnn.onnx");
  ACT_SKIP_IF_EMPTY(model, "mnist_cnn.onnx");
  const std::string out = TempDir("api_nan");
  Options options;
  options.model_path = model;
  options.save_dir = out + "/result";
  options.config = PtqConfig();
  options.train_data = MakeDataset(MnistTestDigits(0, 64));
  options.show_progress = false;
  options.eval_runner_callback = [](const RunModelFn&) -> Expected<double> { return std::nan(""); };
  AutoCompression ac(options);
  auto report = ac.Compress();
  ASSERT_FALSE(report.ok());
  EXPECT_EQ(report.status().code(), StatusCode::kFailure);
  EXPECT_NE(report.status().message().find("nan"), std::string::npos) << report.status().message();
  EXPECT_EQ(CountFiles(out + "/result"), 0u);
}

TEST(AutoCompression, MissingModelIsNotFound) {
  Options options;
  options.model_path = "no/such/model.onnx";
  options.config = PtqConfig();
  options.show_progress = false;
  AutoCompression ac(options);
  auto report = ac.Compress();
  ASSERT_FALSE(report.ok());
  EXPECT_EQ(report.status().code(), StatusCode::kNotFound);
  EXPECT_NE(report.status().message().find("no/such/model.onnx"), std::string::npos);
}

}  // namespace
}  // namespace act::test
