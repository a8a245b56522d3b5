#include "metrics/evaluator.h"

#include <cmath>
#include <memory>

#include "core/logging.h"
#include "core/progress.h"

namespace act::metrics {
namespace {

// Number of NaN/Inf elements over the floating-point outputs.
int64_t CountNonFinite(const std::map<std::string, Tensor>& outputs) {
  int64_t count = 0;
  for (const auto& [name, t] : outputs) {
    if (t.dtype() == DType::kFloat32) {
      const float* p = t.data<float>();
      for (int64_t i = 0; i < t.numel(); ++i) count += std::isfinite(p[i]) ? 0 : 1;
    } else if (t.dtype() == DType::kFloat64) {
      const double* p = t.data<double>();
      for (int64_t i = 0; i < t.numel(); ++i) count += std::isfinite(p[i]) ? 0 : 1;
    }
  }
  return count;
}

}  // namespace

Expected<EvalResult> Evaluate(ModelFn model, BatchSource next_batch, Metric& metric, ModelFn reference,
                              const EvalOptions& options) {
  if (!model || !next_batch) return InvalidInput("Evaluate needs a model function and a batch source");
  if (metric.needs_reference() && !reference) {
    return InvalidInput("metric '" + metric.name() + "' compares with a reference (FP32) model; none was given");
  }
  metric.Reset();
  ProgressBar progress(options.progress_label, options.total_samples);
  int64_t samples = 0, batches = 0, nonfinite = 0;
  for (;;) {
    ACT_ASSIGN_OR_RETURN(std::optional<data::Batch> batch, next_batch());
    if (!batch) break;
    const std::string where = "evaluating batch " + std::to_string(batches) + " (samples " +
                              std::to_string(samples) + ".." + std::to_string(samples + batch->size() - 1) + ")";
    auto outputs = model(batch->inputs);
    if (!outputs.ok()) return outputs.status().WithContext(where);
    nonfinite += CountNonFinite(*outputs);
    std::map<std::string, Tensor> reference_outputs;
    if (reference && metric.needs_reference()) {  // other metrics ignore it: save the run
      auto r = reference(batch->inputs);
      if (!r.ok()) return r.status().WithContext(where + ", reference model");
      reference_outputs = std::move(r).value();
    }
    Status s = metric.Update(*outputs, batch->labels, reference_outputs);
    if (!s.ok()) return s.WithContext(where);
    samples += batch->size();
    ++batches;
    progress.Advance(batch->size());
  }
  progress.Finish();
  if (batches == 0) return InvalidInput("nothing to evaluate: the data set yielded no batches");

  EvalResult result;
  result.metric = metric.name();
  result.value = metric.Result();
  result.details = metric.Details();
  result.samples = samples;
  result.higher_is_better = metric.higher_is_better();
  if (nonfinite > 0) {
    result.details["nonfinite_outputs"] = static_cast<double>(nonfinite);
    ACT_LOG(kWarning, "the model produced " << nonfinite << " non-finite (NaN/Inf) output values over " << samples
                                            << " samples");
  }
  if (!std::isfinite(result.value)) {
    return Failure("metric '" + result.metric + "' is " + std::to_string(result.value) + " over " +
                   std::to_string(samples) + " samples: the model produced non-finite outputs (" +
                   std::to_string(nonfinite) + " NaN/Inf values); check the model (e.g. a zero quantization "
                   "scale or an overflowing layer) before trusting any number from it");
  }
  return result;
}

BatchSource BatchesFrom(std::vector<data::Batch> batches) {
  auto state = std::make_shared<std::pair<std::vector<data::Batch>, size_t>>(std::move(batches), 0);
  return [state]() -> Expected<std::optional<data::Batch>> {
    if (state->second >= state->first.size()) return std::optional<data::Batch>();
    return std::optional<data::Batch>(state->first[state->second++]);
  };
}

}  // namespace act::metrics
