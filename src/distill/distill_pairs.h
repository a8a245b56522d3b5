// Which teacher and student values each distillation loss compares (ACT's Distillation.node, loss, alpha).
//   1. No `node`: the automatic nodes of the student graph (auto_nodes.h), one l2-style group of
//      self-pairs (teacher value = student value name).
//   2. A flat list, teacher = the same model: self-distillation, each name compared with itself.
//   3. A flat list, teacher = another model (teacher_model_dir): read as (teacher, student) pairs; an odd
//      length is an error.
//   4. A list of lists: one loss per inner list, each read as in 2 or 3.
// A name may be a value or a node (its first output); each is checked in its own graph, and an unknown name
// is a NotFound error naming the nearest node or value. `loss` and `alpha` give one entry per group or one
// for all.
#pragma once

#include <string>
#include <utility>
#include <vector>

#include "act/config.h"
#include "act/status.h"
#include "ir/graph.h"

namespace act::distill {

struct DistillLossSpec {
  std::vector<std::pair<std::string, std::string>> pairs;  // (teacher value, student value)
  std::string loss = "l2";  // l2 | soft_label | kl
  double alpha = 1.0;
};

Expected<std::vector<DistillLossSpec>> ResolveDistillation(const config::DistillationConfig& config,
                                                           const ir::Graph& teacher, const ir::Graph& student,
                                                           bool other_teacher);

}  // namespace act::distill
