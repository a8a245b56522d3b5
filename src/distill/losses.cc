#include "distill/losses.h"

#include <sstream>

namespace act::distill {

Expected<at::Tensor> DistillLoss(const std::string& loss, const at::Tensor& teacher, const at::Tensor& student,
                                 const LossOptions& options) {
  if (!teacher.sizes().equals(student.sizes())) {
    std::ostringstream m;
    m << "teacher and student values differ in shape (" << teacher.sizes() << " vs " << student.sizes() << ")";
    return InvalidInput(m.str());
  }
  const at::Tensor t = teacher.detach().to(at::kFloat);
  const at::Tensor s = student.to(at::kFloat);
  if (loss == "l2") return at::mean(at::pow(s - t, 2));
  if (loss != "soft_label" && loss != "kl") return InvalidInput("unknown distillation loss '" + loss + "'");
  if (s.dim() < 2) return InvalidInput(loss + " needs a value with a class axis (rank >= 2)");
  const int64_t axis = s.dim() == 4 ? 1 : s.dim() - 1;
  const at::Tensor log_ps = at::log_softmax(s / options.student_temperature, axis);
  const at::Tensor log_pt = at::log_softmax(t / options.teacher_temperature, axis);
  const at::Tensor pt = at::exp(log_pt);
  if (loss == "soft_label") return -at::mean(at::sum(pt * log_ps, axis));
  return at::mean(at::sum(pt * (log_pt - log_ps), axis));
}

}  // namespace act::distill
