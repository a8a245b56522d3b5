#include "distill/lr_schedule.h"

#include <cmath>

namespace act::distill {

Status ValidateSchedule(const config::LearningRateConfig& lr, const std::string& key) {
  const std::string& t = lr.type;
  if (t == "constant" || t == "CosineAnnealingDecay" || t == "ExponentialDecay" || t == "StepDecay") {
    if (t == "StepDecay" && lr.step_size <= 0) return InvalidInput(key + ".step_size must be positive");
    return Status::Ok();
  }
  if (t == "PiecewiseDecay") {
    if (lr.values.size() != lr.boundaries.size() + 1) {
      return InvalidInput(key + ": PiecewiseDecay needs one more value than boundaries (got " +
                          std::to_string(lr.values.size()) + " values, " + std::to_string(lr.boundaries.size()) +
                          " boundaries)");
    }
    return Status::Ok();
  }
  if (t == "LinearWarmup") {
    if (lr.warmup_steps <= 0) return InvalidInput(key + ": LinearWarmup needs warmup_steps > 0");
    if (!lr.inner.empty()) return ValidateSchedule(lr.inner[0], key + ".learning_rate");
    return Status::Ok();
  }
  return InvalidInput(key + ": unknown learning-rate type '" + t +
                      "' (expected CosineAnnealingDecay, PiecewiseDecay, ExponentialDecay, StepDecay, LinearWarmup "
                      "or a number)");
}

double LearningRateAt(const config::LearningRateConfig& lr, int64_t step, int64_t total_steps) {
  const std::string& t = lr.type;
  if (t == "CosineAnnealingDecay") {
    const double tmax = lr.T_max > 0 ? lr.T_max : static_cast<double>(std::max<int64_t>(total_steps, 1));
    const double x = std::min(static_cast<double>(step), tmax) / tmax;
    return lr.eta_min + (lr.learning_rate - lr.eta_min) * (1 + std::cos(M_PI * x)) / 2;
  }
  if (t == "PiecewiseDecay") {
    size_t i = 0;
    while (i < lr.boundaries.size() && step >= lr.boundaries[i]) ++i;
    return lr.values[i];
  }
  if (t == "ExponentialDecay") return lr.learning_rate * std::pow(lr.gamma, static_cast<double>(step));
  if (t == "StepDecay") return lr.learning_rate * std::pow(lr.gamma, static_cast<double>(step / lr.step_size));
  if (t == "LinearWarmup") {
    if (step < lr.warmup_steps) {
      return lr.start_lr + (lr.end_lr - lr.start_lr) * static_cast<double>(step) / lr.warmup_steps;
    }
    if (!lr.inner.empty()) return LearningRateAt(lr.inner[0], step - lr.warmup_steps, total_steps - lr.warmup_steps);
    return lr.learning_rate;
  }
  return lr.learning_rate;
}

}  // namespace act::distill
