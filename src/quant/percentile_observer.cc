#include "quant/percentile_observer.h"

#include <algorithm>
#include <cmath>

namespace act::quant {

double PercentileThreshold(const std::vector<double>& abs_counts, double width, double percent) {
  double total = 0;
  for (double c : abs_counts) total += c;
  if (total == 0) return 0;
  double cumulative = 0;
  int last_non_empty = 0;
  for (size_t i = 0; i < abs_counts.size(); ++i) {
    if (abs_counts[i] > 0) last_non_empty = static_cast<int>(i);
    cumulative += abs_counts[i];
    if (percent < 1.0 && cumulative >= percent * total) return (static_cast<double>(i) + 1) * width;
  }
  return (last_non_empty + 1) * width;
}

Expected<double> PercentileObserver::Threshold() const {
  if (options_.hist_percent <= 0 || options_.hist_percent > 1) {
    return InvalidInput("hist_percent " + std::to_string(options_.hist_percent) + " (expected a fraction in (0, 1])");
  }
  const double max_abs = std::max(std::fabs(seen_min()), std::fabs(seen_max()));
  const auto& h = histogram();
  return std::min(PercentileThreshold(h.AbsCounts(), h.width(), options_.hist_percent), max_abs);
}

std::unique_ptr<Observer> MakePercentileObserver(const ObserverOptions& options) {
  return std::make_unique<PercentileObserver>(options);
}

}  // namespace act::quant
