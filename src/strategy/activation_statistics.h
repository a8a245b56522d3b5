// ActivationStatistics: the calibration pass shared by every PTQ trial. One pass over the calibration
// batches feeds, per activation tensor, each observer the requested algorithms need (NNCF's idea: the
// statistics of all algorithms of a step are gathered together), so a search over algo × hist_percent ×
// batch_num never recalibrates:
//   1. Run the FP32 graph on each batch (in chunks of at most run_chunk samples, which bounds the memory of
//      the intermediates kept), asking the executor for every tensor to observe.
//   2. Feed each tensor to its bundle: abs_max and avg (a few numbers), one histogram observer serving both
//      `hist` (any hist_percent, read off its histogram) and `KL`, and `mse` / `emd` observers when asked.
//   3. After the batches listed in `checkpoints`, copy the bundles (fixed size each: a histogram of
//      `bins` bins), so Table(algo, hist_percent, batch_num) answers for any listed batch count.
// Memory is bounded by tensors × observers × bins, never by the data set size.
#pragma once

#include <cstdint>
#include <map>
#include <memory>
#include <set>
#include <string>
#include <vector>

#include "act/data.h"
#include "act/status.h"
#include "ir/graph.h"
#include "quant/calibration.h"
#include "quant/observer.h"

namespace act::strategy {

struct StatisticsOptions {
  std::set<std::string> algorithms;   // any of abs_max, min_max, avg, hist, KL, mse, emd
  std::vector<int64_t> checkpoints;   // batch counts to keep snapshots at; the last batch is always kept
  quant::ObserverOptions observer;    // dtype, symmetry, bits, bins (hist_percent is given per table)
  int threads = 0;
  bool progress = true;
  int64_t run_chunk = 8;              // samples per executor run (the model's fixed batch size when it has one)
};

class ActivationStatistics {
 public:
  ~ActivationStatistics();
  ActivationStatistics(ActivationStatistics&&) noexcept;
  ActivationStatistics& operator=(ActivationStatistics&&) noexcept;

  // Observes `tensors` of `graph` over `batches`. Fails naming the tensor when a value is NaN/Inf or is
  // not a float tensor the graph produces.
  static Expected<ActivationStatistics> Collect(const ir::Graph& graph, const std::vector<std::string>& tensors,
                                                const std::vector<data::Batch>& batches,
                                                const StatisticsOptions& options);

  // Calibration table for `algo` after the first `batch_num` batches (the nearest checkpoint at or below
  // it; the full pass when batch_num < 0 or beyond the data). InvalidInput for an algorithm not collected.
  Expected<quant::CalibrationTable> Table(const std::string& algo, double hist_percent, int64_t batch_num) const;
  // The batch count Table would use for `batch_num`.
  int64_t EffectiveBatches(int64_t batch_num) const;
  int64_t batches_seen() const;
  const std::vector<std::string>& tensors() const { return tensors_; }
  double seconds() const { return seconds_; }

 private:
  struct Bundle;
  struct Snapshot;
  ActivationStatistics();
  std::vector<std::string> tensors_;
  StatisticsOptions options_;
  std::vector<std::unique_ptr<Snapshot>> snapshots_;  // ascending batch counts
  double seconds_ = 0;
};

// The observer name behind a config algo name ("min_max" is abs_max's range on u8: [min, max]).
std::string CanonicalAlgorithm(const std::string& algo);

}  // namespace act::strategy
