// The registry table and the helpers shared by the lowering files.
#include <mutex>

#include "exec/lowering.h"

namespace act::exec {

Status LoweringTable::Add(LoweringEntry entry) {
  if (entry.build == nullptr || entry.since > entry.until) {
    return Internal("lowering for " + entry.op_type + " has no builder or an empty opset range");
  }
  for (const auto& e : entries_) {
    if (e.domain == entry.domain && e.op_type == entry.op_type && e.since <= entry.until && entry.since <= e.until) {
      return InvalidInput("lowering for " + (entry.domain.empty() ? "" : entry.domain + ".") + entry.op_type +
                          " opsets " + std::to_string(entry.since) + "-" + std::to_string(entry.until) +
                          " overlaps an existing entry (opsets " + std::to_string(e.since) + "-" +
                          std::to_string(e.until) + ")");
    }
  }
  entries_.push_back(std::move(entry));
  return Status::Ok();
}

const LoweringEntry* LoweringTable::Find(const std::string& domain, const std::string& op_type,
                                         int64_t opset) const {
  const std::string& d = domain == "ai.onnx" ? std::string() : domain;
  for (const auto& e : entries_) {
    if (e.op_type == op_type && e.domain == d && e.since <= opset && opset <= e.until) return &e;
  }
  return nullptr;
}

namespace {
std::mutex& TableMutex() {
  static std::mutex mutex;
  return mutex;
}
LoweringTable& MutableLowerings() {
  static LoweringTable* table = [] {
    auto* t = new LoweringTable();
    RegisterElementwiseLowerings(*t);
    RegisterNnLowerings(*t);
    RegisterTensorLowerings(*t);
    RegisterActLowerings(*t);
    return t;
  }();
  return *table;
}
}  // namespace

const LoweringTable& Lowerings() {
  std::lock_guard<std::mutex> lock(TableMutex());
  return MutableLowerings();
}

Status RegisterLowering(LoweringEntry entry) {
  std::lock_guard<std::mutex> lock(TableMutex());
  return MutableLowerings().Add(std::move(entry));
}

std::vector<int64_t> ToInt64Vector(const at::Tensor& t) {
  at::Tensor c = t.to(at::kLong).contiguous().reshape({-1});
  const int64_t* p = c.data_ptr<int64_t>();
  return std::vector<int64_t>(p, p + c.numel());
}

bool OnnxDTypeToScalarType(int64_t onnx_dtype, at::ScalarType* out) {
  switch (onnx_dtype) {
    case 1: *out = at::kFloat; return true;
    case 2: *out = at::kByte; return true;
    case 3: *out = at::kChar; return true;
    case 5: *out = at::kShort; return true;
    case 6: *out = at::kInt; return true;
    case 7: *out = at::kLong; return true;
    case 9: *out = at::kBool; return true;
    case 10: *out = at::kHalf; return true;
    case 11: *out = at::kDouble; return true;
    case 16: *out = at::kBFloat16; return true;
    default: return false;
  }
}

int64_t NormalizeAxis(int64_t axis, int64_t rank, const ir::Node& node) {
  const int64_t a = axis < 0 ? axis + rank : axis;
  if (a < 0 || a >= std::max<int64_t>(rank, 1)) {
    throw KernelError("axis " + std::to_string(axis) + " is out of range for a rank-" + std::to_string(rank) +
                      " input");
  }
  return a;
}

}  // namespace act::exec
