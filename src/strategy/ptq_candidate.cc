#include "strategy/ptq_candidate.h"

#include <algorithm>
#include <cstdio>

#include "strategy/bias_correction.h"
#include "strategy/strategy.h"

namespace act::strategy {
namespace {

std::string FormatDouble(double v) {
  char buf[32];
  std::snprintf(buf, sizeof(buf), "%.6g", v);
  return buf;
}

// The first `count` batches (all when count < 0).
std::vector<data::Batch> FirstBatches(const std::vector<data::Batch>& batches, int64_t count) {
  if (count < 0 || count >= static_cast<int64_t>(batches.size())) return batches;
  return std::vector<data::Batch>(batches.begin(), batches.begin() + count);
}

}  // namespace

std::map<std::string, std::string> PtqRecipe::Params(const ActivationStatistics& stats) const {
  std::map<std::string, std::string> p;
  p["algo"] = algo;
  if (CanonicalAlgorithm(algo) == "hist") p["hist_percent"] = FormatDouble(hist_percent);
  p["batch_num"] = std::to_string(stats.EffectiveBatches(batch_num));
  p["bias_correct"] = bias_correct ? "true" : "false";
  p["weight_quantize_type"] = settings.weight_quantize_type;
  if (!settings.skip_nodes.empty()) p["fp32_nodes"] = std::to_string(settings.skip_nodes.size());
  return p;
}

Status EnsureStatistics(Context& context, const std::set<std::string>& algorithms, int64_t max_batches,
                        const std::vector<int64_t>& checkpoints) {
  const auto& all = *context.calibration;
  const int64_t available = static_cast<int64_t>(all.size());
  const int64_t batches = max_batches < 0 ? available : std::min(max_batches, available);
  if (context.statistics) {
    // Reuse when the earlier pass saw as many batches and every checkpoint and algorithm we need.
    bool covers = context.statistics->batches_seen() >= batches;
    for (int64_t c : checkpoints) covers = covers && context.statistics->EffectiveBatches(c) == std::min(c, batches);
    StatisticsOptions probe;
    for (const auto& a : algorithms) {
      auto t = context.statistics->Table(a, 0.999, -1);
      covers = covers && t.ok();
    }
    if (covers) return Status::Ok();
  }
  StatisticsOptions options;
  options.algorithms = algorithms;
  options.checkpoints = checkpoints;
  options.observer.dtype = context.quantizer->scheme().activation_dtype;
  options.observer.symmetric = context.quantizer->scheme().activation_symmetric;
  options.observer.bits = context.quantizer->scheme().activation_bits;
  options.threads = context.threads;
  options.progress = context.progress;
  if (context.run_batch > 0) options.run_chunk = context.run_batch;
  std::vector<data::Batch> used = FirstBatches(all, batches);
  ACT_ASSIGN_OR_RETURN(ActivationStatistics stats,
                       ActivationStatistics::Collect(context.quantizer->prepared(),
                                                     context.quantizer->activation_tensors(), used, options));
  context.report->calibration_seconds += stats.seconds();
  std::vector<std::string> names(algorithms.begin(), algorithms.end());
  std::string list;
  for (const auto& n : names) list += (list.empty() ? "" : ", ") + n;
  context.report->decisions.push_back(
      "calibration: one pass over " + std::to_string(stats.batches_seen()) + " batches observing " +
      std::to_string(stats.tensors().size()) + " activation tensors for {" + list + "} (" +
      FormatDouble(stats.seconds()) + " s)");
  context.statistics = std::make_shared<ActivationStatistics>(std::move(stats));
  return Status::Ok();
}

Expected<PtqCandidate> BuildCandidate(Context& context, const PtqRecipe& recipe) {
  PtqCandidate candidate;
  candidate.recipe = recipe;
  ACT_ASSIGN_OR_RETURN(candidate.table,
                       context.statistics->Table(recipe.algo, recipe.hist_percent, recipe.batch_num));
  ACT_ASSIGN_OR_RETURN(candidate.graph, context.quantizer->Export(candidate.table, recipe.settings));
  candidate.prepared = context.quantizer->prepared();
  if (recipe.bias_correct) {
    const int64_t batches = context.statistics->EffectiveBatches(recipe.batch_num);
    std::vector<data::Batch> used = FirstBatches(*context.calibration, batches);
    ACT_ASSIGN_OR_RETURN(BiasCorrectionResult corrected,
                         CorrectBias(*context.quantizer, candidate.graph, recipe.settings, used, context.threads,
                                     context.run_batch));
    candidate.corrected_nodes = corrected.corrected_nodes;
    if (corrected.corrected_nodes > 0) {
      ACT_ASSIGN_OR_RETURN(candidate.graph,
                           context.quantizer->Export(candidate.table, recipe.settings, &corrected.prepared));
      candidate.prepared = std::move(corrected.prepared);
    }
  }
  return candidate;
}

}  // namespace act::strategy
