// INT8 metric parity: the project's PTQ (`onnx-act compress`, every quantizable layer INT8, configs in
// tests/runtime/int8_configs/) writes a QDQ file; our oneDNN runtime and ONNX Runtime then run that same
// file on the same input tensors (our data pipeline's batches, handed to ORT as .npy through
// tests/ort/run.js --batch-dir), and the same metric code scores both. The bar: the metrics agree
// within 0.1 point (0.001). Engines may still differ by one quantization step where a requantization
// lands on a rounding tie; that is what the 0.1-point margin is for — a wrong kernel costs whole points.
#include <gtest/gtest.h>

#include <cstdio>
#include <fstream>
#include <nlohmann/json.hpp>

#include "act/config.h"
#include "act/metrics.h"
#include "act/runtime.h"
#include "core/file_util.h"
#include "core/npy.h"
#include "data/loader.h"
#include "metrics/evaluator.h"
#include "metrics/metric_from_config.h"
#include "test_support.h"

namespace act::runtime {
namespace {

struct Scores {
  double ours = 0, ort = 0;
  int64_t samples = 0;
};

// Quantizes with `config` (relative to the repo), then scores our engine and ORT on the written file.
Expected<Scores> OursAndOrt(const std::string& config_rel, const std::string& name) {
  const std::string config_path = test::RepoPath(config_rel);
  const std::string dir = test::TempDir("int8_metric_" + name);
  const test::CommandResult ptq =
      test::RunOnnxAct("compress --config " + config_path + " --save-dir " + dir + " --threads 1 --quiet");
  if (ptq.exit_code != 0) return Internal("onnx-act compress failed: " + ptq.err);
  const std::string model = dir + "/model.onnx";

  ACT_ASSIGN_OR_RETURN(config::Config cfg, config::LoadConfig(config_path));
  config::DatasetConfig data = *cfg.global.eval_data;
  ACT_ASSIGN_OR_RETURN(auto dataset, data::CreateDataset(data));
  ACT_ASSIGN_OR_RETURN(auto loader, data::Loader::Create(*dataset, data::LoaderOptionsFrom(data)));
  std::vector<data::Batch> batches;
  while (true) {
    ACT_ASSIGN_OR_RETURN(std::optional<data::Batch> batch, loader->Next());
    if (!batch) break;
    batches.push_back(std::move(*batch));
  }
  // ORT: one process, one run per batch folder.
  const std::string in_dir = dir + "/ort_in", out_dir = dir + "/ort_out";
  for (size_t i = 0; i < batches.size(); ++i) {
    char sub[16];
    std::snprintf(sub, sizeof(sub), "%06zu", i);
    ACT_RETURN_IF_ERROR(MakeDirs(in_dir + "/" + sub));
    for (const auto& [input, tensor] : batches[i].inputs) {
      ACT_RETURN_IF_ERROR(WriteNpy(in_dir + "/" + sub + "/" + input + ".npy", tensor));
    }
  }
  const test::CommandResult ort = test::RunCommand("node " + test::RepoPath("tests/ort/run.js") + " --model " + model +
                                                   " --batch-dir " + in_dir + " --output-dir " + out_dir);
  if (ort.exit_code != 0) return Internal("tests/ort/run.js failed: " + ort.err);

  auto score = [&](metrics::ModelFn run) -> Expected<double> {
    ACT_ASSIGN_OR_RETURN(auto metric, metrics::CreateMetric(metrics::MetricConfigFromEval(cfg.global.eval, &data)));
    ACT_ASSIGN_OR_RETURN(metrics::EvalResult result, metrics::Evaluate(run, metrics::BatchesFrom(batches), *metric));
    return result.value;
  };
  Scores scores;
  scores.samples = 0;
  for (const data::Batch& b : batches) scores.samples += static_cast<int64_t>(b.labels.size());
  ACT_ASSIGN_OR_RETURN(auto session, Session::Create(model, {"onednn", 1}));
  Session* s = session.get();
  ACT_ASSIGN_OR_RETURN(scores.ours, score([s](const std::map<std::string, Tensor>& in) { return s->Run(in); }));
  size_t next = 0;
  ACT_ASSIGN_OR_RETURN(scores.ort, score([&](const std::map<std::string, Tensor>&) -> Expected<std::map<std::string, Tensor>> {
    char sub[16];
    std::snprintf(sub, sizeof(sub), "%06zu", next++);
    const std::string folder = out_dir + "/" + sub;
    std::ifstream index(folder + "/outputs.json");
    if (!index) return Internal(folder + "/outputs.json: missing (ORT run incomplete)");
    nlohmann::json files = nlohmann::json::parse(index);
    std::map<std::string, Tensor> outputs;
    for (const auto& [output, file] : files.items()) {
      ACT_ASSIGN_OR_RETURN(outputs[output], ReadNpy(folder + "/" + file.get<std::string>()));
    }
    return outputs;
  }));
  std::printf("%s INT8 (%lld samples): ours %.4f  ORT %.4f\n", name.c_str(), static_cast<long long>(scores.samples),
              scores.ours, scores.ort);
  return scores;
}

std::string IfExists(const std::string& path) { return std::ifstream(path).good() ? path : std::string(); }

void ExpectSameMetric(const std::string& config_rel, const std::string& name) {
  if (!test::OrtAvailable()) GTEST_SKIP() << "ONNX Runtime (node + onnxruntime-node) is not installed";
  auto scores = OursAndOrt(config_rel, name);
  ASSERT_TRUE(scores.ok()) << scores.status().message();
  EXPECT_NEAR(scores->ours, scores->ort, 0.001) << name << ": our INT8 metric vs ORT's on the same file";
}

TEST(RuntimeInt8Metric, MnistCnnTop1) {
  ACT_SKIP_IF_EMPTY(test::SharedDataPath("mnist/mnist_cnn.onnx"), "mnist_cnn.onnx");
  ExpectSameMetric("tests/runtime/int8_configs/mnist_cnn.yaml", "mnist");
}

// Residual Adds quantized (is_full_quantize): DQ(zp 0), DQ(zp 128) → Add → Relu → Q read two differently
// produced u8 tensors (a Conv → Relu → Q and a Conv → Q with zero point 128). Read 0.3425 against ORT's
// 0.9184 while the zero-point dequantization went through oneDNN's reorder.
TEST(RuntimeInt8Metric, FashionMnistFullQuantizeTop1) {
  // The config reads Debian's dataset-fashion-mnist package (the path examples/fashion_mnist/ptq.yaml uses).
  ACT_SKIP_IF_EMPTY(IfExists("/usr/share/datasets/fashion-mnist/t10k-images-idx3-ubyte.gz"), "dataset-fashion-mnist");
  ACT_SKIP_IF_EMPTY(IfExists(test::RepoPath("examples/fashion_mnist/fashion_cnn.onnx")), "fashion_cnn.onnx");
  ExpectSameMetric("tests/runtime/int8_configs/fashion_mnist.yaml", "fashion_mnist");
}

TEST(RuntimeInt8Metric, FastestDetCoco128Map50) {
  ACT_SKIP_IF_EMPTY(test::SharedDataPath("fastestdet/FastestDet.onnx"), "FastestDet.onnx");
  ACT_SKIP_IF_EMPTY(test::SharedDataPath("coco128/images"), "coco128");
  ExpectSameMetric("tests/runtime/int8_configs/fastestdet_coco128.yaml", "fastestdet");
}

TEST(RuntimeInt8Metric, PpOcrV4RecOcrLinesExactMatch) {
  ACT_SKIP_IF_EMPTY(test::OcrModelPath("ch_PP-OCRv4_rec_infer.onnx"), "PP-OCRv4 recognizer");
  ExpectSameMetric("tests/runtime/int8_configs/ppocrv4_rec_ocr_lines.yaml", "ppocrv4_rec");
}

}  // namespace
}  // namespace act::runtime
