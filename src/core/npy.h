// NumPy .npy files (format versions 1–3, C order, little-endian numeric dtypes): the exchange format with
// ONNX Runtime scripts, the `run` command and the `npy` data set.
#pragma once

#include <string>

#include "act/status.h"
#include "act/tensor.h"

namespace act {

Expected<Tensor> ParseNpy(const std::string& bytes, const std::string& name_for_errors);
Expected<Tensor> ReadNpy(const std::string& path);
std::string SerializeNpy(const Tensor& tensor);
Status WriteNpy(const std::string& path, const Tensor& tensor);  // atomic

}  // namespace act
