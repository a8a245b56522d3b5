// TrainConfig: ACT's training settings for the distillation strategies. learning_rate is a number or a
// schedule map {type: CosineAnnealingDecay | PiecewiseDecay | ExponentialDecay | StepDecay | LinearWarmup, ...}
// (LinearWarmup's learning_rate may itself be a schedule); optimizer_builder is
// {optimizer: {type: SGD | Momentum | Adam | AdamW, momentum, beta1, beta2, epsilon}, weight_decay, grad_clip}, where
// grad_clip is a global-norm bound (a number, or {clip_norm: x}). Schedules step once per training iteration.
#include "config/sections.h"

namespace act::config {
namespace {
const std::vector<std::string> kKeys = {"epochs", "train_iter", "learning_rate", "optimizer_builder", "eval_iter",
                                        "logging_iter", "origin_metric", "target_metric", "amp_config",
                                        "recompute_config", "sharding_config", "sparse_model", "use_fleet"};

Status ParseSchedule(const ParseContext& ctx, const YAML::Node& node, const std::string& p, LearningRateConfig* lr) {
  if (node.IsScalar()) {
    try {
      lr->type = "constant";
      lr->learning_rate = node.as<double>();
      return Status::Ok();
    } catch (const YAML::Exception&) {
      return InvalidInput(Where(ctx, node, p) + ": expected a number or a schedule map");
    }
  }
  if (!node.IsMap()) return InvalidInput(Where(ctx, node, p) + ": expected a number or a schedule map");
  ACT_RETURN_IF_ERROR(CheckKeys(ctx, node, p,
                                {"type", "learning_rate", "T_max", "eta_min", "boundaries", "values", "gamma",
                                 "step_size", "warmup_steps", "start_lr", "end_lr", "last_epoch", "verbose"}));
  ACT_RETURN_IF_ERROR(Read(ctx, node, p, "type", &lr->type));
  ACT_RETURN_IF_ERROR(CheckChoice(ctx, node, p, "type", lr->type,
                                  {"CosineAnnealingDecay", "PiecewiseDecay", "ExponentialDecay", "StepDecay",
                                   "LinearWarmup"}));
  const YAML::Node inner = node["learning_rate"];
  if (lr->type == "LinearWarmup" && inner.IsDefined() && inner.IsMap()) {
    LearningRateConfig nested;
    ACT_RETURN_IF_ERROR(ParseSchedule(ctx, inner, p + ".learning_rate", &nested));
    lr->inner.push_back(nested);
  } else {
    ACT_RETURN_IF_ERROR(Read(ctx, node, p, "learning_rate", &lr->learning_rate));
  }
  ACT_RETURN_IF_ERROR(Read(ctx, node, p, "T_max", &lr->T_max));
  ACT_RETURN_IF_ERROR(Read(ctx, node, p, "eta_min", &lr->eta_min));
  ACT_RETURN_IF_ERROR(Read(ctx, node, p, "boundaries", &lr->boundaries));
  ACT_RETURN_IF_ERROR(Read(ctx, node, p, "values", &lr->values));
  ACT_RETURN_IF_ERROR(Read(ctx, node, p, "gamma", &lr->gamma));
  ACT_RETURN_IF_ERROR(Read(ctx, node, p, "step_size", &lr->step_size));
  ACT_RETURN_IF_ERROR(Read(ctx, node, p, "warmup_steps", &lr->warmup_steps));
  ACT_RETURN_IF_ERROR(Read(ctx, node, p, "start_lr", &lr->start_lr));
  ACT_RETURN_IF_ERROR(Read(ctx, node, p, "end_lr", &lr->end_lr));
  if (lr->type == "PiecewiseDecay" && lr->values.size() != lr->boundaries.size() + 1) {
    return InvalidInput(Where(ctx, node, p) + ": PiecewiseDecay needs one more value than boundaries");
  }
  if (lr->type == "LinearWarmup" && lr->warmup_steps <= 0) {
    return InvalidInput(Where(ctx, node, p) + ": LinearWarmup needs warmup_steps > 0");
  }
  return Status::Ok();
}

YAML::Node EmitSchedule(const LearningRateConfig& lr) {
  if (lr.type == "constant") return YAML::Node(lr.learning_rate);
  YAML::Node n;
  n["type"] = lr.type;
  if (!lr.inner.empty()) {
    n["learning_rate"] = EmitSchedule(lr.inner[0]);
  } else {
    n["learning_rate"] = lr.learning_rate;
  }
  if (lr.type == "CosineAnnealingDecay") { n["T_max"] = lr.T_max; n["eta_min"] = lr.eta_min; }
  if (lr.type == "PiecewiseDecay") { n["boundaries"] = lr.boundaries; n["values"] = lr.values; }
  if (lr.type == "ExponentialDecay" || lr.type == "StepDecay") n["gamma"] = lr.gamma;
  if (lr.type == "StepDecay") n["step_size"] = lr.step_size;
  if (lr.type == "LinearWarmup") { n["warmup_steps"] = lr.warmup_steps; n["start_lr"] = lr.start_lr; n["end_lr"] = lr.end_lr; }
  return n;
}
}  // namespace

Status ParseTrainConfig(const ParseContext& ctx, const YAML::Node& node, Config* config) {
  const std::string p = "TrainConfig";
  TrainConfig t;
  ACT_RETURN_IF_ERROR(CheckKeys(ctx, node, p, kKeys));
  if (!node.IsNull()) {
    for (const char* key : {"amp_config", "recompute_config", "sharding_config"}) {
      if (node[key].IsDefined() && !node[key].IsNull()) {
        return Unsupported(Where(ctx, node[key], p + "." + key) + ": GPU-only in ACT; onnx-act trains on the CPU in "
                                                                  "float32 — remove it");
      }
    }
    ACT_RETURN_IF_ERROR(Read(ctx, node, p, "epochs", &t.epochs));
    ACT_RETURN_IF_ERROR(Read(ctx, node, p, "train_iter", &t.train_iter));
    ACT_RETURN_IF_ERROR(Read(ctx, node, p, "eval_iter", &t.eval_iter));
    ACT_RETURN_IF_ERROR(Read(ctx, node, p, "logging_iter", &t.logging_iter));
    if (node["learning_rate"].IsDefined()) {
      ACT_RETURN_IF_ERROR(ParseSchedule(ctx, node["learning_rate"], p + ".learning_rate", &t.learning_rate));
    }
    const YAML::Node ob = node["optimizer_builder"];
    if (ob.IsDefined() && !ob.IsNull()) {
      const std::string q = p + ".optimizer_builder";
      ACT_RETURN_IF_ERROR(CheckKeys(ctx, ob, q, {"optimizer", "weight_decay", "grad_clip"}));
      const YAML::Node opt = ob["optimizer"];
      if (opt.IsDefined()) {
        ACT_RETURN_IF_ERROR(CheckKeys(ctx, opt, q + ".optimizer", {"type", "momentum", "beta1", "beta2", "epsilon",
                                                                    "use_nesterov"}));
        ACT_RETURN_IF_ERROR(Read(ctx, opt, q + ".optimizer", "type", &t.optimizer));
        ACT_RETURN_IF_ERROR(CheckChoice(ctx, opt, q + ".optimizer", "type", t.optimizer, {"SGD", "Momentum", "Adam", "AdamW"}));
        ACT_RETURN_IF_ERROR(Read(ctx, opt, q + ".optimizer", "momentum", &t.momentum));
        ACT_RETURN_IF_ERROR(Read(ctx, opt, q + ".optimizer", "beta1", &t.beta1));
        ACT_RETURN_IF_ERROR(Read(ctx, opt, q + ".optimizer", "beta2", &t.beta2));
        ACT_RETURN_IF_ERROR(Read(ctx, opt, q + ".optimizer", "epsilon", &t.epsilon));
      }
      ACT_RETURN_IF_ERROR(Read(ctx, ob, q, "weight_decay", &t.weight_decay));
      const YAML::Node clip = ob["grad_clip"];
      if (clip.IsDefined() && clip.IsMap()) {
        ACT_RETURN_IF_ERROR(CheckKeys(ctx, clip, q + ".grad_clip", {"clip_norm", "name", "type"}));
        ACT_RETURN_IF_ERROR(Read(ctx, clip, q + ".grad_clip", "clip_norm", &t.grad_clip));
      } else {
        ACT_RETURN_IF_ERROR(Read(ctx, ob, q, "grad_clip", &t.grad_clip));
      }
    }
    if (node["origin_metric"].IsDefined() && !node["origin_metric"].IsNull()) {
      double v = 0;
      ACT_RETURN_IF_ERROR(Read(ctx, node, p, "origin_metric", &v));
      t.origin_metric = v;
    }
    if (node["target_metric"].IsDefined() && !node["target_metric"].IsNull()) {
      double v = 0;
      ACT_RETURN_IF_ERROR(Read(ctx, node, p, "target_metric", &v));
      t.target_metric = v;
    }
    if (t.epochs < 0 || t.train_iter < 0) return InvalidInput(Where(ctx, node, p) + ": epochs / train_iter must be >= 0");
    if (t.eval_iter <= 0) return InvalidInput(Where(ctx, node["eval_iter"], p + ".eval_iter") + ": must be positive");
  }
  config->train = std::move(t);
  return Status::Ok();
}

void EmitTrainConfig(const Config& config, YAML::Node* root) {
  if (!config.train) return;
  const TrainConfig& t = *config.train;
  YAML::Node n;
  if (t.epochs > 0) n["epochs"] = t.epochs;
  if (t.train_iter > 0) n["train_iter"] = t.train_iter;
  n["eval_iter"] = t.eval_iter;
  n["logging_iter"] = t.logging_iter;
  n["learning_rate"] = EmitSchedule(t.learning_rate);
  YAML::Node opt;
  opt["type"] = t.optimizer;
  if (t.optimizer == "Momentum") opt["momentum"] = t.momentum;
  if (t.optimizer == "AdamW" || t.optimizer == "Adam") { opt["beta1"] = t.beta1; opt["beta2"] = t.beta2; opt["epsilon"] = t.epsilon; }
  n["optimizer_builder"]["optimizer"] = opt;
  n["optimizer_builder"]["weight_decay"] = t.weight_decay;
  if (t.grad_clip > 0) n["optimizer_builder"]["grad_clip"] = t.grad_clip;
  if (t.origin_metric) n["origin_metric"] = *t.origin_metric;
  if (t.target_metric) n["target_metric"] = *t.target_metric;
  (*root)["TrainConfig"] = n;
}

}  // namespace act::config
