// QuantPost: ACT's post-training quantization, keys and defaults from PaddleSlim's strategy_config.py.
#include "config/field_table.h"
#include "config/sections.h"

namespace act::config {
namespace {
using Q = QuantPostConfig;
const std::vector<Field<Q>>& QuantPostFields() {
  static const std::vector<Field<Q>> fields = {
      {"batch_size", &Q::batch_size},
      {"batch_nums", &Q::batch_nums},
      {"epochs", &Q::epochs},
      {"lr", &Q::lr},
      {"algo", &Q::algo, {"hist", "KL", "avg", "mse", "emd", "abs_max", "min_max", "ptf"}},
      {"hist_percent", &Q::hist_percent},
      {"recon_level", &Q::recon_level},
      {"is_full_quantize", &Q::is_full_quantize},
      {"bias_correction", &Q::bias_correction},
      {"weight_quantize_type", &Q::weight_quantize_type, {"channel_wise_abs_max", "abs_max"}},
      {"activation_quantize_type", &Q::activation_quantize_type, {"range_abs_max", "moving_average_abs_max", "abs_max"}},
      {"simulate_activation_quant", &Q::simulate_activation_quant},
      {"skip_tensor_list", &Q::skip_tensor_list},
      {"onnx_format", &Q::onnx_format},
      {"quantize_op_types", &Q::quantize_op_types},
      {"weight_bits", &Q::weight_bits},
      {"activation_bits", &Q::activation_bits},
  };
  return fields;
}
// ACT keys refused with advice (region-wise reconstruction names Paddle sub-graphs).
const std::vector<std::string> kRefusedKeys = {"regions", "region_weights_names"};
}  // namespace

Status ParseQuantPost(const ParseContext& ctx, const YAML::Node& node, Config* config) {
  const std::string p = "QuantPost";
  QuantPostConfig q;
  std::vector<std::string> keys = FieldKeys(QuantPostFields());
  keys.insert(keys.end(), kRefusedKeys.begin(), kRefusedKeys.end());
  ACT_RETURN_IF_ERROR(CheckKeys(ctx, node, p, keys));
  if (!node.IsNull()) {
    if (node["regions"].IsDefined() || node["region_weights_names"].IsDefined()) {
      return Unsupported(Where(ctx, node, p) + ": regions / region_weights_names (ACT's region-wise reconstruction) "
                                               "name Paddle sub-graphs and are not supported; remove them");
    }
    ACT_RETURN_IF_ERROR(ReadFields(ctx, node, p, QuantPostFields(), &q));
    if (q.hist_percent <= 0 || q.hist_percent > 1) {
      return InvalidInput(Where(ctx, node["hist_percent"], p + ".hist_percent") + ": must lie in (0, 1]");
    }
    for (int64_t bits : {q.weight_bits, q.activation_bits}) {
      if (bits < 2 || bits > 16) return InvalidInput(Where(ctx, node, p) + ": weight_bits/activation_bits must lie in [2, 16]");
    }
    if (q.batch_size <= 0) return InvalidInput(Where(ctx, node["batch_size"], p + ".batch_size") + ": must be positive");
  }
  config->quant_post = std::move(q);
  return Status::Ok();
}

void EmitQuantPost(const Config& config, YAML::Node* root) {
  if (!config.quant_post) return;
  YAML::Node n;
  EmitFields(QuantPostFields(), *config.quant_post, &n);
  (*root)["QuantPost"] = n;
}

}  // namespace act::config
