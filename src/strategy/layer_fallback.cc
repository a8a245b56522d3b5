#include "strategy/layer_fallback.h"

#include <algorithm>
#include <chrono>
#include <cstdio>

#include "core/progress.h"
#include "strategy/quant_post.h"
#include "strategy/scorer.h"

namespace act::strategy {

Expected<FallbackResult> LayerFallback(Context& context, const PtqRecipe& base) {
  const std::vector<std::string>& nodes = context.quantizer->quantizable_nodes();
  std::vector<std::string> active;
  for (const auto& n : nodes) {
    if (!base.settings.skip_nodes.count(n)) active.push_back(n);
  }
  const bool progress_was = context.progress;

  // 1-2. Sensitivity, one node quantized at a time, scored cheaply: the output distance to the FP32 graph
  // on at most kSensitivitySamples (8) calibration samples (one run per candidate, statistics reused), not the
  // full metric (a full eval per layer took ~1 min per layer on PP-OCRv4 rec).
  constexpr int64_t kSensitivitySamples = 8;
  std::vector<data::Batch> subset;
  int64_t subset_samples = 0;
  if (context.calibration) {
    for (const auto& b : *context.calibration) {
      if (subset_samples >= kSensitivitySamples) break;
      subset.push_back(b);
      subset_samples += b.size();
    }
  }
  if (subset.empty()) return InvalidInput("layer fallback: no calibration batches to rank layers on");
  ACT_ASSIGN_OR_RETURN(std::unique_ptr<OutputDistance> distance,
                       OutputDistance::Create(context.quantizer->prepared(), std::move(subset), context.threads,
                                              context.run_batch));
  std::vector<std::pair<double, std::string>> ranked;  // (distance, node)
  {
    ProgressBar bar("sensitivity", static_cast<int64_t>(active.size()));
    for (const auto& node : active) {
      PtqRecipe r = base;
      r.bias_correct = false;  // a one-layer model: measure the layer's own quantization error
      for (const auto& other : nodes) {
        if (other != node) r.settings.skip_nodes.insert(other);
      }
      ProgressBar::SetEnabled(false);
      const auto start = std::chrono::steady_clock::now();
      auto candidate = BuildCandidate(context, r);
      if (!candidate.ok()) {
        ProgressBar::SetEnabled(progress_was);
        return candidate.status().WithContext("sensitivity of '" + node + "'");
      }
      const std::string label = "only '" + node + "' quantized";
      auto d = distance->Distance(candidate->graph, label);
      ProgressBar::SetEnabled(progress_was);
      if (!d.ok()) return d.status();
      Trial trial;
      trial.strategy = "sensitivity";
      trial.name = label;
      trial.params = {{"quantized_node", node},
                      {"score", "output distance to FP32 (sum |y-r|^2 / sum |r|^2) on " +
                                    std::to_string(distance->samples()) + " calibration samples"}};
      trial.metric = *d;
      trial.loss = *d;
      trial.seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
      context.report->trials.push_back(trial);
      ranked.emplace_back(*d, node);
      bar.Advance(1);
    }
  }
  std::stable_sort(ranked.begin(), ranked.end(), [](const auto& a, const auto& b) { return a.first > b.first; });
  {
    std::string order;
    for (size_t i = 0; i < ranked.size() && i < 8; ++i) {
      char buf[160];
      std::snprintf(buf, sizeof(buf), "%s%s (%.4g)", i ? ", " : "", ranked[i].second.c_str(), ranked[i].first);
      order += buf;
    }
    context.report->decisions.push_back("layer fallback: sensitivity ranking (output distance to FP32 with only that "
                                        "layer quantized), most sensitive first: " + order +
                                        (ranked.size() > 8 ? ", ..." : ""));
  }

  // 3. Smallest k meeting the budget.
  std::map<int64_t, std::pair<double, PtqCandidate>> tried;
  auto evaluate = [&](int64_t k) -> Expected<double> {
    if (auto it = tried.find(k); it != tried.end()) return it->second.first;
    PtqRecipe r = base;
    for (int64_t i = 0; i < k; ++i) r.settings.skip_nodes.insert(ranked[i].second);
    ProgressBar::SetEnabled(false);
    auto candidate = BuildCandidate(context, r);
    if (!candidate.ok()) {
      ProgressBar::SetEnabled(progress_was);
      return candidate.status().WithContext("layer fallback with " + std::to_string(k) + " FP32 layers");
    }
    double seconds = 0;
    auto metric = ScoreCandidate(context, *candidate, "layer_fallback",
                                 std::to_string(k) + " most sensitive layers in FP32", &seconds);
    ProgressBar::SetEnabled(progress_was);
    if (!metric.ok()) return metric.status();
    context.report->trials.back().params["fp32_layers"] = std::to_string(k);
    tried.emplace(k, std::make_pair(*metric, std::move(candidate).value()));
    return *metric;
  };
  const int64_t n = static_cast<int64_t>(ranked.size());
  const int64_t last = std::max<int64_t>(1, n - 1);  // k = n would be the FP32 model
  int64_t found = -1;
  // Galloping search: k = 1, 2, 4, ... up to `last` until one meets the budget (the ranking usually puts the
  // few layers that matter first, so small k is found in a couple of full evaluations), then a binary
  // search between the last miss and that hit.
  auto meets = [&](int64_t k) -> Expected<bool> {
    ACT_ASSIGN_OR_RETURN(double m, evaluate(k));
    return context.Loss(m) <= context.budget();
  };
  int64_t miss = 0, hit = -1;
  for (int64_t k = 1;; k = std::min(last, k * 2)) {
    ACT_ASSIGN_OR_RETURN(bool ok, meets(k));
    if (ok) {
      hit = k;
      break;
    }
    miss = k;
    if (k == last) break;
  }
  if (hit > 0) {
    while (hit - miss > 1) {
      const int64_t mid = miss + (hit - miss) / 2;
      ACT_ASSIGN_OR_RETURN(bool ok, meets(mid));
      if (ok) hit = mid;
      else miss = mid;
    }
    found = hit;
  }
  FallbackResult result;
  int64_t chosen = found;
  if (found < 0) {
    // Budget missed everywhere: the best candidate seen.
    double best_loss = 0;
    for (const auto& [k, entry] : tried) {
      const double loss = context.Loss(entry.first);
      if (chosen < 0 || loss < best_loss) {
        chosen = k;
        best_loss = loss;
      }
    }
  }
  auto& entry = tried.at(chosen);
  result.metric = entry.first;
  result.graph = std::move(entry.second.graph);
  result.table = entry.second.table;
  result.recipe = entry.second.recipe;
  for (int64_t i = 0; i < chosen; ++i) result.fp32_nodes.push_back(ranked[i].second);
  result.within_budget = context.Loss(result.metric) <= context.budget();
  auto& trials = context.report->trials;
  for (size_t i = 0; i < trials.size(); ++i) {
    if (trials[i].strategy == "layer_fallback" && trials[i].params["fp32_layers"] == std::to_string(chosen)) {
      context.report->Choose(i);
    }
  }
  context.report->decisions.push_back(
      "layer fallback: " + std::to_string(chosen) + " of " + std::to_string(n) + " quantized layers returned to FP32, " +
      context.scorer->metric_name() + " " + std::to_string(result.metric) +
      (result.within_budget ? " (within budget)" : " (budget still missed: best found)"));
  return result;
}

}  // namespace act::strategy
