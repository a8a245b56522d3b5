// Tensor: a dense, contiguous, row-major CPU tensor with shared storage.
// It is the currency between modules that must not depend on libtorch (graph initializers, data sets,
// metrics, the oneDNN runtime). The executor converts to and from at::Tensor at its boundary.
#pragma once

#include <cstddef>
#include <cstdint>
#include <memory>
#include <string>
#include <vector>

namespace act {

// Values follow onnx::TensorProto_DataType so conversion is a cast.
enum class DType : int32_t {
  kUndefined = 0,
  kFloat32 = 1,
  kUInt8 = 2,
  kInt8 = 3,
  kUInt16 = 4,
  kInt16 = 5,
  kInt32 = 6,
  kInt64 = 7,
  kString = 8,
  kBool = 9,
  kFloat16 = 10,
  kFloat64 = 11,
  kUInt32 = 12,
  kUInt64 = 13,
  kBFloat16 = 16,
};

// Bytes per element; 0 for kUndefined and kString (strings are not stored in Tensor).
size_t DTypeSize(DType dtype);
// "float32", "int8", ...; "dtype(<n>)" for values we do not name.
std::string DTypeName(DType dtype);

using Shape = std::vector<int64_t>;
int64_t NumElements(const Shape& shape);
std::string ShapeToString(const Shape& shape);  // "[1,3,224,224]"

template <typename T> struct DTypeOf;
template <> struct DTypeOf<float> { static constexpr DType value = DType::kFloat32; };
template <> struct DTypeOf<double> { static constexpr DType value = DType::kFloat64; };
template <> struct DTypeOf<uint8_t> { static constexpr DType value = DType::kUInt8; };
template <> struct DTypeOf<int8_t> { static constexpr DType value = DType::kInt8; };
template <> struct DTypeOf<int16_t> { static constexpr DType value = DType::kInt16; };
template <> struct DTypeOf<int32_t> { static constexpr DType value = DType::kInt32; };
template <> struct DTypeOf<int64_t> { static constexpr DType value = DType::kInt64; };
template <> struct DTypeOf<bool> { static constexpr DType value = DType::kBool; };

class Tensor {
 public:
  Tensor() = default;
  // Zero-filled tensor of the given dtype and shape.
  Tensor(DType dtype, Shape shape);
  // Copies `count` elements from `src`.
  static Tensor FromBytes(DType dtype, Shape shape, const void* src, size_t num_bytes);
  template <typename T>
  static Tensor FromVector(Shape shape, const std::vector<T>& values) {
    return FromBytes(DTypeOf<T>::value, std::move(shape), values.data(), values.size() * sizeof(T));
  }
  template <typename T>
  static Tensor Scalar(T value) { return FromVector<T>({}, {value}); }

  bool defined() const { return dtype_ != DType::kUndefined; }
  DType dtype() const { return dtype_; }
  const Shape& shape() const { return shape_; }
  int64_t dim(size_t i) const { return shape_.at(i); }
  size_t rank() const { return shape_.size(); }
  int64_t numel() const { return NumElements(shape_); }
  size_t nbytes() const { return static_cast<size_t>(numel()) * DTypeSize(dtype_); }

  void* raw_data() { return storage_ ? storage_->data() : nullptr; }
  const void* raw_data() const { return storage_ ? storage_->data() : nullptr; }
  template <typename T> T* data() { return static_cast<T*>(raw_data()); }
  template <typename T> const T* data() const { return static_cast<const T*>(raw_data()); }
  template <typename T> std::vector<T> ToVector() const {
    const T* p = data<T>();
    return std::vector<T>(p, p + numel());
  }

  // No other Tensor shares this storage (a writer may then reuse it in place).
  bool unique() const { return storage_ && storage_.use_count() == 1; }

  // Same storage, new shape with the same element count (-1 infers one dimension).
  Tensor Reshaped(Shape shape) const;
  // A deep copy with its own storage.
  Tensor Clone() const;
  // Element-wise conversion to another dtype (numeric types only).
  Tensor CastTo(DType dtype) const;
  // Reads element i of any numeric dtype as double (for tests and small host-side logic).
  double ElementAsDouble(int64_t index) const;

 private:
  DType dtype_ = DType::kUndefined;
  Shape shape_;
  std::shared_ptr<std::vector<std::byte>> storage_;
};

}  // namespace act
