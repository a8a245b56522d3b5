// From the YAML's `Global.eval` to a MetricConfig: one mapping for every front door (compress, eval, QAT),
// so a key added to the eval section reaches every metric the same way.
#pragma once

#include "act/config.h"
#include "act/metrics.h"

namespace act::metrics {

// `eval_data`, when given, supplies the network input geometry: the last resize among its transforms
// (detectors map boxes back to the original image with it).
MetricConfig MetricConfigFromEval(const config::EvalConfig& eval, const config::DatasetConfig* eval_data);

}  // namespace act::metrics
