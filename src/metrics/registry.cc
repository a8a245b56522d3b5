// The built-in metrics, in one table (CreateMetric and MetricNames in include/act/metrics.h).
#include <functional>

#include "act/metrics.h"
#include "core/strings.h"
#include "metrics/agreement.h"
#include "metrics/classification.h"
#include "metrics/coco_map.h"
#include "metrics/ctc.h"

namespace act::metrics {
namespace {

Expected<std::unique_ptr<Metric>> CreateCtc(CtcMetric::Kind kind, const MetricConfig& config) {
  if (config.dictionary.empty()) {
    return InvalidInput("metric " + config.name + " needs a dictionary (a ppocr_keys_v1.txt-style file, one "
                        "symbol per line) to turn class indices into text");
  }
  ACT_ASSIGN_OR_RETURN(CtcDictionary dictionary, CtcDictionary::Load(config.dictionary));
  return std::unique_ptr<Metric>(new CtcMetric(kind, std::move(dictionary), config.output));
}

using Factory = std::function<Expected<std::unique_ptr<Metric>>(const MetricConfig&)>;
struct Entry {
  const char* name;
  Factory create;
};

const std::vector<Entry>& Table() {
  using M = std::unique_ptr<Metric>;
  static const std::vector<Entry> kTable = {
      {"top1", [](const MetricConfig& c) -> Expected<M> { return M(new TopKMetric(1, c.output)); }},
      {"top5", [](const MetricConfig& c) -> Expected<M> { return M(new TopKMetric(5, c.output)); }},
      {"accuracy", [](const MetricConfig& c) -> Expected<M> {
         return M(new ConfusionMetric(ConfusionMetric::Kind::kAccuracy, c.output));
       }},
      {"f1", [](const MetricConfig& c) -> Expected<M> {
         return M(new ConfusionMetric(ConfusionMetric::Kind::kF1, c.output));
       }},
      {"matthews", [](const MetricConfig& c) -> Expected<M> {
         return M(new ConfusionMetric(ConfusionMetric::Kind::kMatthews, c.output));
       }},
      {"coco_map", [](const MetricConfig& c) { return CocoMapMetric::Create(c); }},
      {"ctc_exact", [](const MetricConfig& c) { return CreateCtc(CtcMetric::Kind::kExactMatch, c); }},
      {"ctc_cer", [](const MetricConfig& c) { return CreateCtc(CtcMetric::Kind::kCharErrorRate, c); }},
      {"agreement", [](const MetricConfig& c) -> Expected<M> { return M(new AgreementMetric(c.output)); }},
  };
  return kTable;
}

}  // namespace

std::vector<std::string> MetricNames() {
  std::vector<std::string> names;
  for (const Entry& e : Table()) names.push_back(e.name);
  return names;
}

Expected<std::unique_ptr<Metric>> CreateMetric(const MetricConfig& config) {
  for (const Entry& e : Table()) {
    if (config.name == e.name) return e.create(config);
  }
  return NotFound("unknown metric '" + config.name + "'" + DidYouMean(config.name, MetricNames()) +
                  "; known metrics: " + Join(MetricNames(), ", "));
}

}  // namespace act::metrics
