// A PTQ candidate: the recipe (calibration table choice, weight scheme, bias correction, layers kept in
// FP32) and the QDQ graph it gives. quant_post, ptq_hpo and the layer fallback all build candidates this
// way, so a recipe found by one is reproduced exactly by another.
#pragma once

#include <map>
#include <memory>
#include <string>

#include "act/status.h"
#include "ir/graph.h"
#include "quant/calibration.h"
#include "strategy/activation_statistics.h"
#include "strategy/quantizer.h"

namespace act::strategy {

struct Context;

struct PtqRecipe {
  std::string algo = "hist";
  double hist_percent = 0.999;
  int64_t batch_num = -1;        // calibration batches (-1: all)
  bool bias_correct = false;
  ExportSettings settings;
  std::map<std::string, std::string> Params(const ActivationStatistics& stats) const;
};

struct PtqCandidate {
  PtqRecipe recipe;
  quant::CalibrationTable table;
  ir::Graph graph;               // the QDQ graph
  ir::Graph prepared;            // the FP32 graph it quantizes (the Quantizer's, with corrected biases)
  int corrected_nodes = 0;       // bias correction
};

// Makes sure context.statistics holds the algorithms in `algorithms` up to `max_batches` batches with
// `checkpoints`; collects (one pass) when it does not.
Status EnsureStatistics(Context& context, const std::set<std::string>& algorithms, int64_t max_batches,
                        const std::vector<int64_t>& checkpoints);

// Builds the candidate for `recipe` from context.statistics.
Expected<PtqCandidate> BuildCandidate(Context& context, const PtqRecipe& recipe);

}  // namespace act::strategy
