#include "strategy/ptq_hpo.h"

#include <algorithm>
#include <cmath>
#include <random>
#include <set>
#include <tuple>

#include "core/logging.h"
#include "core/progress.h"
#include "strategy/quant_post.h"

namespace act::strategy {
namespace {

std::vector<int64_t> BatchNumChoices(const std::vector<int64_t>& range, int64_t available) {
  std::vector<int64_t> out;
  if (range.empty()) return {available};
  const int64_t lo = std::min(std::max<int64_t>(1, range.front()), available);
  const int64_t hi = std::min(std::max(range.front(), range.back()), available);
  for (int64_t v : {lo, (lo + hi) / 2, hi}) {
    if (std::find(out.begin(), out.end(), v) == out.end()) out.push_back(v);
  }
  return out;
}

}  // namespace

std::vector<PtqRecipe> HpoRecipes(const config::HyperParameterOptimizationConfig& hpo, int64_t available_batches) {
  const std::vector<int64_t> batch_nums = BatchNumChoices(hpo.batch_num, std::max<int64_t>(1, available_batches));
  const double p_lo = hpo.hist_percent.empty() ? 0.999 : hpo.hist_percent.front();
  const double p_hi = hpo.hist_percent.empty() ? 0.999 : hpo.hist_percent.back();
  std::vector<PtqRecipe> recipes;
  std::set<std::tuple<std::string, double, int64_t, bool, std::string>> seen;
  auto add = [&](PtqRecipe r) {
    if (CanonicalAlgorithm(r.algo) != "hist") r.hist_percent = 0;
    auto key = std::make_tuple(r.algo, r.hist_percent, r.batch_num, r.bias_correct, r.settings.weight_quantize_type);
    if (!seen.insert(key).second) return;
    recipes.push_back(std::move(r));
  };
  const int64_t max_count = std::max<int64_t>(1, hpo.max_quant_count);
  // The grid of the discrete choices, at the largest batch count and the top of the percentile range.
  for (const auto& algo : hpo.ptq_algo) {
    for (bool bias : hpo.bias_correct) {
      for (const auto& wqt : hpo.weight_quantize_type) {
        if (static_cast<int64_t>(recipes.size()) >= max_count) return recipes;
        PtqRecipe r;
        r.algo = algo;
        r.bias_correct = bias;
        r.settings.weight_quantize_type = wqt;
        r.hist_percent = std::max(p_lo, p_hi);
        r.batch_num = batch_nums.back();
        add(r);
      }
    }
  }
  // Random draws of the continuous choices (fixed seed: a run is reproducible).
  std::mt19937 rng(20240601);
  for (int attempt = 0; attempt < 50 * max_count && static_cast<int64_t>(recipes.size()) < max_count; ++attempt) {
    PtqRecipe r;
    r.algo = hpo.ptq_algo[rng() % hpo.ptq_algo.size()];
    r.bias_correct = hpo.bias_correct[rng() % hpo.bias_correct.size()];
    r.settings.weight_quantize_type = hpo.weight_quantize_type[rng() % hpo.weight_quantize_type.size()];
    const double u = std::uniform_real_distribution<double>(0.0, 1.0)(rng);
    r.hist_percent = std::round((p_lo + u * (p_hi - p_lo)) * 1e5) / 1e5;
    r.batch_num = batch_nums[rng() % batch_nums.size()];
    add(r);
  }
  return recipes;
}

Expected<ir::Graph> PtqHpoStrategy::Run(Context& context) {
  const config::HyperParameterOptimizationConfig hpo =
      context.config->hyper_parameter_optimization.value_or(config::HyperParameterOptimizationConfig{});
  if (hpo.ptq_algo.empty() || hpo.bias_correct.empty() || hpo.weight_quantize_type.empty()) {
    return InvalidInput("HyperParameterOptimization: ptq_algo, bias_correct and weight_quantize_type must each "
                        "list at least one value");
  }
  for (const auto& a : hpo.ptq_algo) {
    if (a == "ptf") return Unsupported("HyperParameterOptimization.ptq_algo 'ptf' is not implemented");
  }
  const int64_t available = static_cast<int64_t>(context.calibration->size());
  std::vector<PtqRecipe> recipes = HpoRecipes(hpo, available);
  std::set<std::string> algos(hpo.ptq_algo.begin(), hpo.ptq_algo.end());
  std::set<int64_t> checkpoints;
  int64_t max_batches = 1;
  for (const auto& r : recipes) {
    checkpoints.insert(r.batch_num);
    max_batches = std::max(max_batches, r.batch_num);
  }
  ACT_RETURN_IF_ERROR(EnsureStatistics(context, algos, max_batches,
                                       std::vector<int64_t>(checkpoints.begin(), checkpoints.end())));
  context.report->decisions.push_back("ptq_hpo: " + std::to_string(recipes.size()) +
                                      " trials (max_quant_count " + std::to_string(hpo.max_quant_count) +
                                      ") over ptq_algo x bias_correct x weight_quantize_type x hist_percent x "
                                      "batch_num, all from the one calibration pass");

  std::optional<PtqCandidate> best;
  double best_metric = 0;
  size_t best_trial = 0;
  const bool progress_was = context.progress;
  ProgressBar bar("ptq_hpo trials", static_cast<int64_t>(recipes.size()));
  ProgressBar::SetEnabled(false);  // one bar for the trials, not one per evaluation
  for (size_t i = 0; i < recipes.size(); ++i) {
    auto candidate = BuildCandidate(context, recipes[i]);
    if (!candidate.ok()) {
      ProgressBar::SetEnabled(progress_was);
      return candidate.status().WithContext("ptq_hpo trial " + std::to_string(i + 1));
    }
    double seconds = 0;
    auto metric = ScoreCandidate(context, *candidate, name(), "trial " + std::to_string(i + 1), &seconds);
    if (!metric.ok()) {
      ProgressBar::SetEnabled(progress_was);
      return metric.status();
    }
    if (!best || context.Loss(*metric) < context.Loss(best_metric)) {
      best_metric = *metric;
      best = std::move(candidate).value();
      best_trial = context.report->trials.size() - 1;
    }
    ProgressBar::SetEnabled(progress_was);
    char suffix[96];
    std::snprintf(suffix, sizeof(suffix), "%s=%.4f best=%.4f", context.scorer->metric_name().c_str(), *metric,
                  best_metric);
    bar.Advance(1, suffix);
    ProgressBar::SetEnabled(false);
  }
  ProgressBar::SetEnabled(progress_was);
  bar.Finish();
  context.report->Choose(best_trial);
  context.outcome = Outcome{};
  context.outcome.metric = best_metric;
  context.outcome.params = context.report->trials[best_trial].params;
  context.outcome.calibration = best->table;
  context.outcome.recipe = best->recipe;
  context.outcome.prepared = best->prepared;
  context.report->decisions.push_back("ptq_hpo: best " + context.report->trials[best_trial].name + " with " +
                                      context.scorer->metric_name() + " " + std::to_string(best_metric));
  return std::move(best->graph);
}

}  // namespace act::strategy
