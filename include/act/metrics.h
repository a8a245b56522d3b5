// Metrics: a Metric sees model outputs batch by batch (with labels, and with the FP32 reference model's
// outputs when it compares against one) and yields one number where higher is better, except where
// `higher_is_better()` says otherwise (CER).
#pragma once

#include <map>
#include <memory>
#include <string>
#include <vector>

#include "act/data.h"
#include "act/status.h"
#include "act/tensor.h"

namespace act::metrics {

class Metric {
 public:
  virtual ~Metric() = default;
  virtual std::string name() const = 0;
  virtual bool higher_is_better() const { return true; }
  // Whether Update needs the reference (FP32) model's outputs (the `agreement` metrics).
  virtual bool needs_reference() const { return false; }
  // `outputs`: the model's outputs for one batch, by output name. `labels`: one per sample.
  // `reference`: the reference model's outputs for the same batch, or empty.
  virtual Status Update(const std::map<std::string, Tensor>& outputs,
                        const std::vector<std::optional<data::Label>>& labels,
                        const std::map<std::string, Tensor>& reference) = 0;
  virtual double Result() const = 0;
  // Further figures worth reporting beside the headline number (e.g. map50_95, cer, cosine).
  virtual std::map<std::string, double> Details() const { return {}; }
  virtual void Reset() = 0;
};

}  // namespace act::metrics
