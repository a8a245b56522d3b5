// ptq_hpo: ACT's HyperParameterOptimization — a search over PTQ recipes, scored by the eval metric.
//   1. Trial recipes: every combination of ptq_algo × bias_correct × weight_quantize_type first (in that
//      order, so a small max_quant_count still tries each algorithm), then further draws of hist_percent
//      (uniform in [low, high], `hist` only) and batch_num (one of low, middle, high) from a fixed-seed
//      generator; at most max_quant_count distinct recipes.
//   2. One calibration pass collects every algorithm's statistics with snapshots at the batch_num values
//      (activation_statistics.h), so no trial recalibrates: a trial is a table lookup, an export, an
//      optional bias-correction pass and an evaluation.
//   3. The recipe with the smallest loss wins (the first on ties); every trial goes into the report.
#pragma once

#include "strategy/strategy.h"

namespace act::strategy {

class PtqHpoStrategy : public Strategy {
 public:
  std::string name() const override { return "ptq_hpo"; }
  Expected<ir::Graph> Run(Context& context) override;
};

// Step 1, exposed for tests.
std::vector<PtqRecipe> HpoRecipes(const config::HyperParameterOptimizationConfig& hpo, int64_t available_batches);

}  // namespace act::strategy
