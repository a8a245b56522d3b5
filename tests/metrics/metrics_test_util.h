// Small builders shared by the metrics tests: labels and one-batch output maps.
#pragma once

#include <time.h>

#include <map>
#include <optional>
#include <string>
#include <vector>

#include "act/data.h"
#include "act/tensor.h"

namespace act::metrics::test {

inline std::vector<std::optional<data::Label>> ClassLabels(const std::vector<int64_t>& ids) {
  std::vector<std::optional<data::Label>> labels;
  for (int64_t id : ids) {
    data::Label l;
    l.class_id = id;
    labels.push_back(l);
  }
  return labels;
}

inline std::vector<std::optional<data::Label>> TextLabels(const std::vector<std::string>& texts) {
  std::vector<std::optional<data::Label>> labels;
  for (const auto& t : texts) {
    data::Label l;
    l.text = t;
    labels.push_back(l);
  }
  return labels;
}

inline std::map<std::string, Tensor> Outputs(Shape shape, const std::vector<float>& values,
                                             const std::string& name = "logits") {
  return {{name, Tensor::FromVector<float>(std::move(shape), values)}};
}

// CPU time of the calling thread in milliseconds: on a shared, loaded machine wall time measures the
// neighbours, CPU time measures the code.
inline double ThreadCpuMs() {
  timespec ts;
  clock_gettime(CLOCK_THREAD_CPUTIME_ID, &ts);
  return ts.tv_sec * 1e3 + ts.tv_nsec / 1e6;
}

}  // namespace act::metrics::test
