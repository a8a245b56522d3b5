// strategy::Strategy: one compression step of the pipeline (DESIGN.md §2, §4). A strategy takes the
// shared Context (the FP32 graph, the config, data, the scorer, the report) and returns a candidate graph;
// it records its metric, parameters and calibration table in Context::outcome so the Pipeline can keep the
// best. Strategies are entries of one explicit table (Strategies() in registry.cc); later issues add
// qat_dis, channel_prune_dis, ... there.
#pragma once

#include <map>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "act/act.h"
#include "act/config.h"
#include "act/data.h"
#include "act/status.h"
#include "ir/graph.h"
#include "quant/calibration.h"
#include "strategy/ptq_candidate.h"
#include "strategy/quantizer.h"
#include "strategy/scorer.h"

namespace act::strategy {

class ActivationStatistics;

// What a strategy produced, besides the graph.
struct Outcome {
  double metric = 0;
  std::map<std::string, std::string> params;
  std::optional<quant::CalibrationTable> calibration;
  std::optional<PtqRecipe> recipe;      // PTQ strategies: how to rebuild the graph (the layer fallback does)
  std::optional<ir::Graph> prepared;    // PTQ strategies: the FP32 graph it quantized (biases corrected)
  std::vector<std::string> quantized_nodes;
  std::vector<std::string> fp32_nodes;  // "<node>: <why>"
};

struct Context {
  const config::Config* config = nullptr;
  const ir::Graph* fp32 = nullptr;              // the normalised input model
  double fp32_metric = 0;
  Scorer* scorer = nullptr;
  std::shared_ptr<const std::vector<data::Batch>> calibration;  // calibration batches (QuantPost.batch_size)
  const Quantizer* quantizer = nullptr;         // folding + QDQ export for this model and scheme
  // Statistics collected by an earlier strategy (ptq_hpo reuses quant_post's pass when it covers the
  // algorithms it needs); strategies may replace it with a wider collection.
  std::shared_ptr<ActivationStatistics> statistics;
  int threads = 0;
  int64_t run_batch = 0;                        // samples per executor run (fixed-batch models: their batch)
  bool progress = true;
  std::string save_dir;                         // the output folder (training checkpoints go there)
  bool resume = false;                          // training strategies continue from their checkpoint
  Report* report = nullptr;
  Outcome outcome;                              // set by the strategy that just ran
  std::optional<Outcome> best_ptq;              // the best PTQ outcome so far (QAT starts there)

  double Loss(double metric) const { return scorer->Loss(fp32_metric, metric); }
  double budget() const { return config->global.max_metric_loss; }
};

class Strategy {
 public:
  virtual ~Strategy() = default;
  virtual std::string name() const = 0;
  virtual Expected<ir::Graph> Run(Context& context) = 0;
};

struct StrategyEntry {
  const char* name;
  const char* description;
  std::unique_ptr<Strategy> (*make)();
};
// quant_post, ptq_hpo (in that order).
const std::vector<StrategyEntry>& Strategies();
Expected<std::unique_ptr<Strategy>> MakeStrategy(const std::string& name);

// The strategies a config asks for, in pipeline order: quant_post when QuantPost is present,
// ptq_hpo when HyperParameterOptimization is. With neither, quant_post with ACT's defaults (the planner of
// DESIGN.md §6 chooses more once QAT exists). Sections not implemented yet are an Unsupported error.
Expected<std::vector<std::string>> PlanStrategies(const config::Config& config, std::vector<std::string>* decisions);

}  // namespace act::strategy
