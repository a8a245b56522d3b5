#include "core/progress.h"

#include <unistd.h>

#include <atomic>
#include <cstdio>

namespace act {
namespace {
std::atomic<bool> g_enabled{true};

std::string FormatSeconds(double s) {
  char buf[32];
  if (s < 60) std::snprintf(buf, sizeof buf, "%.0fs", s);
  else std::snprintf(buf, sizeof buf, "%dm%02ds", static_cast<int>(s) / 60, static_cast<int>(s) % 60);
  return buf;
}
}  // namespace

void ProgressBar::SetEnabled(bool enabled) { g_enabled = enabled; }

ProgressBar::ProgressBar(std::string label, int64_t total)
    : label_(std::move(label)), total_(total), tty_(::isatty(STDERR_FILENO)),
      start_(std::chrono::steady_clock::now()), last_draw_(start_) {}

ProgressBar::~ProgressBar() { Finish(); }

void ProgressBar::Advance(int64_t n, const std::string& suffix) {
  done_ += n;
  suffix_ = suffix;
  Draw(false);
}

void ProgressBar::Finish() {
  if (finished_) return;
  finished_ = true;
  Draw(true);
}

void ProgressBar::Draw(bool final) {
  if (!g_enabled) return;
  const auto now = std::chrono::steady_clock::now();
  const double elapsed = std::chrono::duration<double>(now - start_).count();
  const double fraction = total_ > 0 ? static_cast<double>(done_) / total_ : 1.0;
  const double left = fraction > 0 ? elapsed * (1 - fraction) / fraction : 0;
  if (tty_) {
    if (!final && now - last_draw_ < std::chrono::milliseconds(200)) return;
    last_draw_ = now;
    const int width = 30, filled = static_cast<int>(fraction * width);
    std::string bar(filled, '#');
    bar += std::string(width - filled, '.');
    std::fprintf(stderr, "\r%s [%s] %lld/%lld %s elapsed %s left %s%s", label_.c_str(), bar.c_str(),
                 static_cast<long long>(done_), static_cast<long long>(total_), suffix_.c_str(),
                 FormatSeconds(elapsed).c_str(), FormatSeconds(left).c_str(), final ? "\n" : "");
    std::fflush(stderr);
  } else {
    const int decile = static_cast<int>(fraction * 10);
    if (!final && decile == last_decile_) return;
    if (final && last_decile_ == 10) return;
    last_decile_ = final ? 10 : decile;
    // Logs (no terminal): a line per tenth, with the time left until the last one.
    const std::string left_text = final || fraction >= 1 ? "" : ", " + FormatSeconds(left) + " left";
    std::fprintf(stderr, "%s %lld/%lld %s (%s%s)\n", label_.c_str(), static_cast<long long>(done_),
                 static_cast<long long>(total_), suffix_.c_str(), FormatSeconds(elapsed).c_str(), left_text.c_str());
  }
}

}  // namespace act
