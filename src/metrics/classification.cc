#include "metrics/classification.h"

#include <cmath>

#include "metrics/output_select.h"

namespace act::metrics {

Status TopKMetric::Update(const std::map<std::string, Tensor>& outputs,
                          const std::vector<std::optional<data::Label>>& labels,
                          const std::map<std::string, Tensor>& /*reference*/) {
  ACT_ASSIGN_OR_RETURN(Tensor out, SelectOutput(outputs, output_, name()));
  ACT_ASSIGN_OR_RETURN(ScoreRows scores,
                       AsScoreRows(out, static_cast<int64_t>(labels.size()), "metric '" + name() + "' input"));
  for (int64_t i = 0; i < scores.rows; ++i) {
    ACT_ASSIGN_OR_RETURN(int64_t label, ClassLabel(labels, i, scores.classes, name()));
    const float* row = scores.row(i);
    const float s = row[label];
    // Rank of the label in a stable descending sort: classes scoring higher, or equal with a lower index.
    int64_t rank = 0;
    for (int64_t c = 0; c < scores.classes; ++c) {
      if (row[c] > s || (row[c] == s && c < label)) ++rank;
    }
    if (rank < k_) ++correct_;
    ++total_;
  }
  return Status::Ok();
}

std::map<std::string, double> TopKMetric::Details() const {
  return {{"correct", static_cast<double>(correct_)}, {"samples", static_cast<double>(total_)}};
}

double BinaryCounts::Accuracy() const {
  const int64_t n = tp + fp + tn + fn;
  return n ? static_cast<double>(tp + tn) / n : 0.0;
}
double BinaryCounts::Precision() const { return tp + fp ? static_cast<double>(tp) / (tp + fp) : 0.0; }
double BinaryCounts::Recall() const { return tp + fn ? static_cast<double>(tp) / (tp + fn) : 0.0; }
double BinaryCounts::F1() const {
  const int64_t denominator = 2 * tp + fp + fn;
  return denominator ? 2.0 * tp / denominator : 0.0;
}
double BinaryCounts::Matthews() const {
  // In double: the products overflow int64 for data sets of a few million samples.
  const double TP = tp, FP = fp, TN = tn, FN = fn;
  const double denominator = std::sqrt((TP + FP) * (TP + FN) * (TN + FP) * (TN + FN));
  return denominator > 0 ? (TP * TN - FP * FN) / denominator : 0.0;
}

std::string ConfusionMetric::name() const {
  switch (kind_) {
    case Kind::kAccuracy: return "accuracy";
    case Kind::kF1: return "f1";
    case Kind::kMatthews: return "matthews";
  }
  return "?";
}

Status ConfusionMetric::Update(const std::map<std::string, Tensor>& outputs,
                               const std::vector<std::optional<data::Label>>& labels,
                               const std::map<std::string, Tensor>& /*reference*/) {
  ACT_ASSIGN_OR_RETURN(Tensor out, SelectOutput(outputs, output_, name()));
  ACT_ASSIGN_OR_RETURN(ScoreRows scores,
                       AsScoreRows(out, static_cast<int64_t>(labels.size()), "metric '" + name() + "' input"));
  if (kind_ != Kind::kAccuracy && scores.classes != 2) {
    return InvalidInput("metric '" + name() + "' is binary (positive class 1) and needs 2 scores per sample; "
                        "the output has shape " + ShapeToString(out.shape()) +
                        " (use 'accuracy' or 'top1' for more classes)");
  }
  for (int64_t i = 0; i < scores.rows; ++i) {
    ACT_ASSIGN_OR_RETURN(int64_t label, ClassLabel(labels, i, scores.classes, name()));
    const int64_t predicted = ArgMax(scores.row(i), scores.classes);
    if (predicted == label) ++correct_;
    ++total_;
    if (kind_ == Kind::kAccuracy) continue;
    if (predicted == 1) (label == 1 ? counts_.tp : counts_.fp)++;
    else (label == 1 ? counts_.fn : counts_.tn)++;
  }
  return Status::Ok();
}

double ConfusionMetric::Result() const {
  switch (kind_) {
    case Kind::kAccuracy: return total_ ? static_cast<double>(correct_) / total_ : 0.0;
    case Kind::kF1: return counts_.F1();
    case Kind::kMatthews: return counts_.Matthews();
  }
  return 0.0;
}

std::map<std::string, double> ConfusionMetric::Details() const {
  if (kind_ == Kind::kAccuracy) return {{"samples", static_cast<double>(total_)}};
  return {{"accuracy", counts_.Accuracy()}, {"precision", counts_.Precision()}, {"recall", counts_.Recall()},
          {"f1", counts_.F1()},             {"matthews", counts_.Matthews()},   {"tp", double(counts_.tp)},
          {"fp", double(counts_.fp)},       {"tn", double(counts_.tn)},         {"fn", double(counts_.fn)}};
}

void ConfusionMetric::Reset() {
  correct_ = total_ = 0;
  counts_ = BinaryCounts();
}

}  // namespace act::metrics
