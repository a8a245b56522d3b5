// Metrics: a Metric sees model outputs batch by batch (with labels, and with the FP32 reference model's
// outputs when it compares against one) and yields one number where higher is better, except where
// `higher_is_better()` says otherwise (CER).
#pragma once

#include <cstdint>
#include <map>
#include <memory>
#include <string>
#include <vector>

#include "act/data.h"
#include "act/status.h"
#include "act/tensor.h"

namespace act::metrics {

class Metric {
 public:
  virtual ~Metric() = default;
  virtual std::string name() const = 0;
  virtual bool higher_is_better() const { return true; }
  // Whether Update needs the reference (FP32) model's outputs (the `agreement` metrics).
  virtual bool needs_reference() const { return false; }
  // `outputs`: the model's outputs for one batch, by output name. `labels`: one per sample.
  // `reference`: the reference model's outputs for the same batch, or empty.
  virtual Status Update(const std::map<std::string, Tensor>& outputs,
                        const std::vector<std::optional<data::Label>>& labels,
                        const std::map<std::string, Tensor>& reference) = 0;
  virtual double Result() const = 0;
  // Further figures worth reporting beside the headline number (e.g. map50_95, cer, cosine).
  virtual std::map<std::string, double> Details() const { return {}; }
  virtual void Reset() = 0;
};

// How to build a built-in metric (Global.eval in the YAML config, DESIGN.md §5).
struct MetricConfig {
  std::string name;                  // top1 | top5 | accuracy | f1 | matthews | coco_map | ctc_exact | ctc_cer | agreement
  std::string output;                // model output to read; "" = the only one (or the first by name)
  int64_t num_classes = 0;           // coco_map: classes the detector predicts; 0 = from the output's shape
  std::string decoder;               // coco_map: fastestdet | yolo_boxes_last | yolo_channels_first
  std::string dictionary;            // ctc_*: ppocr_keys_v1.txt-style file (one symbol per line, UTF-8)
  float conf_threshold = 0.001f;     // coco_map: detections scoring below are dropped before NMS
  float nms_iou = 0.45f;             // coco_map: class-aware NMS IoU threshold
  int64_t input_width = 0;           // coco_map (yolo_*): network input size, boxes are in its pixels
  int64_t input_height = 0;
  // coco_map: how images were fitted to the input (must match the data set's resize transform):
  // stretch | letterbox (centred padding) | keep_aspect_pad (padding right/bottom).
  std::string resize_mode = "stretch";
  int64_t max_detections = 100;      // coco_map: per image after NMS (COCO's maxDets)
  // coco_map: how Box::category maps to class indices: "coco80" (COCO ids 1..90 → 0..79 through the
  // sorted list of the 80 ids), "index" (the category is the class index), "" = coco80 for 80 classes,
  // otherwise index.
  std::string category_ids;
};

// Builds a built-in metric; NotFound (naming the nearest name) for an unknown one, InvalidInput for a bad
// setting (e.g. a missing dictionary).
Expected<std::unique_ptr<Metric>> CreateMetric(const MetricConfig& config);
// The names CreateMetric knows, in table order.
std::vector<std::string> MetricNames();

}  // namespace act::metrics
