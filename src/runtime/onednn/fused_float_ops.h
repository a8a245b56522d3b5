// Fused float kernels for the transformer pieces of small recognizers (PP-OCRv4 rec's SVTR neck and CTC
// head), where several element-wise and reduction nodes over a short last axis cost more in per-kernel
// overhead and memory passes than in arithmetic:
//
//   ReduceMean(x) → Sub → Pow(2) | Mul(d, d) → ReduceMean → Add(eps) → Sqrt → Div → [Mul(γ)] → [Add(β)]
//       ⇒ one LayerNorm kernel over the last axis
//   Softmax over the last axis
//       ⇒ our own AVX-512 softmax (max, exp and sum, scale; one row at a time, in L1)
//   DequantizeLinear(u8 table) + Add(bias) → Softmax over the last axis (the Add's only reader)
//       ⇒ one kernel reading the quantized bytes
//   Reshape(qkv) → Transpose → Slice/Squeeze ×3 → [Mul(scale)] · Transpose(k) → MatMul → Softmax → MatMul(v)
//       ⇒ one multi-head attention kernel (SVTR's attention core)
//
// The row kernels are plain functions (tested on their own against the scalar formulas); the Try… functions
// are the plan builder's hooks: each matches its pattern from the node being built, checks that every
// intermediate value has no other reader and is not a graph output, consumes the nodes it covers, and
// returns false (nothing added) when the pattern does not apply, so the node lowers as before.
#pragma once

#include <cstdint>
#include <string>

#include "act/status.h"
#include "act/tensor.h"
#include "runtime/onednn/plan_builder.h"

namespace act::runtime::onednn {

// ---- row kernels (dense row-major, `rows` rows of `n` floats) -----------------------------------------

// y = (x − μ) / sqrt(σ² + eps) · γ + β per row, μ = mean(x), σ² = mean((x − μ)²). `gamma`/`beta` hold n
// values, or 1 (broadcast), or are null (absent).
struct LayerNormParams {
  float eps = 0;
  const float* gamma = nullptr;
  int64_t gamma_size = 0;
  const float* beta = nullptr;
  int64_t beta_size = 0;
};
void LayerNormRows(const float* x, float* y, int64_t rows, int64_t n, const LayerNormParams& p);

// y = exp(x − max(x)) / Σ exp(x − max(x)) per row. In place (x == y) is allowed.
void SoftmaxRows(const float* x, float* y, int64_t rows, int64_t n);

// y = softmax((q − zero_point)·scale + bias) per row of n bytes; bias holds n floats. `is_signed`: the
// bytes are s8, else u8.
struct DequantizeBias {
  float scale = 0;
  int32_t zero_point = 0;
  bool is_signed = false;
  const float* bias = nullptr;
};
void DequantizeBiasSoftmaxRows(const uint8_t* q, float* y, int64_t rows, int64_t n, const DequantizeBias& d);

// y[i] = exp(x[i]) with the vector exponential the softmax kernels use (for its test): relative error
// below 1e-6 for x in [−87, 88]; 0 below −104.
void VectorExp(const float* x, float* y, int64_t n);

// Whether the AVX-512 paths run on this CPU (otherwise the scalar loops do).
bool FusedFloatOpsUseAvx512();

// Multi-head attention core. `qkv` is [B, N, 3, H, D] (per token: the q, k and v of every head, as one
// Linear layer of 3·H·D outputs writes them); per batch b and head h, with q, k, v the [N, D] slices:
//   out[b, h] = softmax((q · scale) · kᵀ) · v        (out: [B, H, N, D])
// The AVX-512 path takes N ≤ 128 and D ≤ 64 (AttentionSupported); others run the scalar loops.
struct AttentionShape {
  int64_t batch = 0, tokens = 0, heads = 0, dim = 0;
};
bool AttentionSupported(const AttentionShape& shape);
void AttentionHeads(const float* qkv, float* out, const AttentionShape& shape, float scale);

// ---- plan builder hooks -----------------------------------------------------------------------------

// Node `index` is a ReduceMean starting a decomposed LayerNorm over the last axis: lowers the whole
// pattern as one kernel and returns true.
Expected<bool> TryBuildLayerNorm(PlanBuilder& builder, int index);

// The last kernel added is a LayerNorm writing float value `x`, and the QuantizeLinear being built (u8,
// per tensor, output `name`) is x's only reader: the LayerNorm writes the quantized bytes itself (the same
// floats, then QuantizeLinear's operations). Returns false when the pattern does not hold.
bool QuantizeLayerNormOutput(PlanBuilder& builder, int x, float scale, int32_t zero_point, const std::string& name);

// Node `index` is a float Softmax over the last axis (opset ≥ 13 axis −1 / rank−1, or the legacy form
// with axis rank−1) with rows of up to 128 or at least 256 values: lowers it to SoftmaxRows and returns
// true.
Expected<bool> TryBuildSoftmaxLastAxis(PlanBuilder& builder, int index);

// Node `index` is a Reshape starting the attention core of SVTR (PP-OCRv4 rec's neck), as Paddle2ONNX
// exports it:
//   t = Transpose(Reshape(qkv [B, N, 3·H·D] → [B, N, 3, H, D]), perm 2,0,3,1,4);
//   q, k, v = Squeeze(Slice(t, i : i+1 on axis 0), axis 0) for i = 0, 1, 2;
//   out = MatMul(Softmax(MatMul([Mul(q, scale)], Transpose(k, perm 0,1,3,2)), last axis), v)
// with every intermediate read only inside the pattern. Lowers it as one AttentionHeads kernel writing
// `out` and returns true; false (nothing added) when the graph differs.
Expected<bool> TryBuildAttention(PlanBuilder& builder, int index);

// The INT8 path is about to add float value `name` = (q − zp)·scale + bias[last axis] of the plain
// quantized value `quantized` (u8, or s8 when `is_signed`): a DequantizeLinear and the Add after it.
// When `name`'s only reader is a Softmax over the last axis, adds one kernel computing that Softmax from
// the bytes, consumes the Softmax and returns the id of its output; returns −1 (nothing added) otherwise.
Expected<int> TryAddDequantizeBiasSoftmax(PlanBuilder& builder, int quantized, float scale, int32_t zero_point,
                                          bool is_signed, const Tensor& bias, const std::string& name);

}  // namespace act::runtime::onednn
