// A streaming histogram of a tensor's values whose range grows as batches arrive, with memory fixed by
// the bin count (never by the data set size). Calibration sees one batch at a time and does not know the
// range upfront; instead of a first abs-max pass over the data (PaddleSlim's approach for hist/KL), the
// histogram re-bins itself exactly:
//   1. It keeps two halves over [0, bins * width): `positive` counts x >= 0 in bin floor(x / width),
//      `negative` counts x < 0 in bin floor(-x / width). Zero lies on a bin edge, so folding the halves
//      gives the |x| histogram and keeping them apart gives the sign (min/mean/std for asymmetric ranges).
//   2. The first batch with a non-zero value sets width = max|x| / bins (zeros seen before wait in bin 0).
//   3. When a batch holds |x| >= bins * width, the width doubles (repeatedly, as needed) and bins 2i and
//      2i+1 merge into bin i. Edges of the wide bins are edges of the narrow ones, so merging loses
//      resolution but no count is misplaced: the result equals a histogram built with the final width
//      from the start (bar a value lying exactly on the old top edge, which was clamped into the last bin).
// `bins` is rounded up to an even number.
// So after growth between bins/2 and bins bins are occupied; the occupied prefix covers [0, max|x|].
#pragma once

#include <cstdint>
#include <vector>

#include "act/status.h"

namespace act::quant {

class SignedHistogram {
 public:
  explicit SignedHistogram(int bins = 2048);

  // Adds a batch. Fails (adding nothing) when a value is NaN or infinite.
  Status Add(const float* data, int64_t count);

  int bins() const { return bins_; }
  double width() const { return width_; }  // 0 until a non-zero value was seen
  const std::vector<double>& positive() const { return positive_; }
  const std::vector<double>& negative() const { return negative_; }
  double total() const { return total_; }
  // |x| histogram: positive + negative, bin by bin.
  std::vector<double> AbsCounts() const;
  // One past the last non-empty bin of AbsCounts (0 when empty).
  int OccupiedBins() const;

 private:
  void Grow(double max_abs);
  int bins_;
  double width_ = 0;
  double total_ = 0;
  std::vector<double> positive_, negative_;
};

}  // namespace act::quant
