#include "runtime/onednn/table_readers.h"

#include <immintrin.h>

#include <algorithm>
#include <cmath>
#include <numeric>
#include <optional>
#include <vector>

#include "runtime/onednn/simd_rows.h"

namespace act::runtime::onednn {
namespace {

constexpr int64_t kScratchFloats = 4096;  // the floats of a few positions, in L1

// Reads bytes as floats through a 256-entry table, a run of positions at a time into an L1 scratch.
class BytesAsFloats {
 public:
  explicit BytesAsFloats(const std::array<float, 256>& table) : table_(table) { FloatPlanes(table_.data(), planes_); }
  void Map(const uint8_t* x, float* y, int64_t n) const {
    FloatLookupVbmi(x, y, static_cast<size_t>(n), planes_, table_.data());
  }

 private:
  std::array<float, 256> table_;
  uint8_t planes_[4][256] = {};
};

// Calls f(first_position, count, floats) for runs of at most kScratchFloats / C positions of [p0, p1),
// the floats being table[x] of those positions (C per position).
template <typename F>
void ForRuns(const BytesAsFloats& table, const uint8_t* x, int64_t C, int64_t p0, int64_t p1, F&& f) {
  alignas(64) float scratch[kScratchFloats];
  const int64_t run = std::max<int64_t>(1, kScratchFloats / C);
  for (int64_t p = p0; p < p1; p += run) {
    const int64_t n = std::min(run, p1 - p);
    table.Map(x + p * C, scratch, n * C);
    f(p, n, scratch);
  }
}

__attribute__((target("avx512f,avx512bw"))) void MulQuantizeRow(const float* x, const float* s, uint8_t* y, int64_t C,
                                                                 float scale, float zp) {
  const __m512 sc = _mm512_set1_ps(scale), z = _mm512_set1_ps(zp);
  const __m512 lo = _mm512_set1_ps(0.f), hi = _mm512_set1_ps(255.f);
  int64_t c = 0;
  for (; c + 16 <= C; c += 16) {
    __m512 v = _mm512_div_ps(_mm512_mul_ps(_mm512_loadu_ps(x + c), _mm512_loadu_ps(s + c)), sc);
    v = _mm512_add_ps(_mm512_roundscale_ps(v, _MM_FROUND_TO_NEAREST_INT | _MM_FROUND_NO_EXC), z);
    v = _mm512_min_ps(_mm512_max_ps(v, lo), hi);
    _mm_storeu_si128(reinterpret_cast<__m128i*>(y + c), _mm512_cvtepi32_epi8(_mm512_cvtps_epi32(v)));
  }
  for (; c < C; ++c) {
    const float v = x[c] * s[c];
    y[c] = static_cast<uint8_t>(std::min(std::max(std::nearbyint(v / scale) + zp, 0.f), 255.f));
  }
}

// See AddChannelMulQuantize. Split execution (plan.h): part p takes a p-th of the positions.
class ChannelMulQuantizeKernel : public Kernel {
 public:
  ChannelMulQuantizeKernel(int a, const std::array<float, 256>* table, int s, int y, int64_t positions,
                           int64_t channels, float scale, int32_t zero_point)
      : a_(a), s_(s), y_(y), positions_(positions), channels_(channels), scale_(scale), zero_point_(zero_point) {
    if (table) table_.emplace(*table);
    reads = {a, s};
    writes = {y};
  }
  Status Execute(Plan& plan) override { return ExecutePart(plan, 0, 1); }
  bool Splittable() const override { return positions_ >= 64 && positions_ * channels_ * 4 >= kMinSplitBytes; }
  Status ExecutePart(Plan& plan, int part, int parts) override {
    const int64_t C = channels_;
    const Range r = PartRange(positions_, part, parts, 64 / std::gcd<int64_t>(C, 64));
    const auto* s = static_cast<const float*>(plan.values[s_].data);
    auto* y = static_cast<uint8_t*>(plan.values[y_].data);
    const float zp = static_cast<float>(zero_point_);
    if (table_) {
      ForRuns(*table_, static_cast<const uint8_t*>(plan.values[a_].data), C, r.begin, r.end,
              [&](int64_t p0, int64_t n, const float* a) {
                for (int64_t p = 0; p < n; ++p) MulQuantizeRow(a + p * C, s, y + (p0 + p) * C, C, scale_, zp);
              });
      return Status::Ok();
    }
    const auto* a = static_cast<const float*>(plan.values[a_].data);
    for (int64_t p = r.begin; p < r.end; ++p) MulQuantizeRow(a + p * C, s, y + p * C, C, scale_, zp);
    return Status::Ok();
  }

