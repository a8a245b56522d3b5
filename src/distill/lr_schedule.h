// Learning-rate schedules (ACT's TrainConfig.learning_rate), evaluated per training step t (0-based):
//   constant               lr
//   CosineAnnealingDecay   eta_min + (lr - eta_min) · (1 + cos(π · min(t, T_max) / T_max)) / 2   (T_max 0: total steps)
//   PiecewiseDecay         values[i] for boundaries[i-1] <= t < boundaries[i]  (len(values) = len(boundaries) + 1)
//   ExponentialDecay       lr · gamma^t
//   StepDecay              lr · gamma^floor(t / step_size)
//   LinearWarmup           start_lr + (end_lr - start_lr) · t / warmup_steps for t < warmup_steps, then the inner
//                          schedule (or the constant learning_rate) at t - warmup_steps
#pragma once

#include <cstdint>

#include "act/config.h"
#include "act/status.h"

namespace act::distill {

// Checks a schedule (known type, consistent lists); `key` names it in messages.
Status ValidateSchedule(const config::LearningRateConfig& lr, const std::string& key);
double LearningRateAt(const config::LearningRateConfig& lr, int64_t step, int64_t total_steps);

}  // namespace act::distill
