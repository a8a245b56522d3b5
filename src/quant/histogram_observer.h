// The common part of the histogram observers (hist, mse, KL, emd): one streaming SignedHistogram per
// tensor (histogram.h: range grown by exact re-binning, so one pass over the data), plus the helpers
// their threshold searches share.
#pragma once

#include <vector>

#include "quant/histogram.h"
#include "quant/observer.h"

namespace act::quant {

class HistogramObserver : public Observer {
 public:
  explicit HistogramObserver(const ObserverOptions& options) : Observer(options), histogram_(options.bins) {}
  const SignedHistogram& histogram() const { return histogram_; }

 protected:
  Status ObserveImpl(const float* data, int64_t count) override { return histogram_.Add(data, count); }
  // Candidate thresholds for the searches: the upper edges (i + 1) * width of the occupied bins from
  // `from_fraction` of max|x| up, at most ~`max_candidates` of them (evenly strided), always ending at max|x|.
  std::vector<double> CandidateThresholds(double from_fraction, int max_candidates) const;
  // Calls visit(x, weight) for points standing in for the data: every non-empty bin is split into
  // kSubpoints equal parts whose centres carry count / kSubpoints each (values assumed uniform in a bin).
  template <typename Visit>
  void ForEachPoint(Visit&& visit) const;
  static constexpr int kSubpoints = 4;

 private:
  SignedHistogram histogram_;
};

template <typename Visit>
void HistogramObserver::ForEachPoint(Visit&& visit) const {
  const double w = histogram_.width();
  const auto& pos = histogram_.positive();
  const auto& neg = histogram_.negative();
  for (int i = 0; i < histogram_.bins(); ++i) {
    for (int side = 0; side < 2; ++side) {
      const double count = side == 0 ? pos[i] : neg[i];
      if (count == 0) continue;
      for (int k = 0; k < kSubpoints; ++k) {
        const double magnitude = (i + (k + 0.5) / kSubpoints) * w;
        visit(side == 0 ? magnitude : -magnitude, count / kSubpoints);
      }
    }
  }
}

}  // namespace act::quant
