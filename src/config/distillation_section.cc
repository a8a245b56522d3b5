// Distillation: ACT's single-teacher distillation (loss, node, alpha, teacher_model_dir, ...), plus the
// soft_label / kl temperatures. `node` is a flat list of names or a list of lists (one loss per inner list);
// how names pair up is decided where the models are known (src/distill/distill_pairs.h).
#include "config/sections.h"

namespace act::config {
namespace {
const std::vector<std::string> kKeys = {"loss", "node", "alpha", "teacher_model_dir", "teacher_model_filename",
                                        "teacher_params_filename", "teacher_temperature", "student_temperature"};
}  // namespace

Status ParseDistillation(const ParseContext& ctx, const YAML::Node& node, Config* config) {
  const std::string p = "Distillation";
  DistillationConfig d;
  ACT_RETURN_IF_ERROR(CheckKeys(ctx, node, p, kKeys));
  if (!node.IsNull()) {
    ACT_RETURN_IF_ERROR(Read(ctx, node, p, "loss", &d.loss));
    // ACT's other losses (skd, dml, ...) parse here; the strategy refuses what it does not implement.
    ACT_RETURN_IF_ERROR(Read(ctx, node, p, "alpha", &d.alpha));
    const YAML::Node n = node["node"];
    if (n.IsDefined() && !n.IsNull()) {
      if (n.IsScalar()) {
        d.node = {{n.as<std::string>()}};
      } else if (!n.IsSequence()) {
        return InvalidInput(Where(ctx, n, p + ".node") + ": expected a list of node names or a list of lists");
      } else {
        bool lists = false, scalars = false;
        for (const auto& item : n) {
          if (item.IsSequence()) {
            lists = true;
            std::vector<std::string> group;
            for (const auto& s : item) {
              if (!s.IsScalar()) return InvalidInput(Where(ctx, s, p + ".node") + ": expected node names");
              group.push_back(s.as<std::string>());
            }
            d.node.push_back(group);
          } else if (item.IsScalar()) {
            scalars = true;
            d.node.push_back({item.as<std::string>()});
          } else {
            return InvalidInput(Where(ctx, item, p + ".node") + ": expected a node name or a list of names");
          }
        }
        if (lists && scalars) {
          return InvalidInput(Where(ctx, n, p + ".node") + ": mixes names and lists; write all names (one loss) or "
                                                          "all lists (one loss per list)");
        }
        d.node_is_grouped = lists;
      }
    }
    ACT_RETURN_IF_ERROR(ReadPath(ctx, node, p, "teacher_model_dir", &d.teacher_model_dir));
    ACT_RETURN_IF_ERROR(Read(ctx, node, p, "teacher_model_filename", &d.teacher_model_filename));
    ACT_RETURN_IF_ERROR(Read(ctx, node, p, "teacher_params_filename", &d.teacher_params_filename));
    ACT_RETURN_IF_ERROR(Read(ctx, node, p, "teacher_temperature", &d.teacher_temperature));
    ACT_RETURN_IF_ERROR(Read(ctx, node, p, "student_temperature", &d.student_temperature));
    if (d.teacher_temperature <= 0 || d.student_temperature <= 0) {
      return InvalidInput(Where(ctx, node, p) + ": temperatures must be positive");
    }
  }
  config->distillation = std::move(d);
  return Status::Ok();
}

void EmitDistillation(const Config& config, YAML::Node* root) {
  if (!config.distillation) return;
  const DistillationConfig& d = *config.distillation;
  YAML::Node n;
  n["loss"] = d.loss;
  n["alpha"] = d.alpha;
  YAML::Node nodes(YAML::NodeType::Sequence);
  for (const auto& g : d.node) {
    if (d.node_is_grouped) {
      nodes.push_back(g);
    } else {
      for (const auto& s : g) nodes.push_back(s);
    }
  }
  n["node"] = nodes;
  if (!d.teacher_model_dir.empty()) n["teacher_model_dir"] = d.teacher_model_dir;
  if (!d.teacher_model_filename.empty()) n["teacher_model_filename"] = d.teacher_model_filename;
  if (!d.teacher_params_filename.empty()) n["teacher_params_filename"] = d.teacher_params_filename;
  n["teacher_temperature"] = d.teacher_temperature;
  n["student_temperature"] = d.student_temperature;
  (*root)["Distillation"] = n;
}

}  // namespace act::config
