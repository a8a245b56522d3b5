// QuantAware (alias Quantization): ACT's quantization-aware training, keys and defaults from PaddleSlim's
// strategy_config.py, plus quant_post_first and scale_trainable (ACT 2.6's QuantAware has them too).
#include "config/field_table.h"
#include "config/sections.h"

namespace act::config {
namespace {
using Q = QuantAwareConfig;
const std::vector<Field<Q>>& QuantAwareFields() {
  static const std::vector<Field<Q>> fields = {
      {"use_pact", &Q::use_pact},
      {"weight_quantize_type", &Q::weight_quantize_type, {"channel_wise_abs_max", "abs_max"}},
      {"activation_quantize_type", &Q::activation_quantize_type, {"moving_average_abs_max", "range_abs_max", "abs_max"}},
      {"weight_bits", &Q::weight_bits},
      {"activation_bits", &Q::activation_bits},
      {"not_quant_pattern", &Q::not_quant_pattern},
      {"quantize_op_types", &Q::quantize_op_types},
      {"dtype", &Q::dtype, {"int8"}},
      {"window_size", &Q::window_size},
      {"moving_rate", &Q::moving_rate},
      {"for_tensorrt", &Q::for_tensorrt},
      {"onnx_format", &Q::onnx_format},
      {"is_full_quantize", &Q::is_full_quantize},
      {"quant_post_first", &Q::quant_post_first},
      {"scale_trainable", &Q::scale_trainable},
  };
  return fields;
}
}  // namespace

Status ParseQuantAware(const ParseContext& ctx, const YAML::Node& node, Config* config) {
  const std::string p = "QuantAware";
  QuantAwareConfig q;
  ACT_RETURN_IF_ERROR(CheckKeys(ctx, node, p, FieldKeys(QuantAwareFields())));
  if (!node.IsNull()) {
    ACT_RETURN_IF_ERROR(ReadFields(ctx, node, p, QuantAwareFields(), &q));
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
  YAML::Node n;
  EmitFields(QuantAwareFields(), *config.quant_aware, &n);
  (*root)["QuantAware"] = n;
}

}  // namespace act::config
