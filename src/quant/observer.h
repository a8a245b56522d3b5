// Observers: streaming statistics of one tensor over calibration batches, turned into a clipping range
// and quantization parameters. Memory is fixed per tensor (a few numbers, or one histogram), never
// proportional to the data set: activations are seen once and dropped.
//
// Design (NNCF's reducer × aggregator): a *reducer* turns one batch into a number (abs-max, min, max) and
// an *aggregator* folds those numbers over batches (max, min, mean). `abs_max` is AbsMax × Max and `avg` is
// AbsMax × Mean. The histogram observers (hist, mse, KL, emd) share one streaming SignedHistogram and
// differ only in how they pick the threshold T from it. Every observer also tracks the global min and max
// (Min × Min, Max × Max), so the range it reports is [max(min, -T), min(max, T)] widened to contain 0:
// asymmetric u8 activations keep their sign information; a non-negative tensor (after Relu) gets [0, T].
//
// All observers need ONE pass over the data (the histogram grows its range by exact re-binning instead of
// a first abs-max pass). The registry of algorithms is ObserverAlgorithms() below.
#pragma once

#include <cstdint>
#include <limits>
#include <memory>
#include <string>
#include <vector>

#include "act/status.h"
#include "act/tensor.h"
#include "quant/quant_params.h"

namespace act::quant {

// ---- reducer × aggregator --------------------------------------------------------------------------------
enum class Reducer { kAbsMax, kMin, kMax };     // one batch → one number
enum class Aggregator { kMax, kMin, kMean };    // numbers of all batches → one number

class ReducedStatistic {
 public:
  ReducedStatistic(Reducer reducer, Aggregator aggregator) : reducer_(reducer), aggregator_(aggregator) {}
  void Add(const float* data, int64_t count);  // an empty batch is ignored
  bool empty() const { return batches_ == 0; }
  int64_t batches() const { return batches_; }
  double value() const;  // 0 when empty

 private:
  Reducer reducer_;
  Aggregator aggregator_;
  int64_t batches_ = 0;
  double accumulated_ = 0;
};

// ---- observers -------------------------------------------------------------------------------------------
struct ObserverOptions {
  DType dtype = DType::kUInt8;   // quantized type of this tensor (u8 on x86, s8 for TensorRT)
  bool symmetric = false;        // s8 activations are symmetric, u8 asymmetric
  int bits = 8;                  // activation_bits
  double hist_percent = 0.99999; // `hist`: the fraction of |x| kept inside the range (PaddleSlim's default)
  int bins = 2048;               // histogram bins (TensorRT's KL uses 2048)
};

// The range an observer chose, and the statistics behind it.
struct ObservedRange {
  float min = 0, max = 0;              // clipping range [max(seen_min, -T), min(seen_max, T)]
  float threshold = 0;                 // T, the chosen |x| threshold
  float seen_min = 0, seen_max = 0;    // extremes of all data seen
};

class Observer {
 public:
  explicit Observer(ObserverOptions options) : options_(options) {}
  virtual ~Observer() = default;
  virtual const char* algorithm() const = 0;
  // Feeds one batch. Fails on NaN/Inf (nothing is recorded then).
  Status Observe(const float* data, int64_t count);
  Status Observe(const Tensor& tensor);  // float32 only
  // The clipping range. Fails when nothing was observed.
  Expected<ObservedRange> Range() const;
  // Range() turned into quantization parameters for options().dtype.
  Expected<QuantParams> Params() const;
  const ObserverOptions& options() const { return options_; }

 protected:
  virtual Status ObserveImpl(const float* data, int64_t count) = 0;
  // The |x| threshold T; seen_min/seen_max are available.
  virtual Expected<double> Threshold() const = 0;
  // Range for a candidate threshold t: [max(seen_min, -t), min(seen_max, t)], widened to contain 0.
  // Used by the searches too.
  std::pair<float, float> ClipRange(double t) const;
  double seen_min() const { return min_.value(); }
  double seen_max() const { return max_.value(); }

  ObserverOptions options_;

 private:
  ReducedStatistic min_{Reducer::kMin, Aggregator::kMin};
  ReducedStatistic max_{Reducer::kMax, Aggregator::kMax};
};

// ---- the registry ---------------------------------------------------------------------------------------
struct ObserverAlgorithm {
  const char* name;          // ACT's QuantPost.algo value
  const char* description;
  std::unique_ptr<Observer> (*make)(const ObserverOptions& options);
};
// abs_max, min_max, avg, hist, mse, KL, emd (in that order).
const std::vector<ObserverAlgorithm>& ObserverAlgorithms();
// The observer for `algo`; an unknown name is an error suggesting the nearest one.
Expected<std::unique_ptr<Observer>> MakeObserver(const std::string& algo, const ObserverOptions& options);

}  // namespace act::quant
