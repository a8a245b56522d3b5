// Splitting a batch into smaller runs and joining the outputs back: models exported with a fixed batch
// dimension (FastestDet's [1,3,352,352]) must run one sample at a time whatever the loader's batch size,
// and calibration bounds the memory of the intermediates it asks for the same way.
#pragma once

#include <map>
#include <string>
#include <vector>

#include "act/status.h"
#include "act/tensor.h"

namespace act {

// Rows [begin, end) of every tensor whose leading dimension is `rows`; other tensors are passed whole.
std::map<std::string, Tensor> SliceRows(const std::map<std::string, Tensor>& inputs, int64_t rows, int64_t begin,
                                        int64_t end);
// The leading dimension shared by the inputs (the batch size), or 1 when none has one.
int64_t BatchRows(const std::map<std::string, Tensor>& inputs);
// Concatenates the parts' tensors along dimension 0 (same names, dtypes and trailing shapes).
Expected<std::map<std::string, Tensor>> ConcatRows(const std::vector<std::map<std::string, Tensor>>& parts);

}  // namespace act
