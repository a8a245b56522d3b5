#include "metrics/agreement.h"

#include <algorithm>
#include <cmath>

#include "metrics/output_select.h"

namespace act::metrics {

Status AgreementMetric::Update(const std::map<std::string, Tensor>& outputs,
                               const std::vector<std::optional<data::Label>>& /*labels*/,
                               const std::map<std::string, Tensor>& reference) {
  if (reference.empty()) {
    return InvalidInput("metric agreement compares with the reference (FP32) model's outputs, and none were "
                        "given; evaluate with a reference model");
  }
  ACT_ASSIGN_OR_RETURN(Tensor selected, SelectOutput(outputs, output_, name()));
  ACT_ASSIGN_OR_RETURN(Tensor selected_ref, SelectOutput(reference, output_, name() + " (reference model)"));
  if (selected.shape() != selected_ref.shape() || selected.rank() < 1 || selected.numel() == 0) {
    return InvalidInput("metric agreement: the model's output " + ShapeToString(selected.shape()) +
                        " and the reference's " + ShapeToString(selected_ref.shape()) +
                        " differ in shape (or are empty)");
  }
  const int64_t classes = selected.shape().back(), rows = selected.numel() / classes;
  ACT_ASSIGN_OR_RETURN(ScoreRows y, AsScoreRows(selected, rows, "agreement input"));
  ACT_ASSIGN_OR_RETURN(ScoreRows r, AsScoreRows(selected_ref, rows, "agreement reference input"));
  for (int64_t i = 0; i < rows; ++i) {
    if (ArgMax(y.row(i), classes) == ArgMax(r.row(i), classes)) ++agree_;
  }
  rows_ += rows;

  for (const auto& [name, out] : outputs) {
    auto it = reference.find(name);
    if (it == reference.end()) {
      return InvalidInput("metric agreement: the reference model has no output '" + name +
                          "'; both models must have the same outputs");
    }
    if (out.shape() != it->second.shape()) {
      return InvalidInput("metric agreement: output '" + name + "' has shape " + ShapeToString(out.shape()) +
                          " but the reference's has " + ShapeToString(it->second.shape()));
    }
    ACT_ASSIGN_OR_RETURN(Tensor a, ToFloat32(out, "output '" + name + "'"));
    ACT_ASSIGN_OR_RETURN(Tensor b, ToFloat32(it->second, "reference output '" + name + "'"));
    const float* pa = a.data<float>();
    const float* pb = b.data<float>();
    for (int64_t i = 0; i < a.numel(); ++i) {
      const double va = pa[i], vb = pb[i];
      dot_ += va * vb;
      out_sq_ += va * va;
      ref_sq_ += vb * vb;
      noise_sq_ += (va - vb) * (va - vb);
    }
  }
  return Status::Ok();
}

std::map<std::string, double> AgreementMetric::Details() const {
  const double norm = std::sqrt(out_sq_ * ref_sq_);
  const double cosine = norm > 0 ? dot_ / norm : (out_sq_ == ref_sq_ ? 1.0 : 0.0);
  double sqnr = kMaxSqnrDb;
  if (noise_sq_ > 0) sqnr = std::clamp(10.0 * std::log10(ref_sq_ / noise_sq_), -kMaxSqnrDb, kMaxSqnrDb);
  return {{"top1_agreement", Result()}, {"cosine", cosine}, {"sqnr_db", sqnr}, {"rows", static_cast<double>(rows_)}};
}

void AgreementMetric::Reset() {
  rows_ = agree_ = 0;
  dot_ = out_sq_ = ref_sq_ = noise_sq_ = 0;
}

}  // namespace act::metrics
