// COCO-style average precision, following pycocotools' COCOeval (evaluateImg + accumulate), with the area
// ranges left out:
//   1. Per image and class, detections are taken by descending score (at most `max_detections`) and
//      matched greedily: each to the not-yet-matched ground-truth box of highest IoU ≥ t; a detection
//      that matches only a crowd box (IoU = intersection / detection area there) is ignored, neither hit
//      nor miss.
//   2. Per class, all its detections over the data set are sorted by score (stable, in image order);
//      cumulative hits and misses give recall = TP / #ground truth (crowd excluded) and
//      precision = TP / (TP + FP), made monotone: p(i) = max over j ≥ i of p(j).
//   3. AP = mean over the 101 recall points r = 0, 0.01, …, 1 of the precision at the first rank whose
//      recall reaches r (0 when none does).
//   4. mAP = mean AP over the classes that have non-crowd ground truth; mAP@[.50:.95] also averages over
//      t = 0.50, 0.55, …, 0.95.
#pragma once

#include <cstdint>
#include <map>
#include <vector>

#include "metrics/detection.h"

namespace act::metrics {

struct GroundTruthBox {
  float x0 = 0, y0 = 0, x1 = 0, y1 = 0;
  int64_t class_index = -1;
  bool crowd = false;
};

// One image: its detections (any order) and ground truth, in the same coordinates.
struct ImageDetections {
  std::vector<Detection> detections;
  std::vector<GroundTruthBox> ground_truth;
};

struct ApSummary {
  double map50 = 0, map75 = 0, map50_95 = 0;
  int64_t num_classes = 0;                          // classes with ground truth (the averages' denominator)
  std::map<int64_t, std::vector<double>> per_class;  // class → AP at each of the 10 IoU thresholds
};

// The IoU thresholds 0.50:0.05:0.95, computed as numpy.linspace does (pycocotools' values).
const std::vector<double>& CocoIouThresholds();

ApSummary ComputeCocoAp(const std::vector<ImageDetections>& images, int64_t max_detections = 100);

}  // namespace act::metrics
