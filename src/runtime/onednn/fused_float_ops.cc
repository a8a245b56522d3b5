#include "runtime/onednn/fused_float_ops.h"

#include <immintrin.h>
#include <omp.h>

#include <algorithm>
#include <cmath>
#include <limits>
#include <vector>

#include "runtime/onednn/simd_rows.h"
#include "runtime/onednn/post_ops.h"
#include "runtime/onednn/reference_ops.h"

// GCC 12 reports the _mm512_undefined_ps() inside its own AVX-512 intrinsics (max, min, scalef, ...) as
// uninitialized when they are inlined (GCC bug 105593); the warning says nothing about this file.
#pragma GCC diagnostic ignored "-Wmaybe-uninitialized"
#pragma GCC diagnostic ignored "-Wuninitialized"

namespace act::runtime::onednn {
namespace {

bool HasAvx512() {
  static const bool has = __builtin_cpu_supports("avx512f") && __builtin_cpu_supports("avx512bw") &&
                          __builtin_cpu_supports("avx512vl");
  return has;
}

// Rows are split over the OpenMP threads only when there is enough work to repay a fork; Plan::Run already
// lowers the thread count to 1 around kernels it keeps on one thread (plan.h, Threading).
constexpr int64_t kParallelElements = int64_t{1} << 16;

// Whether rows·n elements are worth a parallel region: enough work, and not already inside one (a kernel
// run part by part under split execution, plan.h, calls the row functions from its own thread).
bool SplitRows(int64_t rows, int64_t n) { return rows > 1 && rows * n >= kParallelElements && !omp_in_parallel(); }

// Runs row(r) for every row; over the OpenMP threads when SplitRows. Small inputs do not enter a parallel
// region at all (even an `if(false)` one costs a call into the runtime).
template <typename RowFunction>
void ForRows(int64_t rows, int64_t n, const RowFunction& row) {
  if (SplitRows(rows, n)) {
#pragma omp parallel for schedule(static)
    for (int64_t r = 0; r < rows; ++r) row(r);
  } else {
    for (int64_t r = 0; r < rows; ++r) row(r);
  }
}

// ---- the vector exponential ---------------------------------------------------------------------------

// exp(x) = 2^k · exp(r) with k = round(x · log2 e) and r = x − k·ln2, |r| ≤ ln2/2. Cody–Waite: ln2 is split
// into C1 = 0.693359375 (9 significant bits, so k·C1 is exact for |k| < 2^15) and C2 = ln2 − C1, so r keeps
// its low bits. exp(r) ≈ c0 + c1·r + … + c5·r⁵, the degree-5 polynomial of least maximum relative error on
// [−ln2/2, ln2/2] (Lawson iterations; 7.5e-8 before rounding, 2.0e-7 with float32 rounding of every step
// over x ∈ [−87, 88], simulated; fused_float_ops_test checks < 1e-6). 2^k is applied with vscalefps, which
// underflows to 0 for large negative k; inputs are clamped to [−104, 88.7] so that −∞ gives 0, not NaN.
// Cost: 12 vector operations per 16 values (Zen 4 issues one 512-bit FMA per cycle).
__attribute__((target("avx512f"))) inline __m512 Exp16(__m512 x) {
  x = _mm512_max_ps(x, _mm512_set1_ps(-104.f));
  x = _mm512_min_ps(x, _mm512_set1_ps(88.7f));
  const __m512 k = _mm512_roundscale_ps(_mm512_mul_ps(x, _mm512_set1_ps(1.44269504088896341f)),
                                        _MM_FROUND_TO_NEAREST_INT | _MM_FROUND_NO_EXC);
  __m512 r = _mm512_fnmadd_ps(k, _mm512_set1_ps(0.693359375f), x);
  r = _mm512_fnmadd_ps(k, _mm512_set1_ps(-2.12194440e-4f), r);
  __m512 p = _mm512_set1_ps(8.297654800e-03f);
  p = _mm512_fmadd_ps(p, r, _mm512_set1_ps(4.191538319e-02f));
  p = _mm512_fmadd_ps(p, r, _mm512_set1_ps(1.666757464e-01f));
  p = _mm512_fmadd_ps(p, r, _mm512_set1_ps(4.999889433e-01f));
  p = _mm512_fmadd_ps(p, r, _mm512_set1_ps(9.999997020e-01f));
  p = _mm512_fmadd_ps(p, r, _mm512_set1_ps(1.000000119e+00f));
  return _mm512_scalef_ps(p, k);
}

// Horizontal sum and maximum of the 16 lanes (shuffle trees).
__attribute__((target("avx512f"))) inline float SumLanes(__m512 v) { return _mm512_reduce_add_ps(v); }
__attribute__((target("avx512f"))) inline float MaxLanes(__m512 v) { return _mm512_reduce_max_ps(v); }

__mmask16 TailMask(int64_t left) {
  return left >= 16 ? static_cast<__mmask16>(0xFFFF) : static_cast<__mmask16>((1u << left) - 1);
}

__attribute__((target("avx512f"))) void VectorExpAvx512(const float* x, float* y, int64_t n) {
  for (int64_t i = 0; i < n; i += 16) {
    const __mmask16 m = TailMask(n - i);
    _mm512_mask_storeu_ps(y + i, m, Exp16(_mm512_maskz_loadu_ps(m, x + i)));
  }
}

// ---- softmax ------------------------------------------------------------------------------------------

// The second and third passes of a row already in y: y = exp(y − max), then y ·= 1/Σy. The row (6625
// floats = 26 KB for PP-OCRv4's head) stays in L1 between the passes. While the exponentials keep the
// core busy, the next row's output lines are prefetched for writing (`next_y`) and its input for reading
// (`next_x`, `next_x_bytes` bytes): the first pass over a row then finds its lines in L1 instead of
// missing to L3 (in the plan, the fused head went from 0.12 to 0.07 ms).
__attribute__((target("avx512f"))) void ExpNormalizeRowAvx512(float* y, int64_t n, float max, float* next_y = nullptr,
                                                              const void* next_x = nullptr, int64_t next_x_bytes = 0) {
  const __m512 vmax = _mm512_set1_ps(max);
  __m512 sum0 = _mm512_setzero_ps(), sum1 = _mm512_setzero_ps();
  const char* px = static_cast<const char*>(next_x);
  int64_t i = 0;
  for (; i + 32 <= n; i += 32) {
    if (next_y) {
      _mm_prefetch(reinterpret_cast<const char*>(next_y + i), _MM_HINT_ET0);
      _mm_prefetch(reinterpret_cast<const char*>(next_y + i + 16), _MM_HINT_ET0);
    }
    // 32 of n values per step: the same share of the next input's bytes (two lines cover a step's share
    // for float input, 128 bytes; for bytes, 32).
    if (px) {
      const int64_t at = i * next_x_bytes / n;
      _mm_prefetch(px + at, _MM_HINT_T0);
      if (at + 64 < next_x_bytes) _mm_prefetch(px + at + 64, _MM_HINT_T0);
    }
    const __m512 e0 = Exp16(_mm512_sub_ps(_mm512_loadu_ps(y + i), vmax));
    const __m512 e1 = Exp16(_mm512_sub_ps(_mm512_loadu_ps(y + i + 16), vmax));
    _mm512_storeu_ps(y + i, e0);
    _mm512_storeu_ps(y + i + 16, e1);
    sum0 = _mm512_add_ps(sum0, e0);
    sum1 = _mm512_add_ps(sum1, e1);
  }
  for (; i < n; i += 16) {
    const __mmask16 m = TailMask(n - i);
    const __m512 e = Exp16(_mm512_sub_ps(_mm512_maskz_loadu_ps(m, y + i), vmax));
    _mm512_mask_storeu_ps(y + i, m, e);
    sum0 = _mm512_mask_add_ps(sum0, m, sum0, e);
  }
  const __m512 inv = _mm512_set1_ps(1.f / SumLanes(_mm512_add_ps(sum0, sum1)));
  for (i = 0; i < n; i += 16) {
    const __mmask16 m = TailMask(n - i);
    _mm512_mask_storeu_ps(y + i, m, _mm512_mul_ps(_mm512_maskz_loadu_ps(m, y + i), inv));
  }
}

__attribute__((target("avx512f"))) void SoftmaxRowAvx512(const float* x, float* y, int64_t n, float* next_y,
                                                         const float* next_x) {
  __m512 vmax = _mm512_set1_ps(-std::numeric_limits<float>::infinity());
  for (int64_t i = 0; i < n; i += 16) {
    const __mmask16 m = TailMask(n - i);
    const __m512 v = _mm512_maskz_loadu_ps(m, x + i);
    vmax = _mm512_mask_max_ps(vmax, m, vmax, v);
    if (x != y) _mm512_mask_storeu_ps(y + i, m, v);
  }
  ExpNormalizeRowAvx512(y, n, MaxLanes(vmax), next_y, next_x, next_x ? n * 4 : 0);
}

// Softmax of the values held in a[0..V) (lanes outside m[v] take no part), in place: the maximum,
// exp(x − max), then × 1/sum. Shared by the short-row softmax and the attention kernel.
template <int V>
__attribute__((target("avx512f"))) inline void SoftmaxInRegisters(__m512 (&a)[V], const __mmask16 (&m)[V]) {
  __m512 vmax = _mm512_set1_ps(-std::numeric_limits<float>::infinity());
  for (int v = 0; v < V; ++v) vmax = _mm512_mask_max_ps(vmax, m[v], vmax, a[v]);
  vmax = _mm512_set1_ps(MaxLanes(vmax));
  __m512 sum = _mm512_setzero_ps();
  for (int v = 0; v < V; ++v) {
    a[v] = Exp16(_mm512_sub_ps(a[v], vmax));
    sum = _mm512_mask_add_ps(sum, m[v], sum, a[v]);
  }
  const __m512 inv = _mm512_set1_ps(1.f / SumLanes(sum));
  for (int v = 0; v < V; ++v) a[v] = _mm512_mul_ps(a[v], inv);
}

// Rows of at most 16·V values (attention: 40) live in V registers: one load, max, exp and sum, scale and one
// store per row, with no pass over memory in between, so consecutive rows overlap in the out-of-order
// window (320 rows of 40: 4.3 µs against 11.6 µs for the streaming row kernel above, microbenchmark).
template <int V>
__attribute__((target("avx512f"))) void SoftmaxShortRowsAvx512(const float* x, float* y, int64_t rows, int64_t n) {
  __mmask16 m[V];
  for (int v = 0; v < V; ++v) m[v] = TailMask(std::max<int64_t>(n - 16 * v, 0));
  for (int64_t r = 0; r < rows; ++r) {
    const float* xr = x + r * n;
    float* yr = y + r * n;
    __m512 a[V];
    for (int v = 0; v < V; ++v) a[v] = _mm512_maskz_loadu_ps(m[v], xr + 16 * v);
    SoftmaxInRegisters(a, m);
    for (int v = 0; v < V; ++v) _mm512_mask_storeu_ps(yr + 16 * v, m[v], a[v]);
  }
}

// Rows of n ≤ 128 values: the register kernel with ⌈n/16⌉ vectors.
void SoftmaxShortRows(const float* x, float* y, int64_t rows, int64_t n) {
  switch ((n + 15) / 16) {
    case 1: return SoftmaxShortRowsAvx512<1>(x, y, rows, n);
    case 2: return SoftmaxShortRowsAvx512<2>(x, y, rows, n);
    case 3: return SoftmaxShortRowsAvx512<3>(x, y, rows, n);
    case 4: return SoftmaxShortRowsAvx512<4>(x, y, rows, n);
    case 5: return SoftmaxShortRowsAvx512<5>(x, y, rows, n);
    case 6: return SoftmaxShortRowsAvx512<6>(x, y, rows, n);
    case 7: return SoftmaxShortRowsAvx512<7>(x, y, rows, n);
    default: return SoftmaxShortRowsAvx512<8>(x, y, rows, n);
  }
}
constexpr int64_t kShortRow = 128;

void SoftmaxRowScalar(const float* x, float* y, int64_t n) {
  float max = -std::numeric_limits<float>::infinity();
  for (int64_t i = 0; i < n; ++i) max = std::max(max, x[i]);
  float sum = 0;
  for (int64_t i = 0; i < n; ++i) sum += (y[i] = std::exp(x[i] - max));
  const float inv = 1.f / sum;
  for (int64_t i = 0; i < n; ++i) y[i] *= inv;
}

// First pass of the fused head: y = float(q − zp)·scale + bias (the table's value, then the Add's), and
// the row's maximum.
__attribute__((target("avx512f,avx512bw,avx512vl"))) float DequantizeBiasRowAvx512(const uint8_t* q, float* y,
                                                                                   int64_t n,
                                                                                   const DequantizeBias& d) {
  const __m512i zp = _mm512_set1_epi32(d.zero_point);
  const __m512 scale = _mm512_set1_ps(d.scale);
  __m512 vmax = _mm512_set1_ps(-std::numeric_limits<float>::infinity());
  for (int64_t i = 0; i < n; i += 16) {
    const __mmask16 m = TailMask(n - i);
    const __m128i bytes = _mm_maskz_loadu_epi8(m, q + i);
    const __m512i wide = d.is_signed ? _mm512_cvtepi8_epi32(bytes) : _mm512_cvtepu8_epi32(bytes);
    const __m512 real = _mm512_mul_ps(_mm512_cvtepi32_ps(_mm512_sub_epi32(wide, zp)), scale);
    const __m512 v = _mm512_add_ps(real, _mm512_maskz_loadu_ps(m, d.bias + i));
    _mm512_mask_storeu_ps(y + i, m, v);
    vmax = _mm512_mask_max_ps(vmax, m, vmax, v);
  }
  return MaxLanes(vmax);
}

// ---- layer normalization ------------------------------------------------------------------------------

// Broadcast of a γ/β vector: n values, or one.
__attribute__((target("avx512f"))) inline __m512 LoadParam(const float* p, int64_t size, int64_t i, __mmask16 m) {
  return size == 1 ? _mm512_set1_ps(p[0]) : _mm512_maskz_loadu_ps(m, p + i);
}

// μ = Σx / n; d = x − μ (kept in y); σ² = Σd² / n; y = d / sqrt(σ² + eps) · γ + β — the decomposed
// graph's operations in its order (a division, not a multiplication by the reciprocal).
__attribute__((target("avx512f"))) void LayerNormRowAvx512(const float* x, float* y, int64_t n,
                                                           const LayerNormParams& p) {
  __m512 sum = _mm512_setzero_ps();
  for (int64_t i = 0; i < n; i += 16) sum = _mm512_add_ps(sum, _mm512_maskz_loadu_ps(TailMask(n - i), x + i));
  const __m512 mean = _mm512_set1_ps(SumLanes(sum) / static_cast<float>(n));
  __m512 sq = _mm512_setzero_ps();
  for (int64_t i = 0; i < n; i += 16) {
    const __mmask16 m = TailMask(n - i);
    const __m512 d = _mm512_maskz_sub_ps(m, _mm512_maskz_loadu_ps(m, x + i), mean);
    _mm512_mask_storeu_ps(y + i, m, d);
    sq = _mm512_fmadd_ps(d, d, sq);
  }
  const __m512 denom =
      _mm512_set1_ps(std::sqrt(SumLanes(sq) / static_cast<float>(n) + p.eps));
  for (int64_t i = 0; i < n; i += 16) {
    const __mmask16 m = TailMask(n - i);
    __m512 v = _mm512_div_ps(_mm512_maskz_loadu_ps(m, y + i), denom);
    if (p.gamma) v = _mm512_mul_ps(v, LoadParam(p.gamma, p.gamma_size, i, m));
    if (p.beta) v = _mm512_add_ps(v, LoadParam(p.beta, p.beta_size, i, m));
    _mm512_mask_storeu_ps(y + i, m, v);
  }
}

void LayerNormRowScalar(const float* x, float* y, int64_t n, const LayerNormParams& p) {
  float sum = 0;
  for (int64_t i = 0; i < n; ++i) sum += x[i];
  const float mean = sum / static_cast<float>(n);
  float sq = 0;
  for (int64_t i = 0; i < n; ++i) {
    y[i] = x[i] - mean;
    sq += y[i] * y[i];
  }
  const float denom = std::sqrt(sq / static_cast<float>(n) + p.eps);
  for (int64_t i = 0; i < n; ++i) {
    float v = y[i] / denom;
    if (p.gamma) v *= p.gamma[p.gamma_size == 1 ? 0 : i];
    if (p.beta) v += p.beta[p.beta_size == 1 ? 0 : i];
    y[i] = v;
  }
}

// ---- attention core -----------------------------------------------------------------------------------

constexpr int64_t kAttentionMaxTokens = 128, kAttentionMaxDim = 64;

// One (batch, head), with SV = ⌈N/16⌉ score vectors and OV = ⌈D/16⌉ output vectors as template arguments
// so that the accumulators stay in registers (with run-time counts GCC kept them on the stack: 53 µs for
// PP-OCRv4's 8 heads of 40 x 15 instead of a few). kᵀ is gathered once into `kt` ([D][N], rows padded to
// whole vectors); then per query row i: s = (q_i·scale)·kᵀ as D broadcast-FMAs per score vector (d in
// order, as a dot product), the softmax of s in registers, and out_i = Σ_j p_j·v_j (four partial sums over
// j mod 4, so that the FMAs do not wait on each other, added at the end).
template <int SV, int OV>
__attribute__((target("avx512f"))) void AttentionHeadAvx512(const float* qkv, float* out, int64_t n, int64_t d,
                                                            int64_t row_stride, float scale) {
  constexpr int64_t kPadded = 16 * SV;
  alignas(64) float kt[kAttentionMaxDim * kPadded];
  alignas(64) float p[kPadded];
  const float* q = qkv;
  const float* k = qkv + 1 * (row_stride / 3);  // the three parts of a token row are H·D apart
  const float* v = qkv + 2 * (row_stride / 3);
  alignas(64) float qs[16 * OV];
  for (int64_t j = 0; j < n; ++j)
    for (int64_t c = 0; c < d; ++c) kt[c * kPadded + j] = k[j * row_stride + c];
  for (int64_t c = 0; c < d; ++c)
    for (int64_t j = n; j < kPadded; ++j) kt[c * kPadded + j] = 0.f;
  __mmask16 score_mask[SV], out_mask[OV];
  for (int w = 0; w < SV; ++w) score_mask[w] = TailMask(n - 16 * w);
  for (int w = 0; w < OV; ++w) out_mask[w] = TailMask(d - 16 * w);
  const __m512 vscale = _mm512_set1_ps(scale);
  for (int64_t i = 0; i < n; ++i) {
    // q_i · scale (the Mul), then broadcast from memory one value at a time (the MatMul).
    for (int w = 0; w < OV; ++w) {
      _mm512_store_ps(qs + 16 * w, _mm512_mul_ps(_mm512_maskz_loadu_ps(out_mask[w], q + i * row_stride + 16 * w), vscale));
    }
    __m512 acc[SV];
    for (int w = 0; w < SV; ++w) acc[w] = _mm512_setzero_ps();
    for (int64_t c = 0; c < d; ++c) {
      const __m512 qc = _mm512_set1_ps(qs[c]);
      for (int w = 0; w < SV; ++w) acc[w] = _mm512_fmadd_ps(qc, _mm512_load_ps(kt + c * kPadded + 16 * w), acc[w]);
    }
    SoftmaxInRegisters(acc, score_mask);
    for (int w = 0; w < SV; ++w) _mm512_store_ps(p + 16 * w, acc[w]);
    __m512 o0[OV], o1[OV], o2[OV], o3[OV];
    for (int w = 0; w < OV; ++w) o0[w] = o1[w] = o2[w] = o3[w] = _mm512_setzero_ps();
    int64_t j = 0;
    for (; j + 4 <= n; j += 4) {
      const __m512 p0 = _mm512_set1_ps(p[j]), p1 = _mm512_set1_ps(p[j + 1]);
      const __m512 p2 = _mm512_set1_ps(p[j + 2]), p3 = _mm512_set1_ps(p[j + 3]);
      for (int w = 0; w < OV; ++w) {
        o0[w] = _mm512_fmadd_ps(p0, _mm512_maskz_loadu_ps(out_mask[w], v + j * row_stride + 16 * w), o0[w]);
        o1[w] = _mm512_fmadd_ps(p1, _mm512_maskz_loadu_ps(out_mask[w], v + (j + 1) * row_stride + 16 * w), o1[w]);
        o2[w] = _mm512_fmadd_ps(p2, _mm512_maskz_loadu_ps(out_mask[w], v + (j + 2) * row_stride + 16 * w), o2[w]);
        o3[w] = _mm512_fmadd_ps(p3, _mm512_maskz_loadu_ps(out_mask[w], v + (j + 3) * row_stride + 16 * w), o3[w]);
      }
    }
    for (; j < n; ++j) {
      const __m512 pj = _mm512_set1_ps(p[j]);
      for (int w = 0; w < OV; ++w) o0[w] = _mm512_fmadd_ps(pj, _mm512_maskz_loadu_ps(out_mask[w], v + j * row_stride + 16 * w), o0[w]);
    }
    for (int w = 0; w < OV; ++w) {
      const __m512 o = _mm512_add_ps(_mm512_add_ps(o0[w], o1[w]), _mm512_add_ps(o2[w], o3[w]));
      _mm512_mask_storeu_ps(out + i * d + 16 * w, out_mask[w], o);
    }
  }
}

using AttentionHeadFunction = void (*)(const float*, float*, int64_t, int64_t, int64_t, float);
template <int SV>
AttentionHeadFunction PickAttentionHead(int out_vectors) {
  switch (out_vectors) {
    case 1: return &AttentionHeadAvx512<SV, 1>;
    case 2: return &AttentionHeadAvx512<SV, 2>;
    case 3: return &AttentionHeadAvx512<SV, 3>;
    default: return &AttentionHeadAvx512<SV, 4>;
  }
}
// The instance for ⌈N/16⌉ ≤ 8 and ⌈D/16⌉ ≤ 4 (AttentionSupported).
AttentionHeadFunction PickAttentionHead(int64_t n, int64_t d) {
  const int out_vectors = static_cast<int>((d + 15) / 16);
  switch ((n + 15) / 16) {
    case 1: return PickAttentionHead<1>(out_vectors);
    case 2: return PickAttentionHead<2>(out_vectors);
    case 3: return PickAttentionHead<3>(out_vectors);
    case 4: return PickAttentionHead<4>(out_vectors);
    case 5: return PickAttentionHead<5>(out_vectors);
    case 6: return PickAttentionHead<6>(out_vectors);
    case 7: return PickAttentionHead<7>(out_vectors);
    default: return PickAttentionHead<8>(out_vectors);
  }
}

void AttentionHeadScalar(const float* qkv, float* out, int64_t n, int64_t d, int64_t row_stride, float scale) {
  const float* q = qkv;
  const float* k = qkv + row_stride / 3;
  const float* v = qkv + 2 * (row_stride / 3);
  std::vector<float> s(n);
  for (int64_t i = 0; i < n; ++i) {
    for (int64_t j = 0; j < n; ++j) {
      float acc = 0;
      for (int64_t c = 0; c < d; ++c) acc += q[i * row_stride + c] * scale * k[j * row_stride + c];
      s[j] = acc;
    }
    SoftmaxRowScalar(s.data(), s.data(), n);
    for (int64_t c = 0; c < d; ++c) {
      float acc = 0;
      for (int64_t j = 0; j < n; ++j) acc += s[j] * v[j * row_stride + c];
      out[i * d + c] = acc;
    }
  }
}

}  // namespace

bool FusedFloatOpsUseAvx512() { return HasAvx512(); }

void VectorExp(const float* x, float* y, int64_t n) {
  if (HasAvx512()) {
    VectorExpAvx512(x, y, n);
  } else {
    for (int64_t i = 0; i < n; ++i) y[i] = std::exp(x[i]);
  }
}

void SoftmaxRows(const float* x, float* y, int64_t rows, int64_t n) {
  if (HasAvx512() && n <= kShortRow) {
    if (!SplitRows(rows, n)) return SoftmaxShortRows(x, y, rows, n);
    const int64_t blocks = (rows + 63) / 64;  // 64 rows per task
#pragma omp parallel for schedule(static)
    for (int64_t b = 0; b < blocks; ++b) {
      const int64_t r0 = b * 64;
      SoftmaxShortRows(x + r0 * n, y + r0 * n, std::min<int64_t>(64, rows - r0), n);
    }
    return;
  }
  ForRows(rows, n, [&](int64_t r) {
    if (HasAvx512()) {
      const bool last = r + 1 == rows;
      SoftmaxRowAvx512(x + r * n, y + r * n, n, last ? nullptr : y + (r + 1) * n, last ? nullptr : x + (r + 1) * n);
    } else {
      SoftmaxRowScalar(x + r * n, y + r * n, n);
    }
  });
}

void DequantizeBiasSoftmaxRows(const uint8_t* q, float* y, int64_t rows, int64_t n, const DequantizeBias& d) {
  ForRows(rows, n, [&](int64_t r) {
    float* yr = y + r * n;
    const uint8_t* qr = q + r * n;
    if (HasAvx512()) {
      const bool last = r + 1 == rows;
      ExpNormalizeRowAvx512(yr, n, DequantizeBiasRowAvx512(qr, yr, n, d), last ? nullptr : yr + n,
                            last ? nullptr : qr + n, n);
    } else {
      for (int64_t i = 0; i < n; ++i) {
        const int32_t v = d.is_signed ? static_cast<int32_t>(static_cast<int8_t>(qr[i])) : qr[i];
        yr[i] = static_cast<float>(v - d.zero_point) * d.scale + d.bias[i];
      }
      SoftmaxRowScalar(yr, yr, n);
    }
  });
}

void LayerNormRows(const float* x, float* y, int64_t rows, int64_t n, const LayerNormParams& p) {
  ForRows(rows, n, [&](int64_t r) {
    if (HasAvx512()) {
      LayerNormRowAvx512(x + r * n, y + r * n, n, p);
    } else {
      LayerNormRowScalar(x + r * n, y + r * n, n, p);
    }
  });
}

bool AttentionSupported(const AttentionShape& shape) {
  return shape.tokens >= 1 && shape.tokens <= kAttentionMaxTokens && shape.dim >= 1 && shape.dim <= kAttentionMaxDim &&
         shape.heads >= 1 && shape.batch >= 1;
}

void AttentionHeads(const float* qkv, float* out, const AttentionShape& shape, float scale) {
  const int64_t n = shape.tokens, d = shape.dim, h = shape.heads;
  const int64_t row_stride = 3 * h * d;  // one token: q (H·D), k (H·D), v (H·D)
  const AttentionHeadFunction avx512 = HasAvx512() && AttentionSupported(shape) ? PickAttentionHead(n, d) : nullptr;
  for (int64_t b = 0; b < shape.batch; ++b) {
    for (int64_t head = 0; head < h; ++head) {
      const float* src = qkv + b * n * row_stride + head * d;
      float* dst = out + (b * h + head) * n * d;
      if (avx512) {
        avx512(src, dst, n, d, row_stride, scale);
      } else {
        AttentionHeadScalar(src, dst, n, d, row_stride, scale);
      }
    }
  }
}

// ---- plan builder hooks -----------------------------------------------------------------------------

namespace {

int64_t RowLength(const Value& v) { return v.shape.empty() ? 1 : v.shape.back(); }

class LayerNormKernel : public Kernel {
 public:
  int src = -1, dst = -1;
  float eps = 0;
  std::vector<float> gamma, beta;
  // With a QuantizeLinear fused (QuantizeLayerNormOutput): dst is u8, each row quantized from L1.
  bool quantized = false;
  float scale = 1, zero_point = 0;
  Status Execute(Plan& plan) override {
    const Value& in = plan.values[src];
    const int64_t n = RowLength(in), rows = NumElements(in.shape) / n;
    LayerNormParams p;
    p.eps = eps;
    if (!gamma.empty()) { p.gamma = gamma.data(); p.gamma_size = static_cast<int64_t>(gamma.size()); }
    if (!beta.empty()) { p.beta = beta.data(); p.beta_size = static_cast<int64_t>(beta.size()); }
    const auto* x = static_cast<const float*>(in.data);
    if (!quantized) {
      LayerNormRows(x, static_cast<float*>(plan.values[dst].data), rows, n, p);
      return Status::Ok();
    }
    row_.resize(n);
    auto* y = static_cast<uint8_t*>(plan.values[dst].data);
    for (int64_t r = 0; r < rows; ++r) {
      LayerNormRows(x + r * n, row_.data(), 1, n, p);
      QuantizeU8Vbmi(row_.data(), y + r * n, n, scale, zero_point);
    }
    return Status::Ok();
  }

