// PTQ on the real models of the acceptance, measured in ONNX Runtime: PP-OCRv4 rec on the
// rendered lines (examples/ocr_lines) and FastestDet on coco128 (../shared/data). Checks that every
// quantized Conv became an integer kernel in ORT's optimized graph and reports accuracy, size and speed.
#include <gtest/gtest.h>

#include <filesystem>
#include <iostream>
#include <regex>
#include <set>

#include "act/config.h"
#include "data/loader.h"
#include "data/registry.h"
#include "ir/onnx_io.h"
#include "ort_calibration.h"
#include "quant/ptq.h"

namespace act::test {
namespace {

Expected<std::unique_ptr<data::Dataset>> ExampleEvalData(const std::string& yaml, const std::string& input_name) {
  ACT_ASSIGN_OR_RETURN(config::Config c, config::LoadConfig(RepoPath(yaml)));
  if (!c.global.eval_data) return NotFound(yaml + ": no eval_data");
  if (c.global.eval_data->input_name.empty()) c.global.eval_data->input_name = input_name;
  for (const auto& type : data::DatasetTypes()) {
    if (type.name == c.global.eval_data->type) return type.create(*c.global.eval_data);
  }
  return NotFound("data set type " + c.global.eval_data->type);
}

struct Measured {
  std::string path;
  std::map<std::string, int> counts;
  double size_ratio = 0;
};

Expected<Measured> Quantize(const std::string& model, const data::Dataset& dataset, int64_t batch, int64_t batches,
                            const std::string& dir, const std::string& name, quant::PtqOptions options = {}) {
  ACT_ASSIGN_OR_RETURN(ir::Graph fp32, ir::LoadModel(model));
  ACT_ASSIGN_OR_RETURN(auto loader, data::Loader::Create(dataset, data::LoaderOptions{batch, false, 0, 0, batch * batches}));
  options.threads = 2;
  ACT_ASSIGN_OR_RETURN(auto ptq, quant::RunPtq(fp32, [&]() { return loader->Next(); }, options));
  Measured m;
  m.path = dir + "/" + name + "_int8.onnx";
  ACT_RETURN_IF_ERROR(ir::SaveModel(ptq.model, m.path));
  ACT_ASSIGN_OR_RETURN(m.counts, OrtOptimizedOpCounts(m.path, dir + "/" + name + "_int8.opt.onnx"));
  m.size_ratio = static_cast<double>(std::filesystem::file_size(m.path)) / static_cast<double>(std::filesystem::file_size(model));
  std::cout << name << ": calibrated " << ptq.samples << " samples in " << ptq.calibration_seconds << " s; quantized";
  for (const auto& [op, n] : ptq.export_result.quantized_ops) std::cout << " " << op << "=" << n;
  std::cout << "; kept float " << ptq.export_result.kept_float.size() << "\n";
  return m;
}

std::string Bench(const std::string& fp32, const std::string& int8, const std::string& shape, int threads) {
  CommandResult r = RunCommand("node '" + RepoPath("bench/ort/bench.js") + "' --model '" + fp32 + "' --vs '" + int8 +
                               "' --threads " + std::to_string(threads) + " --runs 60 " + shape);
  return r.exit_code == 0 ? r.out : "bench failed: " + r.err;
}

void PrintCounts(const std::string& name, const std::map<std::string, int>& counts) {
  std::cout << name << " ORT optimized ops:";
  for (const auto& [op, n] : counts) std::cout << " " << op << "=" << n;
  std::cout << "\n";
}

TEST(PtqRealModels, PpOcrV4RecognizerFusesEveryConv) {
  const std::string model = OcrModelPath("ch_PP-OCRv4_rec_infer.onnx");
  ACT_SKIP_IF_EMPTY(model, "PP-OCRv4 recognizer");
  if (!OrtAvailable()) GTEST_SKIP() << "onnxruntime-node is not installed (deps/); skipping";
  auto dataset = ExampleEvalData("examples/ptq/ppocrv4_rec_ocr_lines.yaml", "x");
  ASSERT_TRUE(dataset.ok()) << dataset.status().message();
  const std::string dir = TempDir("ptq_ocr");
  auto m = Quantize(model, **dataset, 8, 8, dir, "ppocrv4_rec");
  ASSERT_TRUE(m.ok()) << m.status().message();
  PrintCounts("ppocrv4_rec", m->counts);
  std::cout << "ppocrv4_rec size_ratio=" << m->size_ratio << "\n";
  EXPECT_EQ(Count(m->counts, "Conv") + Count(m->counts, "FusedConv"), 0);
  EXPECT_GE(Count(m->counts, "QLinearConv"), 38);
  const std::string eval = "node '" + RepoPath("tests/ort/ocr_eval.js") + "' --list '" +
                           RepoPath("examples/ocr_lines/labels.tsv") + "' --dict '" +
                           OcrModelPath("ppocr_keys_v1.txt") + "' --model ";
  CommandResult f = RunCommand(eval + "'" + model + "'");
  CommandResult q = RunCommand(eval + "'" + m->path + "'");
  std::cout << "ppocrv4_rec fp32: " << f.out << "ppocrv4_rec int8: " << q.out;
  ASSERT_EQ(q.exit_code, 0) << q.err;
  // Recorded 2026-11-26: FP32 0.9885, INT8 (hist, Conv + constant-weight MatMul, 64 lines) 0.80–0.84.
  // The goal (≤ 0.5 point loss) is NOT met: per-tensor u8 inputs of convs whose folded weights
  // are large on small-range channels (the first depthwise conv: 9% error from input rounding alone).
  // This floor only guards against regressions.
  std::smatch match;
  ASSERT_TRUE(std::regex_search(q.out, match, std::regex("exact_match=([0-9.]+)")));
  EXPECT_GE(std::stod(match[1]), 0.78);
  for (int threads : {1, 2}) {
    std::cout << "ppocrv4_rec threads=" << threads << " "
              << Bench(model, m->path, "--shape x=1,3,48,320", threads);
  }
}

// Calibrates PP-OCRv4 rec once (several algorithms in one pass) and exports placement variants from the
// same statistics, reading the 260 lines in ORT with each: which ops to quantize decides the accuracy.
TEST(PtqRealModels, PpOcrV4PlacementVariants) {
  const std::string model = OcrModelPath("ch_PP-OCRv4_rec_infer.onnx");
  ACT_SKIP_IF_EMPTY(model, "PP-OCRv4 recognizer");
  if (!OrtAvailable()) GTEST_SKIP() << "onnxruntime-node is not installed (deps/); skipping";
  auto dataset = ExampleEvalData("examples/ptq/ppocrv4_rec_ocr_lines.yaml", "x");
  ASSERT_TRUE(dataset.ok()) << dataset.status().message();
  const std::string dir = TempDir("ptq_ocr_variants");
  auto fp32 = ir::LoadModel(model);
  ASSERT_TRUE(fp32.ok());
  quant::PtqOptions base;
  auto prepared = quant::PrepareForPtq(*fp32, base);
  ASSERT_TRUE(prepared.ok()) << prepared.status().message();
  struct Variant { std::string name; bool activation_matmul, full; std::set<std::string> ops; };
  const std::vector<Variant> variants = {
      {"conv_only", false, false, {"Conv"}},
      {"conv_fc", false, false, {"Conv", "MatMul", "Gemm"}},
      {"conv_all_matmul", true, false, {"Conv", "MatMul", "Gemm"}},
      {"full", true, true, {"Conv", "MatMul", "Gemm"}},
  };
  std::set<std::string> union_tensors;
  for (const auto& v : variants) {
    quant::PtqOptions o = base;
    o.quantize_op_types = v.ops;
    o.quantize_activation_matmul = v.activation_matmul;
    o.is_full_quantize = v.full;
    auto eo = quant::ExportOptionsFor(o);
    ASSERT_TRUE(eo.ok());
    for (const auto& t : ir::QdqTensorsToCalibrate(*prepared, *eo)) union_tensors.insert(t);
  }
  auto loader = data::Loader::Create(**dataset, data::LoaderOptions{8, false, 0, 0, 24});
  ASSERT_TRUE(loader.ok());
  const std::vector<std::string> algos = {"hist", "abs_max", "KL", "mse"};
  auto run = quant::Calibrate(*prepared, {union_tensors.begin(), union_tensors.end()},
                              [&]() { return (*loader)->Next(); }, algos,
                              quant::ActivationObserverOptions(quant::QuantScheme{}), -1, 2);
  ASSERT_TRUE(run.ok()) << run.status().message();
  std::cout << "calibrated " << union_tensors.size() << " tensors x " << algos.size() << " algorithms on "
            << run->samples << " lines in " << run->seconds << " s\n";
  const std::string eval = "node '" + RepoPath("tests/ort/ocr_eval.js") + "' --list '" +
                           RepoPath("examples/ocr_lines/labels.tsv") + "' --dict '" +
                           OcrModelPath("ppocr_keys_v1.txt") + "' --model ";
  for (const auto& v : variants) {
    for (const auto& algo : algos) {
      if (algo != "hist" && v.name != "conv_fc") continue;
      quant::PtqOptions o = base;
      o.quantize_op_types = v.ops;
      o.quantize_activation_matmul = v.activation_matmul;
      o.is_full_quantize = v.full;
      auto eo = quant::ExportOptionsFor(o);
      ir::Graph g = *prepared;
      auto r = ir::ExportQdq(g, quant::ToQdqParams(run->tables.at(algo)), *eo);
      ASSERT_TRUE(r.ok()) << v.name << ": " << r.status().message();
      const std::string path = dir + "/" + v.name + "_" + algo + ".onnx";
      ASSERT_TRUE(ir::SaveModel(g, path).ok());
      CommandResult q = RunCommand(eval + "'" + path + "'");
      auto counts = OrtOptimizedOpCounts(path, path + ".opt.onnx");
      ASSERT_TRUE(counts.ok());
      if (v.name != "full") {
        EXPECT_EQ(Count(*counts, "Conv") + Count(*counts, "FusedConv"), 0) << v.name;
        EXPECT_EQ(Count(*counts, "QLinearConv"), 38) << v.name;
      }
      std::cout << v.name << " " << algo << ": " << (q.exit_code == 0 ? q.out.substr(0, q.out.size() - 1) : q.err)
                << " QLinearConv=" << Count(*counts, "QLinearConv") << " QLinearMatMul="
                << Count(*counts, "QLinearMatMul") << " float_conv=" << Count(*counts, "Conv") + Count(*counts, "FusedConv")
                << " size_ratio=" << static_cast<double>(std::filesystem::file_size(path)) /
                                         static_cast<double>(std::filesystem::file_size(model))
                << " " << Bench(model, path, "--shape x=1,3,48,320", 1);
    }
  }
}

TEST(PtqRealModels, FastestDetFusesEveryConv) {
  const std::string model = SharedDataPath("fastestdet/FastestDet.onnx");
  ACT_SKIP_IF_EMPTY(model, "FastestDet");
  if (!OrtAvailable()) GTEST_SKIP() << "onnxruntime-node is not installed (deps/); skipping";
  auto dataset = ExampleEvalData("examples/ptq/fastestdet_coco128.yaml", "input.1");
  ASSERT_TRUE(dataset.ok()) << dataset.status().message();
  const std::string dir = TempDir("ptq_fastestdet");
  quant::PtqOptions options;
  options.compact_conv_metadata = true;  // depthwise-heavy: keep per-channel metadata small
  auto m = Quantize(model, **dataset, 1, 32, dir, "fastestdet", options);
  ASSERT_TRUE(m.ok()) << m.status().message();
  PrintCounts("fastestdet", m->counts);
  std::cout << "fastestdet size_ratio=" << m->size_ratio << "\n";
  EXPECT_EQ(Count(m->counts, "Conv") + Count(m->counts, "FusedConv"), 0);
  EXPECT_EQ(Count(m->counts, "QLinearConv"), 70);
  for (int threads : {1, 2}) {
    std::cout << "fastestdet threads=" << threads << " " << Bench(model, m->path, "", threads);
  }
}

}  // namespace
}  // namespace act::test

