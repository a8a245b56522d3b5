// `agreement`: how closely a (compressed) model follows the reference FP32 model, for data without labels.
//   headline: top-1 agreement — the fraction of rows (all dimensions but the last, of the selected output)
//             whose argmax over the last dimension equals the reference's;
//   cosine:   Σ y·r / sqrt(Σ y² · Σ r²)     over every element of every output, all batches;
//   sqnr_db:  10 · log10(Σ r² / Σ (y − r)²) likewise; capped at 200 dB when the outputs are identical
//             (JSON has no infinity), and at −200 dB when the reference is all zeros.
#pragma once

#include <cstdint>
#include <string>

#include "act/metrics.h"

namespace act::metrics {

class AgreementMetric : public Metric {
 public:
  explicit AgreementMetric(std::string output) : output_(std::move(output)) {}
  std::string name() const override { return "agreement"; }
  bool needs_reference() const override { return true; }
  Status Update(const std::map<std::string, Tensor>& outputs, const std::vector<std::optional<data::Label>>& labels,
                const std::map<std::string, Tensor>& reference) override;
  double Result() const override { return rows_ ? static_cast<double>(agree_) / rows_ : 0.0; }
  std::map<std::string, double> Details() const override;
  void Reset() override;

  static constexpr double kMaxSqnrDb = 200.0;

 private:
  std::string output_;
  int64_t rows_ = 0, agree_ = 0;
  double dot_ = 0, out_sq_ = 0, ref_sq_ = 0, noise_sq_ = 0;
};

}  // namespace act::metrics
