// HyperParameterOptimization: the search space of ACT's PTQ hyper-parameter search (PaddleSlim's
// strategy_config.py defaults). hist_percent and batch_num are [low, high] bounds sampled uniformly.
#include "config/sections.h"

namespace act::config {
namespace {
const std::vector<std::string> kKeys = {"ptq_algo",     "bias_correct", "weight_quantize_type",
                                        "hist_percent", "batch_num",    "max_quant_count"};
}  // namespace

Status ParseHyperParameterOptimization(const ParseContext& ctx, const YAML::Node& node, Config* config) {
  const std::string p = "HyperParameterOptimization";
  HyperParameterOptimizationConfig h;
  ACT_RETURN_IF_ERROR(CheckKeys(ctx, node, p, kKeys));
  if (!node.IsNull()) {
    ACT_RETURN_IF_ERROR(Read(ctx, node, p, "ptq_algo", &h.ptq_algo));
    for (const auto& algo : h.ptq_algo) {
      ACT_RETURN_IF_ERROR(CheckChoice(ctx, node, p, "ptq_algo", algo,
                                      {"hist", "KL", "avg", "mse", "emd", "abs_max", "min_max"}));
    }
    ACT_RETURN_IF_ERROR(Read(ctx, node, p, "bias_correct", &h.bias_correct));
    ACT_RETURN_IF_ERROR(Read(ctx, node, p, "weight_quantize_type", &h.weight_quantize_type));
    ACT_RETURN_IF_ERROR(Read(ctx, node, p, "hist_percent", &h.hist_percent));
    ACT_RETURN_IF_ERROR(Read(ctx, node, p, "batch_num", &h.batch_num));
    ACT_RETURN_IF_ERROR(Read(ctx, node, p, "max_quant_count", &h.max_quant_count));
    if (h.hist_percent.size() != 2 || h.hist_percent[0] > h.hist_percent[1]) {
      return InvalidInput(Where(ctx, node["hist_percent"], p + ".hist_percent") + ": expected [low, high]");
    }
    if (h.batch_num.size() != 2 || h.batch_num[0] > h.batch_num[1] || h.batch_num[0] <= 0) {
      return InvalidInput(Where(ctx, node["batch_num"], p + ".batch_num") + ": expected [low, high], positive");
    }
    if (h.max_quant_count <= 0) {
      return InvalidInput(Where(ctx, node["max_quant_count"], p + ".max_quant_count") + ": must be positive");
    }
  }
  config->hyper_parameter_optimization = std::move(h);
  return Status::Ok();
}

void EmitHyperParameterOptimization(const Config& config, YAML::Node* root) {
  if (!config.hyper_parameter_optimization) return;
  const auto& h = *config.hyper_parameter_optimization;
  YAML::Node n;
  n["ptq_algo"] = h.ptq_algo;
  YAML::Node bias(YAML::NodeType::Sequence);
  for (bool b : h.bias_correct) bias.push_back(b);
  n["bias_correct"] = bias;
  n["weight_quantize_type"] = h.weight_quantize_type;
  n["hist_percent"] = DoubleList(h.hist_percent);
  n["batch_num"] = h.batch_num;
  n["max_quant_count"] = h.max_quant_count;
  (*root)["HyperParameterOptimization"] = n;
}

}  // namespace act::config
