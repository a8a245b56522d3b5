#include "quant/emd_observer.h"

#include <algorithm>
#include <cmath>
#include <limits>

namespace act::quant {

Expected<double> EmdObserver::Loss(double threshold) const {
  const auto [lo, hi] = ClipRange(threshold);
  ACT_ASSIGN_OR_RETURN(QuantParams p, ParamsForRange(lo, hi, options_.dtype, options_.symmetric, options_.bits));
  double n = 0, s = 0, s2 = 0, sq = 0, sq2 = 0;
  ForEachPoint([&](double x, double weight) {
    const double xq = FakeQuantize(static_cast<float>(x), p);
    n += weight;
    s += weight * x;
    s2 += weight * x * x;
    sq += weight * xq;
    sq2 += weight * xq * xq;
  });
  if (n == 0) return 0.0;
  const double mean = s / n, mean_q = sq / n;
  const double std = std::sqrt(std::max(0.0, s2 / n - mean * mean));
  const double std_q = std::sqrt(std::max(0.0, sq2 / n - mean_q * mean_q));
  return std::fabs(mean - mean_q) + std::fabs(std - std_q);
}

Expected<double> EmdObserver::Threshold() const {
  const double max_abs = std::max(std::fabs(seen_min()), std::fabs(seen_max()));
  double best_t = max_abs, best = std::numeric_limits<double>::infinity();
  for (int k = 0; k <= 35; ++k) {
    const double t = (0.30 + 0.02 * k) * max_abs;
    ACT_ASSIGN_OR_RETURN(double loss, Loss(t));
    if (loss <= best) {
      best = loss;
      best_t = t;
    }
  }
  return best_t;
}

std::unique_ptr<Observer> MakeEmdObserver(const ObserverOptions& options) {
  return std::make_unique<EmdObserver>(options);
}

}  // namespace act::quant
