#include "core/batch_rows.h"

#include <algorithm>
#include <cstring>

namespace act {

std::map<std::string, Tensor> SliceRows(const std::map<std::string, Tensor>& inputs, int64_t rows, int64_t begin,
                                        int64_t end) {
  std::map<std::string, Tensor> out;
  for (const auto& [name, t] : inputs) {
    if (t.rank() == 0 || t.dim(0) != rows || (begin == 0 && end == rows)) {
      out[name] = t;
      continue;
    }
    Shape shape = t.shape();
    shape[0] = end - begin;
    const size_t row_bytes = rows > 0 ? t.nbytes() / static_cast<size_t>(rows) : 0;
    out[name] = Tensor::FromBytes(t.dtype(), shape, static_cast<const std::byte*>(t.raw_data()) + begin * row_bytes,
                                  row_bytes * static_cast<size_t>(end - begin));
  }
  return out;
}

int64_t BatchRows(const std::map<std::string, Tensor>& inputs) {
  for (const auto& [name, t] : inputs) {
    if (t.rank() > 0) return t.dim(0);
  }
  return 1;
}

Expected<std::map<std::string, Tensor>> ConcatRows(const std::vector<std::map<std::string, Tensor>>& parts) {
  if (parts.size() == 1) return parts.front();
  std::map<std::string, Tensor> out;
  if (parts.empty()) return out;
  for (const auto& [name, first] : parts.front()) {
    if (first.rank() == 0) {
      out[name] = first;
      continue;
    }
    Shape shape = first.shape();
    int64_t rows = 0;
    for (const auto& p : parts) {
      auto it = p.find(name);
      if (it == p.end() || it->second.dtype() != first.dtype() || it->second.rank() != first.rank() ||
          !std::equal(first.shape().begin() + 1, first.shape().end(), it->second.shape().begin() + 1)) {
        return Internal("output '" + name + "' differs in shape between the parts of a split batch");
      }
      rows += it->second.dim(0);
    }
    shape[0] = rows;
    Tensor t(first.dtype(), shape);
    auto* dst = static_cast<std::byte*>(t.raw_data());
    for (const auto& p : parts) {
      const Tensor& src = p.at(name);
      std::memcpy(dst, src.raw_data(), src.nbytes());
      dst += src.nbytes();
    }
    out[name] = std::move(t);
  }
  return out;
}

}  // namespace act
