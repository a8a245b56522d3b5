#include "act/status.h"

namespace act {

int Status::ExitCode() const {
  switch (code_) {
    case StatusCode::kOk: return 0;
    case StatusCode::kInvalidInput:
    case StatusCode::kNotFound:
    case StatusCode::kUnsupported: return 2;
    case StatusCode::kFailure:
    case StatusCode::kInternal: return 1;
  }
  return 1;
}

std::string Status::ToString() const { return ok() ? "OK" : message_; }

}  // namespace act
