#include "act/tensor.h"

#include <cstring>
#include <stdexcept>

namespace act {

size_t DTypeSize(DType dtype) {
  switch (dtype) {
    case DType::kFloat32: case DType::kInt32: case DType::kUInt32: return 4;
    case DType::kUInt8: case DType::kInt8: case DType::kBool: return 1;
    case DType::kUInt16: case DType::kInt16: case DType::kFloat16: case DType::kBFloat16: return 2;
    case DType::kInt64: case DType::kFloat64: case DType::kUInt64: return 8;
    case DType::kUndefined: case DType::kString: return 0;
  }
  return 0;
}

std::string DTypeName(DType dtype) {
  switch (dtype) {
    case DType::kFloat32: return "float32";
    case DType::kUInt8: return "uint8";
    case DType::kInt8: return "int8";
    case DType::kUInt16: return "uint16";
    case DType::kInt16: return "int16";
    case DType::kInt32: return "int32";
    case DType::kInt64: return "int64";
    case DType::kString: return "string";
    case DType::kBool: return "bool";
    case DType::kFloat16: return "float16";
    case DType::kFloat64: return "float64";
    case DType::kUInt32: return "uint32";
    case DType::kUInt64: return "uint64";
    case DType::kBFloat16: return "bfloat16";
    case DType::kUndefined: return "undefined";
  }
  return "dtype(" + std::to_string(static_cast<int>(dtype)) + ")";
}

int64_t NumElements(const Shape& shape) {
  int64_t n = 1;
  for (int64_t d : shape) n *= d;
  return n;
}

std::string ShapeToString(const Shape& shape) {
  std::string s = "[";
  for (size_t i = 0; i < shape.size(); ++i) s += (i ? "," : "") + std::to_string(shape[i]);
  return s + "]";
}

Tensor::Tensor(DType dtype, Shape shape) : dtype_(dtype), shape_(std::move(shape)) {
  storage_ = std::make_shared<std::vector<std::byte>>(nbytes());
}

Tensor Tensor::FromBytes(DType dtype, Shape shape, const void* src, size_t num_bytes) {
  Tensor t(dtype, std::move(shape));
  if (num_bytes != t.nbytes()) {
    throw std::invalid_argument("Tensor::FromBytes: " + std::to_string(num_bytes) + " bytes given for " +
                                DTypeName(dtype) + ShapeToString(t.shape()) + " which needs " +
                                std::to_string(t.nbytes()));
  }
  if (num_bytes) std::memcpy(t.raw_data(), src, num_bytes);
  return t;
}

Tensor Tensor::Reshaped(Shape shape) const {
  int64_t known = 1;
  int infer = -1;
  for (size_t i = 0; i < shape.size(); ++i) {
    if (shape[i] == -1) infer = static_cast<int>(i); else known *= shape[i];
  }
  if (infer >= 0) shape[infer] = known == 0 ? 0 : numel() / known;
  if (NumElements(shape) != numel()) {
    throw std::invalid_argument("Tensor::Reshaped: cannot view " + ShapeToString(shape_) + " as " +
                                ShapeToString(shape));
  }
  Tensor t = *this;
  t.shape_ = std::move(shape);
  return t;
}

Tensor Tensor::Clone() const {
  if (!defined()) return Tensor();
  return FromBytes(dtype_, shape_, raw_data(), nbytes());
}

namespace {
template <typename T>
double Read(const void* p, int64_t i) { return static_cast<double>(static_cast<const T*>(p)[i]); }
template <typename T>
void Write(void* p, int64_t i, double v) { static_cast<T*>(p)[i] = static_cast<T>(v); }
}  // namespace

double Tensor::ElementAsDouble(int64_t i) const {
  const void* p = raw_data();
  switch (dtype_) {
    case DType::kFloat32: return Read<float>(p, i);
    case DType::kFloat64: return Read<double>(p, i);
    case DType::kUInt8: return Read<uint8_t>(p, i);
    case DType::kInt8: return Read<int8_t>(p, i);
    case DType::kInt16: return Read<int16_t>(p, i);
    case DType::kUInt16: return Read<uint16_t>(p, i);
    case DType::kInt32: return Read<int32_t>(p, i);
    case DType::kUInt32: return Read<uint32_t>(p, i);
    case DType::kInt64: return Read<int64_t>(p, i);
    case DType::kUInt64: return Read<uint64_t>(p, i);
    case DType::kBool: return Read<bool>(p, i);
    default: throw std::invalid_argument("Tensor::ElementAsDouble: unsupported dtype " + DTypeName(dtype_));
  }
}

Tensor Tensor::CastTo(DType dtype) const {
  if (dtype == dtype_) return *this;
  Tensor out(dtype, shape_);
  void* q = out.raw_data();
  const int64_t n = numel();
  for (int64_t i = 0; i < n; ++i) {
    double v = ElementAsDouble(i);
    switch (dtype) {
      case DType::kFloat32: Write<float>(q, i, v); break;
      case DType::kFloat64: Write<double>(q, i, v); break;
      case DType::kUInt8: Write<uint8_t>(q, i, v); break;
      case DType::kInt8: Write<int8_t>(q, i, v); break;
      case DType::kInt16: Write<int16_t>(q, i, v); break;
      case DType::kUInt16: Write<uint16_t>(q, i, v); break;
      case DType::kInt32: Write<int32_t>(q, i, v); break;
      case DType::kUInt32: Write<uint32_t>(q, i, v); break;
      case DType::kInt64: Write<int64_t>(q, i, v); break;
      case DType::kUInt64: Write<uint64_t>(q, i, v); break;
      case DType::kBool: Write<bool>(q, i, v != 0.0); break;
      default: throw std::invalid_argument("Tensor::CastTo: unsupported dtype " + DTypeName(dtype));
    }
  }
  return out;
}

}  // namespace act
