// Training checkpoints (QAT / distillation): everything needed to continue a killed run exactly — the
// parameters (weights, quantizer scales and observer states, PACT thresholds), the optimizer state, the
// step, and the best model so far with its metric. One file, written atomically (temporary file, then
// rename), so a kill during the write leaves the previous checkpoint intact.
// Format: one JSON header line {"format": "onnx-act checkpoint", "version": 1, "step": …, "best_metric": …,
// "best_step": …, "tensors": [{"name", "shape", "offset"}, …]} then the float32 data, little-endian.
#pragma once

#include <ATen/ATen.h>

#include <map>
#include <string>

#include "act/status.h"

namespace act::distill {

struct Checkpoint {
  int64_t step = 0;            // steps completed
  int64_t best_step = -1;      // -1: no evaluation yet
  double best_metric = 0;
  std::map<std::string, at::Tensor> tensors;  // float32
};

Status SaveCheckpoint(const std::string& path, const Checkpoint& checkpoint);
Expected<Checkpoint> LoadCheckpoint(const std::string& path);

}  // namespace act::distill
