#include "metrics/coco_map.h"

#include <algorithm>

#include "core/strings.h"
#include "metrics/coco_categories.h"
#include "metrics/output_select.h"

namespace act::metrics {

Expected<std::unique_ptr<Metric>> CocoMapMetric::Create(const MetricConfig& config) {
  if (config.decoder.empty()) {
    return InvalidInput("metric coco_map needs a decoder (one of " + Join(DetectionDecoderNames(), ", ") +
                        ") saying how to read the detector's output");
  }
  ACT_ASSIGN_OR_RETURN(DetectionDecoder decoder, ParseDetectionDecoder(config.decoder));
  if (config.resize_mode != "stretch" || decoder != DetectionDecoder::kFastestDet) {
    // YOLO boxes are in input pixels, and padded resizes need the input's aspect ratio.
    if (config.input_width <= 0 || config.input_height <= 0) {
      return InvalidInput("metric coco_map with decoder " + config.decoder + " and resize_mode " +
                          config.resize_mode + " needs input_width and input_height (the network input size)");
    }
  }
  ACT_RETURN_IF_ERROR(MakeBoxMapping(config.resize_mode, 1, 1, 1, 1).status());
  if (!config.category_ids.empty() && config.category_ids != "coco80" && config.category_ids != "index") {
    return InvalidInput("metric coco_map: unknown category_ids '" + config.category_ids + "'" +
                        DidYouMean(config.category_ids, {"coco80", "index"}) + "; expected coco80 or index");
  }
  if (!(config.nms_iou > 0 && config.nms_iou <= 1) || config.max_detections <= 0) {
    return InvalidInput("metric coco_map: nms_iou must be in (0, 1] and max_detections positive, got nms_iou " +
                        std::to_string(config.nms_iou) + ", max_detections " + std::to_string(config.max_detections));
  }
  return std::unique_ptr<Metric>(new CocoMapMetric(config, decoder));
}

Expected<int64_t> CocoMapMetric::ClassOfCategory(int64_t category, int64_t num_classes,
                                                 const data::Label& label) const {
  const bool coco80 = config_.category_ids == "coco80" ||
                      (config_.category_ids.empty() && num_classes == kCocoNumClasses);
  const int64_t c = coco80 ? CocoCategoryToClass(category) : category;
  if (c < 0 || c >= num_classes) {
    return InvalidInput("metric coco_map: image " + std::to_string(label.image_id) + " has a box of category " +
                        std::to_string(category) + ", which maps to no class of the detector's " +
                        std::to_string(num_classes) + (coco80 ? " (COCO ids 1..90 map to 80 classes)" :
                                                                " (category_ids: index, so the category is the class)"));
  }
  return c;
}

Status CocoMapMetric::Update(const std::map<std::string, Tensor>& outputs,
                             const std::vector<std::optional<data::Label>>& labels,
                             const std::map<std::string, Tensor>& /*reference*/) {
  ACT_ASSIGN_OR_RETURN(Tensor raw, SelectOutput(outputs, config_.output, name()));
  ACT_ASSIGN_OR_RETURN(int64_t num_classes, DecoderNumClasses(decoder_, raw.shape()));
  if (config_.num_classes > 0 && config_.num_classes != num_classes) {
    return InvalidInput("metric coco_map: num_classes is " + std::to_string(config_.num_classes) +
                        " but the output " + ShapeToString(raw.shape()) + " carries " + std::to_string(num_classes) +
                        " classes for decoder " + config_.decoder);
  }
  if (raw.dim(0) != static_cast<int64_t>(labels.size())) {
    return InvalidInput("metric coco_map: the output " + ShapeToString(raw.shape()) + " holds " +
                        std::to_string(raw.dim(0)) + " images but the batch has " + std::to_string(labels.size()) +
                        " labels");
  }
  ACT_ASSIGN_OR_RETURN(Tensor output, ToFloat32(raw, "coco_map input"));
  summary_.reset();
  // FastestDet's boxes are normalised: with a stretch resize they scale straight to the image.
  const bool normalised = decoder_ == DetectionDecoder::kFastestDet;
  for (size_t i = 0; i < labels.size(); ++i) {
    if (!labels[i]) {
      return InvalidInput("metric coco_map: image " + std::to_string(i) +
                          " of the batch has no label (ground-truth boxes); use a coco data set");
    }
    const data::Label& label = *labels[i];
    if (label.image_width <= 0 || label.image_height <= 0) {
      return InvalidInput("metric coco_map: the label of image " + std::to_string(label.image_id) +
                          " has no image size (image_width/height), needed to map boxes back to the image");
    }
    double in_w = config_.input_width, in_h = config_.input_height;
    if (normalised && config_.resize_mode == "stretch") in_w = in_h = 1;
    ACT_ASSIGN_OR_RETURN(BoxMapping mapping, MakeBoxMapping(config_.resize_mode, in_w, in_h,
                                                            label.image_width, label.image_height));
    std::vector<Detection> decoded = DecodeDetections(decoder_, output, static_cast<int64_t>(i),
                                                      config_.conf_threshold, in_w, in_h);
    const float w = static_cast<float>(label.image_width), h = static_cast<float>(label.image_height);
    for (Detection& d : decoded) {
      mapping.Apply(d);
      // Ground truth lies inside the image, so the part of a box outside it can only cost IoU.
      d.x0 = std::clamp(d.x0, 0.0f, w), d.x1 = std::clamp(d.x1, 0.0f, w);
      d.y0 = std::clamp(d.y0, 0.0f, h), d.y1 = std::clamp(d.y1, 0.0f, h);
    }
    ImageDetections image;
    // Boxes past max_detections of a class would not count (average_precision.h): stop there.
    image.detections = NonMaxSuppression(std::move(decoded), config_.nms_iou, config_.max_detections);
    num_detections_ += static_cast<int64_t>(image.detections.size());
    for (const data::Box& box : label.boxes) {
      ACT_ASSIGN_OR_RETURN(int64_t c, ClassOfCategory(box.category, num_classes, label));
      image.ground_truth.push_back({box.x0, box.y0, box.x1, box.y1, c, box.crowd});
    }
    images_.push_back(std::move(image));
  }
  return Status::Ok();
}

const ApSummary& CocoMapMetric::Summary() const {
  if (!summary_) summary_ = ComputeCocoAp(images_, config_.max_detections);
  return *summary_;
}

std::map<std::string, double> CocoMapMetric::Details() const {
  const ApSummary& s = Summary();
  return {{"map50", s.map50},
          {"map75", s.map75},
          {"map50_95", s.map50_95},
          {"classes", static_cast<double>(s.num_classes)},
          {"images", static_cast<double>(images_.size())},
          {"detections", static_cast<double>(num_detections_)}};
}

void CocoMapMetric::Reset() {
  images_.clear();
  num_detections_ = 0;
  summary_.reset();
}

}  // namespace act::metrics
