// Text recognition metrics over CTC outputs [N, T, C] (probabilities or logits per time step):
//   greedy decoding: argmax per step, merge repeated classes, drop the blank (class 0); class k ≥ 1 is
//   line k−1 of the dictionary and class L+1 (after the dictionary's L lines) is a space — PaddleOCR's
//   CTCLabelDecode with use_space_char.
//   ctc_exact: fraction of lines decoded exactly as labelled.
//   ctc_cer:   Σ Levenshtein(decoded, label) / Σ |label|, in Unicode code points; lower is better.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "act/metrics.h"

namespace act::metrics {

// UTF-8 → code points; InvalidInput (naming `what`) on malformed bytes.
Expected<std::u32string> DecodeUtf8(const std::string& text, const std::string& what);
std::string EncodeUtf8(const std::u32string& text);
// Levenshtein distance (insert, delete, substitute each cost 1) between code-point strings.
int64_t CodePointEditDistance(const std::u32string& a, const std::u32string& b);

// The symbols of a CTC model: blank, the dictionary's lines, then a space.
class CtcDictionary {
 public:
  // Reads one symbol per line (UTF-8; a trailing '\r' is dropped; the last line may lack '\n').
  static Expected<CtcDictionary> Load(const std::string& path);
  static CtcDictionary FromSymbols(std::vector<std::u32string> symbols, std::string origin = "<memory>");
  // Classes a model must score: blank + lines + space.
  int64_t num_classes() const { return static_cast<int64_t>(symbols_.size()) + 2; }
  const std::string& origin() const { return origin_; }
  // Greedy decoding of one sequence of `steps` × num_classes() scores.
  std::u32string Decode(const float* scores, int64_t steps) const;

 private:
  std::vector<std::u32string> symbols_;
  std::string origin_;
};

class CtcMetric : public Metric {
 public:
  enum class Kind { kExactMatch, kCharErrorRate };
  CtcMetric(Kind kind, CtcDictionary dictionary, std::string output)
      : kind_(kind), dictionary_(std::move(dictionary)), output_(std::move(output)) {}
  std::string name() const override { return kind_ == Kind::kExactMatch ? "ctc_exact" : "ctc_cer"; }
  bool higher_is_better() const override { return kind_ == Kind::kExactMatch; }
  Status Update(const std::map<std::string, Tensor>& outputs, const std::vector<std::optional<data::Label>>& labels,
                const std::map<std::string, Tensor>& reference) override;
  double Result() const override { return kind_ == Kind::kExactMatch ? ExactMatch() : CharErrorRate(); }
  std::map<std::string, double> Details() const override;
  void Reset() override { lines_ = exact_ = edits_ = label_chars_ = 0; }

 private:
  double ExactMatch() const { return lines_ ? static_cast<double>(exact_) / lines_ : 0.0; }
  // With no label characters at all, any decoded character is an error: 1 if there were edits, else 0.
  double CharErrorRate() const {
    return label_chars_ ? static_cast<double>(edits_) / label_chars_ : (edits_ ? 1.0 : 0.0);
  }

  Kind kind_;
  CtcDictionary dictionary_;
  std::string output_;
  int64_t lines_ = 0, exact_ = 0, edits_ = 0, label_chars_ = 0;
};

}  // namespace act::metrics
