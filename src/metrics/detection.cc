#include "metrics/detection.h"

#include <algorithm>
#include <numeric>

#include "core/strings.h"

namespace act::metrics {

double BoxIoU(float ax0, float ay0, float ax1, float ay1, float bx0, float by0, float bx1, float by1) {
  const double iw = std::max(0.0, static_cast<double>(std::min(ax1, bx1)) - std::max(ax0, bx0));
  const double ih = std::max(0.0, static_cast<double>(std::min(ay1, by1)) - std::max(ay0, by0));
  const double inter = iw * ih;
  const double area_a = std::max(0.0, static_cast<double>(ax1) - ax0) * std::max(0.0, static_cast<double>(ay1) - ay0);
  const double area_b = std::max(0.0, static_cast<double>(bx1) - bx0) * std::max(0.0, static_cast<double>(by1) - by0);
  const double uni = area_a + area_b - inter;
  return uni > 0 ? inter / uni : 0.0;
}

std::vector<Detection> NonMaxSuppression(std::vector<Detection> detections, float iou_threshold,
                                         int64_t max_per_class) {
  // Grouped by class, then by descending score (stable): suppression only compares boxes within a group.
  std::stable_sort(detections.begin(), detections.end(), [](const Detection& a, const Detection& b) {
    return a.class_index != b.class_index ? a.class_index < b.class_index : a.score > b.score;
  });
  std::vector<float> area(detections.size());
  for (size_t i = 0; i < detections.size(); ++i) {
    const Detection& d = detections[i];
    area[i] = std::max(0.0f, d.x1 - d.x0) * std::max(0.0f, d.y1 - d.y0);
  }
  std::vector<Detection> kept;
  std::vector<uint8_t> suppressed(detections.size(), 0);
  for (size_t begin = 0; begin < detections.size();) {
    size_t end = begin;
    while (end < detections.size() && detections[end].class_index == detections[begin].class_index) ++end;
    int64_t kept_in_class = 0;
    for (size_t i = begin; i < end && kept_in_class < max_per_class; ++i) {
      if (suppressed[i]) continue;
      const Detection& a = detections[i];
      kept.push_back(a);
      ++kept_in_class;
      for (size_t j = i + 1; j < end; ++j) {
        if (suppressed[j]) continue;
        const Detection& b = detections[j];
        const float iw = std::min(a.x1, b.x1) - std::max(a.x0, b.x0);
        const float ih = std::min(a.y1, b.y1) - std::max(a.y0, b.y0);
        if (iw <= 0 || ih <= 0) continue;
        // IoU > t  ⇔  inter > t · union (union > 0 here, since inter > 0).
        const float inter = iw * ih;
        if (inter > iou_threshold * (area[i] + area[j] - inter)) suppressed[j] = 1;
      }
    }
    begin = end;
  }
  std::stable_sort(kept.begin(), kept.end(), [](const Detection& a, const Detection& b) { return a.score > b.score; });
  return kept;
}

void BoxMapping::Apply(Detection& d) const {
  d.x0 = static_cast<float>((d.x0 - offset_x) / scale_x);
  d.x1 = static_cast<float>((d.x1 - offset_x) / scale_x);
  d.y0 = static_cast<float>((d.y0 - offset_y) / scale_y);
  d.y1 = static_cast<float>((d.y1 - offset_y) / scale_y);
}

const std::vector<std::string>& ResizeModes() {
  static const std::vector<std::string> kModes = {"stretch", "keep_aspect_pad", "letterbox"};
  return kModes;
}

Expected<BoxMapping> MakeBoxMapping(const std::string& resize_mode, double input_width, double input_height,
                                    double image_width, double image_height) {
  if (!(input_width > 0 && input_height > 0 && image_width > 0 && image_height > 0)) {
    return InvalidInput("cannot map boxes to the image: input size " + std::to_string(input_width) + "x" +
                        std::to_string(input_height) + ", image size " + std::to_string(image_width) + "x" +
                        std::to_string(image_height) + " (both must be positive)");
  }
  BoxMapping m;
  if (resize_mode == "stretch") {
    m.scale_x = input_width / image_width;
    m.scale_y = input_height / image_height;
    return m;
  }
  const double r = std::min(input_width / image_width, input_height / image_height);
  m.scale_x = m.scale_y = r;
  if (resize_mode == "keep_aspect_pad") return m;
  if (resize_mode == "letterbox") {
    m.offset_x = (input_width - image_width * r) / 2;
    m.offset_y = (input_height - image_height * r) / 2;
    return m;
  }
  return InvalidInput("unknown resize_mode '" + resize_mode + "'" + DidYouMean(resize_mode, ResizeModes()) +
                      "; expected one of " + Join(ResizeModes(), ", "));
}

}  // namespace act::metrics