 private:
  std::vector<float> row_;
};

class SoftmaxKernel : public Kernel {
 public:
  int src = -1, dst = -1;
  bool WritesThroughValueData() const override { return true; }
  Status Execute(Plan& plan) override {
    const Value& in = plan.values[src];
    const int64_t n = RowLength(in);
    SoftmaxRows(static_cast<const float*>(in.data), static_cast<float*>(plan.values[dst].data), NumElements(in.shape) / n, n);
    return Status::Ok();
  }
};

class DequantizeBiasSoftmaxKernel : public Kernel {
 public:
  int src = -1, dst = -1;
  bool WritesThroughValueData() const override { return true; }
  DequantizeBias params;
  std::vector<float> bias;
  int64_t rows = 0;  // rows of the input (set by the builder)
  static constexpr int64_t kMinSplitRows = 16;
  Status Execute(Plan& plan) override {
    Rows(plan, {0, rows});
    return Status::Ok();
  }
  // Split execution (plan.h): part p takes a p-th of the rows, those the split MatMul before it wrote.
  bool Splittable() const override { return rows >= kMinSplitRows; }
  Status ExecutePart(Plan& plan, int part, int parts) override {
    Rows(plan, PartRange(rows, part, parts));
    return Status::Ok();
  }

 private:
  void Rows(Plan& plan, Range r) const {
    if (r.end <= r.begin) return;
    const int64_t n = RowLength(plan.values[src]);
    DequantizeBias d = params;
    d.bias = bias.data();
    DequantizeBiasSoftmaxRows(static_cast<const uint8_t*>(plan.values[src].data) + r.begin * n,
                              static_cast<float*>(plan.values[dst].data) + r.begin * n, r.end - r.begin, n, d);
  }
};

// Not splittable (plan.h, split execution): by heads over 2 threads PP-OCRv4's two attention kernels took
// 0.056 ms against 0.037 ms on one thread (profile at 2 threads, 3 alternating runs): each is a lone split
// kernel between unsplit ones, so it pays the parallel region and the cross-core reads of qkv and of its
// output for 4 heads of work per thread.
class AttentionKernel : public Kernel {
 public:
  int src = -1, dst = -1;
  AttentionShape shape;
  float scale = 1;
  Status Execute(Plan& plan) override {
    AttentionHeads(static_cast<const float*>(plan.values[src].data), static_cast<float*>(plan.values[dst].data), shape,
                   scale);
    return Status::Ok();
  }
};

// The constant integers of input `i` of `node`, or of its attribute `attr` when that input is absent
// (older opsets); false when neither is a known constant.
bool ConstInts(PlanBuilder& b, const ir::Node& node, size_t i, const char* attr, std::vector<int64_t>* out) {
  out->clear();
  if (!node.Input(i).empty()) {
    const Tensor* t = b.Const(node.Input(i));
    if (!t) return false;
    for (int64_t e = 0; e < t->numel(); ++e) out->push_back(static_cast<int64_t>(t->ElementAsDouble(e)));
    return true;
  }
  if (!attr || !node.HasAttr(attr)) return false;
  *out = node.GetInts(attr);
  return true;
}

// True when `node` (a ReduceMean) reduces exactly the last axis of a rank-`rank` input and keeps it.
bool ReducesLastAxis(PlanBuilder& b, const ir::Node& node, size_t rank) {
  if (node.op_type != "ReduceMean" || node.GetInt("keepdims", 1) == 0 || rank == 0) return false;
  std::vector<int64_t> axes = node.GetInts("axes");
  if (!node.Input(1).empty()) {  // opset 18: axes as an input
    const Tensor* t = b.Const(node.Input(1));
    if (!t) return false;
    axes.clear();
    for (int64_t i = 0; i < t->numel(); ++i) axes.push_back(static_cast<int64_t>(t->ElementAsDouble(i)));
  }
  if (axes.empty()) return rank == 1;  // no axes: all of them
  return axes.size() == 1 && (axes[0] == -1 || axes[0] == static_cast<int64_t>(rank) - 1);
}

// The sole reader of `value` when it is an `op` node reading `value` (once); −1 otherwise.
int SoleReader(PlanBuilder& b, const std::string& value, const char* op) {
  const int c = b.SoleConsumer(value);
  return c >= 0 && b.graph().nodes[c].op_type == op ? c : -1;
}

// The input of binary node `node` other than `value`; empty when `value` is not exactly one of them.
std::string OtherInput(const ir::Node& node, const std::string& value) {
  if (node.inputs.size() != 2) return "";
  if (node.inputs[0] == value && node.inputs[1] != value) return node.inputs[1];
  if (node.inputs[1] == value && node.inputs[0] != value) return node.inputs[0];
  return "";
}

// A float constant broadcasting along the last axis only (shape [..., 1 | n] with every other dim 1, and
// no more dims than x): its values; false otherwise.
bool LastAxisParam(PlanBuilder& b, const std::string& name, int64_t n, size_t rank, std::vector<float>* out) {
  const Tensor* t = b.Const(name);
  if (!t || t->dtype() != DType::kFloat32 || t->rank() > rank) return false;
  if (t->numel() != n && t->numel() != 1) return false;
  if (t->rank() > 0 && t->dim(t->rank() - 1) != t->numel()) return false;
  out->assign(t->data<float>(), t->data<float>() + t->numel());
  return true;
}

// Softmax over the last axis of a rank-`rank` input, in either opset's meaning.
bool SoftmaxOverLastAxis(const ir::Node& node, int64_t opset, size_t rank) {
  if (node.op_type != "Softmax" || rank == 0) return false;
  int64_t axis = node.GetInt("axis", opset < 13 ? 1 : -1);
  if (axis < 0) axis += static_cast<int64_t>(rank);
  // Opset < 13 flattens to [prod(:axis), prod(axis:)]: the same as the last axis when axis = rank − 1.
  return axis == static_cast<int64_t>(rank) - 1;
}

}  // namespace

// Pattern (the decomposition Paddle2ONNX and torch.onnx export for LayerNorm over the last axis):
//   m = ReduceMean(x, last axis); d = Sub(x, m); s = Pow(d, 2) | Mul(d, d); v = ReduceMean(s, last axis);
//   e = Add(v, eps) ; r = Sqrt(e); y = Div(d, r); [y = Mul(y, γ)]; [y = Add(y, β)]
// with γ, β, eps constants, and m, d, s, v, e, r (and y before the optional steps) read by nothing else.
Expected<bool> TryBuildLayerNorm(PlanBuilder& b, int index) {
  const ir::Graph& g = b.graph();
  const ir::Node& mean_node = g.nodes[index];
  if (mean_node.inputs.empty() || mean_node.outputs.size() != 1) return false;
  const std::string& x_name = mean_node.inputs[0];
  ACT_ASSIGN_OR_RETURN(int x, b.Id(x_name));
  if (b.V(x).dtype != DType::kFloat32) return false;
  const size_t rank = b.V(x).shape.size();
  if (!ReducesLastAxis(b, mean_node, rank)) return false;
  const int64_t n = b.V(x).shape.back();
  if (n <= 0) return false;

  const std::string& m = mean_node.outputs[0];
  const int sub = SoleReader(b, m, "Sub");
  if (sub < 0 || g.nodes[sub].inputs[0] != x_name || g.nodes[sub].inputs[1] != m) return false;
  const std::string& d = g.nodes[sub].outputs[0];
  // d has exactly two readers: the square and the division.
  if (b.IsGraphOutput(d)) return false;
  const std::vector<int> d_readers = b.Consumers(d);
  if (d_readers.size() != 2) return false;
  int square = -1, div = -1;
  for (int c : d_readers) {
    const ir::Node& n2 = g.nodes[c];
    float e = 0;
    if (n2.op_type == "Pow" && n2.inputs.size() == 2 && n2.inputs[0] == d && ConstScalar(b, n2.inputs[1], &e) && e == 2.f) {
      square = c;
    } else if (n2.op_type == "Mul" && n2.inputs.size() == 2 && n2.inputs[0] == d && n2.inputs[1] == d) {
      square = c;
    } else if (n2.op_type == "Div" && n2.inputs.size() == 2 && n2.inputs[0] == d && n2.inputs[1] != d) {
      div = c;
    }
  }
  if (square < 0 || div < 0) return false;
  const int var = b.SoleConsumer(g.nodes[square].outputs[0]);
  if (var < 0 || !ReducesLastAxis(b, g.nodes[var], rank)) return false;
  const std::string& v = g.nodes[var].outputs[0];
  const int add_eps = SoleReader(b, v, "Add");
  float eps = 0;
  if (add_eps < 0 || !ConstScalar(b, OtherInput(g.nodes[add_eps], v), &eps)) return false;
  const int sqrt = SoleReader(b, g.nodes[add_eps].outputs[0], "Sqrt");
  if (sqrt < 0 || b.SoleConsumer(g.nodes[sqrt].outputs[0]) != div || g.nodes[div].inputs[1] != g.nodes[sqrt].outputs[0]) {
    return false;
  }
  std::vector<int> covered = {sub, square, var, add_eps, sqrt, div};
  std::string out = g.nodes[div].outputs[0];
  std::vector<float> gamma, beta;
  if (const int mul = SoleReader(b, out, "Mul"); mul >= 0 && LastAxisParam(b, OtherInput(g.nodes[mul], out), n, rank, &gamma)) {
    covered.push_back(mul);
    out = g.nodes[mul].outputs[0];
  }
  if (const int add = SoleReader(b, out, "Add"); add >= 0 && LastAxisParam(b, OtherInput(g.nodes[add], out), n, rank, &beta)) {
    covered.push_back(add);
    out = g.nodes[add].outputs[0];
  }

  ACT_ASSIGN_OR_RETURN(x, b.Plain(x));
  auto k = std::make_unique<LayerNormKernel>();
  k->src = x;
  k->eps = eps;
  k->gamma = std::move(gamma);
  k->beta = std::move(beta);
  k->dst = b.AddPlainValue(out, DType::kFloat32, b.V(x).shape);
  k->reads = {x};
  k->writes = {k->dst};
  k->label = "LayerNorm(" + mean_node.op_type;
  for (int c : covered) {
    b.Consume(c);
    k->label += "+" + g.nodes[c].op_type;
  }
  k->label += ")";
  k->node_name = mean_node.name;
  b.AddKernel(std::move(k));
  return true;
}

Expected<bool> TryBuildAttention(PlanBuilder& b, int index) {
  const ir::Graph& g = b.graph();
  const ir::Node& reshape = g.nodes[index];
  if (reshape.op_type != "Reshape" || reshape.inputs.size() != 2 || reshape.outputs.size() != 1) return false;
  if (!HasAvx512() || !b.Has(reshape.inputs[0]) || !b.Const(reshape.inputs[1])) return false;
  ACT_ASSIGN_OR_RETURN(int x, b.Id(reshape.inputs[0]));
  const Shape xs = b.V(x).shape;
  if (b.V(x).dtype != DType::kFloat32 || xs.size() != 3) return false;
  // The Reshape's output shape, as its reference kernel computes it (0 and −1 entries resolved).
  const Tensor* target = b.Const(reshape.inputs[1]);
  std::vector<View> in = {View{DType::kFloat32, xs, nullptr},
                          View{target->dtype(), target->shape(), const_cast<void*>(target->raw_data())}};
  std::vector<View> out(1);
  RefCall call{reshape, b.opset(), in, out, false};
  if (!FindReferenceOp("Reshape")->run(call).ok()) return false;
  const Shape rs = out[0].shape;  // [B, N, 3, H, D]
  if (rs.size() != 5 || rs[0] != xs[0] || rs[1] != xs[1] || rs[2] != 3) return false;
  AttentionShape shape{rs[0], rs[1], rs[3], rs[4]};
  if (!AttentionSupported(shape)) return false;

  std::vector<int> covered;
  const int transpose = SoleReader(b, reshape.outputs[0], "Transpose");
  if (transpose < 0 || g.nodes[transpose].GetInts("perm") != std::vector<int64_t>{2, 0, 3, 1, 4}) return false;
  covered.push_back(transpose);
  // The three parts: Slice(t, i : i+1 on axis 0) → Squeeze(axis 0).
  const std::string& t = g.nodes[transpose].outputs[0];
  const std::vector<int> slices = b.Consumers(t);
  if (b.IsGraphOutput(t) || slices.size() != 3) return false;
  std::string part[3];
  for (int si : slices) {
    const ir::Node& slice = g.nodes[si];
    std::vector<int64_t> starts, ends, axes, steps;
    if (slice.op_type != "Slice" || slice.inputs.empty() || slice.inputs[0] != t) return false;
    if (!ConstInts(b, slice, 1, "starts", &starts) || !ConstInts(b, slice, 2, "ends", &ends)) return false;
    if (!ConstInts(b, slice, 3, "axes", &axes)) axes = {0};
    if (ConstInts(b, slice, 4, nullptr, &steps) && steps != std::vector<int64_t>{1}) return false;
    if (starts.size() != 1 || ends.size() != 1 || axes != std::vector<int64_t>{0}) return false;
    const int64_t which = starts[0];
    if (which < 0 || which > 2 || ends[0] != which + 1 || !part[which].empty()) return false;
    const int squeeze = SoleReader(b, slice.outputs[0], "Squeeze");
    std::vector<int64_t> squeeze_axes;
    if (squeeze < 0 || !ConstInts(b, g.nodes[squeeze], 1, "axes", &squeeze_axes) || squeeze_axes != std::vector<int64_t>{0}) {
      return false;
    }
    part[which] = g.nodes[squeeze].outputs[0];
    covered.push_back(si);
    covered.push_back(squeeze);
  }
  // q (· scale) · Transpose(k) → Softmax → · v
  float scale = 1;
  std::string q = part[0];
  if (const int mul = SoleReader(b, q, "Mul"); mul >= 0) {
    if (!ConstScalar(b, OtherInput(g.nodes[mul], q), &scale)) return false;
    covered.push_back(mul);
    q = g.nodes[mul].outputs[0];
  }
  const int k_transpose = SoleReader(b, part[1], "Transpose");
  if (k_transpose < 0 || g.nodes[k_transpose].GetInts("perm") != std::vector<int64_t>{0, 1, 3, 2}) return false;
  const std::string& kt = g.nodes[k_transpose].outputs[0];
  const int scores = SoleReader(b, q, "MatMul");
  if (scores < 0 || g.nodes[scores].inputs[0] != q || g.nodes[scores].inputs[1] != kt || b.SoleConsumer(kt) != scores) {
    return false;
  }
  const int softmax = SoleReader(b, g.nodes[scores].outputs[0], "Softmax");
  if (softmax < 0 || !SoftmaxOverLastAxis(g.nodes[softmax], b.opset(), 4)) return false;
  const std::string& p = g.nodes[softmax].outputs[0];
  const int context = SoleReader(b, p, "MatMul");
  if (context < 0 || g.nodes[context].inputs[0] != p || g.nodes[context].inputs[1] != part[2] ||
      b.SoleConsumer(part[2]) != context) {
    return false;
  }
  for (int c : {k_transpose, scores, softmax, context}) covered.push_back(c);

  ACT_ASSIGN_OR_RETURN(x, b.Plain(x));
  auto k = std::make_unique<AttentionKernel>();
  k->src = x;
  k->shape = shape;
  k->scale = scale;
  k->dst = b.AddPlainValue(g.nodes[context].outputs[0], DType::kFloat32, {shape.batch, shape.heads, shape.tokens, shape.dim});
  k->reads = {x};
  k->writes = {k->dst};
  for (int c : covered) b.Consume(c);
  k->label = "Attention(Reshape..Softmax..MatMul, " + std::to_string(covered.size() + 1) + " nodes)";
  k->node_name = reshape.name;
  b.AddKernel(std::move(k));
  return true;
}

// Which rows our softmax takes: up to 128 values (the register kernel) and from 256 (the streaming one).
// Measured on PP-OCRv4 rec, 1 thread, in the plan: 40 rows of 6625 (the CTC head) 0.110 ms here against
// 0.162 ms for oneDNN's jit softmax. 320 rows of 40 (attention): oneDNN 0.010–0.011 ms; our streaming
// kernel was slower (0.013–0.015 ms: per row, two horizontal reductions and a division between passes
// over memory), the register kernel faster (see SoftmaxShortRowsAvx512). Rows of 129–255 values were not
// measured and stay on oneDNN.
bool OwnSoftmaxTakes(int64_t n) { return n <= kShortRow || n >= 256; }

Expected<bool> TryBuildSoftmaxLastAxis(PlanBuilder& b, int index) {
  const ir::Node& node = b.graph().nodes[index];
  if (node.inputs.empty() || node.outputs.empty()) return false;
  ACT_ASSIGN_OR_RETURN(int x, b.Id(node.inputs[0]));
  if (b.V(x).dtype != DType::kFloat32 || !SoftmaxOverLastAxis(node, b.opset(), b.V(x).shape.size())) return false;
  if (NumElements(b.V(x).shape) == 0 || !OwnSoftmaxTakes(b.V(x).shape.back())) return false;
  ACT_ASSIGN_OR_RETURN(x, b.Plain(x));
  auto k = std::make_unique<SoftmaxKernel>();
  k->src = x;
  k->dst = b.AddPlainValue(node.outputs[0], DType::kFloat32, b.V(x).shape);
  k->reads = {x};
  k->writes = {k->dst};
  k->label = "Softmax(own)";
  k->node_name = node.name;
  b.AddKernel(std::move(k));
  return true;
}

Expected<int> TryAddDequantizeBiasSoftmax(PlanBuilder& b, int quantized, float scale, int32_t zero_point,
                                          bool is_signed, const Tensor& bias, const std::string& name) {
  const Value& q = b.V(quantized);
  if (q.blocked || q.shape.empty() || (q.dtype != DType::kUInt8 && q.dtype != DType::kInt8)) return -1;
  if (bias.dtype() != DType::kFloat32 || bias.numel() != q.shape.back() || NumElements(q.shape) == 0) return -1;
  const int c = b.SoleConsumer(name);
  if (c < 0) return -1;
  const ir::Node& softmax = b.graph().nodes[c];
  if (softmax.inputs.empty() || softmax.inputs[0] != name || !SoftmaxOverLastAxis(softmax, b.opset(), q.shape.size())) {
    return -1;
  }
  b.Consume(c);
  auto k = std::make_unique<DequantizeBiasSoftmaxKernel>();
  k->src = quantized;
  k->params.scale = scale;
  k->params.zero_point = zero_point;
  k->params.is_signed = is_signed;
  k->bias.assign(bias.data<float>(), bias.data<float>() + bias.numel());
  k->rows = NumElements(q.shape) / q.shape.back();
  k->dst = b.AddPlainValue(softmax.outputs[0], DType::kFloat32, q.shape);
  k->reads = {quantized};
  k->writes = {k->dst};
  k->label = "DequantizeLinear(table)+Add+Softmax";
  k->node_name = softmax.name;
  const int out = k->dst;
  b.AddKernel(std::move(k));
  return out;
}

bool QuantizeLayerNormOutput(PlanBuilder& b, int x, float scale, int32_t zero_point, const std::string& name) {
  auto& kernels = b.plan().kernels;
  auto* ln = kernels.empty() ? nullptr : dynamic_cast<LayerNormKernel*>(kernels.back().get());
  if (!ln || ln->quantized || ln->writes != std::vector<int>{x} || !HasVbmi()) return false;
  const Value& v = b.V(x);

  if (b.IsGraphOutput(v.name) || b.graph().Consumers(v.name).size() != 1) return false;  // the Q alone
  ln->dst = b.AddPlainValue(name, DType::kUInt8, v.shape);
  b.V(ln->dst).quant = {scale, zero_point};
  ln->quantized = true;
  ln->scale = scale;
  ln->zero_point = static_cast<float>(zero_point);
  ln->writes = {ln->dst};
  ln->label += "+QuantizeLinear";
  return true;
}

}  // namespace act::runtime::onednn
