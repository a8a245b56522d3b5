// Status and Expected<T>: how every library function reports failure.
// Library code never throws past the API and never aborts on user input; it returns a Status whose message
// names the file, node, key or tensor involved, what was expected, what was found, and what to do.
#pragma once

#include <cassert>
#include <optional>
#include <string>
#include <utility>
#include <variant>

namespace act {

enum class StatusCode {
  kOk = 0,
  kInvalidInput,  // the user's file, config or data is wrong: CLI exit code 2
  kNotFound,      // a file, key, node or tensor does not exist: exit code 2
  kUnsupported,   // valid input we cannot handle (op, opset, dtype): exit code 2
  kFailure,       // a run that could not reach its goal (accuracy budget, I/O failure): exit code 1
  kInternal,      // a bug of ours: exit code 1
};

class Status {
 public:
  Status() = default;
  Status(StatusCode code, std::string message) : code_(code), message_(std::move(message)) {}

  static Status Ok() { return Status(); }
  bool ok() const { return code_ == StatusCode::kOk; }
  StatusCode code() const { return code_; }
  const std::string& message() const { return message_; }

  // Prefixes context ("loading model.onnx: ") so that errors read outermost first.
  Status WithContext(const std::string& context) const {
    if (ok()) return *this;
    return Status(code_, context + ": " + message_);
  }
  // Exit code for the command line, per DESIGN.md §5: 2 for bad input or usage, 1 for failure.
  int ExitCode() const;
  std::string ToString() const;

 private:
  StatusCode code_ = StatusCode::kOk;
  std::string message_;
};

inline Status InvalidInput(std::string message) { return Status(StatusCode::kInvalidInput, std::move(message)); }
inline Status NotFound(std::string message) { return Status(StatusCode::kNotFound, std::move(message)); }
inline Status Unsupported(std::string message) { return Status(StatusCode::kUnsupported, std::move(message)); }
inline Status Failure(std::string message) { return Status(StatusCode::kFailure, std::move(message)); }
inline Status Internal(std::string message) { return Status(StatusCode::kInternal, std::move(message)); }

// A value or the Status that explains why there is none.
template <typename T>
class Expected {
 public:
  Expected(T value) : value_(std::move(value)) {}            // NOLINT(google-explicit-constructor)
  Expected(Status status) : status_(std::move(status)) {     // NOLINT(google-explicit-constructor)
    assert(!status_.ok() && "Expected<T> built from an OK status carries no value");
  }

  bool ok() const { return value_.has_value(); }
  const Status& status() const { return status_; }
  T& value() & { assert(ok()); return *value_; }
  const T& value() const& { assert(ok()); return *value_; }
  T&& value() && { assert(ok()); return std::move(*value_); }
  T* operator->() { return &value(); }
  const T* operator->() const { return &value(); }
  T& operator*() & { return value(); }
  const T& operator*() const& { return value(); }

 private:
  std::optional<T> value_;
  Status status_;
};

}  // namespace act

#define ACT_CONCAT_INNER(a, b) a##b
#define ACT_CONCAT(a, b) ACT_CONCAT_INNER(a, b)

// Returns the Status of `expr` from the calling function when it is not OK.
#define ACT_RETURN_IF_ERROR(expr)               \
  do {                                          \
    ::act::Status act_status_ = (expr);         \
    if (!act_status_.ok()) return act_status_;  \
  } while (0)

// `ACT_ASSIGN_OR_RETURN(auto x, Compute())`: binds the value, or returns the error.
#define ACT_ASSIGN_OR_RETURN(lhs, expr) \
  ACT_ASSIGN_OR_RETURN_IMPL(ACT_CONCAT(act_expected_, __LINE__), lhs, expr)
#define ACT_ASSIGN_OR_RETURN_IMPL(tmp, lhs, expr) \
  auto tmp = (expr);                              \
  if (!tmp.ok()) return tmp.status();             \
  lhs = std::move(tmp).value()

// Fails with an InvalidInput status built from the streamed message when `cond` is false.
#define ACT_RETURN_IF_NOT(cond, message)                 \
  do {                                                   \
    if (!(cond)) return ::act::InvalidInput(message);    \
  } while (0)
