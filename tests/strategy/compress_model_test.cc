// `onnx-act compress` end to end on real models, with the written INT8 file measured in ONNX Runtime (the
// independent reference), not only in our own engines; and the refusals: bad configs, a model with nothing
// to quantize — each an exit code 2, a one-line error naming the key, and nothing written.
#include <gtest/gtest.h>

#include <chrono>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <nlohmann/json.hpp>
#include <sstream>

#include "act/config.h"
#include "core/file_util.h"
#include "data/loader.h"
#include "data/registry.h"
#include "ir/onnx_io.h"
#include "mnist_fixture.h"
#include "quant/test_graphs.h"
#include "test_support.h"

namespace act::test {
namespace {

namespace fs = std::filesystem;

// The last non-empty line of `text`.
std::string LastLine(const std::string& text) {
  std::istringstream in(text);
  std::string line, last;
  while (std::getline(in, line)) {
    if (!line.empty()) last = line;
  }
  return last;
}

// Parses "metric fp32=<v> int8=<v> size_ratio=<v>".
bool ParseMetricLine(const std::string& line, double* fp32, double* int8, double* ratio) {
  return std::sscanf(line.c_str(), "metric fp32=%lf int8=%lf size_ratio=%lf", fp32, int8, ratio) == 3;
}

// All samples of a config's eval data set as one batch.
Expected<data::Batch> EvalBatch(const std::string& config_path) {
  ACT_ASSIGN_OR_RETURN(config::Config c, config::LoadConfig(config_path));
  if (!c.global.eval_data) return InvalidInput("no eval_data");
  const config::DatasetConfig& dc = *c.global.eval_data;
  std::unique_ptr<data::Dataset> dataset;
  for (const auto& t : data::DatasetTypes()) {
    if (t.name == dc.type) {
      ACT_ASSIGN_OR_RETURN(dataset, t.create(dc));
    }
  }
  if (!dataset) return InvalidInput("unknown type");
  data::LoaderOptions lo = data::LoaderOptionsFrom(dc);
  lo.batch_size = 1 << 20;
  ACT_ASSIGN_OR_RETURN(auto loader, data::Loader::Create(*dataset, lo));
  ACT_ASSIGN_OR_RETURN(std::optional<data::Batch> batch, loader->Next());
  return std::move(*batch);
}

// Op counts of ORT's optimized graph (tests/ort/optimize.js --counts).
nlohmann::json OrtOptimizedCounts(const std::string& model, const std::string& dir) {
  CommandResult r = RunCommand("node " + RepoPath("tests/ort/optimize.js") + " --model " + model + " --out " + dir +
                               "/ort_optimized.onnx --counts");
  EXPECT_EQ(r.exit_code, 0) << r.err;
  return r.exit_code == 0 ? nlohmann::json::parse(LastLine(r.out)) : nlohmann::json::object();
}

std::vector<std::string> FilesIn(const std::string& dir) {
  std::vector<std::string> names;
  std::error_code ec;
  if (!fs::exists(dir, ec)) return names;
  for (const auto& e : fs::directory_iterator(dir)) names.push_back(e.path().filename().string());
  return names;
}

TEST(CompressMnist, Int8InOrtWithinBudgetSmallAndFused) {
  const std::string model = SharedDataPath("mnist/mnist_cnn.onnx");
  ACT_SKIP_IF_EMPTY(model, "mnist_cnn.onnx");
  if (!OrtAvailable()) GTEST_SKIP() << "onnxruntime-node is not installed (deps/); skipping";
  const std::string config = RepoPath("examples/ptq/mnist_cnn.yaml");
  const std::string out = TempDir("compress_mnist");
  const auto start = std::chrono::steady_clock::now();
  CommandResult r = RunOnnxAct("compress --config " + config + " --save-dir " + out + " --quiet");
  const double seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
  ASSERT_EQ(r.exit_code, 0) << r.err;
  double fp32 = 0, int8 = 0, ratio = 0;
  ASSERT_TRUE(ParseMetricLine(LastLine(r.out), &fp32, &int8, &ratio)) << r.out;
  for (const char* f : {"model.onnx", "report.json", "report.html", "config.resolved.yaml", "calibration.json"}) {
    EXPECT_TRUE(FileExists(out + "/" + f)) << f;
  }
  EXPECT_EQ(FilesIn(out).size(), 5u) << "no temporary files left behind";

  // Accuracy of both files in ONNX Runtime on digits 1000-9999.
  auto batch = EvalBatch(config);
  ASSERT_TRUE(batch.ok()) << batch.status().message();
  ASSERT_EQ(batch->size(), 9000);
  auto fp32_out = RunOrt(model, batch->inputs);
  auto int8_out = RunOrt(out + "/model.onnx", batch->inputs);
  ASSERT_TRUE(fp32_out.ok() && int8_out.ok()) << (fp32_out.ok() ? int8_out.status() : fp32_out.status()).message();
  const double ort_fp32 = Top1Fraction(fp32_out->begin()->second, batch->labels);
  const double ort_int8 = Top1Fraction(int8_out->begin()->second, batch->labels);
  std::printf("MNIST CNN: ORT top1 fp32=%.4f int8=%.4f; ours fp32=%.4f int8=%.4f; size %.4f; %.1f s\n", ort_fp32,
              ort_int8, fp32, int8, ratio, seconds);
  EXPECT_NEAR(ort_fp32, 0.9877, 0.0015) << "the FP32 model's known accuracy on these digits";
  EXPECT_LE(ort_fp32 - ort_int8, 0.001) << "issue 5: at most 0.1 point lost, measured in ORT";
  EXPECT_NEAR(int8, ort_int8, 0.001) << "our measurement of the written file agrees with ORT's";
  EXPECT_LE(ratio, 0.26);
  // Every Conv and Gemm runs as an integer kernel in ORT.
  auto counts = OrtOptimizedCounts(out + "/model.onnx", out + "/..");
  EXPECT_EQ(counts.value("QLinearConv", 0), 2) << counts.dump();
  EXPECT_EQ(counts.value("Conv", 0) + counts.value("FusedConv", 0), 0) << counts.dump();
  EXPECT_EQ(counts.value("QGemm", 0) + counts.value("QLinearMatMul", 0) + counts.value("MatMulIntegerToFloat", 0),
            2)
      << counts.dump();
  // The report names the engine and holds the trial.
  auto report = nlohmann::json::parse(*ReadFileToString(out + "/report.json"));
  EXPECT_FALSE(report["metric"]["measured_with"].get<std::string>().empty());
  EXPECT_EQ(report["trials"].size(), 1u);
  EXPECT_TRUE(report["metric"]["within_budget"].get<bool>());
}

// The text-transformer fixture (4 encoder layers, attention MatMuls): calibrated on 256 training phrases,
// measured in ORT on the 872 SST-2 dev sentences.
TEST(CompressSst2, Int8InOrtWithinHalfAPoint) {
  const std::string dev = SharedDataPath("sst2/dev.tsv");
  ACT_SKIP_IF_EMPTY(dev, "SST-2 dev.tsv");
  if (!OrtAvailable()) GTEST_SKIP() << "onnxruntime-node is not installed (deps/); skipping";
  const std::string config = RepoPath("examples/ptq/sst2_bert.yaml");
  const std::string model = RepoPath("examples/sst2_bert/model.onnx");
  const std::string out = TempDir("compress_sst2");
  CommandResult r = RunOnnxAct("compress --config " + config + " --save-dir " + out + " --quiet");
  ASSERT_EQ(r.exit_code, 0) << r.err;
  double fp32 = 0, int8 = 0, ratio = 0;
  ASSERT_TRUE(ParseMetricLine(LastLine(r.out), &fp32, &int8, &ratio)) << r.out;

  auto batch = EvalBatch(config);
  ASSERT_TRUE(batch.ok()) << batch.status().message();
  ASSERT_EQ(batch->size(), 872);
  auto fp32_out = RunOrt(model, batch->inputs);
  auto int8_out = RunOrt(out + "/model.onnx", batch->inputs);
  ASSERT_TRUE(fp32_out.ok() && int8_out.ok()) << (fp32_out.ok() ? int8_out.status() : fp32_out.status()).message();
  const double ort_fp32 = Top1Fraction(fp32_out->begin()->second, batch->labels);
  const double ort_int8 = Top1Fraction(int8_out->begin()->second, batch->labels);
  std::printf("SST-2 transformer: ORT accuracy fp32=%.4f int8=%.4f; ours fp32=%.4f int8=%.4f; size %.4f\n",
              ort_fp32, ort_int8, fp32, int8, ratio);
  EXPECT_NEAR(ort_fp32, 0.7856, 0.0015) << "the FP32 fixture's known dev accuracy (examples/sst2_bert)";
  EXPECT_LE(ort_fp32 - ort_int8, 0.005) << "issue 5: at most 0.5 point lost, measured in ORT";
  EXPECT_NEAR(int8, ort_int8, 0.001) << "our measurement of the written file agrees with ORT's";
  // Issue 5's 26%: the int8 token and position tables (lookup_table_v2) included, 1.85 M weights at ~1 byte
  // each plus scales and the float LayerNorm/bias vectors (0.2599 recorded).
  EXPECT_LE(ratio, 0.26);
  // Every weight MatMul (4 layers x Q, K, V, output, two FFN, plus the classifier) runs as an integer
  // kernel in ORT; the 8 activation x activation attention MatMuls stay float by design.
  auto counts = OrtOptimizedCounts(out + "/model.onnx", out + "/..");
  std::printf("SST-2 ORT optimized graph: %s\n", counts.dump().c_str());
  EXPECT_EQ(counts.value("QLinearMatMul", 0) + counts.value("QGemm", 0) + counts.value("MatMulIntegerToFloat", 0),
            25)
      << counts.dump();
  EXPECT_EQ(counts.value("MatMul", 0) + counts.value("FusedMatMul", 0) + counts.value("Gemm", 0), 8)
      << counts.dump();
}

// ACT's HyperParameterOptimization on the bundled Fashion-MNIST CNN: every trial scored and recorded, the
// best one written, and the written file's accuracy in ORT equal to what compress reported.
TEST(CompressFashionHpo, BestTrialIsWrittenAndHoldsInOrt) {
  const std::string images = "/usr/share/datasets/fashion-mnist/t10k-images-idx3-ubyte.gz";
  if (!FileExists(images)) GTEST_SKIP() << "Debian's dataset-fashion-mnist is not installed; skipping";
  if (!OrtAvailable()) GTEST_SKIP() << "onnxruntime-node is not installed (deps/); skipping";
  const std::string config = RepoPath("examples/fashion_mnist/ptq_hpo.yaml");
  const std::string out = TempDir("compress_fashion_hpo");
  CommandResult r = RunOnnxAct("compress --config " + config + " --save-dir " + out + " --quiet");
  ASSERT_EQ(r.exit_code, 0) << r.err;
  double fp32 = 0, int8 = 0, ratio = 0;
  ASSERT_TRUE(ParseMetricLine(LastLine(r.out), &fp32, &int8, &ratio)) << r.out;

  auto report = nlohmann::json::parse(*ReadFileToString(out + "/report.json"));
  int chosen = 0, hpo_trials = 0;
  double best = 0, chosen_metric = -1;
  for (const auto& t : report["trials"]) {
    const std::string name = t["name"].get<std::string>();
    if (name.rfind("trial ", 0) == 0) {
      ++hpo_trials;
      best = std::max(best, t["metric"].get<double>());
    }
    if (t.value("chosen", false)) {
      ++chosen;
      chosen_metric = t["metric"].get<double>();
    }
  }
  EXPECT_EQ(hpo_trials, 8) << "max_quant_count trials, all recorded";
  EXPECT_EQ(chosen, 1);
  EXPECT_DOUBLE_EQ(chosen_metric, best) << "the best trial is the one kept";

  auto batch = EvalBatch(config);
  ASSERT_TRUE(batch.ok()) << batch.status().message();
  ASSERT_EQ(batch->size(), 10000);
  auto int8_out = RunOrt(out + "/model.onnx", batch->inputs);
  ASSERT_TRUE(int8_out.ok()) << int8_out.status().message();
  const double ort_int8 = Top1Fraction(int8_out->begin()->second, batch->labels);
  std::printf("Fashion HPO: fp32=%.4f best trial=%.4f written=%.4f ORT=%.4f size %.4f\n", fp32, best, int8, ort_int8,
              ratio);
  EXPECT_NEAR(ort_int8, int8, 0.001) << "ORT agrees with the metric compress reported";
  EXPECT_LE(fp32 - ort_int8, 0.002) << "within the config's max_metric_loss, in ORT";
  EXPECT_LE(ratio, 0.26) << "issue 5's size bar (0.259 recorded)";
}

// A config for the MNIST model with `extra` YAML appended (paths absolute: the file lives in a temp dir).
std::string WriteMnistConfig(const std::string& dir, const std::string& model, const std::string& quant_post) {
  const std::string images = SharedDataPath("mnist/t10k-images-idx3-ubyte.gz");
  const std::string labels = SharedDataPath("mnist/t10k-labels-idx1-ubyte.gz");
  std::ostringstream y;
  y << "Global:\n  model: " << model << "\n  save_dir: " << dir << "/out\n"
    << "  train_data: {type: idx, images: " << images << ", labels: " << labels
    << ", input_name: input, limit: 64}\n"
    << "  eval_data: {type: idx, images: " << images << ", labels: " << labels
    << ", input_name: input, skip: 1000, limit: 200, batch_size: 100}\n"
    << "  eval: {metric: top1}\n"
    << quant_post;
  const std::string path = dir + "/config.yaml";
  std::ofstream(path) << y.str();
  return path;
}

TEST(CompressErrors, BadConfigsExitTwoNamingTheKeyAndWriteNothing) {
  const std::string model = SharedDataPath("mnist/mnist_cnn.onnx");
  ACT_SKIP_IF_EMPTY(model, "mnist_cnn.onnx");
  struct Case {
    const char* quant_post;
    const char* must_mention;
  };
  const Case cases[] = {
      {"QuantPost: {algoo: hist}\n", "algo"},                    // unknown key: nearest valid key named
      {"QuantPost: {batch_nums: ten}\n", "batch_nums"},          // wrong type
      {"QuantPost: {algo: histo}\n", "hist"},                    // unknown algorithm
      {"Quantpost: {algo: hist}\n", "QuantPost"},                // unknown section
      {"QuantPost: {weight_quantize_type: per_channel}\n", "weight_quantize_type"},
  };
  int i = 0;
  for (const Case& c : cases) {
    const std::string dir = TempDir("compress_bad_" + std::to_string(i++));
    const std::string config = WriteMnistConfig(dir, model, c.quant_post);
    CommandResult r = RunOnnxAct("compress --config " + config + " --quiet");
    EXPECT_EQ(r.exit_code, 2) << c.quant_post << r.err;
    EXPECT_NE(r.err.find(c.must_mention), std::string::npos) << c.quant_post << r.err;
    EXPECT_NE(r.err.find("error"), std::string::npos) << r.err;
    EXPECT_TRUE(FilesIn(dir + "/out").empty()) << c.quant_post << ": nothing may be written";
  }
}

TEST(CompressErrors, ModelWithoutQuantizableOpExitsTwo) {
  const std::string images = SharedDataPath("mnist/t10k-images-idx3-ubyte.gz");
  ACT_SKIP_IF_EMPTY(images, "MNIST test images");
  const std::string dir = TempDir("compress_noquant");
  ir::Graph g = NewGraph();
  g.inputs.push_back(Value("input", {1, 1, 28, 28}));
  g.inputs[0].shape->at(0) = ir::Dim{-1, "N"};
  g.outputs.push_back(Value("output", {1, 1, 28, 28}));
  g.outputs[0].shape->at(0) = ir::Dim{-1, "N"};
  g.AddNode(Op("Relu", {"input"}, {"output"}));
  ASSERT_TRUE(ir::SaveModel(g, dir + "/relu.onnx").ok());
  const std::string config = WriteMnistConfig(dir, dir + "/relu.onnx", "QuantPost: {algo: hist}\n");
  CommandResult r = RunOnnxAct("compress --config " + config + " --quiet");
  EXPECT_EQ(r.exit_code, 2) << r.err;
  EXPECT_NE(r.err.find("no quantizable op"), std::string::npos) << r.err;
  EXPECT_TRUE(FilesIn(dir + "/out").empty());
}

TEST(CompressErrors, RefusesToWriteOverTheInputModel) {
  const std::string model = SharedDataPath("mnist/mnist_cnn.onnx");
  ACT_SKIP_IF_EMPTY(model, "mnist_cnn.onnx");
  const std::string dir = TempDir("compress_overwrite");
  fs::copy_file(model, dir + "/model.onnx");
  const std::string config = WriteMnistConfig(dir, dir + "/model.onnx", "QuantPost: {algo: hist}\n");
  CommandResult r = RunOnnxAct("compress --config " + config + " --save-dir " + dir + " --quiet");
  EXPECT_EQ(r.exit_code, 2) << r.err;
  EXPECT_NE(r.err.find("overwrite"), std::string::npos) << r.err;
  EXPECT_EQ(fs::file_size(dir + "/model.onnx"), fs::file_size(model)) << "the input model is untouched";
}

}  // namespace
}  // namespace act::test
