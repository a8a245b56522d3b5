// Layer fallback: when the best PTQ candidate still loses more than Global.max_metric_loss, return the
// fewest quantized layers to FP32 that bring the loss within budget.
//   1. Sensitivity: for each quantized node L, the model with only L quantized (every other quantizable node
//      kept FP32, exported from the statistics already collected) runs once over at most 8 calibration
//      samples; sensitivity(L) = the distance of its outputs to the FP32 outputs (scorer.h, OutputDistance):
//      continuous and cheap, where the full metric per layer cost ~1 min per layer on PP-OCRv4 rec.
//   2. Rank nodes by sensitivity, most sensitive first.
//   3. Find the smallest k such that keeping the top-k nodes in FP32 meets the budget: galloping search
//      k = 1, 2, 4, ... then binary search between the last miss and the first hit (the loss falls, near
//      enough monotonically, as sensitive layers leave); the found k is kept.
//      When even k = all but the least sensitive one misses, the best candidate seen is returned with a
//      warning (the report says the budget was not met).
// Step 3 uses the configured metric (Scorer). Every measurement is a Trial in the report (strategy
// "sensitivity" / "layer_fallback").
#pragma once

#include "strategy/strategy.h"

namespace act::strategy {

struct FallbackResult {
  ir::Graph graph;
  double metric = 0;
  std::vector<std::string> fp32_nodes;  // in sensitivity order
  quant::CalibrationTable table;
  PtqRecipe recipe;
  bool within_budget = false;
};

Expected<FallbackResult> LayerFallback(Context& context, const PtqRecipe& recipe);

}  // namespace act::strategy
