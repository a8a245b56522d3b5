// onnx-act compress --config C.yaml [--save-dir D] [--model M] [--threads N] [--quiet]: the whole job
// (DESIGN.md §5, §7) through the C++ API. Progress bars go to stderr; the last stdout line is
//   metric fp32=<v> int8=<v> size_ratio=<v>
// where int8 is measured on the written model.onnx. Exit 0 on success, 2 for bad config/model/data,
// 1 when the job fails — including an accuracy budget still missed after layer fallback (the model is
// written for inspection then, and the report says so).
#include <cstdio>
#include <memory>

#include "act/act.h"
#include "tools/cli/command.h"

namespace act::cli {
namespace {

struct CompressOptions {
  std::string config;
  std::string save_dir;
  std::string model;
  int threads = 0;
  std::string engine = "onednn";
  bool quiet = false;
  bool resume = false;
};

}  // namespace

CommandRunner AddCompressCommand(CLI::App& app) {
  auto o = std::make_shared<CompressOptions>();
  CLI::App* sub = app.add_subcommand("compress", "Compress a model as the config says (QuantPost, "
                                                 "HyperParameterOptimization); writes save_dir/{model.onnx, "
                                                 "report.json, report.html, config.resolved.yaml, calibration.json}");
  sub->add_option("--config", o->config, "YAML config (DESIGN.md §5)")->required();
  sub->add_option("--save-dir", o->save_dir, "Output folder (overrides Global.save_dir)");
  sub->add_option("--model", o->model, "Input model (overrides Global.model)");
  sub->add_option("--threads", o->threads, "Executor threads (0: all cores)");
  sub->add_option("--engine", o->engine, "Engine scoring candidates: onednn | torch")
      ->check(CLI::IsMember({"onednn", "torch"}));
  sub->add_flag("--quiet", o->quiet, "No progress bars");
  sub->add_flag("--resume", o->resume, "Continue a killed training run from save_dir's checkpoint");
  return [o]() -> Status {
    Options options;
    options.config_path = o->config;
    options.save_dir = o->save_dir;
    options.model_path = o->model;
    options.threads = o->threads;
    options.show_progress = !o->quiet;
    options.resume = o->resume;
    options.engine = o->engine;
    AutoCompression ac(options);
    ACT_ASSIGN_OR_RETURN(Report report, ac.Compress());
    for (const auto& w : report.warnings) std::fprintf(stderr, "onnx-act compress: warning: %s\n", w.c_str());
    std::printf("strategy: %s\n", report.chosen_strategy.c_str());
    std::printf("wrote %s (%lld bytes), report.json, report.html, config.resolved.yaml, calibration.json\n",
                report.output_model.c_str(), static_cast<long long>(report.int8_bytes));
    std::printf("metric %s measured with: %s\n", report.metric_name.c_str(), report.measured_with.c_str());
    std::printf("metric fp32=%.6g int8=%.6g size_ratio=%.4f\n", report.fp32_metric, report.int8_metric,
                report.size_ratio);
    std::fflush(stdout);
    if (!report.within_budget) {
      return Failure("the INT8 model misses Global.max_metric_loss (" + std::to_string(report.max_metric_loss) +
                     "); see " + report.output_model.substr(0, report.output_model.size() - 10) + "report.json");
    }
    return Status::Ok();
  };
}

}  // namespace act::cli
