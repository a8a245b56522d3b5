#include "exec/tensor_convert.h"

namespace act::exec {

Expected<at::ScalarType> ToScalarType(DType dtype) {
  switch (dtype) {
    case DType::kFloat32: return at::kFloat;
    case DType::kFloat64: return at::kDouble;
    case DType::kFloat16: return at::kHalf;
    case DType::kBFloat16: return at::kBFloat16;
    case DType::kInt64: return at::kLong;
    case DType::kInt32: return at::kInt;
    case DType::kInt16: return at::kShort;
    case DType::kInt8: return at::kChar;
    case DType::kUInt8: return at::kByte;
    case DType::kBool: return at::kBool;
    default: return Unsupported("dtype " + DTypeName(dtype) + " has no libtorch equivalent");
  }
}

Expected<DType> FromScalarType(at::ScalarType type) {
  switch (type) {
    case at::kFloat: return DType::kFloat32;
    case at::kDouble: return DType::kFloat64;
    case at::kHalf: return DType::kFloat16;
    case at::kBFloat16: return DType::kBFloat16;
    case at::kLong: return DType::kInt64;
    case at::kInt: return DType::kInt32;
    case at::kShort: return DType::kInt16;
    case at::kChar: return DType::kInt8;
    case at::kByte: return DType::kUInt8;
    case at::kBool: return DType::kBool;
    default: return Unsupported(std::string("libtorch dtype ") + at::toString(type) + " has no act::DType");
  }
}

Expected<at::Tensor> ToAten(const Tensor& tensor) {
  ACT_ASSIGN_OR_RETURN(at::ScalarType type, ToScalarType(tensor.dtype()));
  std::vector<int64_t> sizes(tensor.shape().begin(), tensor.shape().end());
  if (tensor.numel() == 0) return at::empty(sizes, at::TensorOptions().dtype(type));
  // The copy of `tensor` held by the deleter keeps the shared storage alive as long as ATen needs it.
  auto* holder = new Tensor(tensor);
  return at::from_blob(holder->raw_data(), sizes, [holder](void*) { delete holder; },
                       at::TensorOptions().dtype(type));
}

Expected<Tensor> FromAten(const at::Tensor& tensor) {
  ACT_ASSIGN_OR_RETURN(DType dtype, FromScalarType(tensor.scalar_type()));
  at::Tensor t = tensor.detach().contiguous();
  Shape shape(t.sizes().begin(), t.sizes().end());
  return Tensor::FromBytes(dtype, std::move(shape), t.data_ptr(), static_cast<size_t>(t.numel()) * t.element_size());
}

}  // namespace act::exec
