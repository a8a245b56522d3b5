// HyperParameterOptimization: the search space of ACT's PTQ hyper-parameter search (PaddleSlim's
// strategy_config.py defaults). hist_percent and batch_num are [low, high] bounds sampled uniformly.
#include "config/field_table.h"
#include "config/sections.h"

namespace act::config {
namespace {
using H = HyperParameterOptimizationConfig;
const std::vector<Field<H>>& HpoFields() {
  static const std::vector<Field<H>> fields = {
      {"ptq_algo", &H::ptq_algo, {"hist", "KL", "avg", "mse", "emd", "abs_max", "min_max"}},
      {"bias_correct", &H::bias_correct},
      {"weight_quantize_type", &H::weight_quantize_type, {"channel_wise_abs_max", "abs_max"}},
      {"hist_percent", &H::hist_percent},
      {"batch_num", &H::batch_num},
      {"max_quant_count", &H::max_quant_count},
  };
  return fields;
}
}  // namespace

Status ParseHyperParameterOptimization(const ParseContext& ctx, const YAML::Node& node, Config* config) {
  const std::string p = "HyperParameterOptimization";
  HyperParameterOptimizationConfig h;
  ACT_RETURN_IF_ERROR(CheckKeys(ctx, node, p, FieldKeys(HpoFields())));
  if (!node.IsNull()) {
    ACT_RETURN_IF_ERROR(ReadFields(ctx, node, p, HpoFields(), &h));
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
  YAML::Node n;
  EmitFields(HpoFields(), *config.hyper_parameter_optimization, &n);
  (*root)["HyperParameterOptimization"] = n;
}

}  // namespace act::config
