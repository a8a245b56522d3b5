// Logging to stderr. Quiet by default for library users; the CLI raises the level with --verbose.
#pragma once

#include <sstream>
#include <string>

namespace act {

enum class LogLevel { kDebug = 0, kInfo = 1, kWarning = 2, kError = 3 };

void SetLogLevel(LogLevel level);
LogLevel GetLogLevel();
void LogMessage(LogLevel level, const std::string& message);

}  // namespace act

#define ACT_LOG(level, stream_expr)                                         \
  do {                                                                      \
    if (::act::LogLevel::level >= ::act::GetLogLevel()) {                   \
      std::ostringstream act_log_ss_;                                       \
      act_log_ss_ << stream_expr;                                           \
      ::act::LogMessage(::act::LogLevel::level, act_log_ss_.str());         \
    }                                                                       \
  } while (0)
