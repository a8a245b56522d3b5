#include "metrics/evaluator.h"

#include <gtest/gtest.h>

#include <cmath>
#include <limits>

#include "core/progress.h"
#include "metrics/agreement.h"
#include "metrics_test_util.h"

namespace act::metrics {
namespace {

using test::ClassLabels;

MetricConfig Named(const std::string& name) {
  MetricConfig c;
  c.name = name;
  return c;
}

data::Batch MakeBatch(const std::vector<float>& x, const std::vector<int64_t>& labels) {
  data::Batch b;
  b.inputs["x"] = Tensor::FromVector<float>({static_cast<int64_t>(x.size()), 1}, x);
  b.labels = ClassLabels(labels);
  return b;
}

// A "model" that scores class 1 when x > 0: logits [−x, x].
Expected<std::map<std::string, Tensor>> SignModel(const std::map<std::string, Tensor>& inputs) {
  const Tensor& x = inputs.at("x");
  std::vector<float> logits;
  for (int64_t i = 0; i < x.numel(); ++i) {
    logits.push_back(-x.data<float>()[i]);
    logits.push_back(x.data<float>()[i]);
  }
  return std::map<std::string, Tensor>{{"logits", Tensor::FromVector<float>({x.numel(), 2}, logits)}};
}

class EvaluatorTest : public ::testing::Test {
 protected:
  void SetUp() override { ProgressBar::SetEnabled(false); }
};

TEST_F(EvaluatorTest, RunsTheModelOverAllBatches) {
  // Batch 1: x = [1, −1, 2] labels [1, 0, 0] → 2 right. Batch 2: x = [−3] label 0 → right. 3/4.
  auto metric = CreateMetric(Named("top1"));
  ASSERT_TRUE(metric.ok());
  auto result = Evaluate(SignModel, BatchesFrom({MakeBatch({1, -1, 2}, {1, 0, 0}), MakeBatch({-3}, {0})}), **metric);
  ASSERT_TRUE(result.ok()) << result.status().ToString();
  EXPECT_EQ(result->metric, "top1");
  EXPECT_DOUBLE_EQ(result->value, 0.75);
  EXPECT_EQ(result->samples, 4);
  EXPECT_TRUE(result->higher_is_better);
  EXPECT_EQ(result->details.count("nonfinite_outputs"), 0u);
}

TEST_F(EvaluatorTest, NonFiniteMetricIsAFailure) {
  // A metric summing the outputs turns a NaN output into a NaN value (argmax-based metrics would not).
  class MeanMetric : public Metric {
   public:
    std::string name() const override { return "mean"; }
    Status Update(const std::map<std::string, Tensor>& outputs, const std::vector<std::optional<data::Label>>&,
                  const std::map<std::string, Tensor>&) override {
      for (int64_t i = 0; i < outputs.begin()->second.numel(); ++i) sum_ += outputs.begin()->second.data<float>()[i];
      return Status::Ok();
    }
    double Result() const override { return sum_; }
    void Reset() override { sum_ = 0; }

   private:
    double sum_ = 0;
  } mean;
  ModelFn nan_model = [](const std::map<std::string, Tensor>& in) -> Expected<std::map<std::string, Tensor>> {
    return std::map<std::string, Tensor>{
        {"y", Tensor::FromVector<float>({1, 2}, {1.f, std::numeric_limits<float>::quiet_NaN()})}};
  };
  auto result = Evaluate(nan_model, BatchesFrom({MakeBatch({1}, {0})}), mean);
  ASSERT_FALSE(result.ok());
  EXPECT_EQ(result.status().code(), StatusCode::kFailure);
  EXPECT_NE(result.status().message().find("non-finite outputs"), std::string::npos) << result.status().message();
  EXPECT_NE(result.status().message().find("1 NaN/Inf"), std::string::npos) << result.status().message();
}

TEST_F(EvaluatorTest, ErrorsNameTheBatch) {
  int calls = 0;
  ModelFn failing = [&](const std::map<std::string, Tensor>& in) -> Expected<std::map<std::string, Tensor>> {
    if (++calls == 2) return Failure("node Conv_3 (Conv): kernel failed");
    return SignModel(in);
  };
  auto metric = CreateMetric(Named("top1"));
  auto result = Evaluate(failing, BatchesFrom({MakeBatch({1, 2}, {1, 1}), MakeBatch({1}, {1})}), **metric);
  ASSERT_FALSE(result.ok());
  EXPECT_NE(result.status().message().find("batch 1 (samples 2..2)"), std::string::npos) << result.status().message();
  EXPECT_NE(result.status().message().find("Conv_3"), std::string::npos);

  auto empty = Evaluate(SignModel, BatchesFrom({}), **metric);
  EXPECT_EQ(empty.status().code(), StatusCode::kInvalidInput);
}

TEST_F(EvaluatorTest, AgreementNeedsAndUsesTheReference) {
  auto metric = CreateMetric(Named("agreement"));
  ASSERT_TRUE(metric.ok());
  auto batches = [] { return BatchesFrom({MakeBatch({1, -1, 2, 0.5f}, {-1, -1, -1, -1})}); };
  EXPECT_EQ(Evaluate(SignModel, batches(), **metric).status().code(), StatusCode::kInvalidInput);

  // The student flips the sign of the last sample: argmax agrees on 3 of 4 rows.
  ModelFn student = [](const std::map<std::string, Tensor>& in) -> Expected<std::map<std::string, Tensor>> {
    Tensor x = in.at("x").Clone();
    x.data<float>()[3] = -x.data<float>()[3];
    return SignModel({{"x", x}});
  };
  auto result = Evaluate(student, batches(), **metric, SignModel);
  ASSERT_TRUE(result.ok()) << result.status().ToString();
  EXPECT_DOUBLE_EQ(result->value, 0.75);
  // Reference logits r = [−1,1, 1,−1, −2,2, −.5,.5]; student y equals r but for the last pair, negated.
  //   Σr² = 2 + 2 + 8 + 0.5 = 12.5; Σy·r = 12.5 − 2·0.5 = 11.5; Σ(y−r)² = 2·(2·0.5)² = 2.
  //   cosine = 11.5 / 12.5 = 0.92; SQNR = 10·log10(12.5 / 2) = 7.9588 dB.
  EXPECT_NEAR(result->details.at("cosine"), 0.92, 1e-12);
  EXPECT_NEAR(result->details.at("sqnr_db"), 10 * std::log10(12.5 / 2), 1e-9);

  // Identical models: cosine 1, SQNR at its cap.
  auto same = Evaluate(SignModel, batches(), **metric, SignModel);
  ASSERT_TRUE(same.ok());
  EXPECT_DOUBLE_EQ(same->value, 1.0);
  EXPECT_DOUBLE_EQ(same->details.at("sqnr_db"), AgreementMetric::kMaxSqnrDb);
}

TEST_F(EvaluatorTest, RegistryKnowsEveryDocumentedMetric) {
  // DESIGN.md §5: top1 | top5 | coco_map | ctc_exact | ctc_cer | accuracy | f1 | matthews | agreement
  const std::vector<std::string> documented = {"top1", "top5",    "coco_map", "ctc_exact", "ctc_cer",
                                               "accuracy", "f1", "matthews", "agreement"};
  const auto names = MetricNames();
  for (const auto& name : documented) {
    EXPECT_NE(std::find(names.begin(), names.end(), name), names.end()) << name;
  }
  for (const auto& name : {"top1", "top5", "accuracy", "f1", "matthews", "agreement"}) {
    auto m = CreateMetric(Named(name));
    ASSERT_TRUE(m.ok()) << name;
    EXPECT_EQ((*m)->name(), name);
  }
  auto unknown = CreateMetric(Named("top_1"));
  EXPECT_EQ(unknown.status().code(), StatusCode::kNotFound);
  EXPECT_NE(unknown.status().message().find("did you mean 'top1'"), std::string::npos) << unknown.status().message();
  MetricConfig map;
  map.name = "coco_map";
  EXPECT_EQ(CreateMetric(map).status().code(), StatusCode::kInvalidInput);  // no decoder
  map.decoder = "yolo_boxes_last";
  EXPECT_EQ(CreateMetric(map).status().code(), StatusCode::kInvalidInput);  // no input size
  map.input_width = map.input_height = 640;
  EXPECT_TRUE(CreateMetric(map).ok());
  map.decoder = "yolo";
  EXPECT_FALSE(CreateMetric(map).ok());
}

}  // namespace
}  // namespace act::metrics
