// Scorer: the one number each candidate model is judged by — the configured metric on the eval data, the
// user's callback (file or runner form), or, without labels, agreement with the FP32 model's outputs.
// Strategies compare candidates through Scorer::Loss, which is signed so that positive means worse
// whatever the metric's direction (accuracy drops, CER rises).
#pragma once

#include <map>
#include <memory>
#include <string>
#include <vector>

#include "act/act.h"
#include "act/data.h"
#include "act/metrics.h"
#include "act/status.h"
#include "data/loader.h"
#include "ir/graph.h"

namespace act::exec {
class Runner;
}

namespace act::strategy {

class Scorer {
 public:
  virtual ~Scorer() = default;
  // Scores a candidate graph (FP32 or QDQ). `label` names it in messages. A NaN/Inf score is a Failure.
  virtual Expected<double> Score(const ir::Graph& graph, const std::string& label) = 0;
  // Scores the FP32 model. The metric scorer on the oneDNN runtime also scores it on the executor (the
  // reference) and, when the two disagree, scores everything on the executor from then on.
  virtual Expected<double> ScoreReference(const ir::Graph& graph) { return Score(graph, "FP32 model"); }
  // Notes for the report (engine switches, fallbacks).
  virtual std::vector<std::string> Notes() const { return {}; }
  virtual std::string metric_name() const = 0;
  virtual bool higher_is_better() const = 0;
  // Where scores come from, for the report ("top1 on 9000 samples of idx ..., onnx-act executor").
  virtual std::string Describe() const = 0;
  // reference - candidate for higher-is-better metrics, candidate - reference otherwise.
  double Loss(double reference, double candidate) const {
    return higher_is_better() ? reference - candidate : candidate - reference;
  }
};

// Which engine runs candidates for the built-in metric: "onednn" (the runtime's oneDNN backend: real INT8
// kernels, ~15x cheaper than simulating Q/DQ in libtorch; a candidate it cannot build or run falls back
// to the executor, and the report says so) or "torch" (the libtorch executor, the reference).
struct ScoringEngine {
  std::string name = "onednn";
  int threads = 0;
  int64_t run_batch = 0;  // > 0: split batches into runs of this many samples (fixed-batch models)
};

// The built-in metric over batches held in memory, run on `engine`.
// Metrics that need a reference (agreement) compare with `reference_graph`'s outputs, computed once.
Expected<std::unique_ptr<Scorer>> MakeMetricScorer(const metrics::MetricConfig& metric_config,
                                                   std::shared_ptr<const std::vector<data::Batch>> batches,
                                                   const ir::Graph& reference_graph, std::string data_description,
                                                   const ScoringEngine& engine);

// The user's callback. The file form writes the candidate to `scratch_dir` (a temporary file, removed).
std::unique_ptr<Scorer> MakeFileCallbackScorer(EvalFileCallback callback, bool higher_is_better,
                                               std::string scratch_dir);
std::unique_ptr<Scorer> MakeRunnerCallbackScorer(EvalRunnerCallback callback, bool higher_is_better, int threads);

// Runs `runner` on `inputs` in runs of at most `run_batch` samples (0: one run), joining the outputs.
Expected<std::map<std::string, Tensor>> RunSplit(exec::Runner& runner, const std::map<std::string, Tensor>& inputs,
                                                 int64_t run_batch, const std::vector<std::string>& want = {});

// Output distance to the FP32 reference on a few batches held in memory: the cheap, continuous score the
// layer-fallback sensitivity ranking uses instead of the full metric (one run per candidate over a small
// subset, no decoding, no thresholds: a layer that moves the outputs a little still ranks).
//   distance = sum over outputs and samples of |y - r|^2 / sum of |r|^2    (r: reference outputs)
// Both the reference and the candidates run on the same engine (the oneDNN runtime, or the executor when
// the runtime cannot build a graph), so engine differences do not enter the ranking.
class OutputDistance {
 public:
  static Expected<std::unique_ptr<OutputDistance>> Create(const ir::Graph& reference,
                                                          std::vector<data::Batch> batches, int threads,
                                                          int64_t run_batch);
  Expected<double> Distance(const ir::Graph& candidate, const std::string& label);
  int64_t samples() const;

 private:
  OutputDistance() = default;
  std::vector<data::Batch> batches_;
  std::vector<std::map<std::string, Tensor>> reference_;
  int threads_ = 0;
  int64_t run_batch_ = 0;
};

// Every batch `options` select from `dataset` (data::Loader: skip/limit/shuffle/batch_size), in memory:
// candidates are scored on the same batches many times, so they are decoded once.
Expected<std::vector<data::Batch>> MakeBatches(const data::Dataset& dataset, const data::LoaderOptions& options);

}  // namespace act::strategy
