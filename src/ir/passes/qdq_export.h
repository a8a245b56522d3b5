// QDQ export: writes standard ONNX QuantizeLinear/DequantizeLinear (opset ≥ 13) placed so that ONNX
// Runtime (and TensorRT) fuse every quantized Conv/ConvTranspose/MatMul/Gemm into an integer kernel
// (ENVIRONMENT.md, "How ORT turns Q/DQ into integer kernels"):
//   DQ(x) → Conv(DQ(W int8, per-channel), DQ(b int32, scale sx·sw)) → [Relu|Clip] → Q → DQ → consumers
// - weights become int8 initializers + DequantizeLinear (per output channel: `axis`); that is where the
//   4x size reduction comes from; biases become int32 with scale sx·sw[c] (a weight scale is raised
//   where the int32 bias would overflow);
// - activations get Q→DQ on the inputs AND on the output of each quantized node (an unquantized output
//   keeps ORT's Conv float, with its weight DQ running every inference); a Relu, or a Clip with constant
//   bounds, right after the node moves the output Q behind it (u8 with zero point 0 represents a Relu
//   output exactly, so ORT absorbs it); a Gemm/MatMul whose output is a graph output keeps a float
//   output (ORT still fuses it: QGemm / MatMulIntegerToFloat);
// - through data-movement ops (Reshape, Transpose, MaxPool, Slice, Gather, Resize, Flatten, …) the
//   output reuses the input's scale and zero point, so ORT drops the DQ→op→Q pairs and runs them on u8;
//   a quantized output of such an op also pulls the Q in front of it (exact for these ops:
//   Q(maxpool(x)) = maxpool(Q(x)));
// - is_full_quantize adds the ops ORT has integer kernels for: Add, Mul (constants quantized too),
//   Sigmoid, Softmax, LeakyRelu, AveragePool, GlobalAveragePool, Concat, Where.
// Which inputs of an op are activations, weights or biases is a per-op handler in one table
// (QdqHandlers()), not an if-chain. Every Q/DQ of one tensor shares one scale/zero point; each consumer
// gets its own DequantizeLinear (ORT's node units need that).
// Activation parameters come from calibration (src/quant), weight scales from a hook (src/quant's
// channel_wise_abs_max / abs_max), so this pass has no calibration logic of its own.
#pragma once

#include <functional>
#include <map>
#include <set>
#include <string>
#include <vector>

#include "act/status.h"
#include "ir/graph.h"

