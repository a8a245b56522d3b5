#include "quant/histogram.h"

#include <algorithm>
#include <cmath>

namespace act::quant {

SignedHistogram::SignedHistogram(int bins) : bins_(std::max(bins + bins % 2, 2)), positive_(bins_, 0.0), negative_(bins_, 0.0) {}

void SignedHistogram::Grow(double max_abs) {
  if (width_ == 0) {
    width_ = max_abs / bins_;
    return;
  }
  while (max_abs >= width_ * bins_) {
    for (int i = 0; i < bins_ / 2; ++i) {
      positive_[i] = positive_[2 * i] + positive_[2 * i + 1];
      negative_[i] = negative_[2 * i] + negative_[2 * i + 1];
    }
    std::fill(positive_.begin() + bins_ / 2, positive_.end(), 0.0);
    std::fill(negative_.begin() + bins_ / 2, negative_.end(), 0.0);
    width_ *= 2;
  }
}

Status SignedHistogram::Add(const float* data, int64_t count) {
  double max_abs = 0;
  for (int64_t i = 0; i < count; ++i) {
    if (!std::isfinite(data[i])) {
      return InvalidInput("value " + std::to_string(data[i]) + " at element " + std::to_string(i) +
                          " is not finite; calibration needs finite activations (check the inputs)");
    }
    max_abs = std::max(max_abs, static_cast<double>(std::fabs(data[i])));
  }
  if (max_abs > 0 && (width_ == 0 || max_abs >= width_ * bins_)) Grow(max_abs);
  for (int64_t i = 0; i < count; ++i) {
    const double x = data[i];
    // A value exactly at the top edge (the first batch's max) belongs in the last bin.
    int bin = width_ == 0 ? 0 : static_cast<int>(std::min<double>(std::fabs(x) / width_, bins_ - 1));
    (x < 0 ? negative_ : positive_)[bin] += 1;
  }
  total_ += static_cast<double>(count);
  return Status::Ok();
}

std::vector<double> SignedHistogram::AbsCounts() const {
  std::vector<double> abs(bins_);
  for (int i = 0; i < bins_; ++i) abs[i] = positive_[i] + negative_[i];
  return abs;
}

int SignedHistogram::OccupiedBins() const {
  for (int i = bins_ - 1; i >= 0; --i) if (positive_[i] + negative_[i] > 0) return i + 1;
  return 0;
}

}  // namespace act::quant
