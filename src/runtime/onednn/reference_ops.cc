#include "runtime/onednn/reference_ops.h"

#include <algorithm>
#include <cmath>
#include <cstring>
#include <functional>
#include <limits>
#include <numeric>

namespace act::runtime::onednn {
namespace {

// ---- helpers --------------------------------------------------------------------------------------------

bool Present(const View& v) { return v.dtype != DType::kUndefined; }

Status NeedConst(const RefCall& c, size_t i) {
  if (i >= c.in.size() || !Present(c.in[i])) return Status::Ok();
  if (c.in[i].data == nullptr && c.in[i].numel() > 0) {
    return Unsupported(c.node.Describe() + ": input " + std::to_string(i) + " ('" + c.node.Input(i) +
                       "') decides the output shape and must be computable when planning (a constant or "
                       "derived from input shapes); data-dependent shapes are not supported");
  }
  return Status::Ok();
}

std::vector<int64_t> ReadInts(const View& v) {
  std::vector<int64_t> r(v.numel());
  for (int64_t i = 0; i < v.numel(); ++i) {
    switch (v.dtype) {
      case DType::kInt64: r[i] = v.as<int64_t>()[i]; break;
      case DType::kInt32: r[i] = v.as<int32_t>()[i]; break;
      case DType::kFloat32: r[i] = static_cast<int64_t>(v.as<float>()[i]); break;
      case DType::kUInt8: r[i] = v.as<uint8_t>()[i]; break;
      case DType::kInt8: r[i] = v.as<int8_t>()[i]; break;
      default: r[i] = 0;
    }
  }
  return r;
}
std::vector<float> ReadFloats(const View& v) {
  std::vector<float> r(v.numel());
  for (int64_t i = 0; i < v.numel(); ++i) {
    switch (v.dtype) {
      case DType::kFloat32: r[i] = v.as<float>()[i]; break;
      case DType::kFloat64: r[i] = static_cast<float>(v.as<double>()[i]); break;
      case DType::kInt64: r[i] = static_cast<float>(v.as<int64_t>()[i]); break;
      case DType::kInt32: r[i] = static_cast<float>(v.as<int32_t>()[i]); break;
      default: r[i] = 0;
    }
  }
  return r;
}

int64_t NormAxis(int64_t axis, int64_t rank) { return axis < 0 ? axis + rank : axis; }

void SetOut(RefCall& c, size_t i, DType dtype, Shape shape) {
  c.out[i].dtype = dtype;
  c.out[i].shape = std::move(shape);
}

// Row-major strides of a shape, in elements.
std::vector<int64_t> Strides(const Shape& s) {
  std::vector<int64_t> st(s.size(), 1);
  for (int i = static_cast<int>(s.size()) - 2; i >= 0; --i) st[i] = st[i + 1] * s[i + 1];
  return st;
}

// ---- aliasing shape ops: output 0 is input 0 with a new shape -------------------------------------------

Status RunIdentity(RefCall& c) {
  SetOut(c, 0, c.in[0].dtype, c.in[0].shape);
  for (size_t i = 1; i < c.out.size(); ++i) SetOut(c, i, DType::kBool, c.in[0].shape);  // Dropout mask
  if (c.compute) {
    if (c.out[0].data != c.in[0].data) std::memcpy(c.out[0].data, c.in[0].data, c.in[0].numel() * DTypeSize(c.in[0].dtype));
    for (size_t i = 1; i < c.out.size(); ++i) std::memset(c.out[i].data, 1, c.out[i].numel());
  }
  return Status::Ok();
}

Status CopyIfNeeded(RefCall& c) {
  if (c.compute && c.out[0].data != c.in[0].data) {
    std::memcpy(c.out[0].data, c.in[0].data, c.in[0].numel() * DTypeSize(c.in[0].dtype));
  }
  return Status::Ok();
}

Status RunReshape(RefCall& c) {
  ACT_RETURN_IF_ERROR(NeedConst(c, 1));
  std::vector<int64_t> target = c.in.size() > 1 && Present(c.in[1]) ? ReadInts(c.in[1]) : c.node.GetInts("shape");
  const bool allow_zero = c.node.GetInt("allowzero", 0) != 0;
  const Shape& in = c.in[0].shape;
  int64_t known = 1;
  int infer = -1;
  for (size_t i = 0; i < target.size(); ++i) {
    if (target[i] == 0 && !allow_zero) {
      if (i >= in.size()) return InvalidInput(c.node.Describe() + ": shape has 0 at axis " + std::to_string(i) + " beyond the input's rank");
      target[i] = in[i];
    }
    if (target[i] == -1) {
      if (infer >= 0) return InvalidInput(c.node.Describe() + ": shape has two -1 entries");
      infer = static_cast<int>(i);
    } else {
      known *= target[i];
    }
  }
  const int64_t n = NumElements(in);
  if (infer >= 0) target[infer] = known == 0 ? 0 : n / known;
  if (NumElements(target) != n) {
    return InvalidInput(c.node.Describe() + ": cannot reshape " + ShapeToString(in) + " to " + ShapeToString(target));
  }
  SetOut(c, 0, c.in[0].dtype, target);
  return CopyIfNeeded(c);
}

Status RunFlatten(RefCall& c) {
  const Shape& in = c.in[0].shape;
  const int64_t axis = NormAxis(c.node.GetInt("axis", 1), in.size());
  int64_t outer = 1;
  for (int64_t i = 0; i < axis; ++i) outer *= in[i];
  SetOut(c, 0, c.in[0].dtype, {outer, outer == 0 ? 0 : NumElements(in) / outer});
  return CopyIfNeeded(c);
}

std::vector<int64_t> AxesFromInputOrAttr(const RefCall& c, size_t input) {
  if (c.in.size() > input && Present(c.in[input])) return ReadInts(c.in[input]);
  return c.node.GetInts("axes");
}

Status RunSqueeze(RefCall& c) {
  ACT_RETURN_IF_ERROR(NeedConst(c, 1));
  const Shape& in = c.in[0].shape;
  std::vector<int64_t> axes = AxesFromInputOrAttr(c, 1);
  std::vector<bool> drop(in.size(), false);
  if (axes.empty()) {
    for (size_t i = 0; i < in.size(); ++i) drop[i] = in[i] == 1;
  } else {
    for (int64_t a : axes) {
      a = NormAxis(a, in.size());
      if (a < 0 || a >= static_cast<int64_t>(in.size()) || in[a] != 1) {
        return InvalidInput(c.node.Describe() + ": cannot squeeze axis " + std::to_string(a) + " of " + ShapeToString(in));
      }
      drop[a] = true;
    }
  }
  Shape out;
  for (size_t i = 0; i < in.size(); ++i) if (!drop[i]) out.push_back(in[i]);
  SetOut(c, 0, c.in[0].dtype, out);
  return CopyIfNeeded(c);
}

Status RunUnsqueeze(RefCall& c) {
  ACT_RETURN_IF_ERROR(NeedConst(c, 1));
  const Shape& in = c.in[0].shape;
  std::vector<int64_t> axes = AxesFromInputOrAttr(c, 1);
  const int64_t rank = in.size() + axes.size();
  std::vector<bool> inserted(rank, false);
  for (int64_t a : axes) {
    a = NormAxis(a, rank);
    if (a < 0 || a >= rank) return InvalidInput(c.node.Describe() + ": axis out of range");
    inserted[a] = true;
  }
  Shape out;
  size_t j = 0;
  for (int64_t i = 0; i < rank; ++i) out.push_back(inserted[i] ? 1 : in[j++]);
  SetOut(c, 0, c.in[0].dtype, out);
  return CopyIfNeeded(c);
}

// ---- shapes and constants -------------------------------------------------------------------------------

Status RunShape(RefCall& c) {
  const Shape& in = c.in[0].shape;
  const int64_t rank = in.size();
  int64_t start = c.node.GetInt("start", 0), end = c.node.GetInt("end", rank);
  start = std::clamp<int64_t>(NormAxis(start, rank), 0, rank);
  end = std::clamp<int64_t>(NormAxis(end, rank), 0, rank);
  SetOut(c, 0, DType::kInt64, {std::max<int64_t>(end - start, 0)});
  if (c.compute) for (int64_t i = start; i < end; ++i) c.out[0].as<int64_t>()[i - start] = in[i];
  return Status::Ok();
}

Status RunSize(RefCall& c) {
  SetOut(c, 0, DType::kInt64, {});
  if (c.compute) *c.out[0].as<int64_t>() = c.in[0].numel();
  return Status::Ok();
}

Status RunConstantOfShape(RefCall& c) {
  ACT_RETURN_IF_ERROR(NeedConst(c, 0));
  Shape shape = ReadInts(c.in[0]);
  DType dtype = DType::kFloat32;
  const Tensor* value = nullptr;
  auto it = c.node.attributes.find("value");
  if (it != c.node.attributes.end()) { value = &it->second.t; dtype = value->dtype(); }
  SetOut(c, 0, dtype, shape);
  if (c.compute) {
    const size_t es = DTypeSize(dtype);
    std::byte* dst = static_cast<std::byte*>(c.out[0].data);
    for (int64_t i = 0; i < c.out[0].numel(); ++i) {
      if (value) std::memcpy(dst + i * es, value->raw_data(), es); else std::memset(dst + i * es, 0, es);
    }
  }
  return Status::Ok();
}

Status RunRange(RefCall& c) {
  for (size_t i = 0; i < 3; ++i) ACT_RETURN_IF_ERROR(NeedConst(c, i));
  const DType dtype = c.in[0].dtype;
  if (dtype == DType::kFloat32) {
    const float start = ReadFloats(c.in[0])[0], limit = ReadFloats(c.in[1])[0], delta = ReadFloats(c.in[2])[0];
    const int64_t n = std::max<int64_t>(static_cast<int64_t>(std::ceil((limit - start) / delta)), 0);
    SetOut(c, 0, dtype, {n});
    if (c.compute) for (int64_t i = 0; i < n; ++i) c.out[0].as<float>()[i] = start + i * delta;
    return Status::Ok();
  }
  const int64_t start = ReadInts(c.in[0])[0], limit = ReadInts(c.in[1])[0], delta = ReadInts(c.in[2])[0];
  if (delta == 0) return InvalidInput(c.node.Describe() + ": delta is 0");
  const int64_t n = std::max<int64_t>((limit - start + delta + (delta > 0 ? -1 : 1)) / delta, 0);
  SetOut(c, 0, dtype, {n});
  if (c.compute) {
    for (int64_t i = 0; i < n; ++i) {
      if (dtype == DType::kInt64) c.out[0].as<int64_t>()[i] = start + i * delta;
      else c.out[0].as<int32_t>()[i] = static_cast<int32_t>(start + i * delta);
    }
  }
  return Status::Ok();
}

template <typename From, typename To>
void CastLoop(const View& in, const View& out) {
  const From* s = in.as<From>();
  To* d = out.as<To>();
  for (int64_t i = 0; i < in.numel(); ++i) d[i] = static_cast<To>(s[i]);
}

template <typename From>
Status CastFrom(const View& in, const View& out) {
  switch (out.dtype) {
    case DType::kFloat32: CastLoop<From, float>(in, out); break;
    case DType::kFloat64: CastLoop<From, double>(in, out); break;
    case DType::kInt64: CastLoop<From, int64_t>(in, out); break;
    case DType::kInt32: CastLoop<From, int32_t>(in, out); break;
    case DType::kInt8: CastLoop<From, int8_t>(in, out); break;
    case DType::kUInt8: CastLoop<From, uint8_t>(in, out); break;
    case DType::kBool: {
      const From* s = in.as<From>();
      bool* d = out.as<bool>();
      for (int64_t i = 0; i < in.numel(); ++i) d[i] = s[i] != From(0);
      break;
    }
    default: return Unsupported("Cast to " + DTypeName(out.dtype) + " is not supported");
  }
  return Status::Ok();
}

Status RunCast(RefCall& c) {
  const DType to = static_cast<DType>(c.node.GetInt("to", 1));
  SetOut(c, 0, to, c.in[0].shape);
  if (!c.compute) return Status::Ok();
  const View &in = c.in[0], &out = c.out[0];
  Status s;
  switch (in.dtype) {
    case DType::kFloat32: s = CastFrom<float>(in, out); break;
    case DType::kFloat64: s = CastFrom<double>(in, out); break;
    case DType::kInt64: s = CastFrom<int64_t>(in, out); break;
    case DType::kInt32: s = CastFrom<int32_t>(in, out); break;
    case DType::kInt8: s = CastFrom<int8_t>(in, out); break;
    case DType::kUInt8: s = CastFrom<uint8_t>(in, out); break;
    case DType::kBool: s = CastFrom<bool>(in, out); break;
    default: s = Unsupported("Cast from " + DTypeName(in.dtype) + " is not supported");
  }
  return s.ok() ? s : s.WithContext(c.node.Describe());
}

// ---- data movement --------------------------------------------------------------------------------------

// out[o] = in[index over permuted axes]; copies the innermost run with memcpy when it stays in place.
void Permute(const std::byte* src, std::byte* dst, const Shape& in_shape, const std::vector<int64_t>& perm,
             size_t es) {
  const int rank = static_cast<int>(perm.size());
  if (rank == 0) { std::memcpy(dst, src, es); return; }
  const auto in_strides = Strides(in_shape);
  Shape out_shape(rank);
  std::vector<int64_t> src_stride(rank);
  for (int i = 0; i < rank; ++i) { out_shape[i] = in_shape[perm[i]]; src_stride[i] = in_strides[perm[i]]; }
  // Merge a trailing run of axes that stay contiguous (perm[i] == i for the tail).
  int tail = rank;
  int64_t block = 1;
  while (tail > 0 && perm[tail - 1] == tail - 1) { block *= out_shape[tail - 1]; --tail; }
  const int64_t outer = NumElements(Shape(out_shape.begin(), out_shape.begin() + tail));
  if (outer == 0 || block == 0) return;
  if (block == 1 && tail >= 1 && (es == 1 || es == 2 || es == 4 || es == 8)) {
    // Element-wise gather with the innermost output axis as a typed strided loop.
    const int64_t inner = out_shape[tail - 1], step = src_stride[tail - 1];
    const int64_t rows = outer / inner;
    std::vector<int64_t> idx(tail - 1, 0);
    int64_t src_off = 0;
    auto copy_rows = [&](auto* d, const auto* s0) {
      for (int64_t r = 0; r < rows; ++r) {
        const auto* s = s0 + src_off;
        for (int64_t i = 0; i < inner; ++i) d[r * inner + i] = s[i * step];
        for (int d_ax = tail - 2; d_ax >= 0; --d_ax) {
          if (++idx[d_ax] < out_shape[d_ax]) { src_off += src_stride[d_ax]; break; }
          src_off -= src_stride[d_ax] * (out_shape[d_ax] - 1);
          idx[d_ax] = 0;
        }
      }
    };
    if (es == 1) copy_rows(reinterpret_cast<uint8_t*>(dst), reinterpret_cast<const uint8_t*>(src));
    else if (es == 2) copy_rows(reinterpret_cast<uint16_t*>(dst), reinterpret_cast<const uint16_t*>(src));
    else if (es == 4) copy_rows(reinterpret_cast<uint32_t*>(dst), reinterpret_cast<const uint32_t*>(src));
    else copy_rows(reinterpret_cast<uint64_t*>(dst), reinterpret_cast<const uint64_t*>(src));
    return;
  }
  std::vector<int64_t> idx(tail, 0);
  const size_t block_bytes = block * es;
  int64_t src_off = 0;
  for (int64_t o = 0; o < outer; ++o) {
    if (block == 1) {
      std::memcpy(dst + o * es, src + src_off * es, es);
    } else {
      std::memcpy(dst + o * block_bytes, src + src_off * es, block_bytes);
    }
    for (int d = tail - 1; d >= 0; --d) {
      if (++idx[d] < out_shape[d]) { src_off += src_stride[d]; break; }
      src_off -= src_stride[d] * (out_shape[d] - 1);
      idx[d] = 0;
    }
  }
}

Status RunTranspose(RefCall& c) {
  const Shape& in = c.in[0].shape;
  std::vector<int64_t> perm = c.node.GetInts("perm");
  if (perm.empty()) for (int64_t i = in.size() - 1; i >= 0; --i) perm.push_back(i);
  if (perm.size() != in.size()) return InvalidInput(c.node.Describe() + ": perm does not match the input rank");
  Shape out(in.size());
  for (size_t i = 0; i < perm.size(); ++i) out[i] = in[perm[i]];
  SetOut(c, 0, c.in[0].dtype, out);
  if (c.compute) {
    Permute(static_cast<const std::byte*>(c.in[0].data), static_cast<std::byte*>(c.out[0].data), in, perm,
            DTypeSize(c.in[0].dtype));
  }
  return Status::Ok();
}

Status RunConcat(RefCall& c) {
  const int64_t rank = c.in[0].shape.size();
  const int64_t axis = NormAxis(c.node.GetInt("axis", 0), rank);
  Shape out = c.in[0].shape;
  out[axis] = 0;
  for (const View& v : c.in) {
    if (v.shape.size() != static_cast<size_t>(rank)) return InvalidInput(c.node.Describe() + ": inputs differ in rank");
    out[axis] += v.shape[axis];
  }
  SetOut(c, 0, c.in[0].dtype, out);
  if (!c.compute) return Status::Ok();
  const size_t es = DTypeSize(c.in[0].dtype);
  const int64_t outer = NumElements(Shape(out.begin(), out.begin() + axis));
  const int64_t inner = NumElements(Shape(out.begin() + axis + 1, out.end()));
  std::byte* dst = static_cast<std::byte*>(c.out[0].data);
  const int64_t row = out[axis] * inner * es;
  int64_t col = 0;
  for (const View& v : c.in) {
    const int64_t chunk = v.shape[axis] * inner * es;
    const std::byte* src = static_cast<const std::byte*>(v.data);
    for (int64_t o = 0; o < outer; ++o) std::memcpy(dst + o * row + col, src + o * chunk, chunk);
    col += chunk;
  }
  return Status::Ok();
}

Status RunGather(RefCall& c) {
  const Shape& data = c.in[0].shape;
  const Shape& ind = c.in[1].shape;
  const int64_t axis = NormAxis(c.node.GetInt("axis", 0), data.size());
  Shape out(data.begin(), data.begin() + axis);
  out.insert(out.end(), ind.begin(), ind.end());
  out.insert(out.end(), data.begin() + axis + 1, data.end());
  SetOut(c, 0, c.in[0].dtype, out);
  if (!c.compute) return Status::Ok();
  const size_t es = DTypeSize(c.in[0].dtype);
  const int64_t outer = NumElements(Shape(data.begin(), data.begin() + axis));
  const int64_t inner = NumElements(Shape(data.begin() + axis + 1, data.end())) * es;
  const std::vector<int64_t> indices = ReadInts(c.in[1]);
  const std::byte* src = static_cast<const std::byte*>(c.in[0].data);
  std::byte* dst = static_cast<std::byte*>(c.out[0].data);
  const int64_t n = indices.size();
  for (int64_t o = 0; o < outer; ++o) {
    for (int64_t j = 0; j < n; ++j) {
      int64_t k = indices[j] < 0 ? indices[j] + data[axis] : indices[j];
      if (k < 0 || k >= data[axis]) return InvalidInput(c.node.Describe() + ": index " + std::to_string(indices[j]) + " out of range");
      std::memcpy(dst + (o * n + j) * inner, src + (o * data[axis] + k) * inner, inner);
    }
  }
  return Status::Ok();
}

Status RunSlice(RefCall& c) {
  const Shape& in = c.in[0].shape;
  const int64_t rank = in.size();
  std::vector<int64_t> starts, ends, axes, steps;
  if (c.in.size() > 1) {
    for (size_t i = 1; i < c.in.size(); ++i) ACT_RETURN_IF_ERROR(NeedConst(c, i));
    starts = ReadInts(c.in[1]);
    ends = ReadInts(c.in[2]);
    if (c.in.size() > 3 && Present(c.in[3])) axes = ReadInts(c.in[3]);
    if (c.in.size() > 4 && Present(c.in[4])) steps = ReadInts(c.in[4]);
  } else {  // opset < 10
    starts = c.node.GetInts("starts");
    ends = c.node.GetInts("ends");
    axes = c.node.GetInts("axes");
  }
  if (axes.empty()) for (size_t i = 0; i < starts.size(); ++i) axes.push_back(i);
  if (steps.empty()) steps.assign(starts.size(), 1);
  std::vector<int64_t> begin(rank, 0), step(rank, 1);
  Shape out = in;
  for (size_t i = 0; i < axes.size(); ++i) {
    const int64_t a = NormAxis(axes[i], rank);
    const int64_t dim = in[a], st = steps[i];
    if (st == 0) return InvalidInput(c.node.Describe() + ": step 0");
    int64_t s = starts[i], e = ends[i];
    if (s < 0) s += dim;
    if (e < 0) e += dim;
    if (st > 0) {
      s = std::clamp<int64_t>(s, 0, dim);
      e = std::clamp<int64_t>(e, 0, dim);
      out[a] = std::max<int64_t>((e - s + st - 1) / st, 0);
    } else {
      s = std::clamp<int64_t>(s, 0, dim - 1);
      e = std::clamp<int64_t>(e, -1, dim - 1);
      out[a] = std::max<int64_t>((s - e - st - 1) / -st, 0);
    }
    begin[a] = s;
    step[a] = st;
  }
  SetOut(c, 0, c.in[0].dtype, out);
  if (!c.compute || NumElements(out) == 0) return Status::Ok();
  const size_t es = DTypeSize(c.in[0].dtype);
  const auto strides = Strides(in);
  const std::byte* src = static_cast<const std::byte*>(c.in[0].data);
  std::byte* dst = static_cast<std::byte*>(c.out[0].data);
  // Innermost axis copied as one run when its step is 1.
  const int64_t last = rank - 1;
  const bool contiguous_tail = step[last] == 1;
  const int64_t run = contiguous_tail ? out[last] : 1;
  const int64_t total = NumElements(out);
  std::vector<int64_t> idx(rank, 0);
  for (int64_t o = 0; o < total; o += run) {
    int64_t off = 0;
    for (int64_t d = 0; d < rank; ++d) off += (begin[d] + idx[d] * step[d]) * strides[d];
    std::memcpy(dst + o * es, src + off * es, run * es);
    for (int64_t d = contiguous_tail ? last - 1 : last; d >= 0; --d) {
      if (++idx[d] < out[d]) break;
      idx[d] = 0;
    }
  }
  return Status::Ok();
}

Status RunSplit(RefCall& c) {
  const Shape& in = c.in[0].shape;
  const int64_t axis = NormAxis(c.node.GetInt("axis", 0), in.size());
  std::vector<int64_t> split;
  if (c.in.size() > 1 && Present(c.in[1])) {
    ACT_RETURN_IF_ERROR(NeedConst(c, 1));
    split = ReadInts(c.in[1]);
  } else {
    split = c.node.GetInts("split");
  }
  const int64_t n = c.out.size();
  if (split.empty()) {
    const int64_t each = (in[axis] + n - 1) / n;
    for (int64_t i = 0; i < n; ++i) split.push_back(std::min(each, in[axis] - each * i));
  }
  if (static_cast<int64_t>(split.size()) != n) return InvalidInput(c.node.Describe() + ": split sizes do not match the outputs");
  for (int64_t i = 0; i < n; ++i) {
    Shape s = in;
    s[axis] = split[i];
    SetOut(c, i, c.in[0].dtype, s);
  }
  if (!c.compute) return Status::Ok();
  const size_t es = DTypeSize(c.in[0].dtype);
  const int64_t outer = NumElements(Shape(in.begin(), in.begin() + axis));
  const int64_t inner = NumElements(Shape(in.begin() + axis + 1, in.end())) * es;
  const std::byte* src = static_cast<const std::byte*>(c.in[0].data);
  int64_t col = 0;
  for (int64_t i = 0; i < n; ++i) {
    std::byte* dst = static_cast<std::byte*>(c.out[i].data);
    for (int64_t o = 0; o < outer; ++o) std::memcpy(dst + o * split[i] * inner, src + (o * in[axis] + col) * inner, split[i] * inner);
    col += split[i];
  }
  return Status::Ok();
}

Status RunPad(RefCall& c) {
  const Shape& in = c.in[0].shape;
  const int64_t rank = in.size();
  std::vector<int64_t> pads;
  float value = 0;
  if (c.in.size() > 1 && Present(c.in[1])) {
    ACT_RETURN_IF_ERROR(NeedConst(c, 1));
    pads = ReadInts(c.in[1]);
    if (c.in.size() > 2 && Present(c.in[2])) {
      ACT_RETURN_IF_ERROR(NeedConst(c, 2));
      value = ReadFloats(c.in[2])[0];
    }
    if (c.in.size() > 3 && Present(c.in[3])) {
      ACT_RETURN_IF_ERROR(NeedConst(c, 3));
      std::vector<int64_t> axes = ReadInts(c.in[3]);
      std::vector<int64_t> full(2 * rank, 0);
      for (size_t i = 0; i < axes.size(); ++i) {
        const int64_t a = NormAxis(axes[i], rank);
        full[a] = pads[i];
        full[a + rank] = pads[i + axes.size()];
      }
      pads = full;
    }
  } else {
    pads = c.node.GetInts("pads");
    value = c.node.GetFloat("value", 0.f);
  }
  if (static_cast<int64_t>(pads.size()) != 2 * rank) return InvalidInput(c.node.Describe() + ": pads must have 2·rank entries");
  const std::string mode = c.node.GetString("mode", "constant");
  Shape out(rank);
  for (int64_t i = 0; i < rank; ++i) out[i] = in[i] + pads[i] + pads[i + rank];
  SetOut(c, 0, c.in[0].dtype, out);
  if (!c.compute) return Status::Ok();
  if (c.in[0].dtype != DType::kFloat32 && mode == "constant" && value != 0) {
    return Unsupported(c.node.Describe() + ": non-zero constant padding of " + DTypeName(c.in[0].dtype));
  }
  const size_t es = DTypeSize(c.in[0].dtype);
  if (mode == "constant" && rank > 0 && std::all_of(pads.begin(), pads.end(), [](int64_t p) { return p >= 0; })) {
    // Fast path: fill with the value, then copy the input row by row (last axis contiguous).
    const int64_t total = NumElements(out);
    if (c.in[0].dtype == DType::kFloat32) std::fill_n(c.out[0].as<float>(), total, value);
    else std::memset(c.out[0].data, 0, total * es);
    const int64_t row = in[rank - 1], rows = row > 0 ? NumElements(in) / row : 0;
    const auto out_strides = Strides(out);
    std::vector<int64_t> idx(rank, 0);
    for (int64_t r = 0; r < rows; ++r) {
      int64_t off = pads[rank - 1];
      for (int64_t d = 0; d + 1 < rank; ++d) off += (idx[d] + pads[d]) * out_strides[d];
      std::memcpy(static_cast<std::byte*>(c.out[0].data) + off * es, static_cast<const std::byte*>(c.in[0].data) + r * row * es,
                  row * es);
      for (int64_t d = rank - 2; d >= 0; --d) {
        if (++idx[d] < in[d]) break;
        idx[d] = 0;
      }
    }
    return Status::Ok();
  }
  const auto in_strides = Strides(in);
  const int64_t total = NumElements(out);
  const std::byte* src = static_cast<const std::byte*>(c.in[0].data);
  std::byte* dst = static_cast<std::byte*>(c.out[0].data);
  std::vector<int64_t> idx(rank, 0);
  for (int64_t o = 0; o < total; ++o) {
    int64_t off = 0;
    bool inside = true;
    for (int64_t d = 0; d < rank; ++d) {
      int64_t i = idx[d] - pads[d];
      if (i < 0 || i >= in[d]) {
        if (mode == "reflect") {
          if (in[d] == 1) i = 0;
          else { const int64_t p = 2 * (in[d] - 1); i = ((i % p) + p) % p; if (i >= in[d]) i = p - i; }
        } else if (mode == "edge") {
          i = std::clamp<int64_t>(i, 0, in[d] - 1);
        } else {
          inside = false;
          break;
        }
      }
      off += i * in_strides[d];
    }
    if (inside) std::memcpy(dst + o * es, src + off * es, es);
    else if (c.in[0].dtype == DType::kFloat32) reinterpret_cast<float*>(dst)[o] = value;
    else std::memset(dst + o * es, 0, es);
    for (int64_t d = rank - 1; d >= 0; --d) {
      if (++idx[d] < out[d]) break;
      idx[d] = 0;
    }
  }
  return Status::Ok();
}

// Resize (opset 10: X, scales; 11+: X, roi, scales, sizes) and Upsample (X, scales).
// Modes: nearest (all coordinate transformations and nearest modes) and linear (N-linear on the last axes).
Status RunResize(RefCall& c) {
  const Shape& in = c.in[0].shape;
  const int64_t rank = in.size();
  std::vector<float> scales;
  std::vector<int64_t> sizes;
  const bool v10 = c.node.op_type == "Upsample" || (c.opset < 11 && c.node.op_type == "Resize");
  if (v10) {
    if (c.in.size() > 1) { ACT_RETURN_IF_ERROR(NeedConst(c, 1)); scales = ReadFloats(c.in[1]); }
    else scales = c.node.GetFloats("scales");
  } else {
    if (c.in.size() > 2 && Present(c.in[2]) && c.in[2].numel() > 0) { ACT_RETURN_IF_ERROR(NeedConst(c, 2)); scales = ReadFloats(c.in[2]); }
    if (c.in.size() > 3 && Present(c.in[3]) && c.in[3].numel() > 0) { ACT_RETURN_IF_ERROR(NeedConst(c, 3)); sizes = ReadInts(c.in[3]); }
  }
  if (c.node.HasAttr("axes")) return Unsupported(c.node.Describe() + ": the axes attribute is not supported");
  Shape out(rank);
  if (!sizes.empty()) {
    if (static_cast<int64_t>(sizes.size()) != rank) return InvalidInput(c.node.Describe() + ": sizes must have one entry per axis");
    out = sizes;
    scales.resize(rank);
    for (int64_t i = 0; i < rank; ++i) scales[i] = static_cast<float>(out[i]) / in[i];
  } else {
    if (static_cast<int64_t>(scales.size()) != rank) return InvalidInput(c.node.Describe() + ": scales must have one entry per axis");
    for (int64_t i = 0; i < rank; ++i) out[i] = static_cast<int64_t>(std::floor(in[i] * scales[i]));
  }
  SetOut(c, 0, c.in[0].dtype, out);
  if (!c.compute) return Status::Ok();
  const std::string mode = c.node.GetString("mode", "nearest");
  const std::string ctm = v10 ? "asymmetric" : c.node.GetString("coordinate_transformation_mode", "half_pixel");
  const std::string nearest_mode = v10 ? "floor" : c.node.GetString("nearest_mode", "round_prefer_floor");
  auto source = [&](int64_t d, int64_t o) -> float {
    const float scale = scales[d];
    if (ctm == "asymmetric") return o / scale;
    if (ctm == "align_corners") return out[d] == 1 ? 0.f : o * static_cast<float>(in[d] - 1) / (out[d] - 1);
    if (ctm == "pytorch_half_pixel") return out[d] > 1 ? (o + 0.5f) / scale - 0.5f : 0.f;
    return (o + 0.5f) / scale - 0.5f;  // half_pixel (and tf_half_pixel_for_nn approximated)
  };
  const auto in_strides = Strides(in);
  const size_t es = DTypeSize(c.in[0].dtype);
  const std::byte* src = static_cast<const std::byte*>(c.in[0].data);
  std::byte* dst = static_cast<std::byte*>(c.out[0].data);
  if (mode == "nearest") {
    // Precompute the source index of every output coordinate, per axis.
    std::vector<std::vector<int64_t>> map(rank);
    for (int64_t d = 0; d < rank; ++d) {
      map[d].resize(out[d]);
      for (int64_t o = 0; o < out[d]; ++o) {
        const float x = in[d] == out[d] ? static_cast<float>(o) : source(d, o);
        int64_t i;
        if (nearest_mode == "floor") i = static_cast<int64_t>(std::floor(x));
        else if (nearest_mode == "ceil") i = static_cast<int64_t>(std::ceil(x));
        else if (nearest_mode == "round_prefer_ceil") i = static_cast<int64_t>(std::floor(x + 0.5f));
        else i = (x - std::floor(x) == 0.5f) ? static_cast<int64_t>(std::floor(x)) : static_cast<int64_t>(std::lround(x));
        map[d][o] = std::clamp<int64_t>(i, 0, in[d] - 1) * in_strides[d];
      }
    }
    const int64_t last = rank - 1;
    const int64_t rows = NumElements(out) / std::max<int64_t>(out[last], 1);
    std::vector<int64_t> idx(rank, 0);
    for (int64_t r = 0; r < rows; ++r) {
      int64_t base = 0;
      for (int64_t d = 0; d < last; ++d) base += map[d][idx[d]];
      std::byte* row = dst + r * out[last] * es;
      if (es == 4) {
        const uint32_t* s32 = reinterpret_cast<const uint32_t*>(src) + base;
        uint32_t* d32 = reinterpret_cast<uint32_t*>(row);
        for (int64_t o = 0; o < out[last]; ++o) d32[o] = s32[map[last][o]];
      } else {
        for (int64_t o = 0; o < out[last]; ++o) std::memcpy(row + o * es, src + (base + map[last][o]) * es, es);
      }
      for (int64_t d = last - 1; d >= 0; --d) {
        if (++idx[d] < out[d]) break;
        idx[d] = 0;
      }
    }
    return Status::Ok();
  }
  if (mode != "linear" || c.in[0].dtype != DType::kFloat32) {
    return Unsupported(c.node.Describe() + ": Resize mode '" + mode + "' on " + DTypeName(c.in[0].dtype) +
                       " is not supported (nearest, and linear on float32, are)");
  }
  // N-linear: for every resized axis, two source indices and weights.
  struct Tap { int64_t i0, i1; float w0, w1; };
  std::vector<std::vector<Tap>> taps(rank);
  for (int64_t d = 0; d < rank; ++d) {
    taps[d].resize(out[d]);
    for (int64_t o = 0; o < out[d]; ++o) {
      if (in[d] == out[d]) { taps[d][o] = {o, o, 1.f, 0.f}; continue; }
      float x = std::clamp(source(d, o), 0.f, static_cast<float>(in[d] - 1));
      const int64_t i0 = static_cast<int64_t>(std::floor(x));
      const int64_t i1 = std::min(i0 + 1, in[d] - 1);
      const float w1 = x - i0;
      taps[d][o] = {i0, i1, 1.f - w1, w1};
    }
  }
  const float* s = reinterpret_cast<const float*>(src);
  float* o_ptr = reinterpret_cast<float*>(dst);
  const int64_t total = NumElements(out);
  std::vector<int64_t> idx(rank, 0);
  for (int64_t o = 0; o < total; ++o) {
    // Sum over the 2^rank corners (axes with w1 == 0 contribute one corner).
    float acc = 0;
    const int corners = 1 << rank;
    for (int m = 0; m < corners; ++m) {
      float w = 1;
      int64_t off = 0;
      for (int64_t d = 0; d < rank && w != 0; ++d) {
        const Tap& t = taps[d][idx[d]];
        const bool hi = (m >> d) & 1;
        w *= hi ? t.w1 : t.w0;
        off += (hi ? t.i1 : t.i0) * in_strides[d];
      }
      if (w != 0) acc += w * s[off];
    }
    o_ptr[o] = acc;
    for (int64_t d = rank - 1; d >= 0; --d) {
      if (++idx[d] < out[d]) break;
      idx[d] = 0;
    }
  }
  return Status::Ok();
}

Status RunExpand(RefCall& c) {
  ACT_RETURN_IF_ERROR(NeedConst(c, 1));
  ACT_ASSIGN_OR_RETURN(Shape out, BroadcastShapes(c.in[0].shape, ReadInts(c.in[1])));
  SetOut(c, 0, c.in[0].dtype, out);
  if (!c.compute) return Status::Ok();
  const size_t es = DTypeSize(c.in[0].dtype);
  const int64_t rank = out.size();
  Shape in = c.in[0].shape;
  in.insert(in.begin(), rank - in.size(), 1);
  const auto st = Strides(in);
  const int64_t total = NumElements(out);
  std::vector<int64_t> idx(rank, 0);
  const std::byte* src = static_cast<const std::byte*>(c.in[0].data);
  std::byte* dst = static_cast<std::byte*>(c.out[0].data);
  for (int64_t o = 0; o < total; ++o) {
    int64_t off = 0;
    for (int64_t d = 0; d < rank; ++d) off += (in[d] == 1 ? 0 : idx[d]) * st[d];
    std::memcpy(dst + o * es, src + off * es, es);
    for (int64_t d = rank - 1; d >= 0; --d) {
      if (++idx[d] < out[d]) break;
      idx[d] = 0;
    }
  }
  return Status::Ok();
}

Status RunTile(RefCall& c) {
  ACT_RETURN_IF_ERROR(NeedConst(c, 1));
  const std::vector<int64_t> reps = ReadInts(c.in[1]);
  const Shape& in = c.in[0].shape;
  const int64_t rank = in.size();
  Shape out(rank);
  for (int64_t d = 0; d < rank; ++d) out[d] = in[d] * reps[d];
  SetOut(c, 0, c.in[0].dtype, out);
  if (!c.compute) return Status::Ok();
  const size_t es = DTypeSize(c.in[0].dtype);
  const auto st = Strides(in);
  std::vector<int64_t> idx(rank, 0);
  const std::byte* src = static_cast<const std::byte*>(c.in[0].data);
  std::byte* dst = static_cast<std::byte*>(c.out[0].data);
  for (int64_t o = 0; o < NumElements(out); ++o) {
    int64_t off = 0;
    for (int64_t d = 0; d < rank; ++d) off += (idx[d] % in[d]) * st[d];
    std::memcpy(dst + o * es, src + off * es, es);
    for (int64_t d = rank - 1; d >= 0; --d) {
      if (++idx[d] < out[d]) break;
      idx[d] = 0;
    }
  }
  return Status::Ok();
}

// ---- element-wise ---------------------------------------------------------------------------------------

// Visits every output element of a broadcast of up to three inputs: f(o, offset_0, offset_1, offset_2).
template <typename F>
void ForEachBroadcast(const Shape& out, const std::vector<Shape>& ins, F f) {
  const int64_t rank = out.size();
  const size_t n = ins.size();
  std::vector<std::vector<int64_t>> st(n, std::vector<int64_t>(rank, 0));
  for (size_t k = 0; k < n; ++k) {
    Shape s = ins[k];
    s.insert(s.begin(), rank - s.size(), 1);
    const auto full = Strides(s);
    for (int64_t d = 0; d < rank; ++d) st[k][d] = s[d] == 1 ? 0 : full[d];
  }
  const int64_t total = NumElements(out);
  std::vector<int64_t> idx(rank, 0), off(3, 0);
  for (int64_t o = 0; o < total; ++o) {
    f(o, off[0], off[1], off[2]);
    for (int64_t d = rank - 1; d >= 0; --d) {
      if (++idx[d] < out[d]) {
        for (size_t k = 0; k < n; ++k) off[k] += st[k][d];
        break;
      }
      for (size_t k = 0; k < n; ++k) off[k] -= st[k][d] * (out[d] - 1);
      idx[d] = 0;
    }
  }
}

template <typename T, typename R, typename Op>
void BinaryLoop(const View& a, const View& b, const View& out, Op op) {
  const T* pa = a.as<T>();
  const T* pb = b.as<T>();
  R* po = out.as<R>();
  if (a.shape == b.shape) {
    for (int64_t i = 0; i < out.numel(); ++i) po[i] = op(pa[i], pb[i]);
  } else if (b.numel() == 1 && a.numel() == out.numel()) {
    const T v = pb[0];
    for (int64_t i = 0; i < out.numel(); ++i) po[i] = op(pa[i], v);
  } else {
    ForEachBroadcast(out.shape, {a.shape, b.shape}, [&](int64_t o, int64_t i, int64_t j, int64_t) { po[o] = op(pa[i], pb[j]); });
  }
}

template <typename T>
Status ArithmeticTyped(const std::string& op, const View& a, const View& b, const View& out) {
  if (op == "Add") BinaryLoop<T, T>(a, b, out, [](T x, T y) { return x + y; });
  else if (op == "Sub") BinaryLoop<T, T>(a, b, out, [](T x, T y) { return x - y; });
  else if (op == "Mul") BinaryLoop<T, T>(a, b, out, [](T x, T y) { return x * y; });
  else if (op == "Div") {
    if constexpr (std::is_integral_v<T>) BinaryLoop<T, T>(a, b, out, [](T x, T y) { return y == 0 ? T(0) : T(x / y); });
    else BinaryLoop<T, T>(a, b, out, [](T x, T y) { return x / y; });
  } else if (op == "Max") BinaryLoop<T, T>(a, b, out, [](T x, T y) { return std::max(x, y); });
  else if (op == "Min") BinaryLoop<T, T>(a, b, out, [](T x, T y) { return std::min(x, y); });
  else if (op == "Pow") BinaryLoop<T, T>(a, b, out, [](T x, T y) { return static_cast<T>(std::pow(x, y)); });
  else if (op == "Mod") {
    if constexpr (std::is_integral_v<T> && !std::is_same_v<T, bool>) BinaryLoop<T, T>(a, b, out, [](T x, T y) { T m = y == 0 ? 0 : x % y; return (m != 0 && ((m < 0) != (y < 0))) ? T(m + y) : m; });
    else BinaryLoop<T, T>(a, b, out, [](T x, T y) { return std::fmod(x, y); });
  } else if (op == "Equal") BinaryLoop<T, bool>(a, b, out, [](T x, T y) { return x == y; });
  else if (op == "Less") BinaryLoop<T, bool>(a, b, out, [](T x, T y) { return x < y; });
  else if (op == "Greater") BinaryLoop<T, bool>(a, b, out, [](T x, T y) { return x > y; });
  else if (op == "LessOrEqual") BinaryLoop<T, bool>(a, b, out, [](T x, T y) { return x <= y; });
  else if (op == "GreaterOrEqual") BinaryLoop<T, bool>(a, b, out, [](T x, T y) { return x >= y; });
  else if (op == "And") BinaryLoop<T, bool>(a, b, out, [](T x, T y) { return x && y; });
  else if (op == "Or") BinaryLoop<T, bool>(a, b, out, [](T x, T y) { return x || y; });
  else if (op == "Xor") BinaryLoop<T, bool>(a, b, out, [](T x, T y) { return bool(x) != bool(y); });
  else return Unsupported("binary op " + op);
  return Status::Ok();
}

bool IsComparison(const std::string& op) {
  return op == "Equal" || op == "Less" || op == "Greater" || op == "LessOrEqual" || op == "GreaterOrEqual" ||
         op == "And" || op == "Or" || op == "Xor";
}

Status RunBinary(RefCall& c) {
  if (c.in.size() != 2) {
    // Variadic Max/Min/Sum/Mean with one input is a copy; more than two are folded pairwise by the planner.
    if (c.in.size() == 1) { SetOut(c, 0, c.in[0].dtype, c.in[0].shape); return CopyIfNeeded(c); }
    return Unsupported(c.node.Describe() + ": more than two inputs");
  }
  const std::string& op = c.node.op_type == "Sum" ? std::string("Add") : c.node.op_type;
  ACT_ASSIGN_OR_RETURN(Shape out, BroadcastShapes(c.in[0].shape, c.in[1].shape));
  SetOut(c, 0, IsComparison(op) ? DType::kBool : c.in[0].dtype, out);
  if (!c.compute) return Status::Ok();
  if (op == "Pow" && c.in[1].dtype != c.in[0].dtype) {
    // Pow(float x, integer exponent): read the exponent as float.
    std::vector<float> e = ReadFloats(c.in[1]);
    View b{DType::kFloat32, c.in[1].shape, e.data()};
    return ArithmeticTyped<float>(op, c.in[0], b, c.out[0]);
  }
  if (c.in[0].dtype != c.in[1].dtype) return InvalidInput(c.node.Describe() + ": inputs differ in dtype");
  Status s;
  switch (c.in[0].dtype) {
    case DType::kFloat32: s = ArithmeticTyped<float>(op, c.in[0], c.in[1], c.out[0]); break;
    case DType::kFloat64: s = ArithmeticTyped<double>(op, c.in[0], c.in[1], c.out[0]); break;
    case DType::kInt64: s = ArithmeticTyped<int64_t>(op, c.in[0], c.in[1], c.out[0]); break;
    case DType::kInt32: s = ArithmeticTyped<int32_t>(op, c.in[0], c.in[1], c.out[0]); break;
    case DType::kBool: s = ArithmeticTyped<bool>(op, c.in[0], c.in[1], c.out[0]); break;
    default: s = Unsupported("dtype " + DTypeName(c.in[0].dtype));
  }
  return s.ok() ? s : s.WithContext(c.node.Describe());
}

Status RunWhere(RefCall& c) {
  ACT_ASSIGN_OR_RETURN(Shape s1, BroadcastShapes(c.in[1].shape, c.in[2].shape));
  ACT_ASSIGN_OR_RETURN(Shape out, BroadcastShapes(c.in[0].shape, s1));
  SetOut(c, 0, c.in[1].dtype, out);
  if (!c.compute) return Status::Ok();
  const size_t es = DTypeSize(c.in[1].dtype);
  const bool* cond = c.in[0].as<bool>();
  const std::byte* x = static_cast<const std::byte*>(c.in[1].data);
  const std::byte* y = static_cast<const std::byte*>(c.in[2].data);
  std::byte* o = static_cast<std::byte*>(c.out[0].data);
  ForEachBroadcast(out, {c.in[0].shape, c.in[1].shape, c.in[2].shape}, [&](int64_t k, int64_t i, int64_t j, int64_t l) {
    std::memcpy(o + k * es, cond[i] ? x + j * es : y + l * es, es);
  });
  return Status::Ok();
}

Status RunNot(RefCall& c) {
  SetOut(c, 0, DType::kBool, c.in[0].shape);
  if (c.compute) for (int64_t i = 0; i < c.in[0].numel(); ++i) c.out[0].as<bool>()[i] = !c.in[0].as<bool>()[i];
  return Status::Ok();
}

// Float unary ops, each with its formula.
Status RunUnary(RefCall& c) {
  const std::string& op = c.node.op_type;
  SetOut(c, 0, c.in[0].dtype, c.in[0].shape);
  if (!c.compute) return Status::Ok();
  if (c.in[0].dtype == DType::kInt64 && (op == "Neg" || op == "Abs")) {
    const int64_t* x = c.in[0].as<int64_t>();
    int64_t* y = c.out[0].as<int64_t>();
    for (int64_t i = 0; i < c.in[0].numel(); ++i) y[i] = op == "Neg" ? -x[i] : std::abs(x[i]);
    return Status::Ok();
  }
  if (c.in[0].dtype != DType::kFloat32) return Unsupported(c.node.Describe() + ": " + DTypeName(c.in[0].dtype) + " input");
  const float* x = c.in[0].as<float>();
  float* y = c.out[0].as<float>();
  const int64_t n = c.in[0].numel();
  std::function<float(float)> f;
  if (op == "Relu") f = [](float v) { return v > 0 ? v : 0.f; };
  else if (op == "Sigmoid") f = [](float v) { return 1.f / (1.f + std::exp(-v)); };
  else if (op == "Tanh") f = [](float v) { return std::tanh(v); };
  else if (op == "Exp") f = [](float v) { return std::exp(v); };
  else if (op == "Log") f = [](float v) { return std::log(v); };
  else if (op == "Sqrt") f = [](float v) { return std::sqrt(v); };
  else if (op == "Abs") f = [](float v) { return std::abs(v); };
  else if (op == "Neg") f = [](float v) { return -v; };
  else if (op == "Erf") f = [](float v) { return std::erf(v); };
  else if (op == "Floor") f = [](float v) { return std::floor(v); };
  else if (op == "Ceil") f = [](float v) { return std::ceil(v); };
  else if (op == "Round") f = [](float v) { return std::nearbyint(v); };
  else if (op == "Reciprocal") f = [](float v) { return 1.f / v; };
  else if (op == "Softplus") f = [](float v) { return std::log1p(std::exp(v)); };
  else if (op == "Sin") f = [](float v) { return std::sin(v); };
  else if (op == "Cos") f = [](float v) { return std::cos(v); };
  else if (op == "HardSwish") f = [](float v) { return v * std::clamp(v / 6.f + 0.5f, 0.f, 1.f); };
  else if (op == "LeakyRelu") {
    const float alpha = c.node.GetFloat("alpha", 0.01f);
    f = [alpha](float v) { return v >= 0 ? v : alpha * v; };
  } else if (op == "Elu") {
    const float alpha = c.node.GetFloat("alpha", 1.f);
    f = [alpha](float v) { return v >= 0 ? v : alpha * (std::exp(v) - 1.f); };
  } else if (op == "HardSigmoid") {
    const float alpha = c.node.GetFloat("alpha", 0.2f), beta = c.node.GetFloat("beta", 0.5f);
    f = [alpha, beta](float v) { return std::clamp(alpha * v + beta, 0.f, 1.f); };
  } else if (op == "Clip") {
    float lo = -std::numeric_limits<float>::infinity(), hi = std::numeric_limits<float>::infinity();
    if (c.in.size() > 1 && Present(c.in[1])) lo = ReadFloats(c.in[1])[0];
    if (c.in.size() > 2 && Present(c.in[2])) hi = ReadFloats(c.in[2])[0];
    if (c.node.HasAttr("min")) lo = c.node.GetFloat("min", lo);
    if (c.node.HasAttr("max")) hi = c.node.GetFloat("max", hi);
    f = [lo, hi](float v) { return std::min(std::max(v, lo), hi); };
  } else {
    return Unsupported(c.node.Describe() + ": no reference kernel");
  }
  for (int64_t i = 0; i < n; ++i) y[i] = f(x[i]);
  return Status::Ok();
}

// ---- normalisation, softmax, reductions -----------------------------------------------------------------

// softmax(x)_i = exp(x_i − max x) / Σ_j exp(x_j − max x) over `axis` (opset < 13: over all axes from
// `axis` on, the input seen as 2-D).
Status RunSoftmax(RefCall& c) {
  const Shape& in = c.in[0].shape;
  const int64_t rank = in.size();
  SetOut(c, 0, c.in[0].dtype, in);
  if (!c.compute) return Status::Ok();
  const int64_t axis = NormAxis(c.node.GetInt("axis", c.opset < 13 ? 1 : -1), rank);
  int64_t outer, len, inner;
  if (c.opset < 13) {
    outer = NumElements(Shape(in.begin(), in.begin() + axis));
    len = NumElements(Shape(in.begin() + axis, in.end()));
    inner = 1;
  } else {
    outer = NumElements(Shape(in.begin(), in.begin() + axis));
    len = in[axis];
    inner = NumElements(Shape(in.begin() + axis + 1, in.end()));
  }
  const bool log = c.node.op_type == "LogSoftmax";
  const float* x = c.in[0].as<float>();
  float* y = c.out[0].as<float>();
  for (int64_t o = 0; o < outer; ++o) {
    for (int64_t i = 0; i < inner; ++i) {
      const int64_t base = o * len * inner + i;
      float m = -std::numeric_limits<float>::infinity();
      for (int64_t k = 0; k < len; ++k) m = std::max(m, x[base + k * inner]);
      double sum = 0;
      for (int64_t k = 0; k < len; ++k) sum += std::exp(x[base + k * inner] - m);
      for (int64_t k = 0; k < len; ++k) {
        const float e = x[base + k * inner] - m;
        y[base + k * inner] = log ? static_cast<float>(e - std::log(sum)) : static_cast<float>(std::exp(e) / sum);
      }
    }
  }
  return Status::Ok();
}

// y = (x − mean) / sqrt(var + epsilon) · scale + B, per channel (axis 1), inference mode.
Status RunBatchNorm(RefCall& c) {
  const Shape& in = c.in[0].shape;
  SetOut(c, 0, c.in[0].dtype, in);
  if (!c.compute) return Status::Ok();
  const float eps = c.node.GetFloat("epsilon", 1e-5f);
  const int64_t n = in[0], ch = in.size() > 1 ? in[1] : 1;
  const int64_t inner = NumElements(in) / std::max<int64_t>(n * ch, 1);
  const float *x = c.in[0].as<float>(), *g = c.in[1].as<float>(), *b = c.in[2].as<float>();
  const float *mean = c.in[3].as<float>(), *var = c.in[4].as<float>();
  float* y = c.out[0].as<float>();
  for (int64_t k = 0; k < ch; ++k) {
    const float a = g[k] / std::sqrt(var[k] + eps), s = b[k] - mean[k] * a;
    for (int64_t i = 0; i < n; ++i) {
      const int64_t base = (i * ch + k) * inner;
      for (int64_t j = 0; j < inner; ++j) y[base + j] = x[base + j] * a + s;
    }
  }
  return Status::Ok();
}

// LayerNormalization (opset 17): normalise over the axes from `axis` on, then · scale + B.
Status RunLayerNorm(RefCall& c) {
  const Shape& in = c.in[0].shape;
  SetOut(c, 0, c.in[0].dtype, in);
  for (size_t i = 1; i < c.out.size(); ++i) SetOut(c, i, DType::kFloat32, {});
  if (!c.compute) return Status::Ok();
  const int64_t axis = NormAxis(c.node.GetInt("axis", -1), in.size());
  const float eps = c.node.GetFloat("epsilon", 1e-5f);
  const int64_t len = NumElements(Shape(in.begin() + axis, in.end()));
  const int64_t outer = NumElements(in) / std::max<int64_t>(len, 1);
  const float* x = c.in[0].as<float>();
  const float* g = c.in[1].as<float>();
  const float* b = c.in.size() > 2 && Present(c.in[2]) ? c.in[2].as<float>() : nullptr;
  float* y = c.out[0].as<float>();
  for (int64_t o = 0; o < outer; ++o) {
    const float* r = x + o * len;
    double mean = 0, var = 0;
    for (int64_t k = 0; k < len; ++k) mean += r[k];
    mean /= len;
    for (int64_t k = 0; k < len; ++k) var += (r[k] - mean) * (r[k] - mean);
    var /= len;
    const float inv = static_cast<float>(1.0 / std::sqrt(var + eps));
    for (int64_t k = 0; k < len; ++k) y[o * len + k] = static_cast<float>((r[k] - mean) * inv) * g[k] + (b ? b[k] : 0.f);
  }
  return Status::Ok();
}

Status RunReduce(RefCall& c) {
  const Shape& in = c.in[0].shape;
  const int64_t rank = in.size();
  std::vector<int64_t> axes;
  if (c.in.size() > 1 && Present(c.in[1])) { ACT_RETURN_IF_ERROR(NeedConst(c, 1)); axes = ReadInts(c.in[1]); }
  else axes = c.node.GetInts("axes");
  const bool keep = c.node.GetInt("keepdims", 1) != 0;
  std::vector<bool> reduced(rank, axes.empty() && c.node.GetInt("noop_with_empty_axes", 0) == 0);
  for (int64_t a : axes) reduced[NormAxis(a, rank)] = true;
  Shape out, kept;
  for (int64_t d = 0; d < rank; ++d) {
    kept.push_back(reduced[d] ? 1 : in[d]);
    if (!reduced[d]) out.push_back(in[d]); else if (keep) out.push_back(1);
  }
  SetOut(c, 0, c.in[0].dtype, out);
  if (!c.compute) return Status::Ok();
  if (c.in[0].dtype != DType::kFloat32) return Unsupported(c.node.Describe() + ": " + DTypeName(c.in[0].dtype) + " input");
  const std::string& op = c.node.op_type;
  const int64_t n_out = NumElements(kept);
  std::vector<double> acc(n_out, op == "ReduceMax" ? -INFINITY : op == "ReduceMin" ? INFINITY : op == "ReduceProd" ? 1.0 : 0.0);
  const float* x = c.in[0].as<float>();
  const auto kst = Strides(kept);
  std::vector<int64_t> idx(rank, 0);
  for (int64_t i = 0; i < NumElements(in); ++i) {
    int64_t o = 0;
    for (int64_t d = 0; d < rank; ++d) if (!reduced[d]) o += idx[d] * kst[d];
    const double v = x[i];
    if (op == "ReduceMax") acc[o] = std::max(acc[o], v);
    else if (op == "ReduceMin") acc[o] = std::min(acc[o], v);
    else if (op == "ReduceProd") acc[o] *= v;
    else if (op == "ReduceSumSquare") acc[o] += v * v;
    else acc[o] += v;
    for (int64_t d = rank - 1; d >= 0; --d) {
      if (++idx[d] < in[d]) break;
      idx[d] = 0;
    }
  }
  const double count = static_cast<double>(NumElements(in)) / std::max<int64_t>(n_out, 1);
  float* y = c.out[0].as<float>();
  for (int64_t o = 0; o < n_out; ++o) y[o] = static_cast<float>(op == "ReduceMean" ? acc[o] / count : acc[o]);
  return Status::Ok();
}

// ArgMax/ArgMin over one axis (first occurrence on ties).
Status RunArgMax(RefCall& c) {
  const Shape& in = c.in[0].shape;
  const int64_t axis = NormAxis(c.node.GetInt("axis", 0), in.size());
  const bool keep = c.node.GetInt("keepdims", 1) != 0;
  Shape out;
  for (size_t d = 0; d < in.size(); ++d) {
    if (static_cast<int64_t>(d) != axis) out.push_back(in[d]); else if (keep) out.push_back(1);
  }
  SetOut(c, 0, DType::kInt64, out);
  if (!c.compute) return Status::Ok();
  const int64_t outer = NumElements(Shape(in.begin(), in.begin() + axis)), len = in[axis];
  const int64_t inner = NumElements(Shape(in.begin() + axis + 1, in.end()));
  const float* x = c.in[0].as<float>();
  const bool is_max = c.node.op_type == "ArgMax";
  for (int64_t o = 0; o < outer; ++o) {
    for (int64_t i = 0; i < inner; ++i) {
      int64_t best = 0;
      for (int64_t k = 1; k < len; ++k) {
        const float v = x[(o * len + k) * inner + i], b = x[(o * len + best) * inner + i];
        if (is_max ? v > b : v < b) best = k;
      }
      c.out[0].as<int64_t>()[o * inner + i] = best;
    }
  }
  return Status::Ok();
}


// ---- convolution, matrix products, pooling (2-D): plain loops, the reference for the oneDNN kernels -----

struct Geometry2d {
  int64_t out[2], pad[2];
};
// out = floor_or_ceil((in + pad_begin + pad_end − ((k − 1)·d + 1)) / s) + 1 (ONNX, with auto_pad and the
// rule that a ceil_mode window must start inside the input or its left padding).
Expected<Geometry2d> Geometry(const ir::Node& node, const Shape& in, const std::vector<int64_t>& k,
                              const std::vector<int64_t>& s, const std::vector<int64_t>& d, bool ceil_mode) {
  Geometry2d g{};
  std::vector<int64_t> pads = node.GetInts("pads", {0, 0, 0, 0});
  const std::string auto_pad = node.GetString("auto_pad", "NOTSET");
  for (int i = 0; i < 2; ++i) {
    const int64_t ext = (k[i] - 1) * d[i] + 1, x = in[2 + i];
    if (auto_pad == "SAME_UPPER" || auto_pad == "SAME_LOWER") {
      g.out[i] = (x + s[i] - 1) / s[i];
      const int64_t total = std::max<int64_t>((g.out[i] - 1) * s[i] + ext - x, 0);
      g.pad[i] = auto_pad == "SAME_UPPER" ? total / 2 : total - total / 2;
      continue;
    }
    const int64_t pb = auto_pad == "VALID" ? 0 : pads[i], pe = auto_pad == "VALID" ? 0 : pads[i + 2];
    const int64_t span = x + pb + pe - ext;
    g.out[i] = (ceil_mode ? (span + s[i] - 1) / s[i] : span / s[i]) + 1;
    if (ceil_mode && (g.out[i] - 1) * s[i] >= x + pb) --g.out[i];
    g.pad[i] = pb;
    if (g.out[i] <= 0) return InvalidInput(node.Describe() + ": the window is larger than the padded input");
  }
  return g;
}

// y[n,o,i,j] = b[o] + Σ_{c,u,v} x[n, g·C/G + c, i·s0 − p0 + u·d0, j·s1 − p1 + v·d1] · w[o,c,u,v]
Status RunConv(RefCall& c) {
  const Shape& xs = c.in[0].shape;
  const Shape& ws = c.in[1].shape;
  if (xs.size() != 4 || ws.size() != 4) return Unsupported(c.node.Describe() + ": the reference Conv is 2-D only");
  const int64_t group = c.node.GetInt("group", 1), O = ws[0], C = xs[1], Cg = C / group, Og = O / group;
  const std::vector<int64_t> k = {ws[2], ws[3]};
  const std::vector<int64_t> s = c.node.GetInts("strides", {1, 1}), d = c.node.GetInts("dilations", {1, 1});
  ACT_ASSIGN_OR_RETURN(Geometry2d g, Geometry(c.node, xs, k, s, d, false));
  SetOut(c, 0, DType::kFloat32, {xs[0], O, g.out[0], g.out[1]});
  if (!c.compute) return Status::Ok();
  const float* x = c.in[0].as<float>();
  const float* w = c.in[1].as<float>();
  const float* b = c.in.size() > 2 && Present(c.in[2]) ? c.in[2].as<float>() : nullptr;
  float* y = c.out[0].as<float>();
  const int64_t H = xs[2], W = xs[3];
  for (int64_t n = 0; n < xs[0]; ++n)
    for (int64_t o = 0; o < O; ++o) {
      const int64_t gi = o / Og;
      for (int64_t i = 0; i < g.out[0]; ++i)
        for (int64_t j = 0; j < g.out[1]; ++j) {
          double acc = b ? b[o] : 0.0;
          for (int64_t cc = 0; cc < Cg; ++cc)
            for (int64_t u = 0; u < k[0]; ++u) {
              const int64_t h = i * s[0] - g.pad[0] + u * d[0];
              if (h < 0 || h >= H) continue;
              for (int64_t v = 0; v < k[1]; ++v) {
                const int64_t ww = j * s[1] - g.pad[1] + v * d[1];
                if (ww < 0 || ww >= W) continue;
                acc += static_cast<double>(x[((n * C + gi * Cg + cc) * H + h) * W + ww]) * w[((o * Cg + cc) * k[0] + u) * k[1] + v];
              }
            }
          y[((n * O + o) * g.out[0] + i) * g.out[1] + j] = static_cast<float>(acc);
        }
    }
  return Status::Ok();
}

// y[n, g·O/G + o, i·s − p + u·d, ...] += x[n, g·C/G + c, i, j] · w[g·C/G + c, o, u, v] (+ b), explicit pads
// and output_padding (output_shape and auto_pad are handled by the oneDNN lowering only).
Status RunConvTranspose(RefCall& c) {
  const Shape& xs = c.in[0].shape;
  const Shape& ws = c.in[1].shape;
  if (xs.size() != 4 || ws.size() != 4 || c.node.HasAttr("output_shape") || c.node.GetString("auto_pad", "NOTSET") != "NOTSET") {
    return Unsupported(c.node.Describe() + ": the reference ConvTranspose is 2-D with explicit pads only");
  }
  const int64_t group = c.node.GetInt("group", 1), C = xs[1], Cg = C / group, Og = ws[1], O = Og * group;
  const std::vector<int64_t> s = c.node.GetInts("strides", {1, 1}), d = c.node.GetInts("dilations", {1, 1});
  const std::vector<int64_t> p = c.node.GetInts("pads", {0, 0, 0, 0}), op = c.node.GetInts("output_padding", {0, 0});
  Shape out = {xs[0], O};
  for (int i = 0; i < 2; ++i) out.push_back(s[i] * (xs[2 + i] - 1) + op[i] + (ws[2 + i] - 1) * d[i] + 1 - p[i] - p[i + 2]);
  SetOut(c, 0, DType::kFloat32, out);
  if (!c.compute) return Status::Ok();
  const float* x = c.in[0].as<float>();
  const float* w = c.in[1].as<float>();
  const float* b = c.in.size() > 2 && Present(c.in[2]) ? c.in[2].as<float>() : nullptr;
  float* y = c.out[0].as<float>();
  const int64_t OH = out[2], OW = out[3], plane = OH * OW;
  for (int64_t n = 0; n < xs[0]; ++n)
    for (int64_t o = 0; o < O; ++o)
      for (int64_t q = 0; q < plane; ++q) y[(n * O + o) * plane + q] = b ? b[o] : 0.f;
  for (int64_t n = 0; n < xs[0]; ++n)
    for (int64_t ci = 0; ci < C; ++ci) {
      const int64_t gi = ci / Cg;
      for (int64_t i = 0; i < xs[2]; ++i)
        for (int64_t j = 0; j < xs[3]; ++j) {
          const float v = x[((n * C + ci) * xs[2] + i) * xs[3] + j];
          for (int64_t o = 0; o < Og; ++o)
            for (int64_t u = 0; u < ws[2]; ++u) {
              const int64_t h = i * s[0] - p[0] + u * d[0];
              if (h < 0 || h >= OH) continue;
              for (int64_t t = 0; t < ws[3]; ++t) {
                const int64_t ww = j * s[1] - p[1] + t * d[1];
                if (ww < 0 || ww >= OW) continue;
                y[((n * O + gi * Og + o) * OH + h) * OW + ww] += v * w[((ci * Og + o) * ws[2] + u) * ws[3] + t];
              }
            }
        }
    }
  return Status::Ok();
}

// Batched matrix product with numpy broadcasting of the batch axes; 1-D operands as in numpy.matmul.
Status RunMatMul(RefCall& c) {
  Shape a = c.in[0].shape, b = c.in[1].shape;
  const bool a1 = a.size() == 1, b1 = b.size() == 1;
  if (a1) a.insert(a.begin(), 1);
  if (b1) b.push_back(1);
  const int64_t M = a[a.size() - 2], K = a.back(), N = b.back();
  if (b[b.size() - 2] != K) return InvalidInput(c.node.Describe() + ": inner dimensions differ");
  ACT_ASSIGN_OR_RETURN(Shape batch, BroadcastShapes(Shape(a.begin(), a.end() - 2), Shape(b.begin(), b.end() - 2)));
  Shape out = batch;
  if (!a1) out.push_back(M);
  if (!b1) out.push_back(N);
  SetOut(c, 0, DType::kFloat32, out);
  if (!c.compute) return Status::Ok();
  const float* pa = c.in[0].as<float>();
  const float* pb = c.in[1].as<float>();
  float* py = c.out[0].as<float>();
  Shape ab(a.begin(), a.end() - 2), bb(b.begin(), b.end() - 2);
  ForEachBroadcast(batch.empty() ? Shape{1} : batch, {ab.empty() ? Shape{1} : ab, bb.empty() ? Shape{1} : bb},
                   [&](int64_t o, int64_t i, int64_t j, int64_t) {
                     const float* x = pa + i * M * K;
                     const float* w = pb + j * K * N;
                     float* y = py + o * M * N;
                     for (int64_t m = 0; m < M; ++m)
                       for (int64_t n = 0; n < N; ++n) {
                         double acc = 0;
                         for (int64_t kk = 0; kk < K; ++kk) acc += static_cast<double>(x[m * K + kk]) * w[kk * N + n];
                         y[m * N + n] = static_cast<float>(acc);
                       }
                   });
  return Status::Ok();
}

// Y = alpha · op(A) · op(B) + beta · C (C broadcast to [M, N]).
Status RunGemm(RefCall& c) {
  const Shape &as = c.in[0].shape, &bs = c.in[1].shape;
  const bool ta = c.node.GetInt("transA", 0) != 0, tb = c.node.GetInt("transB", 0) != 0;
  const int64_t M = ta ? as[1] : as[0], K = ta ? as[0] : as[1], N = tb ? bs[0] : bs[1];
  SetOut(c, 0, DType::kFloat32, {M, N});
  if (!c.compute) return Status::Ok();
  const float alpha = c.node.GetFloat("alpha", 1.f), beta = c.node.GetFloat("beta", 1.f);
  const float* a = c.in[0].as<float>();
  const float* b = c.in[1].as<float>();
  const bool has_c = c.in.size() > 2 && Present(c.in[2]);
  Shape cs = has_c ? c.in[2].shape : Shape{};
  cs.insert(cs.begin(), 2 - std::min<size_t>(2, cs.size()), 1);
  float* y = c.out[0].as<float>();
  for (int64_t m = 0; m < M; ++m)
    for (int64_t n = 0; n < N; ++n) {
      double acc = 0;
      for (int64_t k = 0; k < K; ++k) acc += static_cast<double>(ta ? a[k * M + m] : a[m * K + k]) * (tb ? b[n * K + k] : b[k * N + n]);
      float v = alpha * static_cast<float>(acc);
      if (has_c) v += beta * c.in[2].as<float>()[(cs[0] == 1 ? 0 : m) * cs[1] + (cs[1] == 1 ? 0 : n)];
      y[m * N + n] = v;
    }
  return Status::Ok();
}

// Max / average over each window (average: over the valid elements, or the whole window with
// count_include_pad); Global* pools take the whole plane.
Status RunPool(RefCall& c) {
  const Shape& xs = c.in[0].shape;
  if (xs.size() != 4) return Unsupported(c.node.Describe() + ": the reference pooling is 2-D only");
  const std::string& op = c.node.op_type;
  const bool global = op.rfind("Global", 0) == 0, is_max = op.find("Max") != std::string::npos;
  const std::vector<int64_t> k = global ? std::vector<int64_t>{xs[2], xs[3]} : c.node.GetInts("kernel_shape");
  const std::vector<int64_t> s = global ? std::vector<int64_t>{1, 1} : c.node.GetInts("strides", {1, 1});
  const std::vector<int64_t> d = global ? std::vector<int64_t>{1, 1} : c.node.GetInts("dilations", {1, 1});
  ACT_ASSIGN_OR_RETURN(Geometry2d g, Geometry(c.node, xs, k, s, d, !global && c.node.GetInt("ceil_mode", 0) != 0));
  SetOut(c, 0, DType::kFloat32, {xs[0], xs[1], g.out[0], g.out[1]});
  if (!c.compute) return Status::Ok();
  const bool include_pad = c.node.GetInt("count_include_pad", 0) != 0;
  const std::vector<int64_t> pads = c.node.GetInts("pads", {0, 0, 0, 0});
  const float* x = c.in[0].as<float>();
  float* y = c.out[0].as<float>();
  const int64_t H = xs[2], W = xs[3];
  for (int64_t nc = 0; nc < xs[0] * xs[1]; ++nc)
    for (int64_t i = 0; i < g.out[0]; ++i)
      for (int64_t j = 0; j < g.out[1]; ++j) {
        double acc = is_max ? -INFINITY : 0.0;
        int64_t count = 0, padded = 0;
        for (int64_t u = 0; u < k[0]; ++u)
          for (int64_t v = 0; v < k[1]; ++v) {
            const int64_t h = i * s[0] - g.pad[0] + u * d[0], w = j * s[1] - g.pad[1] + v * d[1];
            // Positions inside the explicit padding count for count_include_pad; ceil_mode overhang does not.
            if (h >= -g.pad[0] && h < H + (global ? 0 : pads[2]) && w >= -g.pad[1] && w < W + (global ? 0 : pads[3])) ++padded;
            if (h < 0 || h >= H || w < 0 || w >= W) continue;
            const float val = x[(nc * H + h) * W + w];
            acc = is_max ? std::max<double>(acc, val) : acc + val;
            ++count;
          }
        y[(nc * g.out[0] + i) * g.out[1] + j] =
            static_cast<float>(is_max ? acc : acc / std::max<int64_t>(include_pad ? padded : count, 1));
      }
  return Status::Ok();
}

// ---- quantization ---------------------------------------------------------------------------------------

// Per-tensor (scale of one element) or per-axis (scale of length shape[axis]) parameters.
struct AxisParams {
  std::vector<float> scale;
  std::vector<int64_t> zero;
  int64_t outer = 1, len = 1, inner = 1;
};
Expected<AxisParams> ReadAxisParams(const RefCall& c) {
  AxisParams p;
  p.scale = ReadFloats(c.in[1]);
  if (c.in.size() > 2 && Present(c.in[2])) p.zero = ReadInts(c.in[2]);
  else p.zero.assign(p.scale.size(), 0);
  const Shape& in = c.in[0].shape;
  if (p.scale.size() == 1) {
    p.inner = NumElements(in);
    return p;
  }
  const int64_t axis = NormAxis(c.node.GetInt("axis", 1), in.size());
  p.outer = NumElements(Shape(in.begin(), in.begin() + axis));
  p.len = in[axis];
  p.inner = NumElements(Shape(in.begin() + axis + 1, in.end()));
  if (static_cast<int64_t>(p.scale.size()) != p.len || p.zero.size() != p.scale.size()) {
    return InvalidInput(c.node.Describe() + ": scale/zero point length does not match axis " + std::to_string(axis));
  }
  return p;
}

// y = (x − zero_point) · scale
Status RunDequantize(RefCall& c) {
  SetOut(c, 0, DType::kFloat32, c.in[0].shape);
  if (!c.compute) return Status::Ok();
  ACT_ASSIGN_OR_RETURN(AxisParams p, ReadAxisParams(c));
  const std::vector<int64_t> q = ReadInts(c.in[0]);
  float* y = c.out[0].as<float>();
  for (int64_t o = 0; o < p.outer; ++o)
    for (int64_t k = 0; k < p.len; ++k)
      for (int64_t i = 0; i < p.inner; ++i) {
        const int64_t at = (o * p.len + k) * p.inner + i;
        y[at] = static_cast<float>(q[at] - p.zero[k]) * p.scale[k];
      }
  return Status::Ok();
}

// q = saturate(round_half_even(x / scale) + zero_point); dtype of the zero point (uint8 by default).
Status RunQuantize(RefCall& c) {
  const DType dtype = c.in.size() > 2 && Present(c.in[2]) ? c.in[2].dtype : DType::kUInt8;
  SetOut(c, 0, dtype, c.in[0].shape);
  if (!c.compute) return Status::Ok();
  ACT_ASSIGN_OR_RETURN(AxisParams p, ReadAxisParams(c));
  const float* x = c.in[0].as<float>();
  const float lo = dtype == DType::kInt8 ? -128.f : 0.f, hi = dtype == DType::kInt8 ? 127.f : 255.f;
  for (int64_t o = 0; o < p.outer; ++o)
    for (int64_t k = 0; k < p.len; ++k)
      for (int64_t i = 0; i < p.inner; ++i) {
        const int64_t at = (o * p.len + k) * p.inner + i;
        const float v = std::clamp(std::nearbyint(x[at] / p.scale[k]) + p.zero[k], lo, hi);
        if (dtype == DType::kInt8) c.out[0].as<int8_t>()[at] = static_cast<int8_t>(v);
        else c.out[0].as<uint8_t>()[at] = static_cast<uint8_t>(v);
      }
  return Status::Ok();
}

}  // namespace

Expected<Shape> BroadcastShapes(const Shape& a, const Shape& b) {
  const size_t rank = std::max(a.size(), b.size());
  Shape out(rank);
  for (size_t i = 0; i < rank; ++i) {
    const int64_t da = i < rank - a.size() ? 1 : a[i - (rank - a.size())];
    const int64_t db = i < rank - b.size() ? 1 : b[i - (rank - b.size())];
    if (da != db && da != 1 && db != 1) {
      return InvalidInput("shapes " + ShapeToString(a) + " and " + ShapeToString(b) + " do not broadcast");
    }
    out[i] = da == 1 ? db : da;
  }
  return out;
}

const std::vector<RefOpInfo>& ReferenceOps() {
  static const std::vector<RefOpInfo> kOps = {
      // shape views (no copy)
      {"Reshape", &RunReshape, {1}, true},
      {"Flatten", &RunFlatten, {}, true},
      {"Squeeze", &RunSqueeze, {1}, true},
      {"Unsqueeze", &RunUnsqueeze, {1}, true},
      {"Identity", &RunIdentity, {}, true},
      {"Dropout", &RunIdentity, {}, true},
      // shapes and constants
      {"Shape", &RunShape, {}},
      {"Size", &RunSize, {}},
      {"ConstantOfShape", &RunConstantOfShape, {0}},
      {"Range", &RunRange, {0, 1, 2}},
      {"Cast", &RunCast, {}},
      // data movement
      {"Transpose", &RunTranspose, {}},
      {"Concat", &RunConcat, {}},
      {"Gather", &RunGather, {}},
      {"Slice", &RunSlice, {1, 2, 3, 4}},
      {"Split", &RunSplit, {1}},
      {"Pad", &RunPad, {1, 2, 3}},
      {"Resize", &RunResize, {1, 2, 3}},
      {"Upsample", &RunResize, {1}},
      {"Expand", &RunExpand, {1}},
      {"Tile", &RunTile, {1}},
      {"Where", &RunWhere, {}},
      // element-wise
      {"Add", &RunBinary, {}}, {"Sub", &RunBinary, {}}, {"Mul", &RunBinary, {}}, {"Div", &RunBinary, {}},
      {"Pow", &RunBinary, {}}, {"Max", &RunBinary, {}}, {"Min", &RunBinary, {}}, {"Sum", &RunBinary, {}},
      {"Mod", &RunBinary, {}}, {"Equal", &RunBinary, {}}, {"Less", &RunBinary, {}},
      {"Greater", &RunBinary, {}}, {"LessOrEqual", &RunBinary, {}}, {"GreaterOrEqual", &RunBinary, {}},
      {"And", &RunBinary, {}}, {"Or", &RunBinary, {}}, {"Xor", &RunBinary, {}}, {"Not", &RunNot, {}},
      {"Relu", &RunUnary, {}}, {"Sigmoid", &RunUnary, {}}, {"Tanh", &RunUnary, {}}, {"Exp", &RunUnary, {}},
      {"Log", &RunUnary, {}}, {"Sqrt", &RunUnary, {}}, {"Abs", &RunUnary, {}}, {"Neg", &RunUnary, {}},
      {"Erf", &RunUnary, {}}, {"Floor", &RunUnary, {}}, {"Ceil", &RunUnary, {}}, {"Round", &RunUnary, {}},
      {"Reciprocal", &RunUnary, {}}, {"Softplus", &RunUnary, {}}, {"Sin", &RunUnary, {}}, {"Cos", &RunUnary, {}},
      {"HardSwish", &RunUnary, {}}, {"LeakyRelu", &RunUnary, {}}, {"Elu", &RunUnary, {}},
      {"HardSigmoid", &RunUnary, {}}, {"Clip", &RunUnary, {}},
      // normalisation, softmax, reductions
      {"Softmax", &RunSoftmax, {}}, {"LogSoftmax", &RunSoftmax, {}},
      {"BatchNormalization", &RunBatchNorm, {}}, {"LayerNormalization", &RunLayerNorm, {}},
      {"ReduceMean", &RunReduce, {1}}, {"ReduceSum", &RunReduce, {1}}, {"ReduceMax", &RunReduce, {1}},
      {"ReduceMin", &RunReduce, {1}}, {"ReduceProd", &RunReduce, {1}}, {"ReduceSumSquare", &RunReduce, {1}},
      {"ArgMax", &RunArgMax, {}}, {"ArgMin", &RunArgMax, {}},
      // convolution, matrix products, pooling (the references of the oneDNN lowerings)
      {"Conv", &RunConv, {}}, {"ConvTranspose", &RunConvTranspose, {}},
      {"MatMul", &RunMatMul, {}}, {"Gemm", &RunGemm, {}},
      {"MaxPool", &RunPool, {}}, {"AveragePool", &RunPool, {}},
      {"GlobalAveragePool", &RunPool, {}}, {"GlobalMaxPool", &RunPool, {}},
      // quantization
      {"DequantizeLinear", &RunDequantize, {}}, {"QuantizeLinear", &RunQuantize, {}},
  };
  return kOps;
}

const RefOpInfo* FindReferenceOp(const std::string& op_type) {
  for (const auto& op : ReferenceOps()) if (op_type == op.op_type) return &op;
  return nullptr;
}

Expected<std::vector<Tensor>> RunReferenceOp(const ir::Node& node, int64_t opset, const std::vector<Tensor>& inputs) {
  const RefOpInfo* info = FindReferenceOp(node.op_type);
  if (!info) return Unsupported(node.Describe() + ": no reference kernel for op type " + node.op_type);
  std::vector<View> in;
  for (const Tensor& t : inputs) in.push_back(View{t.dtype(), t.shape(), const_cast<void*>(t.raw_data())});
  std::vector<View> out(node.outputs.size());
  RefCall plan_call{node, opset, in, out, false};
  ACT_RETURN_IF_ERROR(info->run(plan_call));
  std::vector<Tensor> result;
  for (View& v : out) {
    result.emplace_back(v.dtype, v.shape);
    v.data = result.back().raw_data();
  }
  RefCall run_call{node, opset, in, out, true};
  ACT_RETURN_IF_ERROR(info->run(run_call));
  return result;
}

}  // namespace act::runtime::onednn
