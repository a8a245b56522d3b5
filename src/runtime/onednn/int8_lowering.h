// INT8 lowering of QDQ models (ONNX Runtime's quantizer format: u8 activations with zero points, s8
// per-channel symmetric weights, int32 bias through DequantizeLinear).
//
//   DQ(x_u8), DQ(w_s8), [DQ(b_s32)] → Conv/ConvTranspose/MatMul/Gemm → [Relu/Clip/…] → Q   ⇒  int8 primitive
//   Q → DQ around Reshape/Transpose/MaxPool/Concat/… (same scale both sides)                ⇒  the op on u8 data
//
// Matched patterns run on int8 data and keep their outputs int8 for the next quantized layer; anything not
// matched falls back to the FP32 path, where DequantizeLinear/QuantizeLinear are plain ops.
#pragma once

#include <array>
#include <string>

#include "act/status.h"
#include "runtime/onednn/plan_builder.h"

namespace act::runtime::onednn {

// Lowers node `index` (and the nodes its pattern covers) when it starts an INT8 pattern; false otherwise.
Expected<bool> TryBuildInt8(PlanBuilder& builder, int index);

// Adds real = scale · (q − zero_point) of value `quantized` as a new float value `name` (one oneDNN
// reorder, any source layout → plain float); returns its id.
Expected<int> AddDequantize(PlanBuilder& builder, int quantized, float scale, int32_t zero_point, const std::string& name);

// Adds table[q] of u8 value `quantized` as a new float value `name` in the same layout (NHWC stays NHWC);
// returns its id.
Expected<int> AddFloatLookup(PlanBuilder& builder, int quantized, const std::array<float, 256>& table,
                             const std::string& name);

}  // namespace act::runtime::onednn
