// The image transforms of DESIGN.md §5, built once from the YAML list and applied in order to each image,
// ending in the model's input tensor (float32, [1, C, H, W] by default, [1, H, W, C] after `layout: nhwc`).
//   resize {size: [h, w], mode, interpolation, pad_value}
//     stretch:          resample to h x w.
//     keep_aspect_pad:  fit inside h x w keeping the aspect ratio, r = min(h / H, w / W) for an H x W image:
//                       height min(h, round(H r)), width min(w, ceil(W r)); anchored top-left, padded right
//                       and below with pad_value. For lines no wider than w/h this is PP-OCR's recogniser
//                       rule (height h, width min(w, ceil(h W / H))); PP-OCR squeezes wider lines to width w
//                       at full height instead — the `ocr_lines` data set implements that rule exactly.
//     letterbox:        r = min(h / H, w / W); resample to round(H r) x round(W r); centre it, padding
//                       top/bottom and left/right with pad_value ((h - H') / 2 on top, the rest below).
//   center_crop {size: [h, w]}: the centred h x w window (top = (H - h) / 2, rounded down); fails if larger.
//   color bgr|rgb|gray: reorder channels; gray = 0.299 R + 0.587 G + 0.114 B (ITU-R 601, as OpenCV and PIL).
//   normalize {scale, mean, std}: x * scale, then (x - mean[c]) / std[c] (one value, or one per channel).
//   layout nchw|nhwc.
#pragma once

#include <string>
#include <vector>

#include "act/config.h"
#include "act/tensor.h"
#include "data/image.h"

namespace act::data {

class ImageTransforms {
 public:
  // `where` names the config key in messages ("Global.eval_data.transforms").
  static Expected<ImageTransforms> Create(const std::vector<config::TransformConfig>& transforms,
                                          const std::string& where);
  // Applies every transform, then packs the tensor. `name` (the image's file) is used in messages.
  Expected<Tensor> Apply(Image image, const std::string& name) const;
  // The image after every transform but before packing (tests, and callers that need the pixels).
  Expected<Image> ApplyToImage(Image image, const std::string& name) const;

 private:
  std::vector<config::TransformConfig> transforms_;
  std::string where_;
  bool nhwc_ = false;
};

// Packs an image into a float32 tensor [1, C, H, W] (or [1, H, W, C]).
Tensor ImageToTensor(const Image& image, bool nhwc);

}  // namespace act::data
