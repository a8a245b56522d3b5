// qat_insert: the graph pass that turns a (normalised, BN-folded) FP32 graph into the fake-quant graph
// that quantization-aware training runs (ACT's QuantAware). Pattern and action:
//   weights:     W → Conv            becomes  W → act.FakeQuant(observer=weight, per-channel axis) → Conv
//   activations: p → T → readers     becomes  p → T_float [→ act.PactClip(alpha)] → act.FakeQuant → T → readers
//   followers:   where the export pulls T's Q in front of a data-movement op (X → Reshape/Gather/… → T) and X
//                has other readers, X gets an act.FakeQuant(observer=fixed) with T's scale too
//                (a graph input T:   T → act.FakeQuant → T_fq → readers)
//   biases:      b → Conv/Gemm        becomes  b → act.QuantizeBias(x scale, W) → Conv/Gemm  (the int32 bias
//                grid sx·sw of the integer kernel), and W's FakeQuant gets (b, x scale) for the export's
//                int32-overflow guard on the weight scale
//   outputs:     a Conv/Gemm output point's FakeQuant gets (x scale, W's scale): in evaluation it requantizes
//                from the int32 accumulator as ONNX Runtime's fused kernel does (simulate_fused_kernels)
// The tensors fake-quantized are exactly the ones the QDQ export will quantize (QdqTensorsToCalibrate with
// the same export options), and the weight axes are the export's (QdqHandlers), so the simulated model and
// the exported one compute the same thing (data-movement ops after a quantized tensor keep its grid, which
// is why the export can share scales through them). Scales, zero points and observer states are
// initializers named "<T>_qat_scale", "<T>_qat_zp", "<T>_qat_state"; PACT thresholds "<T>_pact_alpha".
// Initial activation parameters come from a calibration table (quant_post_first: PTQ's scales) or from the
// observers' first training batch. Not idempotent by design: run it once on an FP32 graph.
#pragma once

#include <set>
#include <string>
#include <vector>

#include "act/status.h"
#include "ir/graph.h"
#include "ir/passes/qdq_export.h"
#include "quant/calibration.h"

namespace act::quant {

struct QatOptions {
  ir::QdqExportOptions export_options;     // placement (op types, bits, per-channel, full quantize, skips)
  DType activation_dtype = DType::kUInt8;
  bool activation_symmetric = false;
  int activation_bits = 8;
  std::string activation_observer = "moving_average_abs_max";  // | range_abs_max | abs_max
  double moving_rate = 0.9;
  int64_t window_size = 10000;
  bool use_pact = false;
  float pact_init = 20.0f;
  bool learnable_scale = false;            // LSQ-style trainable activation scales
  // Simulate the integer kernels ONNX Runtime fuses the export into (its default session): float Conv biases
  // rounded to the int32 grid sx·sw, Conv/Gemm outputs requantized from the int32 accumulator with the float
  // multiplier sx·sw/sy. false: the Q/DQ graph as written (float Conv biases stay float; biases the export
  // stores as int32 are rounded either way).
  bool simulate_fused_kernels = true;
};

struct QatGraphInfo {
  struct Activation {
    std::string tensor;       // the quantized tensor (the name the export's calibration table uses)
    std::string fq_node, pact_node;
    std::string fq_output;    // what readers read after insertion (== tensor unless a graph input)
    std::string float_value;  // the producer's renamed output ("" for a graph input)
    std::string scale, zero_point, state, pact_alpha;
  };
  struct Weight {
    std::string weight, fq_node, fq_output, scale, zero_point;
    int axis = -1;
  };
  std::vector<Activation> activations;
  // Tensors the export quantizes with another tensor's parameters: a quantized output of a data-movement op
  // pulls its Q in front of the op (qdq_export.h), so every reader of the op's input — not only the op —
  // reads quantized values. Each gets an act.FakeQuant with observer `fixed` reading its leader's scale and
  // zero point (scale/zero_point name the leader's initializers; no state, no PACT).
  std::vector<Activation> followers;
  std::vector<Weight> weights;
  struct Bias {
    std::string bias, fq_node, fq_output;  // the bias initializer, its act.QuantizeBias node and output
  };
  std::vector<Bias> biases;
  int qmin = 0, qmax = 255;  // activation integer range

  // Initializers that hold quantizer state: kept as (non-trained) parameters in exec::Module.
  std::vector<std::string> StateNames() const;
  std::vector<std::string> PactNames() const;
  std::vector<std::string> WeightNames() const;
  std::vector<std::string> BiasNames() const;   // trainable (the Conv no longer reads them directly)
  std::vector<std::string> ScaleNames() const;  // the activation scales (trained when learnable)
};

// Inserts the act nodes into `graph` (opset >= 13). `initial` (may be null) gives starting activation
// parameters; without it scales start at 1 and the observers take the first training batch's range.
Expected<QatGraphInfo> InsertFakeQuant(ir::Graph& graph, const QatOptions& options, const CalibrationTable* initial);

}  // namespace act::quant
