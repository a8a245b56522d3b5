// Classification metrics over [N, C] scores (logits or probabilities; only their order matters):
//   top-k:    fraction of samples whose label is among the k highest scores. Ties rank as a stable
//             descending sort would (the lower class index first), so top-1 equals argmax accuracy.
//   accuracy: argmax == label (any number of classes).
//   f1, matthews: binary, positive class 1, prediction = argmax over 2 classes. From the confusion counts
//             F1  = 2·TP / (2·TP + FP + FN)
//             MCC = (TP·TN − FP·FN) / sqrt((TP+FP)(TP+FN)(TN+FP)(TN+FN))
//             each 0 when its denominator is 0 (scikit-learn's convention).
#pragma once

#include <cstdint>
#include <string>

#include "act/metrics.h"

namespace act::metrics {

class TopKMetric : public Metric {
 public:
  TopKMetric(int64_t k, std::string output) : k_(k), output_(std::move(output)) {}
  std::string name() const override { return "top" + std::to_string(k_); }
  Status Update(const std::map<std::string, Tensor>& outputs, const std::vector<std::optional<data::Label>>& labels,
                const std::map<std::string, Tensor>& reference) override;
  double Result() const override { return total_ ? static_cast<double>(correct_) / total_ : 0.0; }
  std::map<std::string, double> Details() const override;
  void Reset() override { correct_ = total_ = 0; }

 private:
  int64_t k_;
  std::string output_;
  int64_t correct_ = 0, total_ = 0;
};

// Confusion counts of a binary classifier (positive class 1).
struct BinaryCounts {
  int64_t tp = 0, fp = 0, tn = 0, fn = 0;
  double Accuracy() const;
  double Precision() const;
  double Recall() const;
  double F1() const;
  double Matthews() const;
};

// `accuracy`, `f1` and `matthews`: one class, the headline chosen by `kind`.
class ConfusionMetric : public Metric {
 public:
  enum class Kind { kAccuracy, kF1, kMatthews };
  ConfusionMetric(Kind kind, std::string output) : kind_(kind), output_(std::move(output)) {}
  std::string name() const override;
  Status Update(const std::map<std::string, Tensor>& outputs, const std::vector<std::optional<data::Label>>& labels,
                const std::map<std::string, Tensor>& reference) override;
  double Result() const override;
  std::map<std::string, double> Details() const override;
  void Reset() override;

 private:
  Kind kind_;
  std::string output_;
  int64_t correct_ = 0, total_ = 0;  // argmax == label, any number of classes
  BinaryCounts counts_;              // filled for f1 / matthews
};

}  // namespace act::metrics
