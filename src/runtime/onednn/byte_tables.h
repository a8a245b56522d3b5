// Byte conversions with AVX-512 (BW, VBMI): the INT8 path's element-wise regions become 256-entry tables
// (TryBuildLut), applied to u8/s8 tensors 64 bytes per step without gathers; and float → u8 quantization.
#pragma once

#include <cstddef>
#include <cstdint>

namespace act::runtime::onednn {

// This CPU has AVX-512 BW and VBMI (every function below needs them).
bool HasVbmi();

// y[i] = table[x[i]] (bytes → bytes); x == y is allowed.
void LookupVbmi(const uint8_t* x, uint8_t* y, size_t n, const uint8_t* table);

// The four byte planes of a float table: planes[k][v] is byte k of table[v] (FloatLookupVbmi's input).
void FloatPlanes(const float* table, uint8_t (*planes)[256]);

// y[i] = table[x[i]] (bytes → floats), through the table's byte planes.
void FloatLookupVbmi(const uint8_t* x, float* y, size_t n, const uint8_t (*planes)[256], const float* table);

// y[i] = saturate(round_half_even(x[i] / scale) + zp) to u8: QuantizeLinear's operations (a true division,
// as ONNX Runtime), 16 floats per step.
void QuantizeU8Vbmi(const float* x, uint8_t* y, int64_t n, float scale, float zp);

}  // namespace act::runtime::onednn
