// QuantAware (alias Quantization): ACT's quantization-aware training, keys and defaults from PaddleSlim's
// strategy_config.py, plus quant_post_first and scale_trainable (ACT 2.6's QuantAware has them too).
#include "config/sections.h"

namespace act::config {
namespace {
const std::vector<std::string> kKeys = {
    "use_pact", "weight_quantize_type", "activation_quantize_type", "weight_bits", "activation_bits",
    "not_quant_pattern", "quantize_op_types", "dtype", "window_size", "moving_rate", "for_tensorrt", "onnx_format",
    "is_full_quantize", "quant_post_first", "scale_trainable"};
}  // namespace

Status ParseQuantAware(const ParseContext& ctx, const YAML::Node& node, Config* config) {
  const std::string p = "QuantAware";
  QuantAwareConfig q;
  ACT_RETURN_IF_ERROR(CheckKeys(ctx, node, p, kKeys));
  if (!node.IsNull()) {
    ACT_RETURN_IF_ERROR(Read(ctx, node, p, "use_pact", &q.use_pact));
    ACT_RETURN_IF_ERROR(Read(ctx, node, p, "weight_quantize_type", &q.weight_quantize_type));
    ACT_RETURN_IF_ERROR(CheckChoice(ctx, node, p, "weight_quantize_type", q.weight_quantize_type,
                                    {"channel_wise_abs_max", "abs_max"}));
    ACT_RETURN_IF_ERROR(Read(ctx, node, p, "activation_quantize_type", &q.activation_quantize_type));
    ACT_RETURN_IF_ERROR(CheckChoice(ctx, node, p, "activation_quantize_type", q.activation_quantize_type,
                                    {"moving_average_abs_max", "range_abs_max", "abs_max"}));
    ACT_RETURN_IF_ERROR(Read(ctx, node, p, "weight_bits", &q.weight_bits));
    ACT_RETURN_IF_ERROR(Read(ctx, node, p, "activation_bits", &q.activation_bits));
    ACT_RETURN_IF_ERROR(Read(ctx, node, p, "not_quant_pattern", &q.not_quant_pattern));
    ACT_RETURN_IF_ERROR(Read(ctx, node, p, "quantize_op_types", &q.quantize_op_types));
    ACT_RETURN_IF_ERROR(Read(ctx, node, p, "dtype", &q.dtype));
    ACT_RETURN_IF_ERROR(CheckChoice(ctx, node, p, "dtype", q.dtype, {"int8"}));
    ACT_RETURN_IF_ERROR(Read(ctx, node, p, "window_size", &q.window_size));
    ACT_RETURN_IF_ERROR(Read(ctx, node, p, "moving_rate", &q.moving_rate));
    ACT_RETURN_IF_ERROR(Read(ctx, node, p, "for_tensorrt", &q.for_tensorrt));
    ACT_RETURN_IF_ERROR(Read(ctx, node, p, "onnx_format", &q.onnx_format));
    ACT_RETURN_IF_ERROR(Read(ctx, node, p, "is_full_quantize", &q.is_full_quantize));
    ACT_RETURN_IF_ERROR(Read(ctx, node, p, "quant_post_first", &q.quant_post_first));
    ACT_RETURN_IF_ERROR(Read(ctx, node, p, "scale_trainable", &q.scale_trainable));
    if (q.weight_bits < 2 || q.weight_bits > 8) {
      return InvalidInput(Where(ctx, node["weight_bits"], p + ".weight_bits") +
                          ": must lie in [2, 8] (4-bit weights are stored as int8 within [-8, 7])");
    }
    if (q.activation_bits != 8) {
      return Unsupported(Where(ctx, node["activation_bits"], p + ".activation_bits") +
                         ": only 8 (ONNX QuantizeLinear and ONNX Runtime's integer kernels take 8-bit activations)");
    }
    if (q.moving_rate <= 0 || q.moving_rate >= 1) {
      return InvalidInput(Where(ctx, node["moving_rate"], p + ".moving_rate") + ": must lie in (0, 1)");
    }
    if (q.window_size <= 0) return InvalidInput(Where(ctx, node["window_size"], p + ".window_size") + ": must be positive");
  }
  config->quant_aware = std::move(q);
  return Status::Ok();
}

void EmitQuantAware(const Config& config, YAML::Node* root) {
  if (!config.quant_aware) return;
  const QuantAwareConfig& q = *config.quant_aware;
  YAML::Node n;
  n["use_pact"] = q.use_pact;
  n["weight_quantize_type"] = q.weight_quantize_type;
  n["activation_quantize_type"] = q.activation_quantize_type;
  n["weight_bits"] = q.weight_bits;
  n["activation_bits"] = q.activation_bits;
  n["not_quant_pattern"] = q.not_quant_pattern;
  n["quantize_op_types"] = q.quantize_op_types;
  n["dtype"] = q.dtype;
  n["window_size"] = q.window_size;
  n["moving_rate"] = q.moving_rate;
  n["for_tensorrt"] = q.for_tensorrt;
  n["onnx_format"] = q.onnx_format;
  n["is_full_quantize"] = q.is_full_quantize;
  n["quant_post_first"] = q.quant_post_first;
  n["scale_trainable"] = q.scale_trainable;
  (*root)["QuantAware"] = n;
}

}  // namespace act::config
