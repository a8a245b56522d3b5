#include "strategy/quant_post.h"

#include <chrono>

#include "core/logging.h"

namespace act::strategy {

Expected<double> ScoreCandidate(Context& context, const PtqCandidate& candidate, const std::string& strategy,
                                const std::string& trial_name, double* seconds) {
  const auto start = std::chrono::steady_clock::now();
  auto metric = context.scorer->Score(candidate.graph, trial_name);
  *seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
  if (!metric.ok()) return metric.status();
  Trial trial;
  trial.strategy = strategy;
  trial.name = trial_name;
  trial.params = candidate.recipe.Params(*context.statistics);
  if (candidate.recipe.bias_correct) trial.params["bias_corrected_nodes"] = std::to_string(candidate.corrected_nodes);
  trial.metric = *metric;
  trial.loss = context.Loss(*metric);
  trial.seconds = *seconds;
  context.report->trials.push_back(trial);
  return *metric;
}

Expected<ir::Graph> QuantPostStrategy::Run(Context& context) {
  const config::QuantPostConfig qp = context.config->quant_post.value_or(config::QuantPostConfig{});
  if (qp.algo == "ptf") {
    return Unsupported("QuantPost.algo 'ptf' (PaddleSlim's power-of-two factor for Transformers) is not "
                       "implemented; use hist, KL, avg, mse, emd or abs_max");
  }
  if (!qp.recon_level.empty()) {
    return Unsupported("QuantPost.recon_level '" + qp.recon_level + "' (ACT's reconstruction quanter) is not "
                       "implemented; remove it for plain PTQ");
  }
  PtqRecipe recipe;
  recipe.algo = qp.algo;
  recipe.hist_percent = qp.hist_percent;
  recipe.batch_num = qp.batch_nums;
  recipe.bias_correct = qp.bias_correction;
  recipe.settings.weight_quantize_type = qp.weight_quantize_type;
  ACT_RETURN_IF_ERROR(EnsureStatistics(context, {qp.algo}, qp.batch_nums, {}));
  ACT_ASSIGN_OR_RETURN(PtqCandidate candidate, BuildCandidate(context, recipe));
  double seconds = 0;
  ACT_ASSIGN_OR_RETURN(double metric, ScoreCandidate(context, candidate, name(), "quant_post", &seconds));
  context.report->Choose(context.report->trials.size() - 1);
  context.outcome = Outcome{};
  context.outcome.metric = metric;
  context.outcome.params = context.report->trials.back().params;
  context.outcome.calibration = candidate.table;
  context.outcome.recipe = candidate.recipe;
  context.outcome.prepared = candidate.prepared;
  ACT_LOG(kInfo, "quant_post: " << context.scorer->metric_name() << " " << metric << " (FP32 "
                                << context.fp32_metric << ")");
  return std::move(candidate.graph);
}

}  // namespace act::strategy
