#include "metrics/classification.h"

#include <gtest/gtest.h>

#include <cmath>
#include <random>

#include "metrics/output_select.h"
#include "metrics_test_util.h"

namespace act::metrics {
namespace {

using test::ClassLabels;
using test::Outputs;

// Three samples over 6 classes, worked by hand:
//   sample 0, label 1: 0.5 is the largest score           → rank 0: top-1 and top-5 hit
//   sample 1, label 4: 0.05 is below all 5 others          → rank 5: both miss
//   sample 2, label 3: 0.4 and 0.3 score higher than 0.2   → rank 2: top-1 misses, top-5 hits
const std::vector<float> kScores = {0.1f, 0.5f, 0.2f, 0.05f, 0.1f, 0.05f,   //
                                    0.3f, 0.1f, 0.2f, 0.15f, 0.05f, 0.2f,   //
                                    0.4f, 0.3f, 0.1f, 0.2f,  0.0f,  0.0f};

TEST(TopKTest, HandWorkedRanks) {
  TopKMetric top1(1, ""), top5(5, "");
  const auto outputs = Outputs({3, 6}, kScores);
  const auto labels = ClassLabels({1, 4, 3});
  ASSERT_TRUE(top1.Update(outputs, labels, {}).ok());
  ASSERT_TRUE(top5.Update(outputs, labels, {}).ok());
  EXPECT_DOUBLE_EQ(top1.Result(), 1.0 / 3);
  EXPECT_DOUBLE_EQ(top5.Result(), 2.0 / 3);
  // A second batch accumulates: one more top-1 hit (label 0 of logits [3, -1]) → 2/4.
  ASSERT_TRUE(top1.Update(Outputs({1, 2}, {3.f, -1.f}), ClassLabels({0}), {}).ok());
  EXPECT_DOUBLE_EQ(top1.Result(), 2.0 / 4);
  top1.Reset();
  EXPECT_EQ(top1.Result(), 0.0);
}

TEST(TopKTest, TiesRankLikeArgmax) {
  // Scores [1, 1, 0]: argmax is class 0 (first maximum), so top-1 credits label 0 and not label 1.
  TopKMetric top1(1, "");
  ASSERT_TRUE(top1.Update(Outputs({2, 3}, {1, 1, 0, 1, 1, 0}), ClassLabels({0, 1}), {}).ok());
  EXPECT_DOUBLE_EQ(top1.Result(), 0.5);
  EXPECT_EQ(ArgMax(std::vector<float>{1, 1, 0}.data(), 3), 0);
}

TEST(TopKTest, AcceptsExtraUnitDimensionsAndOtherDtypes) {
  TopKMetric top1(1, "");
  std::map<std::string, Tensor> out = {{"p", Tensor::FromVector<double>({2, 1, 3}, {0, 1, 0, 1, 0, 0})}};
  ASSERT_TRUE(top1.Update(out, ClassLabels({1, 2}), {}).ok());
  EXPECT_DOUBLE_EQ(top1.Result(), 0.5);
}

TEST(TopKTest, BadInputsNameTheProblem) {
  TopKMetric top1(1, "prob");
  auto outputs = Outputs({1, 3}, {0, 1, 0}, "probs");
  Status s = top1.Update(outputs, ClassLabels({1}), {});
  EXPECT_EQ(s.code(), StatusCode::kNotFound);
  EXPECT_NE(s.message().find("did you mean 'probs'"), std::string::npos) << s.message();

  TopKMetric any(1, "");
  s = any.Update(outputs, ClassLabels({3}), {});
  EXPECT_EQ(s.code(), StatusCode::kInvalidInput);
  EXPECT_NE(s.message().find("class label 3"), std::string::npos) << s.message();
  s = any.Update(outputs, {std::nullopt}, {});
  EXPECT_NE(s.message().find("no class label"), std::string::npos) << s.message();
  s = any.Update(outputs, ClassLabels({0, 1}), {});  // 2 labels, 1 row of scores
  EXPECT_NE(s.message().find("[1,3]"), std::string::npos) << s.message();
}

// Hand-worked confusion: TP 3, FP 1, FN 2, TN 4.
//   accuracy = 7/10;  F1 = 2·3 / (2·3 + 1 + 2) = 6/9
//   MCC = (3·4 − 1·2) / sqrt((3+1)(3+2)(4+1)(4+2)) = 10 / sqrt(600) = 0.408248…
TEST(ConfusionTest, HandWorkedF1AndMatthews) {
  const std::vector<int64_t> labels = {1, 1, 1, 0, 1, 1, 0, 0, 0, 0};
  const std::vector<int64_t> preds = {1, 1, 1, 1, 0, 0, 0, 0, 0, 0};
  std::vector<float> logits;
  for (int64_t p : preds) {
    logits.push_back(p == 0 ? 2.f : -1.f);
    logits.push_back(p == 1 ? 2.f : -1.f);
  }
  for (auto kind : {ConfusionMetric::Kind::kAccuracy, ConfusionMetric::Kind::kF1, ConfusionMetric::Kind::kMatthews}) {
    ConfusionMetric m(kind, "");
    ASSERT_TRUE(m.Update(Outputs({10, 2}, logits), ClassLabels(labels), {}).ok());
    const double expected = kind == ConfusionMetric::Kind::kAccuracy ? 0.7
                            : kind == ConfusionMetric::Kind::kF1     ? 6.0 / 9.0
                                                                     : 10.0 / std::sqrt(600.0);
    EXPECT_NEAR(m.Result(), expected, 1e-12) << m.name();
  }
}

TEST(ConfusionTest, DegenerateCasesAreZero) {
  // Every prediction negative and every label negative: no positives at all → F1 = 0, MCC = 0 (sklearn).
  BinaryCounts c;
  c.tn = 5;
  EXPECT_EQ(c.F1(), 0.0);
  EXPECT_EQ(c.Matthews(), 0.0);
  EXPECT_EQ(c.Accuracy(), 1.0);
}

// MCC is Pearson's correlation between the 0/1 label and prediction vectors, and F1 the harmonic mean of
// precision and recall: both computed here independently of BinaryCounts, on random data.
TEST(ConfusionTest, MatchesIndependentFormulasOnRandomData) {
  std::mt19937 rng(1234);
  std::bernoulli_distribution positive(0.4), flip(0.3);
  const int n = 997;
  std::vector<int64_t> labels(n), preds(n);
  std::vector<float> logits;
  for (int i = 0; i < n; ++i) {
    labels[i] = positive(rng);
    preds[i] = flip(rng) ? 1 - labels[i] : labels[i];
    logits.push_back(static_cast<float>(1 - preds[i]));
    logits.push_back(static_cast<float>(preds[i]));
  }
  double my = 0, mp = 0;
  for (int i = 0; i < n; ++i) my += labels[i], mp += preds[i];
  my /= n, mp /= n;
  double cov = 0, vy = 0, vp = 0, tp = 0, pred_pos = 0, label_pos = 0;
  for (int i = 0; i < n; ++i) {
    cov += (labels[i] - my) * (preds[i] - mp);
    vy += (labels[i] - my) * (labels[i] - my);
    vp += (preds[i] - mp) * (preds[i] - mp);
    tp += labels[i] * preds[i];
    pred_pos += preds[i];
    label_pos += labels[i];
  }
  const double pearson = cov / std::sqrt(vy * vp);
  const double precision = tp / pred_pos, recall = tp / label_pos;
  const double f1 = 2 * precision * recall / (precision + recall);

  ConfusionMetric mcc(ConfusionMetric::Kind::kMatthews, ""), f(ConfusionMetric::Kind::kF1, "");
  // Feed in uneven batches to check accumulation.
  for (int start = 0; start < n; start += 100) {
    const int len = std::min(100, n - start);
    std::vector<float> part(logits.begin() + 2 * start, logits.begin() + 2 * (start + len));
    std::vector<int64_t> part_labels(labels.begin() + start, labels.begin() + start + len);
    ASSERT_TRUE(mcc.Update(Outputs({len, 2}, part), ClassLabels(part_labels), {}).ok());
    ASSERT_TRUE(f.Update(Outputs({len, 2}, part), ClassLabels(part_labels), {}).ok());
  }
  EXPECT_NEAR(mcc.Result(), pearson, 1e-12);
  EXPECT_NEAR(f.Result(), f1, 1e-12);
  EXPECT_GT(pearson, 0.2);  // the data is informative, so the check is not 0 == 0
}

TEST(ConfusionTest, BinaryMetricsRefuseMoreThanTwoClasses) {
  ConfusionMetric m(ConfusionMetric::Kind::kF1, "");
  Status s = m.Update(Outputs({1, 3}, {0, 1, 0}), ClassLabels({1}), {});
  EXPECT_EQ(s.code(), StatusCode::kInvalidInput);
  EXPECT_NE(s.message().find("binary"), std::string::npos);
  ConfusionMetric acc(ConfusionMetric::Kind::kAccuracy, "");
  ASSERT_TRUE(acc.Update(Outputs({1, 3}, {0, 1, 0}), ClassLabels({1}), {}).ok());
  EXPECT_EQ(acc.Result(), 1.0);
}

}  // namespace
}  // namespace act::metrics
