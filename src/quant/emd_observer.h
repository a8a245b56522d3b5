// emd: PaddleSlim's `emd` calibration — the threshold whose quantized distribution keeps the data's mean
// and standard deviation best — computed on the streaming histogram (histogram.h; one pass) instead of
// per stored batch.
//   1. Stream every batch into the signed histogram.
//   2. Candidates T = s * max|x| for s = 0.30, 0.32, …, 1.00 (PaddleSlim's grid).
//   3. For each T: params from [max(min, -T), min(max, T)]; over the histogram's points (each bin split
//      into 4 parts, centres weighted by a quarter of its count) compute mean/std of x and of
//      fake_quant(x); loss(T) = |mean - mean_q| + |std - std_q|.
//   4. T* = argmin loss (PaddleSlim keeps the last of equal losses, so the largest T on ties);
//      report [max(min, -T*), min(max, T*)].
#pragma once

#include "quant/histogram_observer.h"

namespace act::quant {

class EmdObserver : public HistogramObserver {
 public:
  using HistogramObserver::HistogramObserver;
  const char* algorithm() const override { return "emd"; }
  Expected<double> Loss(double threshold) const;

 protected:
  Expected<double> Threshold() const override;
};

std::unique_ptr<Observer> MakeEmdObserver(const ObserverOptions& options);

}  // namespace act::quant
