#include "strategy/activation_statistics.h"

#include <algorithm>
#include <chrono>
#include <cmath>
#include <cstring>

#include "core/progress.h"
#include "core/strings.h"
#include "exec/runner.h"
#include "core/batch_rows.h"
#include "quant/emd_observer.h"
#include "quant/kl_observer.h"
#include "quant/minmax_observer.h"
#include "quant/mse_observer.h"
#include "quant/percentile_observer.h"

namespace act::strategy {

namespace {
const std::vector<std::string> kAlgorithms = {"abs_max", "min_max", "avg", "hist", "KL", "mse", "emd"};
}  // namespace

std::string CanonicalAlgorithm(const std::string& algo) { return algo == "min_max" ? "abs_max" : algo; }

// The observers of one tensor. Copyable (deep), so a snapshot is a copy.
struct ActivationStatistics::Bundle {
  std::unique_ptr<quant::ReducedObserver> abs_max, avg;
  std::unique_ptr<quant::KlObserver> histogram;  // serves KL and hist (any percent)
  std::unique_ptr<quant::MseObserver> mse;
  std::unique_ptr<quant::EmdObserver> emd;

  Bundle() = default;
  Bundle(const Bundle& o) {
    if (o.abs_max) abs_max = std::make_unique<quant::ReducedObserver>(*o.abs_max);
    if (o.avg) avg = std::make_unique<quant::ReducedObserver>(*o.avg);
    if (o.histogram) histogram = std::make_unique<quant::KlObserver>(*o.histogram);
    if (o.mse) mse = std::make_unique<quant::MseObserver>(*o.mse);
    if (o.emd) emd = std::make_unique<quant::EmdObserver>(*o.emd);
  }

