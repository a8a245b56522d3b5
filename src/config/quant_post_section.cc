// QuantPost: ACT's post-training quantization, keys and defaults from PaddleSlim's strategy_config.py.
#include "config/sections.h"

namespace act::config {
namespace {
const std::vector<std::string> kKeys = {
    "batch_size",   "batch_nums",  "epochs",          "lr",  "algo", "hist_percent", "regions",
    "region_weights_names", "recon_level", "is_full_quantize", "bias_correction", "weight_quantize_type",
    "activation_quantize_type", "simulate_activation_quant", "skip_tensor_list", "onnx_format",
    "quantize_op_types", "weight_bits", "activation_bits"};
}  // namespace

Status ParseQuantPost(const ParseContext& ctx, const YAML::Node& node, Config* config) {
  const std::string p = "QuantPost";
  QuantPostConfig q;
  ACT_RETURN_IF_ERROR(CheckKeys(ctx, node, p, kKeys));
  if (!node.IsNull()) {
    if (node["regions"].IsDefined() || node["region_weights_names"].IsDefined()) {
      return Unsupported(Where(ctx, node, p) + ": regions / region_weights_names (ACT's region-wise reconstruction) "
                                               "name Paddle sub-graphs and are not supported; remove them");
    }
    ACT_RETURN_IF_ERROR(Read(ctx, node, p, "batch_size", &q.batch_size));
    ACT_RETURN_IF_ERROR(Read(ctx, node, p, "batch_nums", &q.batch_nums));
    ACT_RETURN_IF_ERROR(Read(ctx, node, p, "epochs", &q.epochs));
    ACT_RETURN_IF_ERROR(Read(ctx, node, p, "lr", &q.lr));
    ACT_RETURN_IF_ERROR(Read(ctx, node, p, "algo", &q.algo));
    ACT_RETURN_IF_ERROR(CheckChoice(ctx, node, p, "algo", q.algo,
                                    {"hist", "KL", "avg", "mse", "emd", "abs_max", "min_max", "ptf"}));
    ACT_RETURN_IF_ERROR(Read(ctx, node, p, "hist_percent", &q.hist_percent));
    ACT_RETURN_IF_ERROR(Read(ctx, node, p, "recon_level", &q.recon_level));
    ACT_RETURN_IF_ERROR(Read(ctx, node, p, "is_full_quantize", &q.is_full_quantize));
    ACT_RETURN_IF_ERROR(Read(ctx, node, p, "bias_correction", &q.bias_correction));
    ACT_RETURN_IF_ERROR(Read(ctx, node, p, "weight_quantize_type", &q.weight_quantize_type));
    ACT_RETURN_IF_ERROR(CheckChoice(ctx, node, p, "weight_quantize_type", q.weight_quantize_type,
                                    {"channel_wise_abs_max", "abs_max"}));
    ACT_RETURN_IF_ERROR(Read(ctx, node, p, "activation_quantize_type", &q.activation_quantize_type));
    ACT_RETURN_IF_ERROR(CheckChoice(ctx, node, p, "activation_quantize_type", q.activation_quantize_type,
                                    {"range_abs_max", "moving_average_abs_max", "abs_max"}));
    ACT_RETURN_IF_ERROR(Read(ctx, node, p, "simulate_activation_quant", &q.simulate_activation_quant));
    ACT_RETURN_IF_ERROR(Read(ctx, node, p, "skip_tensor_list", &q.skip_tensor_list));
    ACT_RETURN_IF_ERROR(Read(ctx, node, p, "onnx_format", &q.onnx_format));
    ACT_RETURN_IF_ERROR(Read(ctx, node, p, "quantize_op_types", &q.quantize_op_types));
    ACT_RETURN_IF_ERROR(Read(ctx, node, p, "weight_bits", &q.weight_bits));
    ACT_RETURN_IF_ERROR(Read(ctx, node, p, "activation_bits", &q.activation_bits));
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
  const QuantPostConfig& q = *config.quant_post;
  YAML::Node n;
  n["batch_size"] = q.batch_size;
  n["batch_nums"] = q.batch_nums;
  n["epochs"] = q.epochs;
  n["lr"] = DoubleNode(q.lr);
  n["algo"] = q.algo;
  n["hist_percent"] = DoubleNode(q.hist_percent);
  if (!q.recon_level.empty()) n["recon_level"] = q.recon_level;
  n["is_full_quantize"] = q.is_full_quantize;
  n["bias_correction"] = q.bias_correction;
  n["weight_quantize_type"] = q.weight_quantize_type;
  n["activation_quantize_type"] = q.activation_quantize_type;
  n["simulate_activation_quant"] = q.simulate_activation_quant;
  n["skip_tensor_list"] = q.skip_tensor_list;
  n["onnx_format"] = q.onnx_format;
  n["quantize_op_types"] = q.quantize_op_types;
  n["weight_bits"] = q.weight_bits;
  n["activation_bits"] = q.activation_bits;
  (*root)["QuantPost"] = n;
}

}  // namespace act::config
