// The calibration table: what calibration decided for each activation tensor — its quantization
// parameters and the range and algorithm behind them. It is written beside the exported model as
// calibration.json, so a run can be inspected, and read back to export again without recalibrating
// (ncnn's calibration table plays the same role).
//
// calibration.json:
//   {"format": "onnx-act calibration", "version": 1,
//    "tensors": {"<tensor name>": {"scale": 0.0235, "zero_point": 0, "dtype": "u8", "bits": 8,
//                                  "min": 0.0, "max": 5.99, "algorithm": "hist"}, ...}}
#pragma once

#include <cstdint>
#include <map>
#include <string>

#include "act/status.h"
#include "quant/quant_params.h"

namespace act::quant {

struct CalibrationEntry {
  QuantParams params;
  float min = 0, max = 0;   // the clipping range the parameters represent
  std::string algorithm;    // the observer that chose it ("hist", "KL", … or "manual")
};

class CalibrationTable {
 public:
  void Set(const std::string& tensor, CalibrationEntry entry) { entries_[tensor] = std::move(entry); }
  const CalibrationEntry* Find(const std::string& tensor) const;
  bool Contains(const std::string& tensor) const { return entries_.count(tensor) > 0; }
  const std::map<std::string, CalibrationEntry>& entries() const { return entries_; }
  size_t size() const { return entries_.size(); }

  std::string ToJson() const;
  static Expected<CalibrationTable> FromJson(const std::string& text, const std::string& name_for_errors);
  // Atomic write (temporary file, then rename).
  Status Save(const std::string& path) const;
  static Expected<CalibrationTable> Load(const std::string& path);

 private:
  std::map<std::string, CalibrationEntry> entries_;
};

}  // namespace act::quant
