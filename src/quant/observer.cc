#include "quant/observer.h"

#include <algorithm>
#include <cmath>

#include "core/strings.h"
#include "quant/emd_observer.h"
#include "quant/histogram_observer.h"
#include "quant/kl_observer.h"
#include "quant/minmax_observer.h"
#include "quant/mse_observer.h"
#include "quant/percentile_observer.h"

namespace act::quant {

void ReducedStatistic::Add(const float* data, int64_t count) {
  if (count <= 0) return;
  double r = 0;
  switch (reducer_) {
    case Reducer::kAbsMax: {
      float m = 0;
      for (int64_t i = 0; i < count; ++i) m = std::max(m, std::fabs(data[i]));
      r = m;
      break;
    }
    case Reducer::kMin: r = *std::min_element(data, data + count); break;
    case Reducer::kMax: r = *std::max_element(data, data + count); break;
  }
  if (batches_ == 0) {
    accumulated_ = r;
  } else {
    switch (aggregator_) {
      case Aggregator::kMax: accumulated_ = std::max(accumulated_, r); break;
      case Aggregator::kMin: accumulated_ = std::min(accumulated_, r); break;
      case Aggregator::kMean: accumulated_ += r; break;
    }
  }
  ++batches_;
}

double ReducedStatistic::value() const {
  if (batches_ == 0) return 0;
  return aggregator_ == Aggregator::kMean ? accumulated_ / static_cast<double>(batches_) : accumulated_;
}

Status Observer::Observe(const float* data, int64_t count) {
  if (count <= 0) return Status::Ok();
  ACT_RETURN_IF_ERROR(ObserveImpl(data, count));  // rejects NaN/Inf before recording anything
  min_.Add(data, count);
  max_.Add(data, count);
  return Status::Ok();
}

Status Observer::Observe(const Tensor& tensor) {
  if (tensor.dtype() != DType::kFloat32) {
    return InvalidInput("observers take float32 tensors, got " + DTypeName(tensor.dtype()));
  }
  return Observe(tensor.data<float>(), tensor.numel());
}

std::pair<float, float> Observer::ClipRange(double t) const {
  // 0 stays inside the range (it must be exact: padding, Relu), so a tensor whose values all lie above
  // (or below) a small threshold still gets a valid [0, t] (or [-t, 0]).
  const double lo = std::min(std::max(seen_min(), -t), 0.0);
  const double hi = std::max(std::min(seen_max(), t), 0.0);
  return {static_cast<float>(lo), static_cast<float>(hi)};
}

Expected<ObservedRange> Observer::Range() const {
  if (min_.empty()) return Failure(std::string(algorithm()) + " observer saw no data");
  ACT_ASSIGN_OR_RETURN(double t, Threshold());
  ObservedRange r;
  r.threshold = static_cast<float>(t);
  std::tie(r.min, r.max) = ClipRange(t);
  r.seen_min = static_cast<float>(seen_min());
  r.seen_max = static_cast<float>(seen_max());
  return r;
}

Expected<QuantParams> Observer::Params() const {
  ACT_ASSIGN_OR_RETURN(ObservedRange r, Range());
  return ParamsForRange(r.min, r.max, options_.dtype, options_.symmetric, options_.bits);
}

// ---- abs_max / avg --------------------------------------------------------------------------------------
Status ReducedObserver::ObserveImpl(const float* data, int64_t count) {
  for (int64_t i = 0; i < count; ++i) {
    if (!std::isfinite(data[i])) {
      return InvalidInput("value at element " + std::to_string(i) + " is not finite; calibration needs finite "
                          "activations (check the inputs and the model)");
    }
  }
  abs_max_.Add(data, count);
  return Status::Ok();
}

std::unique_ptr<Observer> MakeAbsMaxObserver(const ObserverOptions& options) {
  return std::make_unique<ReducedObserver>(options, "abs_max", Aggregator::kMax);
}
std::unique_ptr<Observer> MakeMinMaxObserver(const ObserverOptions& options) {
  return std::make_unique<ReducedObserver>(options, "min_max", Aggregator::kMax);
}
std::unique_ptr<Observer> MakeAvgObserver(const ObserverOptions& options) {
  return std::make_unique<ReducedObserver>(options, "avg", Aggregator::kMean);
}

// ---- histogram helpers ----------------------------------------------------------------------------------
std::vector<double> HistogramObserver::CandidateThresholds(double from_fraction, int max_candidates) const {
  const int n = histogram_.OccupiedBins();
  const double w = histogram_.width();
  const double max_abs = std::max(std::fabs(seen_min()), std::fabs(seen_max()));
  std::vector<double> out;
  if (n == 0 || w == 0) return {max_abs};
  const int first = std::max(0, static_cast<int>(std::floor(from_fraction * n)) - 1);
  const int stride = std::max(1, (n - first) / std::max(1, max_candidates));
  for (int i = first; i < n; i += stride) out.push_back(std::min((i + 1) * w, max_abs));
  if (out.empty() || out.back() < max_abs) out.push_back(max_abs);
  return out;
}

// ---- registry -------------------------------------------------------------------------------------------
const std::vector<ObserverAlgorithm>& ObserverAlgorithms() {
  static const std::vector<ObserverAlgorithm> kAlgorithms = {
      {"abs_max", "max |x| over all batches", &MakeAbsMaxObserver},
      {"min_max", "global min and max (the same range as abs_max: ranges are [max(min,-T), min(max,T)])", &MakeMinMaxObserver},
      {"avg", "mean over batches of the per-batch max |x|", &MakeAvgObserver},
      {"hist", "percentile hist_percent of |x| from a histogram", &MakePercentileObserver},
      {"mse", "threshold minimising the quantization MSE over the histogram", &MakeMseObserver},
      {"KL", "TensorRT entropy calibration (KL divergence over a 2048-bin histogram)", &MakeKlObserver},
      {"emd", "threshold minimising |mean - mean_q| + |std - std_q| (PaddleSlim's emd)", &MakeEmdObserver},
  };
  return kAlgorithms;
}

Expected<std::unique_ptr<Observer>> MakeObserver(const std::string& algo, const ObserverOptions& options) {
  std::vector<std::string> names;
  for (const auto& a : ObserverAlgorithms()) {
    if (algo == a.name) return a.make(options);
    names.push_back(a.name);
  }
  return InvalidInput("unknown calibration algorithm '" + algo + "'" + DidYouMean(algo, names) +
                      "; expected one of " + Join(names, ", "));
}

}  // namespace act::quant
