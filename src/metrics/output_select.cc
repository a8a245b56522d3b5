#include "metrics/output_select.h"

#include "core/strings.h"

namespace act::metrics {

Expected<Tensor> SelectOutput(const std::map<std::string, Tensor>& outputs, const std::string& name,
                              const std::string& metric_name) {
  if (outputs.empty()) return InvalidInput("metric '" + metric_name + "': the model returned no outputs");
  if (name.empty()) return outputs.begin()->second;
  auto it = outputs.find(name);
  if (it != outputs.end()) return it->second;
  std::vector<std::string> names;
  for (const auto& [n, t] : outputs) names.push_back(n);
  return NotFound("metric '" + metric_name + "': the model has no output '" + name + "'" +
                  DidYouMean(name, names) + "; its outputs are: " + Join(names, ", "));
}

Expected<Tensor> ToFloat32(const Tensor& tensor, const std::string& what) {
  switch (tensor.dtype()) {
    case DType::kFloat32:
      return tensor;
    case DType::kFloat64: case DType::kUInt8: case DType::kInt8: case DType::kInt16: case DType::kUInt16:
    case DType::kInt32: case DType::kUInt32: case DType::kInt64: case DType::kUInt64: case DType::kBool:
      return tensor.CastTo(DType::kFloat32);
    default:
      return Unsupported(what + " has dtype " + DTypeName(tensor.dtype()) +
                         "; metrics read numeric outputs (float32, float64 or integers)");
  }
}

Expected<ScoreRows> AsScoreRows(const Tensor& tensor, int64_t rows, const std::string& what) {
  if (tensor.rank() < 1 || rows <= 0 || tensor.numel() % rows != 0 ||
      tensor.numel() / rows != tensor.shape().back()) {
    return InvalidInput(what + " has shape " + ShapeToString(tensor.shape()) + "; expected [" +
                        std::to_string(rows) + ", classes] for a batch of " + std::to_string(rows) +
                        " samples (scores or logits per class in the last dimension)");
  }
  ACT_ASSIGN_OR_RETURN(Tensor values, ToFloat32(tensor, what));
  ScoreRows out;
  out.rows = rows;
  out.classes = tensor.shape().back();
  out.values = values.Reshaped({rows, out.classes});
  return out;
}

int64_t ArgMax(const float* scores, int64_t count) {
  int64_t best = 0;
  for (int64_t i = 1; i < count; ++i) {
    if (scores[i] > scores[best]) best = i;
  }
  return best;
}

Expected<int64_t> ClassLabel(const std::vector<std::optional<data::Label>>& labels, size_t index,
                             int64_t num_classes, const std::string& metric_name) {
  const auto& label = labels.at(index);
  if (!label || label->class_id < 0) {
    return InvalidInput("metric '" + metric_name + "': sample " + std::to_string(index) +
                        " of the batch has no class label; give the data set labels (or use the "
                        "'agreement' metric, which compares with the FP32 model instead)");
  }
  if (label->class_id >= num_classes) {
    return InvalidInput("metric '" + metric_name + "': sample " + std::to_string(index) + " has class label " +
                        std::to_string(label->class_id) + " but the model scores only " +
                        std::to_string(num_classes) + " classes (0.." + std::to_string(num_classes - 1) + ")");
  }
  return label->class_id;
}

}  // namespace act::metrics
