// Conversion between act::Tensor (the libtorch-free currency of the project) and at::Tensor, at the
// executor's boundary. ToAten shares the act::Tensor's storage (no copy); FromAten copies.
#pragma once

#include <ATen/ATen.h>

#include "act/status.h"
#include "act/tensor.h"

namespace act::exec {

Expected<at::ScalarType> ToScalarType(DType dtype);
Expected<DType> FromScalarType(at::ScalarType type);
// Shares storage with `tensor` (kept alive by the returned at::Tensor). Do not modify it in place.
Expected<at::Tensor> ToAten(const Tensor& tensor);
// Copies a (detached, contiguous-ised) at::Tensor into a new act::Tensor.
Expected<Tensor> FromAten(const at::Tensor& tensor);

}  // namespace act::exec
