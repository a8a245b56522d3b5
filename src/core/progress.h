// A progress bar on stderr for long work (calibration, evaluation, training). Redraws in place on a
// terminal, at most a few times a second; writes one line per 10% when stderr is a file or pipe (CI logs).
#pragma once

#include <chrono>
#include <cstdint>
#include <string>

namespace act {

class ProgressBar {
 public:
  ProgressBar(std::string label, int64_t total);
  ~ProgressBar();
  // Advances by `n` steps; `suffix` (e.g. "loss=0.12") is shown after the counts.
  void Advance(int64_t n = 1, const std::string& suffix = "");
  void Finish();
  // Disable all progress output (library users, tests).
  static void SetEnabled(bool enabled);

 private:
  void Draw(bool final);

  std::string label_;
  int64_t total_;
  int64_t done_ = 0;
  std::string suffix_;
  bool finished_ = false;
  bool tty_;
  int last_decile_ = -1;
  std::chrono::steady_clock::time_point start_, last_draw_;
};

}  // namespace act