 private:
  int a_, s_, y_;
  int64_t positions_, channels_;
  float scale_;
  int32_t zero_point_;
  std::optional<BytesAsFloats> table_;
};

// sums[n, b, c] = Σ table[x] over block b of image n's positions (see AddChannelMeanOfTable).
class ChannelBlockSumsKernel : public Kernel {
 public:
  ChannelBlockSumsKernel(int x, const std::array<float, 256>& table, int sums, int64_t images, int64_t positions,
                         int64_t channels)
      : x_(x), sums_(sums), images_(images), positions_(positions), channels_(channels), table_(table) {
    reads = {x};
    writes = {sums};
  }
  Status Execute(Plan& plan) override { return ExecutePart(plan, 0, 1); }
  bool Splittable() const override { return images_ * positions_ * channels_ >= kMinSplitBytes; }
  Status ExecutePart(Plan& plan, int part, int parts) override {
    const Range r = PartRange(images_ * kMeanBlocks, part, parts);
    const auto* x = static_cast<const uint8_t*>(plan.values[x_].data);
    auto* sums = static_cast<float*>(plan.values[sums_].data);
    const int64_t C = channels_, HW = positions_;
    for (int64_t q = r.begin; q < r.end; ++q) {
      const int64_t n = q / kMeanBlocks, block = q % kMeanBlocks;
      float* sum = sums + q * C;
      std::fill(sum, sum + C, 0.f);
      ForRuns(table_, x + n * HW * C, C, HW * block / kMeanBlocks, HW * (block + 1) / kMeanBlocks,
              [&](int64_t, int64_t count, const float* f) {
                for (int64_t p = 0; p < count; ++p) AddFloats(sum, f + p * C, C);
              });
    }
    return Status::Ok();
  }

 private:
  int x_, sums_;
  int64_t images_, positions_, channels_;
  BytesAsFloats table_;
};

// mean[n, c] = (Σ_b sums[n, b, c]) / positions, the blocks in order.
class ChannelMeanKernel : public Kernel {
 public:
  ChannelMeanKernel(int sums, int mean, int64_t images, int64_t positions, int64_t channels)
      : sums_(sums), mean_(mean), images_(images), positions_(positions), channels_(channels) {
    reads = {sums};
    writes = {mean};
  }
  Status Execute(Plan& plan) override {
    const auto* sums = static_cast<const float*>(plan.values[sums_].data);
    auto* mean = static_cast<float*>(plan.values[mean_].data);
    const int64_t C = channels_;
    for (int64_t n = 0; n < images_; ++n) {
      float* m = mean + n * C;
      std::copy(sums + n * kMeanBlocks * C, sums + (n * kMeanBlocks + 1) * C, m);
      for (int b = 1; b < kMeanBlocks; ++b) AddFloats(m, sums + (n * kMeanBlocks + b) * C, C);
      for (int64_t c = 0; c < C; ++c) m[c] /= static_cast<float>(positions_);
    }
    return Status::Ok();
  }

 private:
  int sums_, mean_;
  int64_t images_, positions_, channels_;
};

// See AddAveragePoolQuantizeOfTable. One thread (its output is small: a pooled head).
class AveragePoolQuantizeKernel : public Kernel {
 public:
  AveragePoolQuantizeKernel(int x, const std::array<float, 256>& table, int y, const std::array<int64_t, 2>& kernel,
                            const std::array<int64_t, 2>& strides, float scale, int32_t zero_point)
      : x_(x), y_(y), kernel_(kernel), strides_(strides), scale_(scale), zero_point_(zero_point), table_(table) {
    reads = {x};
    writes = {y};
    threads = Threads::kOne;
  }
  Status Execute(Plan& plan) override {
    const Shape& xs = plan.values[x_].shape;
    const Shape& ys = plan.values[y_].shape;
    const int64_t C = xs[1], H = xs[2], W = xs[3], OH = ys[2], OW = ys[3];
    const int64_t run = kernel_[1] * C;  // the taps of one window row: contiguous in NHWC
    if (run > kScratchFloats) return Internal("average pool of a table: window row of " + std::to_string(run) + " values");
    const auto* x = static_cast<const uint8_t*>(plan.values[x_].data);
    auto* y = static_cast<uint8_t*>(plan.values[y_].data);
    std::vector<float>& sum = sum_;
    sum.resize(C);
    alignas(64) float taps[kScratchFloats];
    const float count = static_cast<float>(kernel_[0] * kernel_[1]), zp = static_cast<float>(zero_point_);
    for (int64_t n = 0; n < xs[0]; ++n) {
      for (int64_t oh = 0; oh < OH; ++oh) {
        for (int64_t ow = 0; ow < OW; ++ow) {
          std::fill(sum.begin(), sum.end(), 0.f);
          for (int64_t i = 0; i < kernel_[0]; ++i) {
            table_.Map(x + ((n * H + oh * strides_[0] + i) * W + ow * strides_[1]) * C, taps, run);
            for (int64_t j = 0; j < kernel_[1]; ++j) AddFloats(sum.data(), taps + j * C, C);
          }
          for (float& v : sum) v /= count;  // AveragePool's division, then QuantizeLinear's
          QuantizeU8Vbmi(sum.data(), y + ((n * OH + oh) * OW + ow) * C, C, scale_, zp);
        }
      }
    }
    return Status::Ok();
  }

