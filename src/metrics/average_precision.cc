#include "metrics/average_precision.h"

#include <algorithm>
#include <numeric>

namespace act::metrics {
namespace {

constexpr int kNumRecallPoints = 101;

// Match state of one detection at one IoU threshold.
enum : uint8_t { kMiss = 0, kHit = 1, kIgnored = 2 };

// Detections of one class over the data set: score, and the match state at each IoU threshold.
struct ClassRecords {
  std::vector<float> scores;
  std::vector<uint8_t> states;  // scores.size() × thresholds
  int64_t num_ground_truth = 0;  // non-crowd
};

// COCO's IoU with a crowd box: the union is the detection's own area.
double CrowdIoU(const Detection& d, const GroundTruthBox& g) {
  const double iw = std::max(0.0, static_cast<double>(std::min(d.x1, g.x1)) - std::max(d.x0, g.x0));
  const double ih = std::max(0.0, static_cast<double>(std::min(d.y1, g.y1)) - std::max(d.y0, g.y0));
  const double area = std::max(0.0, static_cast<double>(d.x1) - d.x0) * std::max(0.0, static_cast<double>(d.y1) - d.y0);
  return area > 0 ? iw * ih / area : 0.0;
}

// Step 1 for one image and class: appends the states of `dets` (sorted by score) to `records`.
void MatchImageClass(const std::vector<const Detection*>& dets, const std::vector<const GroundTruthBox*>& gts,
                     const std::vector<double>& thresholds, ClassRecords& records) {
  const size_t T = thresholds.size();
  // IoU table, detections × ground truth (which comes non-crowd first, as COCO orders it).
  std::vector<double> iou(dets.size() * gts.size());
  for (size_t d = 0; d < dets.size(); ++d) {
    for (size_t g = 0; g < gts.size(); ++g) {
      const GroundTruthBox& gt = *gts[g];
      iou[d * gts.size() + g] = gt.crowd ? CrowdIoU(*dets[d], gt)
                                         : BoxIoU(dets[d]->x0, dets[d]->y0, dets[d]->x1, dets[d]->y1, gt.x0,
                                                  gt.y0, gt.x1, gt.y1);
    }
  }
  const size_t first = records.scores.size();
  for (const Detection* d : dets) records.scores.push_back(d->score);
  records.states.resize(records.scores.size() * T, kMiss);
  std::vector<bool> gt_matched(gts.size());
  for (size_t t = 0; t < T; ++t) {
    std::fill(gt_matched.begin(), gt_matched.end(), false);
    for (size_t d = 0; d < dets.size(); ++d) {
      double best = std::min(thresholds[t], 1 - 1e-10);
      int64_t match = -1;
      for (size_t g = 0; g < gts.size(); ++g) {
        if (gt_matched[g] && !gts[g]->crowd) continue;          // a crowd box may match many detections
        if (match >= 0 && !gts[match]->crowd && gts[g]->crowd) break;  // a real match beats any crowd one
        const double v = iou[d * gts.size() + g];
        if (v < best) continue;
        best = v;
        match = static_cast<int64_t>(g);
      }
      if (match < 0) continue;
      gt_matched[match] = true;
      records.states[(first + d) * T + t] = gts[match]->crowd ? kIgnored : kHit;
    }
  }
}

// Steps 2-3 for one class at threshold index t.
double AveragePrecision(const ClassRecords& records, const std::vector<size_t>& order, size_t t, size_t T) {
  std::vector<double> recall, precision;
  recall.reserve(order.size());
  precision.reserve(order.size());
  int64_t tp = 0, fp = 0;
  for (size_t i : order) {
    const uint8_t s = records.states[i * T + t];
    if (s == kIgnored) continue;
    (s == kHit ? tp : fp)++;
    recall.push_back(static_cast<double>(tp) / records.num_ground_truth);
    precision.push_back(static_cast<double>(tp) / (tp + fp));
  }
  for (size_t i = precision.size(); i-- > 1;) precision[i - 1] = std::max(precision[i - 1], precision[i]);
  double sum = 0;
  for (int r = 0; r < kNumRecallPoints; ++r) {
    const double level = r == kNumRecallPoints - 1 ? 1.0 : r * 0.01;  // numpy.linspace(0, 1, 101)
    const size_t k = std::lower_bound(recall.begin(), recall.end(), level) - recall.begin();
    if (k < precision.size()) sum += precision[k];
  }
  return sum / kNumRecallPoints;
}

}  // namespace

const std::vector<double>& CocoIouThresholds() {
  static const std::vector<double> kThresholds = [] {
    std::vector<double> t(10);
    const double step = (0.95 - 0.5) / 9;
    for (int i = 0; i < 10; ++i) t[i] = 0.5 + i * step;
    t[9] = 0.95;
    return t;
  }();
  return kThresholds;
}

ApSummary ComputeCocoAp(const std::vector<ImageDetections>& images, int64_t max_detections) {
  const std::vector<double>& thresholds = CocoIouThresholds();
  const size_t T = thresholds.size();
  std::map<int64_t, ClassRecords> classes;
  for (const ImageDetections& image : images) {
    std::map<int64_t, std::vector<const Detection*>> dets;
    std::map<int64_t, std::vector<const GroundTruthBox*>> gts;
    for (const Detection& d : image.detections) dets[d.class_index].push_back(&d);
    for (const GroundTruthBox& g : image.ground_truth) gts[g.class_index].push_back(&g);
    for (auto& [c, list] : gts) {
      std::stable_partition(list.begin(), list.end(), [](const GroundTruthBox* g) { return !g->crowd; });
      for (const GroundTruthBox* g : list) classes[c].num_ground_truth += g->crowd ? 0 : 1;
    }
    for (auto& [c, list] : dets) {
      std::stable_sort(list.begin(), list.end(), [](const Detection* a, const Detection* b) { return a->score > b->score; });
      if (static_cast<int64_t>(list.size()) > max_detections) list.resize(max_detections);
      auto g = gts.find(c);
      static const std::vector<const GroundTruthBox*> kNone;
      MatchImageClass(list, g == gts.end() ? kNone : g->second, thresholds, classes[c]);
    }
  }

  ApSummary summary;
  double sum50 = 0, sum75 = 0, sum_all = 0;
  for (const auto& [c, records] : classes) {
    if (records.num_ground_truth == 0) continue;  // COCO leaves such classes out of the mean
    std::vector<size_t> order(records.scores.size());
    std::iota(order.begin(), order.end(), 0);
    std::stable_sort(order.begin(), order.end(),
                     [&](size_t a, size_t b) { return records.scores[a] > records.scores[b]; });
    std::vector<double>& ap = summary.per_class[c];
    for (size_t t = 0; t < T; ++t) ap.push_back(AveragePrecision(records, order, t, T));
    sum50 += ap[0];
    sum75 += ap[5];
    for (double v : ap) sum_all += v;
    ++summary.num_classes;
  }
  if (summary.num_classes > 0) {
    summary.map50 = sum50 / summary.num_classes;
    summary.map75 = sum75 / summary.num_classes;
    summary.map50_95 = sum_all / (summary.num_classes * T);
  }
  return summary;
}

}  // namespace act::metrics