  Status Observe(const float* data, int64_t count) {
    for (quant::Observer* o : std::initializer_list<quant::Observer*>{abs_max.get(), avg.get(), histogram.get(),
                                                                      mse.get(), emd.get()}) {
      if (o) ACT_RETURN_IF_ERROR(o->Observe(data, count));
    }
    return Status::Ok();
  }
};

struct ActivationStatistics::Snapshot {
  int64_t batches = 0;
  std::vector<Bundle> bundles;  // parallel to tensors_
};

ActivationStatistics::ActivationStatistics() = default;
ActivationStatistics::~ActivationStatistics() = default;
ActivationStatistics::ActivationStatistics(ActivationStatistics&&) noexcept = default;
ActivationStatistics& ActivationStatistics::operator=(ActivationStatistics&&) noexcept = default;

Expected<ActivationStatistics> ActivationStatistics::Collect(const ir::Graph& graph,
                                                             const std::vector<std::string>& tensors,
                                                             const std::vector<data::Batch>& batches,
                                                             const StatisticsOptions& options) {
  const auto start = std::chrono::steady_clock::now();
  if (batches.empty()) return InvalidInput("calibration needs data: Global.train_data yielded no batches");
  std::set<std::string> algos;
  for (const auto& a : options.algorithms) {
    if (std::find(kAlgorithms.begin(), kAlgorithms.end(), a) == kAlgorithms.end()) {
      return InvalidInput("unknown calibration algorithm '" + a + "'" + DidYouMean(a, kAlgorithms) +
                          "; known: " + Join(kAlgorithms, ", "));
    }
    algos.insert(CanonicalAlgorithm(a));
  }
  ActivationStatistics stats;
  stats.tensors_ = tensors;
  stats.options_ = options;

  Snapshot current;
  current.bundles.resize(tensors.size());
  const quant::ObserverOptions& oo = options.observer;
  for (Bundle& b : current.bundles) {
    // abs_max always: it is the fallback range and cheap.
    b.abs_max = std::make_unique<quant::ReducedObserver>(oo, "abs_max", quant::Aggregator::kMax);
    if (algos.count("avg")) b.avg = std::make_unique<quant::ReducedObserver>(oo, "avg", quant::Aggregator::kMean);
    if (algos.count("hist") || algos.count("KL")) b.histogram = std::make_unique<quant::KlObserver>(oo);
    if (algos.count("mse")) b.mse = std::make_unique<quant::MseObserver>(oo);
    if (algos.count("emd")) b.emd = std::make_unique<quant::EmdObserver>(oo);
  }
  std::set<int64_t> checkpoints(options.checkpoints.begin(), options.checkpoints.end());

  ACT_ASSIGN_OR_RETURN(auto runner, exec::Runner::Create(graph, {options.threads}));
  ProgressBar progress("calibrate", static_cast<int64_t>(batches.size()));
  for (size_t bi = 0; bi < batches.size(); ++bi) {
    const data::Batch& batch = batches[bi];
    const int64_t rows = BatchRows(batch.inputs);
    const int64_t chunk = options.run_chunk > 0 ? options.run_chunk : rows;
    for (int64_t r0 = 0; r0 < rows; r0 += chunk) {
      const int64_t r1 = std::min(rows, r0 + chunk);
      std::map<std::string, Tensor> inputs = SliceRows(batch.inputs, rows, r0, r1);
      auto outputs = runner->Run(inputs, tensors);
      if (!outputs.ok()) {
        return outputs.status().WithContext("calibration batch " + std::to_string(bi));
      }
      for (size_t ti = 0; ti < tensors.size(); ++ti) {
        auto it = outputs->find(tensors[ti]);
        if (it == outputs->end()) return Internal("the executor did not return tensor '" + tensors[ti] + "'");
        const Tensor& t = it->second;
        if (t.dtype() != DType::kFloat32) {
          return InvalidInput("tensor '" + tensors[ti] + "' is " + DTypeName(t.dtype()) +
                              ", not float32: only float activations are quantized");
        }
        Status s = current.bundles[ti].Observe(t.data<float>(), t.numel());
        if (!s.ok()) {
          return s.WithContext("calibration batch " + std::to_string(bi) + ", tensor '" + tensors[ti] + "'");
        }
      }
    }
    current.batches = static_cast<int64_t>(bi) + 1;
    if (checkpoints.count(current.batches) && bi + 1 < batches.size()) {
      stats.snapshots_.push_back(std::make_unique<Snapshot>(current));
    }
    if (options.progress) progress.Advance(1);
  }
  progress.Finish();
  stats.snapshots_.push_back(std::make_unique<Snapshot>(std::move(current)));
  stats.seconds_ = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
  return stats;
}

int64_t ActivationStatistics::batches_seen() const { return snapshots_.back()->batches; }

int64_t ActivationStatistics::EffectiveBatches(int64_t batch_num) const {
  if (batch_num < 0) return batches_seen();
  int64_t best = snapshots_.front()->batches;
  for (const auto& s : snapshots_) {
    if (s->batches <= batch_num) best = s->batches;
  }
  return best;
}

Expected<quant::CalibrationTable> ActivationStatistics::Table(const std::string& algo_name, double hist_percent,
                                                              int64_t batch_num) const {
  const std::string algo = CanonicalAlgorithm(algo_name);
  const int64_t want = EffectiveBatches(batch_num);
  const Snapshot* snap = snapshots_.back().get();
  for (const auto& s : snapshots_) {
    if (s->batches == want) {
      snap = s.get();
      break;
    }
  }
  quant::CalibrationTable table;
  const quant::ObserverOptions& oo = options_.observer;
  for (size_t ti = 0; ti < tensors_.size(); ++ti) {
    const Bundle& b = snap->bundles[ti];
    quant::CalibrationEntry entry;
    entry.algorithm = algo_name;
    if (algo == "hist") {
      if (!b.histogram) return InvalidInput("calibration did not collect histograms for 'hist'");
      ACT_ASSIGN_OR_RETURN(quant::ObservedRange seen, b.abs_max->Range());
      const auto& h = b.histogram->histogram();
      const double max_abs = std::max(std::fabs(seen.seen_min), std::fabs(seen.seen_max));
      const double t = std::min(quant::PercentileThreshold(h.AbsCounts(), h.width(), hist_percent), max_abs);
      entry.min = std::max(seen.seen_min, static_cast<float>(-t));
      entry.max = std::min(seen.seen_max, static_cast<float>(t));
      entry.algorithm = "hist(" + std::to_string(hist_percent).substr(0, 8) + ")";
    } else {
      const quant::Observer* o = nullptr;
      if (algo == "abs_max") o = b.abs_max.get();
      if (algo == "avg") o = b.avg.get();
      if (algo == "KL") o = b.histogram.get();
      if (algo == "mse") o = b.mse.get();
      if (algo == "emd") o = b.emd.get();
      if (!o) return InvalidInput("calibration did not collect statistics for algorithm '" + algo_name + "'");
      auto range = o->Range();
      if (!range.ok()) return range.status().WithContext("tensor '" + tensors_[ti] + "', algorithm " + algo_name);
      entry.min = range->min;
      entry.max = range->max;
    }
    auto params = quant::ParamsForRange(entry.min, entry.max, oo.dtype, oo.symmetric, oo.bits);
    if (!params.ok()) return params.status().WithContext("tensor '" + tensors_[ti] + "'");
    entry.params = *params;
    table.Set(tensors_[ti], entry);
  }
  return table;
}

}  // namespace act::strategy
