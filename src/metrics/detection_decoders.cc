#include "metrics/detection_decoders.h"

#include <cmath>

#include "core/strings.h"

namespace act::metrics {
namespace {

double Sigmoid(double x) { return 1.0 / (1.0 + std::exp(-x)); }

Detection FromCentre(double cx, double cy, double w, double h, float score, int64_t class_index) {
  Detection d;
  d.x0 = static_cast<float>(cx - 0.5 * w);
  d.y0 = static_cast<float>(cy - 0.5 * h);
  d.x1 = static_cast<float>(cx + 0.5 * w);
  d.y1 = static_cast<float>(cy + 0.5 * h);
  d.score = score;
  d.class_index = class_index;
  return d;
}

std::vector<Detection> DecodeFastestDet(const float* out, int64_t channels, int64_t height, int64_t width,
                                        float conf_threshold, double input_width, double input_height) {
  const int64_t plane = height * width, classes = channels - 5;
  // Best class per cell, plane by plane (contiguous, vectorisable) rather than cell by cell (strided).
  std::vector<float> best_score(out + 5 * plane, out + 6 * plane);
  std::vector<int32_t> best(plane, 0);
  for (int64_t c = 1; c < classes; ++c) {
    const float* p = out + (5 + c) * plane;
    for (int64_t i = 0; i < plane; ++i) {
      if (p[i] > best_score[i]) best_score[i] = p[i], best[i] = static_cast<int32_t>(c);
    }
  }
  std::vector<Detection> detections;
  for (int64_t i = 0; i < plane; ++i) {
    const float obj = out[i], cls = best_score[i];
    if (!(obj > 0.0f && cls > 0.0f)) continue;  // pow of a negative is NaN; such a score is 0
    const float score = std::pow(obj, 0.6f) * std::pow(cls, 0.4f);
    if (!(score > conf_threshold)) continue;
    const int64_t gy = i / width, gx = i % width;
    const double cx = (gx + std::tanh(static_cast<double>(out[1 * plane + i]))) / width;
    const double cy = (gy + std::tanh(static_cast<double>(out[2 * plane + i]))) / height;
    const double w = Sigmoid(out[3 * plane + i]), h = Sigmoid(out[4 * plane + i]);
    detections.push_back(FromCentre(cx * input_width, cy * input_height, w * input_width, h * input_height,
                                    score, best[i]));
  }
  return detections;
}

// Box b's field f is at base[b * box_stride + f * field_stride].
std::vector<Detection> DecodeYolo(const float* base, int64_t boxes, int64_t box_stride, int64_t field_stride,
                                  int64_t classes, bool has_objectness, float conf_threshold) {
  std::vector<Detection> detections;
  const int64_t first_class = has_objectness ? 5 : 4;
  for (int64_t b = 0; b < boxes; ++b) {
    const float* box = base + b * box_stride;
    const float objectness = has_objectness ? box[4 * field_stride] : 1.0f;
    if (has_objectness && !(objectness > conf_threshold)) continue;  // score ≤ objectness, as class probabilities are ≤ 1
    int64_t best = 0;
    float best_score = box[first_class * field_stride];
    for (int64_t c = 1; c < classes; ++c) {
      const float s = box[(first_class + c) * field_stride];
      if (s > best_score) best_score = s, best = c;
    }
    const float score = objectness * best_score;
    if (!(score > conf_threshold)) continue;
    detections.push_back(FromCentre(box[0], box[field_stride], box[2 * field_stride], box[3 * field_stride],
                                    score, best));
  }
  return detections;
}

}  // namespace

const std::vector<std::string>& DetectionDecoderNames() {
  static const std::vector<std::string> kNames = {"fastestdet", "yolo_boxes_last", "yolo_channels_first"};
  return kNames;
}

Expected<DetectionDecoder> ParseDetectionDecoder(const std::string& name) {
  if (name == "fastestdet") return DetectionDecoder::kFastestDet;
  if (name == "yolo_boxes_last") return DetectionDecoder::kYoloBoxesLast;
  if (name == "yolo_channels_first") return DetectionDecoder::kYoloChannelsFirst;
  return InvalidInput("coco_map: unknown decoder '" + name + "'" + DidYouMean(name, DetectionDecoderNames()) +
                      "; expected one of " + Join(DetectionDecoderNames(), ", ") +
                      " (FastestDet's [N,85,H,W] grid, YOLOv5 [N,boxes,85], YOLOv8 [N,84,boxes])");
}

Expected<int64_t> DecoderNumClasses(DetectionDecoder decoder, const Shape& shape) {
  const std::string got = ShapeToString(shape);
  switch (decoder) {
    case DetectionDecoder::kFastestDet:
      if (shape.size() != 4 || shape[1] < 6) {
        return InvalidInput("coco_map decoder fastestdet expects an output [N, 5+classes, H, W], got " + got);
      }
      return shape[1] - 5;
    case DetectionDecoder::kYoloBoxesLast:
      if (shape.size() != 3 || shape[2] < 6) {
        return InvalidInput("coco_map decoder yolo_boxes_last expects an output [N, boxes, 5+classes] "
                            "(cx, cy, w, h, objectness, class scores), got " + got);
      }
      return shape[2] - 5;
    case DetectionDecoder::kYoloChannelsFirst:
      if (shape.size() != 3 || shape[1] < 5) {
        return InvalidInput("coco_map decoder yolo_channels_first expects an output [N, 4+classes, boxes] "
                            "(cx, cy, w, h, class scores), got " + got);
      }
      return shape[1] - 4;
  }
  return Internal("unhandled detection decoder");
}

std::vector<Detection> DecodeDetections(DetectionDecoder decoder, const Tensor& output, int64_t index,
                                        float conf_threshold, double input_width, double input_height) {
  const Shape& s = output.shape();
  const int64_t per_image = output.numel() / s[0];
  const float* base = output.data<float>() + index * per_image;
  switch (decoder) {
    case DetectionDecoder::kFastestDet:
      return DecodeFastestDet(base, s[1], s[2], s[3], conf_threshold, input_width, input_height);
    case DetectionDecoder::kYoloBoxesLast:
      return DecodeYolo(base, s[1], /*box_stride=*/s[2], /*field_stride=*/1, s[2] - 5, true, conf_threshold);
    case DetectionDecoder::kYoloChannelsFirst:
      return DecodeYolo(base, s[2], /*box_stride=*/1, /*field_stride=*/s[2], s[1] - 4, false, conf_threshold);
  }
  return {};
}

}  // namespace act::metrics
