// Evaluate: runs a model over a stream of batches and feeds a Metric, with a progress bar — the one loop
// behind `onnx-act eval`, the strategies' accuracy checks and the C++ API. The model is any function from
// named inputs to named outputs (exec::Module, runtime::Session, or the user's own callback), so this
// module depends on neither.
#pragma once

#include <cstdint>
#include <functional>
#include <map>
#include <optional>
#include <string>
#include <vector>

#include "act/data.h"
#include "act/metrics.h"
#include "act/status.h"
#include "act/tensor.h"

namespace act::metrics {

using ModelFn = std::function<Expected<std::map<std::string, Tensor>>(const std::map<std::string, Tensor>&)>;
// Yields the next batch, std::nullopt at the end of the data, or an error.
using BatchSource = std::function<Expected<std::optional<data::Batch>>()>;

struct EvalResult {
  std::string metric;                      // the metric's name
  double value = 0;                        // its headline number
  std::map<std::string, double> details;   // Metric::Details(), plus nonfinite_outputs when there were any
  int64_t samples = 0;
  bool higher_is_better = true;
};

struct EvalOptions {
  std::string progress_label = "eval";
  int64_t total_samples = 0;  // for the progress bar; 0 when unknown
};

// 1. Resets `metric`. 2. For each batch: runs `model` (and `reference` on the same inputs when given) and
// calls metric.Update. 3. Returns the metric's value. Errors name the batch. A metric that needs a reference
// without one is InvalidInput; a non-finite metric value is a Failure saying the model produced
// non-finite outputs; no batches at all is InvalidInput.
Expected<EvalResult> Evaluate(ModelFn model, BatchSource next_batch, Metric& metric, ModelFn reference = nullptr,
                              const EvalOptions& options = {});

// A BatchSource over batches held in memory (tests, small C++ programs).
BatchSource BatchesFrom(std::vector<data::Batch> batches);

}  // namespace act::metrics