 private:
  int x_, y_;
  std::array<int64_t, 2> kernel_, strides_;
  float scale_;
  int32_t zero_point_;
  BytesAsFloats table_;
  std::vector<float> sum_;
};

dnnl::memory::desc Nhwc(const Shape& shape, DType dtype) {
  return dnnl::memory::desc(ToDims(shape), ToDnnl(dtype), dnnl::memory::format_tag::nhwc);
}

Status CheckNhwc(PlanBuilder& b, int id, DType dtype, const std::string& what) {
  const Value& v = b.V(id);
  if (v.dtype != dtype || v.shape.size() != 4 || !(v.md == Nhwc(v.shape, dtype))) {
    return Internal(what + " '" + v.name + "': expected a 4-D " + DTypeName(dtype) + " NHWC value");
  }
  return Status::Ok();
}

}  // namespace

Expected<int> AddChannelMulQuantize(PlanBuilder& b, int a, const std::array<float, 256>* table, int s, float scale,
                                    int32_t zero_point, const std::string& name, const std::string& node_name) {
  ACT_RETURN_IF_ERROR(CheckNhwc(b, a, table ? DType::kUInt8 : DType::kFloat32, "channel Mul input"));
  const Shape shape = b.V(a).shape;
  if (table && shape[1] > kScratchFloats) return Internal("channel Mul '" + node_name + "': too many channels");
  ACT_ASSIGN_OR_RETURN(s, b.Plain(s));
  if (b.V(s).dtype != DType::kFloat32 || NumElements(b.V(s).shape) != shape[1]) {
    return Internal("channel Mul '" + node_name + "': the scale must be " + std::to_string(shape[1]) + " floats");
  }
  const int y = b.AddValue(name, DType::kUInt8, shape, Nhwc(shape, DType::kUInt8));
  b.V(y).quant = {scale, zero_point};
  auto k = std::make_unique<ChannelMulQuantizeKernel>(a, table, s, y, shape[0] * shape[2] * shape[3], shape[1], scale,
                                                      zero_point);
  k->label = table ? "Lookup(int8->float)+Mul+QuantizeLinear(NHWC)" : "Mul+QuantizeLinear(NHWC)";
  k->node_name = node_name;
  b.AddKernel(std::move(k));
  return y;
}

Expected<int> AddChannelMeanOfTable(PlanBuilder& b, int x, const std::array<float, 256>& table,
                                    const std::string& name, const std::string& node_name) {
  ACT_RETURN_IF_ERROR(CheckNhwc(b, x, DType::kUInt8, "channel mean input"));
  const Shape xs = b.V(x).shape;
  const int64_t N = xs[0], C = xs[1], HW = xs[2] * xs[3];
  if (C > kScratchFloats) return Internal("channel mean '" + node_name + "': too many channels");
  const int sums = b.AddPlainValue(name + "#block_sums", DType::kFloat32, {N, kMeanBlocks, C});
  auto k = std::make_unique<ChannelBlockSumsKernel>(x, table, sums, N, HW, C);
  k->label = "Lookup(int8->float)+GlobalAveragePool(block sums)";
  k->node_name = node_name;
  b.AddKernel(std::move(k));
  const int mean = b.AddPlainValue(name, DType::kFloat32, {N, C, 1, 1});
  auto m = std::make_unique<ChannelMeanKernel>(sums, mean, N, HW, C);
  m->label = "GlobalAveragePool(sum of blocks)";
  m->node_name = node_name;
  b.AddKernel(std::move(m));
  return mean;
}

Expected<int> AddAveragePoolQuantizeOfTable(PlanBuilder& b, int x, const std::array<float, 256>& table,
                                            const std::array<int64_t, 2>& kernel,
                                            const std::array<int64_t, 2>& strides, float scale, int32_t zero_point,
                                            const std::string& name, const std::string& node_name) {
  ACT_RETURN_IF_ERROR(CheckNhwc(b, x, DType::kUInt8, "average pool input"));
  const Shape xs = b.V(x).shape;
  if (kernel[0] < 1 || kernel[1] < 1 || strides[0] < 1 || strides[1] < 1 || kernel[0] > xs[2] || kernel[1] > xs[3] ||
      kernel[1] * xs[1] > kScratchFloats) {
    return Internal("average pool '" + node_name + "': window " + std::to_string(kernel[0]) + "x" +
                    std::to_string(kernel[1]) + " does not fit " + ShapeToString(xs));
  }
  const Shape ys = {xs[0], xs[1], (xs[2] - kernel[0]) / strides[0] + 1, (xs[3] - kernel[1]) / strides[1] + 1};
  const int y = b.AddValue(name, DType::kUInt8, ys, Nhwc(ys, DType::kUInt8));
  b.V(y).quant = {scale, zero_point};
  auto k = std::make_unique<AveragePoolQuantizeKernel>(x, table, y, kernel, strides, scale, zero_point);
  k->label = "Lookup(int8->float)+AveragePool+QuantizeLinear(NHWC)";
  k->node_name = node_name;
  b.AddKernel(std::move(k));
  return y;
}

}  // namespace act::runtime::onednn
