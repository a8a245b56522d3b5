// Distillation losses between a teacher value t and a student value s of the same shape (ACT's l2,
// soft_label and kl). The class axis of soft_label / kl is 1 for rank-4 values (NCHW feature maps) and the
// last axis otherwise ([N, C] logits, [N, T, C] sequence logits).
//   l2          mean((s - t)^2)
//   soft_label  -mean_rows( sum_c softmax(t / T_t)_c · log_softmax(s / T_s)_c )
//   kl          mean_rows( sum_c p_c · (log p_c - log_softmax(s / T_s)_c) ),  p = softmax(t / T_t)
// (mean_rows: over every position but the class axis). The teacher side carries no gradient.
#pragma once

#include <ATen/ATen.h>

#include <string>

#include "act/status.h"

namespace act::distill {

struct LossOptions {
  double teacher_temperature = 1.0;
  double student_temperature = 1.0;
};

// Fails naming the values when shapes differ or the loss is unknown.
Expected<at::Tensor> DistillLoss(const std::string& loss, const at::Tensor& teacher, const at::Tensor& student,
                                 const LossOptions& options);

}  // namespace act::distill
