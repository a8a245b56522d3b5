// Decoders from a detector's raw output to boxes, one image (batch element) at a time. Each keeps, per box
// or grid cell, its best class, and drops boxes scoring at or below `conf_threshold`. Boxes come out in the
// network input's coordinates ("input space"); BoxMapping then maps them to the original image.
//
//   fastestdet           [N, 5+C, H, W] grid (FastestDet). Per cell (gy, gx), channels:
//                        0 objectness p, 1-2 centre offsets dx, dy, 3-4 size w, h, 5.. class scores c.
//                        score = p^0.6 · max(c)^0.4
//                        cx = (gx + tanh(dx)) / W,  cy = (gy + tanh(dy)) / H,  w = σ(w), h = σ(h)
//                        — normalised to [0, 1]; multiplied by the input size given (1 when unknown).
//   yolo_boxes_last      [N, B, 4+1+C] (YOLOv5/v7): cx, cy, w, h in input pixels, objectness p, class
//                        probabilities c; score = p · max(c).
//   yolo_channels_first  [N, 4+C, B] (YOLOv8): cx, cy, w, h in input pixels, class scores c; score = max(c).
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "act/status.h"
#include "act/tensor.h"
#include "metrics/detection.h"

namespace act::metrics {

enum class DetectionDecoder { kFastestDet, kYoloBoxesLast, kYoloChannelsFirst };

// "fastestdet" → kFastestDet, ...; InvalidInput naming the nearest valid name otherwise.
Expected<DetectionDecoder> ParseDetectionDecoder(const std::string& name);
const std::vector<std::string>& DetectionDecoderNames();

// Number of classes the output of `decoder` carries, checked against its expected rank and layout.
Expected<int64_t> DecoderNumClasses(DetectionDecoder decoder, const Shape& shape);

// Decodes batch element `index` of a float32 output. `input_width/height` scale FastestDet's normalised
// boxes to input pixels (pass 1, 1 to keep them normalised).
std::vector<Detection> DecodeDetections(DetectionDecoder decoder, const Tensor& output, int64_t index,
                                        float conf_threshold, double input_width, double input_height);

}  // namespace act::metrics
