#include "runtime/onednn/simd_rows.h"

#include <immintrin.h>

#include <algorithm>
#include <cmath>
#include <cstring>

namespace act::runtime::onednn {

bool HasVbmi() {
  static const bool has = __builtin_cpu_supports("avx512vbmi") && __builtin_cpu_supports("avx512bw");
  return has;
}

// y[i] = table[x[i]] with AVX-512 VBMI: 64 bytes per step, the 256-byte table as four registers; the
// index's bit 6 picks within a pair (vpermi2b), its bit 7 picks the pair.
__attribute__((target("avx512f,avx512bw,avx512vbmi"))) void LookupVbmi(const uint8_t* x, uint8_t* y, size_t n,
                                                                         const uint8_t* table) {
  const __m512i t0 = _mm512_loadu_si512(table), t1 = _mm512_loadu_si512(table + 64);
  const __m512i t2 = _mm512_loadu_si512(table + 128), t3 = _mm512_loadu_si512(table + 192);
  size_t i = 0;
  for (; i + 64 <= n; i += 64) {
    const __m512i v = _mm512_loadu_si512(x + i);
    const __m512i lo = _mm512_permutex2var_epi8(t0, v, t1);
    const __m512i hi = _mm512_permutex2var_epi8(t2, v, t3);
    _mm512_storeu_si512(y + i, _mm512_mask_blend_epi8(_mm512_movepi8_mask(v), lo, hi));
  }
  for (; i < n; ++i) y[i] = table[x[i]];
}

void FloatPlanes(const float* table, uint8_t (*planes)[256]) {
  for (int v = 0; v < 256; ++v) {
    uint8_t bytes[4];
    std::memcpy(bytes, &table[v], 4);
    for (int k = 0; k < 4; ++k) planes[k][v] = bytes[k];
  }
}

// y[i] = table[x[i]] from bytes to floats, 64 per step without gathers: each of the 4 bytes of the
// floats is looked up in its own 256-byte plane (two vpermi2b and a blend, as LookupVbmi), then the four
// byte vectors are interleaved into 64 floats. `planes[k][v]` is byte k of table[v].
__attribute__((target("avx512f,avx512bw,avx512vbmi"))) void FloatLookupVbmi(const uint8_t* x, float* y, size_t n,
                                                                         const uint8_t (*planes)[256],
                                                                         const float* table) {
  __m512i t[4][4];
  for (int k = 0; k < 4; ++k)
    for (int q = 0; q < 4; ++q) t[k][q] = _mm512_loadu_si512(planes[k] + 64 * q);
  size_t i = 0;
  for (; i + 64 <= n; i += 64) {
    const __m512i v = _mm512_loadu_si512(x + i);
    const __mmask64 high = _mm512_movepi8_mask(v);
    __m512i b[4];
    for (int k = 0; k < 4; ++k) {
      b[k] = _mm512_mask_blend_epi8(high, _mm512_permutex2var_epi8(t[k][0], v, t[k][1]),
                                    _mm512_permutex2var_epi8(t[k][2], v, t[k][3]));
    }
    // Within each 128-bit lane l (elements 16l..16l+15): bytes → 16-bit pairs → 32-bit floats.
    const __m512i lo01 = _mm512_unpacklo_epi8(b[0], b[1]), hi01 = _mm512_unpackhi_epi8(b[0], b[1]);
    const __m512i lo23 = _mm512_unpacklo_epi8(b[2], b[3]), hi23 = _mm512_unpackhi_epi8(b[2], b[3]);
    const __m512i f0 = _mm512_unpacklo_epi16(lo01, lo23);  // lane l: elements 16l + 0..3
    const __m512i f1 = _mm512_unpackhi_epi16(lo01, lo23);  // 16l + 4..7
    const __m512i f2 = _mm512_unpacklo_epi16(hi01, hi23);  // 16l + 8..11
    const __m512i f3 = _mm512_unpackhi_epi16(hi01, hi23);  // 16l + 12..15
    const __m512i a0 = _mm512_shuffle_i32x4(f0, f1, 0x44), a1 = _mm512_shuffle_i32x4(f2, f3, 0x44);
    const __m512i a2 = _mm512_shuffle_i32x4(f0, f1, 0xEE), a3 = _mm512_shuffle_i32x4(f2, f3, 0xEE);
    _mm512_storeu_si512(y + i, _mm512_shuffle_i32x4(a0, a1, 0x88));
    _mm512_storeu_si512(y + i + 16, _mm512_shuffle_i32x4(a0, a1, 0xDD));
    _mm512_storeu_si512(y + i + 32, _mm512_shuffle_i32x4(a2, a3, 0x88));
    _mm512_storeu_si512(y + i + 48, _mm512_shuffle_i32x4(a2, a3, 0xDD));
  }
  for (; i < n; ++i) y[i] = table[x[i]];
}

__attribute__((target("avx512f,avx512bw"))) void QuantizeU8Vbmi(const float* x, uint8_t* y, int64_t n, float scale,
                                                                 float zp) {
  const __m512 s = _mm512_set1_ps(scale), z = _mm512_set1_ps(zp);
  const __m512 lo = _mm512_set1_ps(0.f), hi = _mm512_set1_ps(255.f);
  int64_t i = 0;
  for (; i + 16 <= n; i += 16) {
    __m512 v = _mm512_div_ps(_mm512_loadu_ps(x + i), s);
    v = _mm512_add_ps(_mm512_roundscale_ps(v, _MM_FROUND_TO_NEAREST_INT | _MM_FROUND_NO_EXC), z);
    v = _mm512_min_ps(_mm512_max_ps(v, lo), hi);
    _mm_storeu_si128(reinterpret_cast<__m128i*>(y + i), _mm512_cvtepi32_epi8(_mm512_cvtps_epi32(v)));
  }
  for (; i < n; ++i) y[i] = static_cast<uint8_t>(std::min(std::max(std::nearbyint(x[i] / scale) + zp, 0.f), 255.f));
}

__attribute__((target("avx512f"))) void AddFloats(float* y, const float* b, int64_t n) {
  int64_t i = 0;
  for (; i + 16 <= n; i += 16) _mm512_storeu_ps(y + i, _mm512_add_ps(_mm512_loadu_ps(y + i), _mm512_loadu_ps(b + i)));
  for (; i < n; ++i) y[i] += b[i];
}

}  // namespace act::runtime::onednn
