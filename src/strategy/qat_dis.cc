#include "strategy/qat_dis.h"

#include <algorithm>
#include <chrono>
#include <filesystem>
#include <random>

#include "core/logging.h"
#include "distill/qat_trainer.h"
#include "ir/analysis.h"
#include "ir/onnx_io.h"

namespace act::strategy {
namespace {

std::string Num(double v) {
  char buf[64];
  std::snprintf(buf, sizeof(buf), "%.6g", v);
  return buf;
}

// teacher_model_dir: an .onnx file, or a folder holding teacher_model_filename (or exactly one .onnx file).
Expected<std::string> TeacherPath(const config::DistillationConfig& d) {
  namespace fs = std::filesystem;
  const fs::path dir(d.teacher_model_dir);
  if (fs::is_regular_file(dir)) return dir.string();
  if (!fs::is_directory(dir)) {
    return NotFound("Distillation.teacher_model_dir: '" + d.teacher_model_dir + "' is neither an ONNX file nor a folder");
  }
  if (!d.teacher_model_filename.empty()) return (dir / d.teacher_model_filename).string();
  std::vector<std::string> found;
  for (const auto& e : fs::directory_iterator(dir)) {
    if (e.path().extension() == ".onnx") found.push_back(e.path().string());
  }
  if (found.size() != 1) {
    return InvalidInput("Distillation.teacher_model_dir: '" + d.teacher_model_dir + "' holds " +
                        std::to_string(found.size()) + " .onnx files; name one with teacher_model_filename");
  }
  return found[0];
}

// Why the chosen PTQ is not the same quantization as QuantAware's ("" when it is): the training can start
// from it only when the bits and the quantized nodes agree.
Expected<std::string> PtqStartMismatch(const Context& context, const config::QuantAwareConfig& qa) {
  const config::QuantPostConfig qp = context.config->quant_post.value_or(config::QuantPostConfig{});
  if (qa.weight_bits != qp.weight_bits || qa.activation_bits != qp.activation_bits) {
    return "QuantAware's bits (weights " + std::to_string(qa.weight_bits) + ", activations " +
           std::to_string(qa.activation_bits) + ") differ from QuantPost's (" + std::to_string(qp.weight_bits) + ", " +
           std::to_string(qp.activation_bits) + ")";
  }
  const ir::Graph& prepared = context.quantizer->prepared();
  ACT_ASSIGN_OR_RETURN(quant::QatOptions options,
                       distill::QatOptionsFrom(qa, context.config->global.deploy_hardware, prepared));
  std::set<std::string> qat_nodes;
  for (int idx : ir::QuantizableNodes(prepared)) {
    if (options.export_options.quantize_op_types.count(prepared.nodes[idx].op_type)) {
      qat_nodes.insert(prepared.nodes[idx].name);
    }
  }
  const std::vector<std::string>& ptq = context.quantizer->quantizable_nodes();
  if (qat_nodes != std::set<std::string>(ptq.begin(), ptq.end())) {
    return "QuantAware.quantize_op_types selects " + std::to_string(qat_nodes.size()) + " nodes, QuantPost's " +
           std::to_string(ptq.size());
  }
  return std::string();
}

// The training's start: the PTQ outcome's graph, table and FP32 layers; the teacher is the same folds in FP32.
distill::QatDisJob::PtqStart PtqStartFrom(const Context& context, const Outcome& ptq) {
  distill::QatDisJob::PtqStart start;
  start.prepared = *ptq.prepared;
  start.teacher = context.quantizer->prepared();
  start.table = *ptq.calibration;
  start.float_nodes = ptq.recipe->settings.skip_nodes;
  start.metric = ptq.metric;
  start.description =
      "the best PTQ so far (" + ptq.recipe->algo + (ptq.recipe->bias_correct ? ", bias correction" : "") + ")";
  return start;
}

}  // namespace

Expected<ir::Graph> QatDisStrategy::Run(Context& context) {
  const config::Config& config = *context.config;
  distill::QatDisJob job;
  job.fp32 = *context.fp32;
  job.quant = config.quant_aware.value_or(config::QuantAwareConfig{});
  job.quant_post = config.quant_post;
  job.distillation = config.distillation.value_or(config::DistillationConfig{});
  job.train = config.train.value_or(config::TrainConfig{});
  job.deploy_hardware = config.global.deploy_hardware;
  if (!job.distillation.teacher_model_dir.empty()) {
    ACT_ASSIGN_OR_RETURN(std::string path, TeacherPath(job.distillation));
    ACT_ASSIGN_OR_RETURN(ir::Graph teacher, ir::LoadModel(path));
    job.teacher = std::move(teacher);
  }
  // quant_post_first: start from the PTQ the pipeline chose (quant_post / ptq_hpo ran first), so the training
  // begins at that model's score rather than at a PTQ of its own.
  if (job.quant.quant_post_first && context.best_ptq) {
    ACT_ASSIGN_OR_RETURN(const std::string mismatch, PtqStartMismatch(context, job.quant));
    if (mismatch.empty()) {
      job.ptq_start = PtqStartFrom(context, *context.best_ptq);
    } else {
      context.report->decisions.push_back("qat_dis: quant_post_first runs its own PTQ, not from the chosen one: " +
                                          mismatch);
    }
  }
  // 1. The training stream over the in-memory batches: epoch e is the order shuffled with seed e.
  auto batches = context.calibration;
  if (!batches || batches->empty()) return InvalidInput("qat_dis: no training data (Global.train_data)");
  auto order = std::make_shared<std::vector<size_t>>();
  auto cursor = std::make_shared<size_t>(0);
  job.reset = [batches, order, cursor](uint64_t epoch) {
    order->resize(batches->size());
    for (size_t i = 0; i < order->size(); ++i) (*order)[i] = i;
    std::mt19937_64 rng(epoch);
    std::shuffle(order->begin(), order->end(), rng);
    *cursor = 0;
  };
  job.next_batch = [batches, order, cursor]() -> Expected<std::optional<data::Batch>> {
    if (*cursor >= order->size()) return std::optional<data::Batch>();
    return std::optional<data::Batch>((*batches)[(*order)[(*cursor)++]]);
  };
  job.batches_per_epoch = static_cast<int64_t>(batches->size());
  job.run_batch = context.run_batch;
  Scorer* scorer = context.scorer;
  job.evaluate = [scorer](const ir::Graph& g, const std::string& label) { return scorer->Score(g, label); };
  job.higher_is_better = scorer->higher_is_better();
  job.fp32_metric = context.fp32_metric;
  job.save_dir = context.save_dir;
  job.resume = context.resume;
  job.threads = std::min(std::max(context.threads, 1), 2);
  job.progress = context.progress;
  ACT_ASSIGN_OR_RETURN(distill::QatDisResult r, distill::RunQatDistillation(job));

  // 3. Score the export, record the trial.
  const auto start = std::chrono::steady_clock::now();
  ACT_ASSIGN_OR_RETURN(double metric, scorer->Score(r.model, "qat_dis export"));
  Trial trial;
  trial.strategy = name();
  trial.name = "qat_dis";
  trial.params["weight_bits"] = std::to_string(job.quant.weight_bits);
  trial.params["activation_quantize_type"] = job.quant.activation_quantize_type;
  trial.params["use_pact"] = job.quant.use_pact ? "true" : "false";
  trial.params["steps"] = std::to_string(r.steps);
  trial.params["steps_per_second"] = Num(r.steps_per_second);
  trial.params["train_seconds"] = Num(r.train_seconds);
  trial.params["best_step"] = std::to_string(r.best_step);
  trial.params["simulated_metric"] = Num(r.best_metric);
  if (r.ptq_metric) trial.params["ptq_metric"] = Num(*r.ptq_metric);
  if (r.resumed_from >= 0) trial.params["resumed_from_step"] = std::to_string(r.resumed_from);
  std::string pairs;
  for (const auto& [t, s] : r.distill_pairs) pairs += (pairs.empty() ? "" : ", ") + (t == s ? t : t + " -> " + s);
  trial.params["distillation_values"] = pairs;
  trial.metric = metric;
  trial.loss = context.Loss(metric);
  trial.seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count() + r.train_seconds;
  context.report->trials.push_back(trial);
  context.report->Choose(context.report->trials.size() - 1);
  for (const auto& d : r.decisions) context.report->decisions.push_back("qat_dis: " + d);
  context.report->decisions.push_back("qat_dis: simulated " + Num(r.best_metric) + ", exported " + Num(metric) +
                                      " (FP32 " + Num(context.fp32_metric) + ")");
  context.outcome = Outcome{};
  context.outcome.metric = metric;
  context.outcome.params = trial.params;
  context.outcome.calibration = r.table;
  ACT_LOG(kInfo, "qat_dis: " << scorer->metric_name() << " " << metric << " (simulated " << r.best_metric
                             << ", FP32 " << context.fp32_metric << ")");
  return std::move(r.model);
}

}  // namespace act::strategy
