// KL: TensorRT's entropy calibration ("8-bit Inference with TensorRT", Migacz 2017), on the streaming
// |x| histogram (histogram.h; 2048 bins by default, one pass).
//   1. Stream every batch into the |x| histogram; let n be the number of occupied bins
//      (n is between bins/2 and bins after re-binning; when n < L, T = max|x| and we stop).
//   2. L = quantized levels covering [0, T]: 2^(bits-1) = 128 for symmetric/signed data, as TensorRT;
//      2^bits = 256 for u8 on non-negative data (all 256 codes then cover [0, T]).
//   3. Bin 0 takes bin 1's count (as NVIDIA's pytorch-quantization entropy calibrator does): exact zeros
//      from padding and Relu pile up in bin 0, and that spike alone drove T down to L bins on PP-OCRv4
//      rec (0% lines read). Then for each i in [L, n] with bin i-1 non-empty (PaddleSlim skips empty ones, which would give Q = 0
//      where P > 0):
//        P = bins[0, i) with the counts of bins[i, n) added to bin i-1 (the clipped outliers);
//        Q = bins[0, i) merged into L groups of floor(i / L) bins (the last group takes the remainder),
//            each group's sum spread evenly over its non-empty bins;
//        D(i) = KL(P/|P| || Q/|Q|) = sum over P > 0 of p ln(p / q).
//   4. T = (i* + 0.5) * width for the i* with the smallest D (TensorRT's formula), at most max|x|.
//   5. Report [max(min, -T), min(max, T)].
#pragma once

#include <vector>

#include "quant/histogram_observer.h"

namespace act::quant {

// Steps 3–4 on a bare |x| histogram (only its first `occupied` bins are used): the threshold, or
// occupied * width when occupied < levels. tests/quant checks it against an independent NumPy script.
double KlThreshold(const std::vector<double>& abs_counts, int occupied, double width, int levels);

class KlObserver : public HistogramObserver {
 public:
  using HistogramObserver::HistogramObserver;
  const char* algorithm() const override { return "KL"; }

 protected:
  Expected<double> Threshold() const override;
};

std::unique_ptr<Observer> MakeKlObserver(const ObserverOptions& options);

}  // namespace act::quant
