// hist: the percentile observer (PaddleSlim's `hist` with `hist_percent`, default 0.99999).
//   1. Stream every batch into the |x| histogram (histogram.h; one pass, exact re-binning).
//   2. Walk the bins from 0, accumulating counts; stop at the first bin i where the cumulative fraction
//      reaches hist_percent.
//   3. T = (i + 1) * width, the upper edge of that bin: at least hist_percent of the |x| lie in [0, T], and
//      T exceeds the exact percentile of |x| by less than one bin width.
//   4. Report [max(min, -T), min(max, T)].
#pragma once

#include <vector>

#include "quant/histogram_observer.h"

namespace act::quant {

// Step 2–3 on a bare |x| histogram: the upper edge of the first bin whose cumulative fraction reaches
// `percent` (percent >= 1 gives the last non-empty bin's upper edge). 0 for an empty histogram.
double PercentileThreshold(const std::vector<double>& abs_counts, double width, double percent);

class PercentileObserver : public HistogramObserver {
 public:
  using HistogramObserver::HistogramObserver;
  const char* algorithm() const override { return "hist"; }

 protected:
  Expected<double> Threshold() const override;
};

std::unique_ptr<Observer> MakePercentileObserver(const ObserverOptions& options);

}  // namespace act::quant
