#include "quant/kl_observer.h"

#include <algorithm>
#include <cmath>
#include <limits>

namespace act::quant {

double KlThreshold(const std::vector<double>& counts, int occupied, double width, int levels) {
  const int n = std::min<int>(occupied, static_cast<int>(counts.size()));
  if (n < levels || levels <= 0) return n * width;
  // Step 3's bin 0 takes bin 1's count: the spike of exact zeros (padding, Relu) would otherwise make
  // every merged first group look badly quantized and drive T down to L bins.
  std::vector<double> abs_counts(counts.begin(), counts.begin() + n);
  if (n >= 2) abs_counts[0] = abs_counts[1];
  double best = std::numeric_limits<double>::infinity();
  int best_i = n;
  std::vector<double> p(n), q(n);
  for (int i = levels; i <= n; ++i) {
    if (abs_counts[i - 1] == 0) continue;
    // P: the reference, clipped at i bins.
    double outliers = 0;
    for (int j = i; j < n; ++j) outliers += abs_counts[j];
    std::copy(abs_counts.begin(), abs_counts.begin() + i, p.begin());
    p[i - 1] += outliers;
    // Q: bins[0, i) quantized to `levels` groups and expanded back over the non-empty bins.
    const int merged = i / levels;
    for (int g = 0; g < levels; ++g) {
      const int start = g * merged;
      const int stop = g == levels - 1 ? i : start + merged;
      double sum = 0;
      int non_empty = 0;
      for (int j = start; j < stop; ++j) {
        sum += abs_counts[j];
        non_empty += abs_counts[j] > 0;
      }
      for (int j = start; j < stop; ++j) q[j] = abs_counts[j] > 0 ? sum / non_empty : 0;
    }
    double p_sum = 0, q_sum = 0;
    for (int j = 0; j < i; ++j) {
      p_sum += p[j];
      q_sum += q[j];
    }
    double kl = 0;
    for (int j = 0; j < i; ++j) {
      if (p[j] == 0) continue;
      const double pj = p[j] / p_sum, qj = q[j] / q_sum;
      kl += pj * std::log(pj / qj);
    }
    if (kl < best) {
      best = kl;
      best_i = i;
    }
  }
  return (best_i + 0.5) * width;
}

Expected<double> KlObserver::Threshold() const {
  const auto& h = histogram();
  const bool unsigned_levels = !options_.symmetric && seen_min() >= 0;
  const int levels = unsigned_levels ? (1 << options_.bits) : (1 << (options_.bits - 1));
  const double max_abs = std::max(std::fabs(seen_min()), std::fabs(seen_max()));
  return std::min(KlThreshold(h.AbsCounts(), h.OccupiedBins(), h.width(), levels), max_abs);
}

std::unique_ptr<Observer> MakeKlObserver(const ObserverOptions& options) {
  return std::make_unique<KlObserver>(options);
}

}  // namespace act::quant
