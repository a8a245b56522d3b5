#include "distill/distill_pairs.h"

#include <set>

#include "core/strings.h"
#include "distill/auto_nodes.h"

namespace act::distill {
namespace {

// A node or value name → the value it denotes in `g`.
Expected<std::string> ResolveValue(const ir::Graph& g, const std::string& name, const std::string& which) {
  if (g.Producer(name) >= 0 || g.IsGraphInput(name)) return name;
  std::vector<std::string> candidates;
  for (const auto& n : g.nodes) {
    if (n.name == name && !n.outputs.empty()) return n.outputs[0];
    candidates.push_back(n.name);
    for (const auto& out : n.outputs) candidates.push_back(out);
  }
  return NotFound("Distillation.node: '" + name + "' is neither a node nor a value of the " + which + " model" +
                  DidYouMean(name, candidates) + " (use `onnx-act inspect MODEL` to list node names)");
}

}  // namespace

Expected<std::vector<DistillLossSpec>> ResolveDistillation(const config::DistillationConfig& config,
                                                           const ir::Graph& teacher, const ir::Graph& student,
                                                           bool other_teacher) {
  teacher.RebuildIndex();
  student.RebuildIndex();
  static const std::set<std::string> kLosses = {"l2", "soft_label", "kl"};
  for (const auto& l : config.loss) {
    if (!kLosses.count(l)) {
      return InvalidInput("Distillation.loss: unknown loss '" + l + "'" + DidYouMean(l, {"l2", "soft_label", "kl"}) +
                          " (expected l2, soft_label or kl)");
    }
  }
  std::vector<std::vector<std::string>> groups = config.node;
  if (!config.node_is_grouped && !groups.empty()) {  // a flat list: one group
    std::vector<std::string> flat;
    for (const auto& g : groups) flat.insert(flat.end(), g.begin(), g.end());
    groups = {flat};
  }
  std::vector<DistillLossSpec> specs;
  if (groups.empty()) {
    DistillLossSpec spec;
    for (const auto& d : FindDistillationNodes(student)) {
      if (other_teacher) {
        return InvalidInput("Distillation.node is empty but teacher_model_dir names another model: the automatic "
                            "nodes exist only in the student; list (teacher, student) pairs in Distillation.node");
      }
      spec.pairs.emplace_back(d.value, d.value);
    }
    if (spec.pairs.empty()) return InvalidInput("no distillation node found automatically: list them in Distillation.node");
    groups.push_back({});
    specs.push_back(spec);
  } else {
    for (size_t gi = 0; gi < groups.size(); ++gi) {
      const auto& names = groups[gi];
      DistillLossSpec spec;
      if (other_teacher) {
        if (names.size() % 2 != 0) {
          return InvalidInput("Distillation.node" + (config.node_is_grouped ? "[" + std::to_string(gi) + "]" : std::string()) +
                              ": " + std::to_string(names.size()) + " names, but with teacher_model_dir the list holds "
                              "(teacher, student) pairs and must have an even length");
        }
        for (size_t i = 0; i < names.size(); i += 2) {
          ACT_ASSIGN_OR_RETURN(std::string t, ResolveValue(teacher, names[i], "teacher"));
          ACT_ASSIGN_OR_RETURN(std::string s, ResolveValue(student, names[i + 1], "student"));
          spec.pairs.emplace_back(t, s);
        }
      } else {
        for (const auto& name : names) {
          ACT_ASSIGN_OR_RETURN(std::string s, ResolveValue(student, name, "student"));
          ACT_ASSIGN_OR_RETURN(std::string t, ResolveValue(teacher, name, "teacher"));
          spec.pairs.emplace_back(t, s);
        }
      }
      if (spec.pairs.empty()) return InvalidInput("Distillation.node[" + std::to_string(gi) + "] is empty");
      specs.push_back(spec);
    }
  }
  for (size_t gi = 0; gi < specs.size(); ++gi) {
    if (config.loss.size() > 1 && config.loss.size() != specs.size()) {
      return InvalidInput("Distillation.loss has " + std::to_string(config.loss.size()) + " entries for " +
                          std::to_string(specs.size()) + " node groups (give one, or one per group)");
    }
    if (config.alpha.size() > 1 && config.alpha.size() != specs.size()) {
      return InvalidInput("Distillation.alpha has " + std::to_string(config.alpha.size()) + " entries for " +
                          std::to_string(specs.size()) + " node groups (give one, or one per group)");
    }
    if (!config.loss.empty()) specs[gi].loss = config.loss.size() == 1 ? config.loss[0] : config.loss[gi];
    if (!config.alpha.empty()) specs[gi].alpha = config.alpha.size() == 1 ? config.alpha[0] : config.alpha[gi];
  }
  return specs;
}

}  // namespace act::distill
