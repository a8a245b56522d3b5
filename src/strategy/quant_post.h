// quant_post: ACT's QuantPost — post-training quantization with one recipe.
//   1. Collect activation statistics for QuantPost.algo over QuantPost.batch_nums calibration batches
//      (one pass; reused if an earlier pass already covers them).
//   2. Calibration table → QDQ graph (per QuantPost.weight_quantize_type; Quantizer places Q/DQ).
//   3. With bias_correction: correct each quantized Conv/Gemm's output mean (bias_correction.h), export again.
//   4. Score the candidate; record the trial.
#pragma once

#include <memory>

#include "strategy/ptq_candidate.h"
#include "strategy/strategy.h"

namespace act::strategy {

class QuantPostStrategy : public Strategy {
 public:
  std::string name() const override { return "quant_post"; }
  Expected<ir::Graph> Run(Context& context) override;
};

// Scores `candidate`, appends its Trial to the report and fills context.outcome when `keep`.
Expected<double> ScoreCandidate(Context& context, const PtqCandidate& candidate, const std::string& strategy,
                                const std::string& trial_name, double* seconds);

}  // namespace act::strategy
