// Helpers every metric uses to find the model output it reads and to view it as float scores, with errors
// that name the output and say what shape was expected.
#pragma once

#include <map>
#include <optional>
#include <string>
#include <vector>

#include "act/data.h"
#include "act/status.h"
#include "act/tensor.h"

namespace act::metrics {

// The output called `name`, or the only / first (by name) output when `name` is empty. NotFound names the
// outputs there are (and the nearest one) when `name` is missing.
Expected<Tensor> SelectOutput(const std::map<std::string, Tensor>& outputs, const std::string& name,
                              const std::string& metric_name);

// `tensor` as float32 (a copy when it holds another numeric dtype); Unsupported for strings and float16.
Expected<Tensor> ToFloat32(const Tensor& tensor, const std::string& what);

// Scores [rows, classes] viewed from a tensor whose last dimension is the classes and whose leading
// dimensions multiply to `rows` (e.g. [N, C] or [N, 1, C]); InvalidInput otherwise.
struct ScoreRows {
  Tensor values;  // float32, contiguous [rows, classes]
  int64_t rows = 0;
  int64_t classes = 0;
  const float* row(int64_t i) const { return values.data<float>() + i * classes; }
};
Expected<ScoreRows> AsScoreRows(const Tensor& tensor, int64_t rows, const std::string& what);

// Index of the largest score (the first one on ties), as argmax does.
int64_t ArgMax(const float* scores, int64_t count);

// The class label of sample `index`; InvalidInput when it is missing or outside [0, num_classes).
Expected<int64_t> ClassLabel(const std::vector<std::optional<data::Label>>& labels, size_t index,
                             int64_t num_classes, const std::string& metric_name);

}  // namespace act::metrics
