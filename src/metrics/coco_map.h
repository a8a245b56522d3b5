// `coco_map`: a detector's mAP on COCO-style labels. Per image: decode the output (detection_decoders.h),
// map boxes back to the original image and clip them to it, class-aware NMS, then COCO's AP
// (average_precision.h).
// Headline: mAP@0.5. Details: map50_95, map75, classes (with ground truth), images, detections.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "act/metrics.h"
#include "metrics/average_precision.h"
#include "metrics/detection_decoders.h"

namespace act::metrics {

class CocoMapMetric : public Metric {
 public:
  // Checks the config (decoder, resize mode, category mapping); the output's shape is checked per batch.
  static Expected<std::unique_ptr<Metric>> Create(const MetricConfig& config);

  std::string name() const override { return "coco_map"; }
  Status Update(const std::map<std::string, Tensor>& outputs, const std::vector<std::optional<data::Label>>& labels,
                const std::map<std::string, Tensor>& reference) override;
  double Result() const override { return Summary().map50; }
  std::map<std::string, double> Details() const override;
  void Reset() override;

  // What was decoded so far, per image in input order (boxes in original image pixels, after NMS).
  const std::vector<ImageDetections>& images() const { return images_; }

 private:
  CocoMapMetric(const MetricConfig& config, DetectionDecoder decoder) : config_(config), decoder_(decoder) {}
  const ApSummary& Summary() const;
  Expected<int64_t> ClassOfCategory(int64_t category, int64_t num_classes, const data::Label& label) const;

  MetricConfig config_;
  DetectionDecoder decoder_;
  std::vector<ImageDetections> images_;
  int64_t num_detections_ = 0;
  mutable std::optional<ApSummary> summary_;  // computed on first Result()/Details() after an Update
};

}  // namespace act::metrics
