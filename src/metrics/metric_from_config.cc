#include "metrics/metric_from_config.h"

namespace act::metrics {

MetricConfig MetricConfigFromEval(const config::EvalConfig& eval, const config::DatasetConfig* eval_data) {
  MetricConfig m;
  m.name = eval.metric;
  m.output = eval.output;
  m.num_classes = eval.num_classes;
  m.decoder = eval.decoder;
  m.dictionary = eval.dictionary;
  m.conf_threshold = static_cast<float>(eval.conf_threshold);
  m.nms_iou = static_cast<float>(eval.nms_iou);
  m.max_detections = eval.max_detections;
  m.category_ids = eval.category_ids;
  if (eval_data == nullptr) return m;
  for (const auto& t : eval_data->transforms) {  // the last resize decides the network input geometry
    if (t.kind == config::TransformConfig::Kind::kResize && t.size.size() == 2) {
      m.input_height = t.size[0];
      m.input_width = t.size[1];
      m.resize_mode = t.mode;
    }
  }
  return m;
}

}  // namespace act::metrics
