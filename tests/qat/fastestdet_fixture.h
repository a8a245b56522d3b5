// FastestDet's data set as the QAT tests read coco128: images stretched to 352x352, BGR, /255 (the model's
// own preprocessing), input "input.1".
#pragma once

#include <string>

#include "act/config.h"

namespace act::test {

inline config::DatasetConfig Coco128(const std::string& images, const std::string& annotations) {
  config::DatasetConfig c;
  c.type = "coco";
  c.key_path = "test";
  c.input_name = "input.1";
  c.images = images;
  c.annotations = annotations;
  config::TransformConfig resize, color, normalize;
  resize.kind = config::TransformConfig::Kind::kResize;
  resize.size = {352, 352};
  resize.mode = "stretch";
  color.kind = config::TransformConfig::Kind::kColor;
  color.color = "bgr";
  normalize.kind = config::TransformConfig::Kind::kNormalize;
  normalize.scale = 1.0 / 255;
  c.transforms = {resize, color, normalize};
  return c;
}

}  // namespace act::test
