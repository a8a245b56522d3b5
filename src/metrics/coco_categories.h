// COCO's 80 object categories carry ids 1..90 with gaps (ids of categories dropped from the 2014 release).
// Detectors trained on COCO number their classes 0..79 in category-id order (FastestDet's coco.names,
// YOLO's coco.yaml), so class index i is the i-th id of the sorted list below.
#pragma once

#include <cstdint>

namespace act::metrics {

inline constexpr int64_t kCocoNumClasses = 80;

// Class index 0..79 of a COCO category id, or -1 when `category_id` is not one of the 80.
int64_t CocoCategoryToClass(int64_t category_id);
// COCO category id of class index 0..79, or -1 outside that range.
int64_t CocoClassToCategory(int64_t class_index);

}  // namespace act::metrics
