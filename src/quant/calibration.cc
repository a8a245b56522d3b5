#include "quant/calibration.h"

#include <cmath>
#include <nlohmann/json.hpp>

#include "core/file_util.h"

namespace act::quant {

using nlohmann::json;

const CalibrationEntry* CalibrationTable::Find(const std::string& tensor) const {
  auto it = entries_.find(tensor);
  return it == entries_.end() ? nullptr : &it->second;
}

std::string CalibrationTable::ToJson() const {
  json tensors = json::object();
  for (const auto& [name, e] : entries_) {
    tensors[name] = {{"scale", e.params.scale},     {"zero_point", e.params.zero_point},
                     {"dtype", QuantDTypeName(e.params.dtype)}, {"bits", e.params.bits},
                     {"min", e.min},                {"max", e.max},
                     {"algorithm", e.algorithm}};
  }
  json doc = {{"format", "onnx-act calibration"}, {"version", 1}, {"tensors", tensors}};
  return doc.dump(1) + "\n";
}

Expected<CalibrationTable> CalibrationTable::FromJson(const std::string& text, const std::string& name) {
  json doc = json::parse(text, nullptr, /*allow_exceptions=*/false);
  if (doc.is_discarded() || !doc.is_object()) return InvalidInput(name + ": not a JSON object");
  if (!doc.contains("tensors") || !doc["tensors"].is_object()) {
    return InvalidInput(name + ": missing the \"tensors\" object (is this an onnx-act calibration.json?)");
  }
  CalibrationTable table;
  for (const auto& [tensor, v] : doc["tensors"].items()) {
    const std::string where = name + ": tensor '" + tensor + "'";
    for (const char* key : {"scale", "zero_point", "dtype"}) {
      if (!v.contains(key)) return InvalidInput(where + ": missing key \"" + key + "\"");
    }
    if (!v["scale"].is_number() || !v["zero_point"].is_number_integer() || !v["dtype"].is_string()) {
      return InvalidInput(where + ": expected a number \"scale\", an integer \"zero_point\" and a string \"dtype\"");
    }
    CalibrationEntry e;
    e.params.scale = v["scale"].get<float>();
    e.params.zero_point = v["zero_point"].get<int32_t>();
    ACT_ASSIGN_OR_RETURN(e.params.dtype, ParseQuantDType(v["dtype"].get<std::string>()));
    e.params.bits = v.value("bits", 8);
    e.min = v.value("min", 0.0f);
    e.max = v.value("max", 0.0f);
    e.algorithm = v.value("algorithm", std::string("unknown"));
    if (!(e.params.scale >= kMinScale) || !std::isfinite(e.params.scale)) {
      return InvalidInput(where + ": scale " + std::to_string(e.params.scale) + " must be finite and at least " +
                          std::to_string(kMinScale));
    }
    const int32_t qmin = QuantMin(e.params.dtype, e.params.bits), qmax = QuantMax(e.params.dtype, e.params.bits);
    if (e.params.zero_point < qmin || e.params.zero_point > qmax) {
      return InvalidInput(where + ": zero_point " + std::to_string(e.params.zero_point) + " is outside [" +
                          std::to_string(qmin) + ", " + std::to_string(qmax) + "]");
    }
    table.Set(tensor, e);
  }
  return table;
}

Status CalibrationTable::Save(const std::string& path) const { return AtomicWriteFile(path, ToJson()); }

Expected<CalibrationTable> CalibrationTable::Load(const std::string& path) {
  ACT_ASSIGN_OR_RETURN(std::string text, ReadFileToString(path));
  return FromJson(text, path);
}

}  // namespace act::quant
