// Detections and the geometry shared by the decoders and the mAP computation: IoU, class-aware NMS, and the
// mapping from the network's input coordinates back to the original image.
#pragma once

#include <cstdint>
#include <limits>
#include <string>
#include <vector>

#include "act/status.h"

namespace act::metrics {

// A box with corners (x0, y0) top-left and (x1, y1) bottom-right.
struct Detection {
  float x0 = 0, y0 = 0, x1 = 0, y1 = 0;
  float score = 0;
  int64_t class_index = -1;
};

// Intersection over union of two boxes, area = (x1 − x0)·(y1 − y0) as COCO computes it (no +1); 0 when the
// union is empty.
double BoxIoU(float ax0, float ay0, float ax1, float ay1, float bx0, float by0, float bx1, float by1);
inline double BoxIoU(const Detection& a, const Detection& b) {
  return BoxIoU(a.x0, a.y0, a.x1, a.y1, b.x0, b.y0, b.x1, b.y1);
}

// Class-aware greedy non-maximum suppression: visits boxes by descending score (stable on ties) and drops
// every later box of the same class whose IoU with a kept one is above `iou_threshold`. Returns the kept
// boxes by descending score; at most `max_per_class` of each class (the best ones).
std::vector<Detection> NonMaxSuppression(std::vector<Detection> detections, float iou_threshold,
                                         int64_t max_per_class = std::numeric_limits<int64_t>::max());

// How an image was fitted to the network input, so boxes can be mapped back:
//   stretch:          input = image · (in_w / img_w, in_h / img_h)
//   keep_aspect_pad:  input = image · r, r = min(in_w / img_w, in_h / img_h), padding right/bottom
//   letterbox:        input = image · r + ((in_w − img_w·r) / 2, (in_h − img_h·r) / 2)
// and image = (input − offset) / scale.
struct BoxMapping {
  double scale_x = 1, scale_y = 1, offset_x = 0, offset_y = 0;
  void Apply(Detection& d) const;
};
Expected<BoxMapping> MakeBoxMapping(const std::string& resize_mode, double input_width, double input_height,
                                    double image_width, double image_height);
// The resize modes MakeBoxMapping knows.
const std::vector<std::string>& ResizeModes();

}  // namespace act::metrics
