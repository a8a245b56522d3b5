// abs_max and avg: observers that keep a few numbers per tensor.
//   abs_max (reducer AbsMax × aggregator Max):
//     1. For each batch, m_b = max |x| over the batch.
//     2. T = max_b m_b, the largest magnitude ever seen.
//   avg (reducer AbsMax × aggregator Mean; PaddleSlim's `avg`):
//     1. For each batch, m_b = max |x| over the batch.
//     2. T = mean_b m_b — less sensitive than abs_max to one outlier batch.
//   min_max: PaddleSlim's name for the global [min, max]; with ranges clipped as [max(min, -T), min(max, T)]
//     and T = max|x| that is exactly abs_max's range, so it is abs_max under its own name.
//   All then report [max(min, -T), min(max, T)] (Observer::ClipRange).
#pragma once

#include "quant/observer.h"

namespace act::quant {

class ReducedObserver : public Observer {
 public:
  ReducedObserver(const ObserverOptions& options, const char* name, Aggregator aggregator)
      : Observer(options), name_(name), abs_max_(Reducer::kAbsMax, aggregator) {}
  const char* algorithm() const override { return name_; }

 protected:
  Status ObserveImpl(const float* data, int64_t count) override;
  Expected<double> Threshold() const override { return abs_max_.value(); }

 private:
  const char* name_;
  ReducedStatistic abs_max_;
};

std::unique_ptr<Observer> MakeAbsMaxObserver(const ObserverOptions& options);
std::unique_ptr<Observer> MakeMinMaxObserver(const ObserverOptions& options);
std::unique_ptr<Observer> MakeAvgObserver(const ObserverOptions& options);

}  // namespace act::quant
