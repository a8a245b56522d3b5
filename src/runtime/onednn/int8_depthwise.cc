#include "runtime/onednn/int8_depthwise.h"

#include <immintrin.h>

#include <algorithm>
#include <array>
#include <numeric>

#include "runtime/onednn/simd_rows.h"

namespace act::runtime::onednn {
namespace {

constexpr int kBlock = 16;    // channels per step (16 dwords of 4 taps)
constexpr int kColumns = 12;  // output columns accumulated per step

#define ACT_DW_TARGET __attribute__((target("avx512f,avx512bw,avx512vl,avx512vnni,avx512vbmi")))

// One output row: rows[r] is input row oh·sh + r (r < 4·G; rows past the kernel point at a valid row and
// meet zero weights), at column 0, channel 0.
template <int KH, int KW, int SW>
ACT_DW_TARGET void DepthwiseRow(const uint8_t* const* rows, int64_t C, int64_t Wp, int64_t OW, const int8_t* packed,
                                const float* bias, const float* scale, float zero_point, uint8_t* y) {
  // Byte 4c + r of the interleaved vector comes from byte 16r + c (row r's 16 channels in lane r).
  alignas(64) static const std::array<uint8_t, 64> kInterleave = [] {
    std::array<uint8_t, 64> idx{};
    for (int j = 0; j < 64; ++j) idx[j] = static_cast<uint8_t>(16 * (j % 4) + j / 4);
    return idx;
  }();
  const __m512i interleave = _mm512_load_si512(kInterleave.data());
  const __m512 zp = _mm512_set1_ps(zero_point), lo = _mm512_set1_ps(0.f), hi = _mm512_set1_ps(255.f);
  constexpr int G = (KH + 3) / 4;
  const int64_t blocks = (C + kBlock - 1) / kBlock;
  for (int64_t cb = 0; cb < blocks; ++cb) {
    const int64_t c0 = cb * kBlock;
    const __mmask16 m = C - c0 >= kBlock ? static_cast<__mmask16>(0xFFFF) : static_cast<__mmask16>((1u << (C - c0)) - 1);
    __m512i w[G][KW];
    for (int g = 0; g < G; ++g)
      for (int k = 0; k < KW; ++k) w[g][k] = _mm512_loadu_si512(packed + ((cb * G + g) * KW + k) * 64);
    const __m512 bv = _mm512_loadu_ps(bias + c0), sv = _mm512_loadu_ps(scale + c0);
    for (int64_t ow0 = 0; ow0 < OW; ow0 += kColumns) {
      __m512i acc[kColumns];
      for (int j = 0; j < kColumns; ++j) acc[j] = _mm512_setzero_si512();
      const int64_t iw0 = ow0 * SW;
#pragma GCC unroll 32
      for (int i = 0; i < (kColumns - 1) * SW + KW; ++i) {
        if (iw0 + i >= Wp) continue;
        const int64_t offset = (iw0 + i) * C + c0;
#pragma GCC unroll 2
        for (int g = 0; g < G; ++g) {
          // Rows of this group inside the kernel; the others meet zero weights, so their lanes may hold
          // anything (a group of one row is just zero-extended: bytes [x, 0, 0, 0]).
          constexpr int kRowsLast = KH - 4 * (G - 1);
          const int nrows = g == G - 1 ? kRowsLast : 4;
          __m512i v;
          if (nrows == 1) {
            v = _mm512_cvtepu8_epi32(_mm_maskz_loadu_epi8(m, rows[4 * g] + offset));
          } else {
            v = _mm512_zextsi128_si512(_mm_maskz_loadu_epi8(m, rows[4 * g] + offset));
            v = _mm512_inserti32x4(v, _mm_maskz_loadu_epi8(m, rows[4 * g + 1] + offset), 1);
            if (nrows > 2) v = _mm512_inserti32x4(v, _mm_maskz_loadu_epi8(m, rows[4 * g + 2] + offset), 2);
            if (nrows > 3) v = _mm512_inserti32x4(v, _mm_maskz_loadu_epi8(m, rows[4 * g + 3] + offset), 3);
            v = _mm512_permutexvar_epi8(interleave, v);
          }
#pragma GCC unroll 8
          for (int k = 0; k < KW; ++k) {
            const int d = i - k;
            if (d >= 0 && d % SW == 0 && d / SW < kColumns) acc[d / SW] = _mm512_dpbusd_epi32(acc[d / SW], v, w[g][k]);
          }
        }
      }
      for (int j = 0; j < kColumns && ow0 + j < OW; ++j) {
        __m512 f = _mm512_mul_ps(_mm512_add_ps(_mm512_cvtepi32_ps(acc[j]), bv), sv);
        f = _mm512_add_ps(_mm512_roundscale_ps(f, _MM_FROUND_TO_NEAREST_INT | _MM_FROUND_NO_EXC), zp);
        f = _mm512_min_ps(_mm512_max_ps(f, lo), hi);
        _mm_mask_storeu_epi8(y + (ow0 + j) * C + c0, m, _mm512_cvtepi32_epi8(_mm512_cvtps_epi32(f)));
      }
    }
  }
}

// Loads n bytes in address order (their values are not needed: see DepthwiseInt8Kernel::LoadHalo).
ACT_DW_TARGET void ReadInOrder(const uint8_t* x, int64_t n) {
  __m512i any = _mm512_setzero_si512();
  for (int64_t i = 0; i + 64 <= n; i += 64) any = _mm512_or_si512(any, _mm512_loadu_si512(x + i));
  volatile int sink = _mm512_reduce_or_epi32(any);  // keeps the loads
  (void)sink;
}

using RowFunction = void (*)(const uint8_t* const*, int64_t, int64_t, int64_t, const int8_t*, const float*,
                             const float*, float, uint8_t*);

RowFunction PickRow(int64_t kh, int64_t kw, int64_t sw) {
  const int key = static_cast<int>(kh * 100 + kw * 10 + sw);
  switch (key) {
    case 331: return DepthwiseRow<3, 3, 1>;
    case 332: return DepthwiseRow<3, 3, 2>;
    case 351: return DepthwiseRow<3, 5, 1>;
    case 352: return DepthwiseRow<3, 5, 2>;
    case 531: return DepthwiseRow<5, 3, 1>;
    case 532: return DepthwiseRow<5, 3, 2>;
    case 551: return DepthwiseRow<5, 5, 1>;
    case 552: return DepthwiseRow<5, 5, 2>;
    default: return nullptr;
  }
}

}  // namespace

bool DepthwiseInt8Kernel::Supported(int64_t kh, int64_t kw, int64_t sw) {
  static const bool cpu = __builtin_cpu_supports("avx512f") && __builtin_cpu_supports("avx512bw") &&
                          __builtin_cpu_supports("avx512vl") && __builtin_cpu_supports("avx512vnni") &&
                          __builtin_cpu_supports("avx512vbmi");
  return cpu && PickRow(kh, kw, sw) != nullptr;
}

DepthwiseInt8Kernel::DepthwiseInt8Kernel(int src, int dst, int64_t channels, int64_t kh, int64_t kw, int64_t sh,
                                         int64_t sw, const int8_t* weights, std::vector<float> bias,
                                         std::vector<float> scale, int32_t zero_point)
    : src_(src), dst_(dst), channels_(channels), kh_(kh), kw_(kw), sh_(sh), sw_(sw), zero_point_(zero_point) {
  const int64_t blocks = (channels + kBlock - 1) / kBlock, groups = (kh + 3) / 4;
  packed_.assign(blocks * groups * kw * 64, 0);
  for (int64_t c = 0; c < channels; ++c) {
    for (int64_t r = 0; r < kh; ++r) {
      for (int64_t k = 0; k < kw; ++k) {
        const int64_t cb = c / kBlock, g = r / 4;
        packed_[((cb * groups + g) * kw + k) * 64 + 4 * (c % kBlock) + r % 4] = weights[(c * kh + r) * kw + k];
      }
    }
  }
  bias.resize(blocks * kBlock, 0.f);
  scale.resize(blocks * kBlock, 0.f);
  bias_ = std::move(bias);
  scale_ = std::move(scale);
  reads = {src};
  writes = {dst};
}

// Output positions [begin, end) of the flattened N·OH·OW grid (whole rows or row pieces).
void DepthwiseInt8Kernel::Positions(Plan& plan, int64_t begin, int64_t end) const {
  const Value& in = plan.values[src_];
  const Value& out = plan.values[dst_];
  const int64_t C = channels_, Hp = in.shape[2], Wp = in.shape[3];
  const int64_t OH = out.shape[2], OW = out.shape[3];
  const int64_t groups = (kh_ + 3) / 4;
  const RowFunction row = PickRow(kh_, kw_, sw_);
  const auto* x = static_cast<const uint8_t*>(in.data);
  auto* y = static_cast<uint8_t*>(out.data);
  const float zp = static_cast<float>(zero_point_);
  for (int64_t r = begin / OW; r * OW < end; ++r) {
    const int64_t n = r / OH, oh = r % OH;
    const int64_t c0 = std::max<int64_t>(begin - r * OW, 0), c1 = std::min<int64_t>(end - r * OW, OW);
    const uint8_t* rows[8];
    for (int64_t j = 0; j < 4 * groups; ++j) {
      const int64_t ih = oh * sh_ + (j < kh_ ? j : 0);  // rows past the kernel: any valid row (zero weights)
      rows[j] = x + ((n * Hp + ih) * Wp + c0 * sw_) * C;
    }
    uint8_t* yr = y + (r * OW + c0) * C;
    row(rows, C, Wp - c0 * sw_, c1 - c0, packed_.data(), bias_.data(), scale_.data(), zp, yr);
    if (has_table_) LookupVbmi(yr, yr, (c1 - c0) * C, table_);
  }
}

Status DepthwiseInt8Kernel::Execute(Plan& plan) {
  if (!PickRow(kh_, kw_, sw_)) {
    return Internal("depthwise INT8 kernel: unsupported kernel " + std::to_string(kh_) + "x" + std::to_string(kw_));
  }
  const Shape& os = plan.values[dst_].shape;
  const int64_t rows = os[0] * os[2], OW = os[3];
#pragma omp parallel for schedule(static) if (rows * OW * channels_ * kh_ * kw_ > (1 << 18))
  for (int64_t r = 0; r < rows; ++r) Positions(plan, r * OW, (r + 1) * OW);
  return Status::Ok();
}

bool DepthwiseInt8Kernel::Splittable() const {
  return positions_ >= kMinSplitPositions && positions_ * channels_ * kh_ * kw_ >= kMinSplitDepthwiseMacs;
}

// A part's first and last kh − 1 input rows are (partly) the other thread's: the producer's part there was
// written on the other core. Read in the convolution's order (16 bytes per position, channel block by block)
// every such line is a cross-core round trip of its own; one pass over them in address order first lets the
// prefetcher stream them in. Thread 0's half of PP-OCRv4 rec's 5x5 240-channel convolutions took 76 µs
// without it and 40 µs with it (both halves on one thread: 26 µs each); the whole model at 2 threads 0.94x.
void DepthwiseInt8Kernel::LoadHalo(Plan& plan, int64_t begin, int64_t end) const {
  const Value& in = plan.values[src_];
  const Shape& os = plan.values[dst_].shape;
  const int64_t Hp = in.shape[2], row = in.shape[3] * channels_, OH = os[2], OW = os[3];
  auto input_row = [&](int64_t r) { return (r / OH) * Hp + (r % OH) * sh_; };  // r: output row n·OH + oh
  const int64_t first = input_row(begin / OW) * row, last = (input_row((end - 1) / OW) + kh_) * row;
  const int64_t edge = std::min((kh_ - 1) * row, last - first);
  const auto* x = static_cast<const uint8_t*>(in.data);
  ReadInOrder(x + first, edge);
  ReadInOrder(x + last - edge, edge);
}

Status DepthwiseInt8Kernel::ExecutePart(Plan& plan, int part, int parts) {
  if (!PickRow(kh_, kw_, sw_)) return Execute(plan);
  const Range range = PartRange(positions_, part, parts, 64 / std::gcd<int64_t>(channels_, 64));
  if (range.end > range.begin) {
    LoadHalo(plan, range.begin, range.end);
    Positions(plan, range.begin, range.end);
  }
  return Status::Ok();
}

void DepthwiseInt8Kernel::FuseTable(const uint8_t* table, int dst) {
  std::copy(table, table + 256, table_);
  has_table_ = true;
  dst_ = dst;
  writes = {dst};
}

}  // namespace act::runtime::onednn
