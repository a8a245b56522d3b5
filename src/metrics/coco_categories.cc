#include "metrics/coco_categories.h"

#include <algorithm>
#include <array>
#include <iterator>

namespace act::metrics {
namespace {

// The 80 category ids of COCO 2017 instances_*.json, sorted (ids 12, 26, 29, 30, 45, 66, 68, 69, 71, 83 are
// unused).
constexpr std::array<int64_t, kCocoNumClasses> kCocoCategoryIds = {
    1,  2,  3,  4,  5,  6,  7,  8,  9,  10, 11, 13, 14, 15, 16, 17, 18, 19, 20, 21,
    22, 23, 24, 25, 27, 28, 31, 32, 33, 34, 35, 36, 37, 38, 39, 40, 41, 42, 43, 44,
    46, 47, 48, 49, 50, 51, 52, 53, 54, 55, 56, 57, 58, 59, 60, 61, 62, 63, 64, 65,
    67, 70, 72, 73, 74, 75, 76, 77, 78, 79, 80, 81, 82, 84, 85, 86, 87, 88, 89, 90};
static_assert(kCocoCategoryIds.size() == 80, "COCO has 80 object categories");

}  // namespace

int64_t CocoCategoryToClass(int64_t category_id) {
  auto it = std::lower_bound(kCocoCategoryIds.begin(), kCocoCategoryIds.end(), category_id);
  if (it == kCocoCategoryIds.end() || *it != category_id) return -1;
  return std::distance(kCocoCategoryIds.begin(), it);
}

int64_t CocoClassToCategory(int64_t class_index) {
  if (class_index < 0 || class_index >= kCocoNumClasses) return -1;
  return kCocoCategoryIds[class_index];
}

}  // namespace act::metrics