namespace act::ir {

// Quantization of one activation tensor: q = saturate(round(x / scale) + zero_point).
struct QdqParams {
  float scale = 1.0f;
  int32_t zero_point = 0;
  DType dtype = DType::kUInt8;  // kUInt8 (x86) or kInt8 (TensorRT)
};

// Scales of a float weight along `axis` (-1: one scale for the whole tensor) for `bits`-bit symmetric
// quantization; every scale must be positive (the quant module clamps to a floor).
using WeightScaleFunction = std::function<Expected<std::vector<float>>(const Tensor& weight, int axis, int bits)>;

struct QdqExportOptions {
  // Ops whose weights and activations are quantized (ACT's quantize_op_types, in ONNX names).
  // ConvTranspose has a handler but is not a default: ORT 1.30 (CPU) does not fuse QDQ ConvTranspose, so
  // its weight DQ would run on every inference (tests/quant: QdqExport.ConvTransposeInOrt).
  std::set<std::string> quantize_op_types = {"Conv", "MatMul", "Gemm"};
  DType activation_dtype = DType::kUInt8;  // for constants quantized as activations (Add/Mul operands)
  bool is_full_quantize = false;        // also the integer-kernel ops listed above
  // MatMul of two activations (attention's Q·Kᵀ and P·V): quantized only when set or is_full_quantize.
  // Off by default: on PP-OCRv4 rec, u8 attention probabilities cost far more accuracy than they save time.
  bool quantize_activation_matmul = false;
  int weight_bits = 8;                  // 4: int8 storage within [-8, 7]
  bool weight_per_channel = true;       // false: one scale per weight (abs_max)
  std::set<std::string> skip_tensors;   // never quantized; a node reading one as weight stays float
  std::set<std::string> float_nodes;    // node names kept in FP32 (per-layer fallback)
  WeightScaleFunction weight_scales;    // required
  // Smaller files for depthwise-heavy models (a 3x3 depthwise channel is 9 int8 weights against 9 bytes
  // of per-channel metadata): with quantize_conv_bias off, Conv biases stay float (ORT 1.30 still fuses
  // QLinearConv and quantizes the bias itself; it does NOT fuse a Gemm with a float bias, so Gemm biases
  // stay int32), saving the 4-byte bias scale per channel; with conv_weight_zero_point off, Conv weight
  // DQs omit their all-zero int8 zero point (1 byte per channel; ONNX's default is 0). Gemm is not fused
  // by ORT 1.30 without it, so Gemm/MatMul weights keep theirs.
  bool quantize_conv_bias = true;
  bool conv_weight_zero_point = true;
  // The deployment default (set by the quant schemes): Conv weight DQs omit their zero point and Conv
  // biases stay float (4 bytes a channel instead of an int32 and its 4-byte scale; ORT quantizes them
  // with the same rounding when it fuses QLinearConv), as quantize_conv_bias = conv_weight_zero_point =
  // false do; MatMul weight DQs omit their zero point too (ORT fuses them either way; Gemm keeps its own,
  // which ORT 1.30 needs to fuse QGemm). A 3x3 depthwise channel is 9 int8 weights against that metadata.
  bool compact_conv_weights = false;
  // Compact file encoding, for the deployed model: the values and nodes the export creates get short
  // names ("d12", "Q3"; each name is stored once per reference), identical new initializers (zero points,
  // equal scales) are stored once, and the stale intermediate shapes (value_info) are dropped. Off: the
  // readable names "<tensor>_scale", "<weight>_quantized", "DQ_<tensor>" that tests and debugging use.
  bool compact_encoding = false;
  // Embedding tables (float initializers read only by Gather) stored as int8 with per-column scales, the
  // lookup followed by a DequantizeLinear (quantize_embeddings.h): weight-only, no calibration needed.
  bool quantize_embeddings = false;
};

struct QdqExportResult {
  bool changed = false;
  std::map<std::string, int> quantized_ops;   // op type → nodes quantized
  int quantize_nodes = 0, dequantize_nodes = 0;
  std::vector<std::string> kept_float;        // "Conv 'x': reason" for quantizable nodes left in FP32
};

// Per-op quantization handlers.
enum class QdqRole {
  kCompute,       // Conv/ConvTranspose/MatMul/Gemm: activation inputs, a weight, maybe a bias
  kInteger,       // ops with integer kernels (is_full_quantize): all float inputs and the output
  kDataMovement,  // output = a selection/permutation of input 0: shares its quantization
};
struct QdqHandler {
  const char* op_type;
  QdqRole role;
  int weight_input;  // -1: none
  int bias_input;    // -1: none
  // Output-channel axis of the weight for this node (per-channel scales), or -1 for per-tensor.
  int (*weight_axis)(const Node& node, const Tensor& weight);
  int first_activation_input = 0;  // kInteger: inputs before this are not activations (Where's condition)
};
const std::vector<QdqHandler>& QdqHandlers();

// The activation tensors whose calibration ExportQdq needs (graph inputs and intermediate values), for
// these options. Calibrate exactly these.
std::vector<std::string> QdqTensorsToCalibrate(const Graph& graph, const QdqExportOptions& options);

// The export. Fails naming the tensor when `activations` lacks one it needs, or the node when a weight
// cannot be quantized; the graph is only modified when the whole plan succeeded. Requires opset ≥ 13
// (per-channel DequantizeLinear). Idempotent: nodes already reading a DequantizeLinear are left alone.
Expected<QdqExportResult> ExportQdq(Graph& graph, const std::map<std::string, QdqParams>& activations,
                                    const QdqExportOptions& options);

}  // namespace act::ir
