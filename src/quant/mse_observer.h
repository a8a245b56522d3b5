// mse: the clipping threshold that minimises the quantization mean squared error, searched over the
// streaming histogram (histogram.h; one pass) instead of over stored activations.
//   1. Stream every batch into the signed histogram.
//   2. Candidates T: the upper edges of the occupied bins from 0.05 * max|x| up (at most ~256, evenly
//      strided), and max|x| itself.
//   3. For each T: params = ParamsForRange([max(min, -T), min(max, T)]) for the tensor's dtype;
//      loss(T) = sum over the histogram's points (each bin split into 4 equal parts whose centres carry a
//      quarter of its count) of count * (x - fake_quant(x))^2 — rounding error inside the range, clipping
//      error outside it, both with the exact rounding the exported model uses.
//   4. T* = argmin loss (the smallest T on ties); report [max(min, -T*), min(max, T*)].
#pragma once

#include "quant/histogram_observer.h"

namespace act::quant {

class MseObserver : public HistogramObserver {
 public:
  using HistogramObserver::HistogramObserver;
  const char* algorithm() const override { return "mse"; }
  // loss(T) of step 3, exposed for tests.
  Expected<double> Loss(double threshold) const;

 protected:
  Expected<double> Threshold() const override;
};

std::unique_ptr<Observer> MakeMseObserver(const ObserverOptions& options);

}  // namespace act::quant