namespace act::test {
namespace {
// Diagnostic (run by hand with --gtest_also_run_disabled_tests): writes the prepared FP32 graph, the
// conv-only INT8 export and its calibration table to $ACT_DIAG_DIR for layer-by-layer comparison.
TEST(PtqRealModels, DISABLED_PpOcrV4Diagnostics) {
  const char* out_dir = std::getenv("ACT_DIAG_DIR");
  const std::string model = OcrModelPath("ch_PP-OCRv4_rec_infer.onnx");
  ACT_SKIP_IF_EMPTY(model, "PP-OCRv4 recognizer");
  if (!out_dir) GTEST_SKIP() << "set ACT_DIAG_DIR";
  auto dataset = ExampleEvalData("examples/ptq/ppocrv4_rec_ocr_lines.yaml", "x");
  ASSERT_TRUE(dataset.ok());
  auto fp32 = ir::LoadModel(model);
  ASSERT_TRUE(fp32.ok());
  quant::PtqOptions o;
  o.quantize_op_types = {"Conv"};
  o.threads = 2;
  auto loader = data::Loader::Create(**dataset, data::LoaderOptions{8, false, 0, 0, 8});
  auto ptq = quant::RunPtq(*fp32, [&]() { return (*loader)->Next(); }, o);
  ASSERT_TRUE(ptq.ok()) << ptq.status().message();
  ASSERT_TRUE(ir::SaveModel(ptq->folded, std::string(out_dir) + "/prepared.onnx").ok());
  ASSERT_TRUE(ir::SaveModel(ptq->model, std::string(out_dir) + "/int8.onnx").ok());
  ASSERT_TRUE(ptq->table.Save(std::string(out_dir) + "/calibration.json").ok());
}
}  // namespace
}  // namespace act::test
