#include <gtest/gtest.h>

#include <cmath>
#include <random>

#include "act/metrics.h"
#include "metrics/average_precision.h"
#include "metrics/coco_categories.h"
#include "metrics/coco_map.h"
#include "metrics/detection.h"
#include "metrics/detection_decoders.h"
#include "metrics_test_util.h"

namespace act::metrics {
namespace {

Detection Det(float x0, float y0, float x1, float y1, float score, int64_t c = 0) {
  return Detection{x0, y0, x1, y1, score, c};
}
GroundTruthBox Gt(float x0, float y0, float x1, float y1, int64_t c = 0, bool crowd = false) {
  return GroundTruthBox{x0, y0, x1, y1, c, crowd};
}

TEST(CocoCategoriesTest, MapsTheEightyIdsInOrder) {
  EXPECT_EQ(CocoCategoryToClass(1), 0);     // person
  EXPECT_EQ(CocoCategoryToClass(11), 10);   // fire hydrant
  EXPECT_EQ(CocoCategoryToClass(13), 11);   // stop sign (id 12 is unused)
  EXPECT_EQ(CocoCategoryToClass(90), 79);   // toothbrush
  EXPECT_EQ(CocoCategoryToClass(12), -1);
  EXPECT_EQ(CocoCategoryToClass(0), -1);
  EXPECT_EQ(CocoCategoryToClass(91), -1);
  for (int64_t c = 0; c < kCocoNumClasses; ++c) EXPECT_EQ(CocoCategoryToClass(CocoClassToCategory(c)), c);
}

TEST(DetectionTest, IoUHandWorked) {
  // [0,0,2,2] ∩ [1,1,3,3] = 1×1; union 4 + 4 − 1 = 7.
  EXPECT_DOUBLE_EQ(BoxIoU(Det(0, 0, 2, 2, 1), Det(1, 1, 3, 3, 1)), 1.0 / 7);
  EXPECT_DOUBLE_EQ(BoxIoU(Det(0, 0, 2, 2, 1), Det(5, 5, 6, 6, 1)), 0.0);
  EXPECT_DOUBLE_EQ(BoxIoU(Det(0, 0, 2, 2, 1), Det(0, 0, 2, 2, 1)), 1.0);
}

TEST(DetectionTest, NmsIsClassAwareAndGreedy) {
  // B overlaps A with IoU 81/119 = 0.68 > 0.45 → dropped; C is far away; D overlaps A but is another class.
  std::vector<Detection> dets = {Det(1, 1, 11, 11, 0.8f), Det(20, 20, 30, 30, 0.7f), Det(0, 0, 10, 10, 0.9f),
                                 Det(1, 1, 11, 11, 0.6f, 1)};
  auto kept = NonMaxSuppression(dets, 0.45f);
  ASSERT_EQ(kept.size(), 3u);
  EXPECT_FLOAT_EQ(kept[0].score, 0.9f);
  EXPECT_FLOAT_EQ(kept[1].score, 0.7f);
  EXPECT_FLOAT_EQ(kept[2].score, 0.6f);
  EXPECT_EQ(kept[2].class_index, 1);
  // At an IoU threshold above 0.68, B survives.
  EXPECT_EQ(NonMaxSuppression(dets, 0.7f).size(), 4u);
}

TEST(AveragePrecisionTest, PerfectDetectionsScoreOne) {
  ImageDetections a, b;
  a.ground_truth = {Gt(0, 0, 10, 10), Gt(20, 20, 40, 40, 3)};
  a.detections = {Det(0, 0, 10, 10, 0.9f), Det(20, 20, 40, 40, 0.3f, 3)};
  b.ground_truth = {Gt(5, 5, 8, 9)};
  b.detections = {Det(5, 5, 8, 9, 0.5f)};
  ApSummary s = ComputeCocoAp({a, b});
  EXPECT_EQ(s.num_classes, 2);
  EXPECT_DOUBLE_EQ(s.map50, 1.0);
  EXPECT_DOUBLE_EQ(s.map50_95, 1.0);
}

TEST(AveragePrecisionTest, FalsePositiveRankedAboveTheHit) {
  // One ground-truth box; a miss (score 0.9) ranks above the hit (0.8).
  //   rank 1: TP 0, FP 1 → recall 0, precision 0;  rank 2: TP 1 → recall 1, precision 1/2.
  //   Monotone precision: [1/2, 1/2]. Every recall point r ∈ {0, …, 1} first reaches recall ≥ r at
  //   rank 1 (r = 0) or rank 2, both precision 1/2 → AP = 0.5.
  ImageDetections img;
  img.ground_truth = {Gt(0, 0, 10, 10)};
  img.detections = {Det(50, 50, 60, 60, 0.9f), Det(0, 0, 10, 10, 0.8f)};
  ApSummary s = ComputeCocoAp({img});
  EXPECT_DOUBLE_EQ(s.map50, 0.5);
  EXPECT_DOUBLE_EQ(s.map50_95, 0.5);
}

TEST(AveragePrecisionTest, InterpolatedPrecisionOverTwoImages) {
  // Two ground-truth boxes in two images; detections by score: hit (0.9), miss (0.8), hit (0.7).
  //   recall [1/2, 1/2, 1], precision [1, 1/2, 2/3] → monotone [1, 2/3, 2/3].
  //   r = 0.00 … 0.50 (51 points) → rank 1, precision 1; r = 0.51 … 1.00 (50 points) → rank 3, 2/3.
  //   AP = (51 · 1 + 50 · 2/3) / 101 = 0.834983…
  ImageDetections a, b;
  a.ground_truth = {Gt(0, 0, 10, 10)};
  a.detections = {Det(0, 0, 10, 10, 0.9f), Det(30, 30, 40, 40, 0.8f)};
  b.ground_truth = {Gt(0, 0, 10, 10)};
  b.detections = {Det(0, 0, 10, 10, 0.7f)};
  EXPECT_NEAR(ComputeCocoAp({a, b}).map50, (51 + 50 * 2.0 / 3) / 101, 1e-12);
}

TEST(AveragePrecisionTest, MissedBoxCapsRecall) {
  // 2 ground-truth boxes, one found: recall 1/2 at precision 1 → 51 of 101 points at 1 → 51/101.
  ImageDetections img;
  img.ground_truth = {Gt(0, 0, 10, 10), Gt(20, 20, 30, 30)};
  img.detections = {Det(0, 0, 10, 10, 0.9f)};
  EXPECT_NEAR(ComputeCocoAp({img}).map50, 51.0 / 101, 1e-12);
}

TEST(AveragePrecisionTest, DuplicateIsAMissAndIoUThresholdsCount) {
  // Box [0,0,10,6.2] against [0,0,10,10]: IoU 0.62 → a hit at t = 0.50, 0.55, 0.60 (3 of 10 thresholds)
  // → mAP@0.5 = 1, mAP@[.5:.95] = 0.3.
  ImageDetections img;
  img.ground_truth = {Gt(0, 0, 10, 10)};
  img.detections = {Det(0, 0, 10, 6.2f, 0.9f)};
  ApSummary s = ComputeCocoAp({img});
  EXPECT_DOUBLE_EQ(s.map50, 1.0);
  EXPECT_NEAR(s.map50_95, 0.3, 1e-12);
  EXPECT_DOUBLE_EQ(s.map75, 0.0);
  // A duplicate with a higher score takes the match; the lower one becomes the miss, ranked second:
  // precision [1, 1/2] → monotone [1, 1/2], recall reaches 1 at rank 1 → AP still 1.
  img.detections.push_back(Det(0, 0, 10, 10, 0.95f));
  EXPECT_DOUBLE_EQ(ComputeCocoAp({img}).map50, 1.0);
}

TEST(AveragePrecisionTest, AveragesOverClassesWithGroundTruthOnly) {
  // class 0: perfect (AP 1); class 1: miss above hit (AP 0.5, as above); class 2 has detections but no
  // ground truth → left out. mAP = 0.75.
  ImageDetections img;
  img.ground_truth = {Gt(0, 0, 10, 10, 0), Gt(0, 0, 10, 10, 1)};
  img.detections = {Det(0, 0, 10, 10, 0.9f, 0), Det(50, 50, 60, 60, 0.9f, 1), Det(0, 0, 10, 10, 0.8f, 1),
                    Det(0, 0, 10, 10, 0.99f, 2)};
  ApSummary s = ComputeCocoAp({img});
  EXPECT_EQ(s.num_classes, 2);
  EXPECT_DOUBLE_EQ(s.map50, 0.75);
  EXPECT_EQ(s.per_class.count(2), 0u);
}

TEST(AveragePrecisionTest, CrowdMatchesAreIgnored) {
  // A detection inside a crowd region (IoU against crowd = intersection / detection area = 1) ranks first;
  // ignored, it does not cost precision: AP = 1. Without the crowd flag it is a miss ranked first → 0.5.
  ImageDetections img;
  img.ground_truth = {Gt(0, 0, 10, 10), Gt(100, 100, 200, 200, 0, true)};
  img.detections = {Det(120, 120, 140, 140, 0.95f), Det(0, 0, 10, 10, 0.9f)};
  EXPECT_DOUBLE_EQ(ComputeCocoAp({img}).map50, 1.0);
  img.ground_truth = {Gt(0, 0, 10, 10)};
  EXPECT_DOUBLE_EQ(ComputeCocoAp({img}).map50, 0.5);
}

TEST(AveragePrecisionTest, MaxDetectionsPerImageAndClass) {
  // The hit scores lowest; with a cap of 2 detections it is cut and AP drops to 0.
  ImageDetections img;
  img.ground_truth = {Gt(0, 0, 10, 10)};
  img.detections = {Det(50, 50, 60, 60, 0.9f), Det(70, 70, 80, 80, 0.8f), Det(0, 0, 10, 10, 0.7f)};
  EXPECT_GT(ComputeCocoAp({img}, 3).map50, 0.0);
  EXPECT_EQ(ComputeCocoAp({img}, 2).map50, 0.0);
}

// A FastestDet output [1, 85, 22, 22] with one live cell (gy 5, gx 7):
//   objectness 0.8, tanh(dx) = 0.5, tanh(dy) = −0.25, σ(w) = 0.2, σ(h) = 0.5, class 17 scores 0.9.
//   score = 0.8^0.6 · 0.9^0.4; centre ((7 + 0.5)/22, (5 − 0.25)/22); on a 640×480 image:
//   x0 = (7.5/22 − 0.1)·640, x1 = (7.5/22 + 0.1)·640, y0 = (4.75/22 − 0.25)·480, y1 = (4.75/22 + 0.25)·480.
Tensor OneCellFastestDet() {
  Tensor t(DType::kFloat32, {1, 85, 22, 22});
  float* p = t.data<float>();
  const int plane = 22 * 22, cell = 5 * 22 + 7;
  p[0 * plane + cell] = 0.8f;
  p[1 * plane + cell] = static_cast<float>(std::atanh(0.5));
  p[2 * plane + cell] = static_cast<float>(std::atanh(-0.25));
  p[3 * plane + cell] = static_cast<float>(std::log(0.2 / 0.8));
  p[4 * plane + cell] = 0.0f;
  p[(5 + 17) * plane + cell] = 0.9f;
  p[(5 + 3) * plane + cell] = 0.05f;
  return t;
}

TEST(DecoderTest, FastestDetOneHotCell) {
  Tensor out = OneCellFastestDet();
  auto dets = DecodeDetections(DetectionDecoder::kFastestDet, out, 0, 0.001f, 640, 480);
  ASSERT_EQ(dets.size(), 1u);
  const Detection& d = dets[0];
  EXPECT_EQ(d.class_index, 17);
  EXPECT_NEAR(d.score, std::pow(0.8, 0.6) * std::pow(0.9, 0.4), 1e-6);
  EXPECT_NEAR(d.x0, (7.5 / 22 - 0.1) * 640, 1e-3);
  EXPECT_NEAR(d.x1, (7.5 / 22 + 0.1) * 640, 1e-3);
  EXPECT_NEAR(d.y0, (4.75 / 22 - 0.25) * 480, 1e-3);
  EXPECT_NEAR(d.y1, (4.75 / 22 + 0.25) * 480, 1e-3);
  // Above the cell's score nothing is left.
  EXPECT_TRUE(DecodeDetections(DetectionDecoder::kFastestDet, out, 0, 0.9f, 640, 480).empty());
}

TEST(DecoderTest, CocoMapMetricOnFastestDetCell) {
  MetricConfig config;
  config.name = "coco_map";
  config.decoder = "fastestdet";
  auto metric = CreateMetric(config);
  ASSERT_TRUE(metric.ok()) << metric.status().ToString();
  data::Label label;
  label.image_id = 42;
  label.image_width = 640;
  label.image_height = 480;
  data::Box box;
  box.x0 = static_cast<float>((7.5 / 22 - 0.1) * 640);
  box.x1 = static_cast<float>((7.5 / 22 + 0.1) * 640);
  box.y0 = 0;  // (4.75/22 − 0.25)·480 < 0: the metric clips detections to the image, as ground truth is
  box.y1 = static_cast<float>((4.75 / 22 + 0.25) * 480);
  box.category = CocoClassToCategory(17);  // 18, "dog"
  label.boxes = {box};
  ASSERT_TRUE((*metric)->Update({{"758", OneCellFastestDet()}}, {label}, {}).ok());
  EXPECT_NEAR((*metric)->Result(), 1.0, 1e-12);
  EXPECT_NEAR((*metric)->Details().at("map50_95"), 1.0, 1e-12);
  // The same box labelled with another category is a miss.
  label.boxes[0].category = 1;
  (*metric)->Reset();
  ASSERT_TRUE((*metric)->Update({{"758", OneCellFastestDet()}}, {label}, {}).ok());
  EXPECT_EQ((*metric)->Result(), 0.0);
  // A category id that is not one of COCO's 80 is an error naming the image.
  label.boxes[0].category = 12;
  Status s = (*metric)->Update({{"758", OneCellFastestDet()}}, {label}, {});
  EXPECT_EQ(s.code(), StatusCode::kInvalidInput);
  EXPECT_NE(s.message().find("image 42"), std::string::npos) << s.message();
}

TEST(DecoderTest, YoloLayoutsAndLetterbox) {
  // Two boxes, 3 classes: box 0 (cx 200, cy 300, w 200, h 200, obj 0.9, classes [0.1, 0.8, 0.1]) and box 1
  // below the threshold (obj 0.0005).
  const std::vector<float> boxes_last = {200, 300, 200, 200, 0.9f,    0.1f, 0.8f, 0.1f,
                                         10,  10,  5,   5,   0.0005f, 1.0f, 0.0f, 0.0f};
  Tensor a = Tensor::FromVector<float>({1, 2, 8}, boxes_last);
  auto d = DecodeDetections(DetectionDecoder::kYoloBoxesLast, a, 0, 0.001f, 1, 1);
  ASSERT_EQ(d.size(), 1u);
  EXPECT_EQ(d[0].class_index, 1);
  EXPECT_NEAR(d[0].score, 0.72f, 1e-6);
  EXPECT_FLOAT_EQ(d[0].x0, 100);
  EXPECT_FLOAT_EQ(d[0].y1, 400);
  // YOLOv8 layout [1, 4+3, 2], channels first, no objectness: the same box with class scores [0.1, 0.8, 0.1].
  const std::vector<float> channels_first = {200, 10, 300, 10, 200, 5, 200, 5, 0.1f, 0.0f, 0.8f, 0.0f, 0.1f, 0.0f};
  Tensor b = Tensor::FromVector<float>({1, 7, 2}, channels_first);
  auto e = DecodeDetections(DetectionDecoder::kYoloChannelsFirst, b, 0, 0.001f, 1, 1);
  ASSERT_EQ(e.size(), 1u);
  EXPECT_EQ(e[0].class_index, 1);
  EXPECT_NEAR(e[0].score, 0.8f, 1e-6);
  EXPECT_FLOAT_EQ(e[0].x0, 100);
  EXPECT_FLOAT_EQ(e[0].y0, 200);
  // Letterbox of a 1280×640 image into 640×640: r = 0.5, vertical padding (640 − 320)/2 = 160.
  // Input box [100, 200, 300, 400] → image [(100 − 0)/0.5, (200 − 160)/0.5, 300/0.5, (400 − 160)/0.5].
  auto mapping = MakeBoxMapping("letterbox", 640, 640, 1280, 640);
  ASSERT_TRUE(mapping.ok());
  Detection m = e[0];
  mapping->Apply(m);
  EXPECT_FLOAT_EQ(m.x0, 200);
  EXPECT_FLOAT_EQ(m.y0, 80);
  EXPECT_FLOAT_EQ(m.x1, 600);
  EXPECT_FLOAT_EQ(m.y1, 480);
  EXPECT_EQ(MakeBoxMapping("letterbx", 1, 1, 1, 1).status().code(), StatusCode::kInvalidInput);
}

TEST(DecoderTest, ShapeErrorsNameTheLayout) {
  auto n = DecoderNumClasses(DetectionDecoder::kFastestDet, {1, 85, 22});
  ASSERT_FALSE(n.ok());
  EXPECT_NE(n.status().message().find("[N, 5+classes, H, W]"), std::string::npos);
  EXPECT_EQ(*DecoderNumClasses(DetectionDecoder::kYoloChannelsFirst, {1, 84, 8400}), 80);
  EXPECT_EQ(*DecoderNumClasses(DetectionDecoder::kYoloBoxesLast, {1, 25200, 85}), 80);
  EXPECT_FALSE(ParseDetectionDecoder("fastest_det").ok());
}

// Decoding a [1, 85, 22, 22] output with every cell live, NMS and matching must take well under 1 ms.
TEST(DecoderTest, FastestDetDecodeAndNmsIsFast) {
  std::mt19937 rng(7);
  std::uniform_real_distribution<float> u(0.f, 1.f);
  Tensor out(DType::kFloat32, {1, 85, 22, 22});
  for (int64_t i = 0; i < out.numel(); ++i) out.data<float>()[i] = u(rng);
  // Thread CPU time, best of 5 rounds of 10: the machine is shared, and the minimum is what the code costs.
  double ms = 1e9;
  size_t kept = 0;
  for (int round = 0; round < 5; ++round) {
    const double start = test::ThreadCpuMs();
    for (int it = 0; it < 10; ++it) {
      auto dets = DecodeDetections(DetectionDecoder::kFastestDet, out, 0, 0.001f, 352, 352);
      kept += NonMaxSuppression(std::move(dets), 0.45f).size();
    }
    ms = std::min(ms, (test::ThreadCpuMs() - start) / 10);
  }
  EXPECT_GT(kept, 0u);
  EXPECT_LT(ms, 1.0) << "decode + NMS of 484 live cells took " << ms << " ms";
  RecordProperty("decode_nms_ms", std::to_string(ms));
}

}  // namespace
}  // namespace act::metrics
