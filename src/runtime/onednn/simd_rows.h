// Row primitives with AVX-512 (F, BW, VBMI) shared by the runtime's own kernels: 256-entry tables on bytes
// (the INT8 path's element-wise regions, TryBuildLut) 64 bytes per step without gathers, float → u8
// quantization, float row sums.
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

// y[i] += b[i] (one float addition each, as the scalar loop), 16 floats per step.
void AddFloats(float* y, const float* b, int64_t n);

}  // namespace act::runtime::onednn
