#include "strategy/pipeline.h"

#include <chrono>
#include <cmath>
#include <cstdio>
#include <filesystem>
#include <thread>

#include "act/metrics.h"
#include "core/file_util.h"
#include "core/logging.h"
#include "core/progress.h"
#include "data/registry.h"
#include "ir/analysis.h"
#include "ir/checker.h"
#include "ir/onnx_io.h"
#include "ir/passes/pass.h"
#include "metrics/metric_from_config.h"
#include "strategy/activation_statistics.h"
#include "strategy/layer_fallback.h"
#include "strategy/report_writer.h"
#include "strategy/scorer.h"
#include "strategy/strategy.h"

namespace act::strategy {
namespace {

namespace fs = std::filesystem;

int64_t FileSize(const std::string& path) {
  std::error_code ec;
  const auto size = fs::file_size(path, ec);
  if (ec) return 0;
  int64_t total = static_cast<int64_t>(size);
  // External data beside the model counts too.
  const std::string data = path + ".data";
  if (fs::exists(data, ec)) total += static_cast<int64_t>(fs::file_size(data, ec));
  return total;
}

bool HasLabels(const std::vector<data::Batch>& batches) {
  for (const auto& b : batches) {
    for (const auto& l : b.labels) {
      if (l) return true;
    }
  }
  return false;
}

std::string Fmt(double v) {
  char buf[32];
  std::snprintf(buf, sizeof(buf), "%.6g", v);
  return buf;
}

// Restores the progress-bar setting on every exit path.
struct ProgressScope {
  explicit ProgressScope(bool enabled) { ProgressBar::SetEnabled(enabled); }
  ~ProgressScope() { ProgressBar::SetEnabled(true); }
};

}  // namespace

Expected<Report> RunPipeline(const Options& options) {
  const auto start = std::chrono::steady_clock::now();
  ProgressScope progress_scope(options.show_progress);
  Report report;

  // 1. Config.
  config::Config config;
  if (options.config) {
    config = *options.config;
  } else if (!options.config_path.empty()) {
    ACT_ASSIGN_OR_RETURN(config, config::LoadConfig(options.config_path));
  }
  if (!options.model_path.empty()) config.global.model = options.model_path;
  if (!options.save_dir.empty()) config.global.save_dir = options.save_dir;
  if (config.global.model.empty()) {
    return InvalidInput("no model: set Global.model in the config or Options::model_path");
  }
  if (!FileExists(config.global.model)) return NotFound(config.global.model + ": model file not found (Global.model)");
  const std::string save_dir = config.global.save_dir;
  const std::string out_model = JoinPath(save_dir, "model.onnx");
  ACT_RETURN_IF_ERROR(CheckNotSameFile(config.global.model, out_model));
  report.model = config.global.model;
  report.output_model = out_model;
  report.deploy_hardware = config.global.deploy_hardware;
  report.max_metric_loss = config.global.max_metric_loss;
  const int threads = options.threads > 0 ? options.threads
                                          : static_cast<int>(std::max(1u, std::thread::hardware_concurrency()));

  // 2. Model, scheme, quantizer.
  ACT_ASSIGN_OR_RETURN(ir::Graph fp32, ir::LoadModel(config.global.model));
  ACT_RETURN_IF_ERROR(ir::Normalize(fp32, config.global.model));
  report.fp32_bytes = FileSize(config.global.model);
  ACT_ASSIGN_OR_RETURN(std::vector<std::string> plan, PlanStrategies(config, &report.decisions));
  const config::QuantPostConfig qp = config.quant_post.value_or(config::QuantPostConfig{});
  ACT_ASSIGN_OR_RETURN(QuantScheme scheme,
                       SchemeForHardware(config.global.deploy_hardware, qp.activation_bits, qp.weight_bits));
  report.scheme = scheme.Describe();
  auto quantizer_or = Quantizer::Create(fp32, scheme, qp, &report.decisions);
  if (!quantizer_or.ok()) return quantizer_or.status().WithContext(config.global.model);
  const Quantizer quantizer = std::move(quantizer_or).value();

  // A model exported with a fixed batch dimension runs that many samples at a time.
  int64_t run_batch = 0;
  for (const auto& in : fp32.inputs) {
    if (in.shape && !in.shape->empty() && (*in.shape)[0].known()) run_batch = (*in.shape)[0].value;
  }
  if (run_batch > 0) {
    report.decisions.push_back("the model's batch dimension is fixed at " + std::to_string(run_batch) +
                               ": it runs " + std::to_string(run_batch) + " sample(s) at a time");
  }

  // 3. Data and scorer.
  std::shared_ptr<const data::Dataset> train = options.train_data, eval = options.eval_data;
  data::LoaderOptions train_loading, eval_loading;
  eval_loading.batch_size = 32;
  if (!train) {
    if (!config.global.train_data) {
      return InvalidInput("no calibration data: set Global.train_data in the config (or Options::train_data)");
    }
    ACT_ASSIGN_OR_RETURN(auto d, data::CreateDataset(*config.global.train_data));
    train = std::move(d);
    train_loading = data::LoaderOptionsFrom(*config.global.train_data);
  }
  // Calibration batches are QuantPost.batch_size samples (ACT's meaning of batch_nums).
  train_loading.batch_size = options.batch_size > 0 ? options.batch_size : qp.batch_size;
  const bool have_callback = options.eval_callback || options.eval_runner_callback;
  if (!eval && !have_callback && config.global.eval_data) {
    ACT_ASSIGN_OR_RETURN(auto d, data::CreateDataset(*config.global.eval_data));
    eval = std::move(d);
    eval_loading = data::LoaderOptionsFrom(*config.global.eval_data);
  }
  if (options.batch_size > 0) eval_loading.batch_size = options.batch_size;
  ACT_ASSIGN_OR_RETURN(std::vector<data::Batch> calib_batches, MakeBatches(*train, train_loading));
  if (calib_batches.empty()) return InvalidInput("the calibration data set (" + train->Describe() + ") is empty");
  auto calibration = std::make_shared<const std::vector<data::Batch>>(std::move(calib_batches));

  std::unique_ptr<Scorer> scorer;
  if (options.eval_runner_callback) {
    scorer = MakeRunnerCallbackScorer(options.eval_runner_callback, options.higher_is_better, threads);
  } else if (options.eval_callback) {
    scorer = MakeFileCallbackScorer(options.eval_callback, options.higher_is_better, save_dir);
  } else {
    metrics::MetricConfig metric =
        metrics::MetricConfigFromEval(config.global.eval, config.global.eval_data ? &*config.global.eval_data : nullptr);
    std::shared_ptr<const std::vector<data::Batch>> eval_batches;
    std::string description;
    if (eval) {
      ACT_ASSIGN_OR_RETURN(auto b, MakeBatches(*eval, eval_loading));
      eval_batches = std::make_shared<const std::vector<data::Batch>>(std::move(b));
      description = eval->Describe();
    } else {
      eval_batches = calibration;
      description = train->Describe() + " (the calibration data: no Global.eval_data)";
      report.warnings.push_back("no Global.eval_data: candidates are scored on the calibration data");
    }
    if (metric.name != "agreement" && !HasLabels(*eval_batches)) {
      report.decisions.push_back("eval: the eval data has no labels, so candidates are scored by top-1 agreement "
                                 "with the FP32 model's outputs instead of " + metric.name);
      metric.name = "agreement";
    }
    ScoringEngine engine;
    engine.name = options.engine.empty() ? "onednn" : options.engine;
    engine.threads = threads;
    engine.run_batch = run_batch;
    ACT_ASSIGN_OR_RETURN(scorer, MakeMetricScorer(metric, eval_batches, fp32, description, engine));
  }
  report.metric_name = scorer->metric_name();
  report.higher_is_better = scorer->higher_is_better();
  ACT_ASSIGN_OR_RETURN(double fp32_metric, scorer->ScoreReference(fp32));
  for (const auto& note : scorer->Notes()) report.decisions.push_back("eval: " + note);
  report.fp32_metric = fp32_metric;
  report.decisions.push_back("FP32 " + scorer->metric_name() + " " + Fmt(fp32_metric) + " (" + scorer->Describe() +
                             ")");

  // 4. Strategies.
  Context context;
  context.config = &config;
  context.fp32 = &fp32;
  context.fp32_metric = fp32_metric;
  context.scorer = scorer.get();
  context.calibration = calibration;
  context.quantizer = &quantizer;
  context.threads = threads;
  context.run_batch = run_batch;
  context.progress = options.show_progress;
  context.save_dir = save_dir;
  context.resume = options.resume;
  context.report = &report;
  std::optional<ir::Graph> best_graph;
  Outcome best;
  std::string best_name;
  for (const auto& name : plan) {
    ACT_ASSIGN_OR_RETURN(auto strategy, MakeStrategy(name));
    report.strategies.push_back(name);
    ACT_ASSIGN_OR_RETURN(ir::Graph graph, strategy->Run(context));
    const double loss = context.Loss(context.outcome.metric);
    report.decisions.push_back(name + ": " + scorer->metric_name() + " " + Fmt(context.outcome.metric) + ", loss " +
                               Fmt(loss) + " (budget " + Fmt(context.budget()) + ")");
    if (context.outcome.prepared && (!context.best_ptq || loss < context.Loss(context.best_ptq->metric))) {
      context.best_ptq = context.outcome;
    }
    if (!best_graph || loss < context.Loss(best.metric)) {
      best_graph = std::move(graph);
      best = context.outcome;
      best_name = name;
    }
  }
  report.chosen_strategy = best_name;
  report.chosen_params = best.params;

  // 5. Layer fallback.
  if (context.Loss(best.metric) > context.budget() && best.recipe) {
    report.decisions.push_back("loss " + Fmt(context.Loss(best.metric)) + " exceeds max_metric_loss " +
                               Fmt(context.budget()) + ": ranking layers by sensitivity");
    ACT_ASSIGN_OR_RETURN(FallbackResult fallback, LayerFallback(context, *best.recipe));
    if (context.Loss(fallback.metric) < context.Loss(best.metric)) {
      best_graph = std::move(fallback.graph);
      best.metric = fallback.metric;
      best.calibration = fallback.table;
      best.recipe = fallback.recipe;
      report.chosen_strategy = best_name + " + layer_fallback";
      report.chosen_params["fp32_layers"] = std::to_string(fallback.fp32_nodes.size());
      for (const auto& n : fallback.fp32_nodes) report.fp32_nodes.push_back(n + ": layer fallback (sensitive)");
    }
  }
  for (const auto& n : quantizer.quantizable_nodes()) {
    if (!best.recipe || !best.recipe->settings.skip_nodes.count(n)) report.quantized_nodes.push_back(n);
  }

  // 6. Check, save under a temporary name, measure the saved file, then write everything.
  ir::Graph& out = *best_graph;
  ACT_RETURN_IF_ERROR(ir::CheckModel(out, "the exported INT8 model"));
  ACT_RETURN_IF_ERROR(MakeDirs(save_dir));
  const std::string temp_model = JoinPath(save_dir, ".model.onnx.partial");
  ACT_RETURN_IF_ERROR(ir::SaveModel(out, temp_model));
  auto cleanup = [&temp_model]() { std::remove(temp_model.c_str()); };
  auto reloaded = ir::LoadModel(temp_model);
  if (!reloaded.ok()) {
    cleanup();
    return reloaded.status().WithContext("reading back the exported model");
  }
  auto int8_metric = scorer->Score(*reloaded, "written INT8 model");
  if (!int8_metric.ok()) {
    cleanup();
    return int8_metric.status();
  }
  report.int8_metric = *int8_metric;
  report.measured_with = scorer->Describe() + "; the written file, read back";
  report.int8_bytes = FileSize(temp_model);
  report.size_ratio = report.fp32_bytes > 0 ? static_cast<double>(report.int8_bytes) / report.fp32_bytes : 0;
  report.within_budget = scorer->Loss(fp32_metric, report.int8_metric) <= context.budget();
  if (!report.within_budget) {
    report.warnings.push_back("the INT8 model loses " + Fmt(scorer->Loss(fp32_metric, report.int8_metric)) + " " +
                              report.metric_name + ", more than max_metric_loss " + Fmt(context.budget()) +
                              " even after layer fallback; it is written for inspection");
  }
  report.output_op_counts = ir::OpHistogram(out);
  report.total_seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();

  std::error_code ec;
  fs::rename(temp_model, out_model, ec);
  if (ec) {
    cleanup();
    return Failure(out_model + ": cannot move the written model into place: " + ec.message());
  }
  if (best.calibration) ACT_RETURN_IF_ERROR(best.calibration->Save(JoinPath(save_dir, "calibration.json")));
  ACT_RETURN_IF_ERROR(config::WriteResolvedConfig(config, JoinPath(save_dir, "config.resolved.yaml")));
  ACT_RETURN_IF_ERROR(AtomicWriteFile(JoinPath(save_dir, "report.json"), ReportToJson(report)));
  ACT_RETURN_IF_ERROR(AtomicWriteFile(JoinPath(save_dir, "report.html"), ReportToHtml(report)));
  return report;
}

}  // namespace act::strategy
