#include "quant/mse_observer.h"

#include <limits>

namespace act::quant {

Expected<double> MseObserver::Loss(double threshold) const {
  const auto [lo, hi] = ClipRange(threshold);
  ACT_ASSIGN_OR_RETURN(QuantParams p, ParamsForRange(lo, hi, options_.dtype, options_.symmetric, options_.bits));
  double loss = 0, total = 0;
  ForEachPoint([&](double x, double weight) {
    const double e = x - FakeQuantize(static_cast<float>(x), p);
    loss += weight * e * e;
    total += weight;
  });
  return total > 0 ? loss / total : 0.0;
}

Expected<double> MseObserver::Threshold() const {
  double best_t = 0, best = std::numeric_limits<double>::infinity();
  for (double t : CandidateThresholds(0.05, 256)) {
    ACT_ASSIGN_OR_RETURN(double loss, Loss(t));
    if (loss < best) {
      best = loss;
      best_t = t;
    }
  }
  return best_t;
}

std::unique_ptr<Observer> MakeMseObserver(const ObserverOptions& options) {
  return std::make_unique<MseObserver>(options);
}

}  // namespace act::quant
