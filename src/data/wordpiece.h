// BERT's WordPiece tokenizer (BasicTokenizer + WordpieceTokenizer, uncased by default), matching the Python
// reference scripts/fixtures/wordpiece.py exactly (tests/data/wordpiece_test.cc checks it on a golden file).
//
// BasicTokenizer, on the text decoded from UTF-8 (invalid bytes become U+FFFD):
//   1. Clean: drop U+0000, U+FFFD and control characters (Cc, Cf; not \t \n \r); whitespace (space, \t, \n,
//      \r, Zs) becomes one space each.
//   2. Put spaces around every CJK ideograph.
//   3. Split on whitespace (space, U+2028, U+2029 — what Python's str.split still sees after step 1). Per
//      piece, when lower-casing: lower-case (Python's str.lower, with Greek final sigma) and strip accents
//      (NFD, drop Mn) — one table lookup per code point (unicode_tables.cc); then split into runs of
//      non-punctuation and single punctuation characters (ASCII 33-47, 58-64, 91-96, 123-126, and P*).
// WordpieceTokenizer, per basic token:
//   4. More than 100 code points: [UNK].
//   5. Greedy longest-match-first: the longest vocabulary prefix, then the longest `##` continuation, ...;
//      if some position has no match the whole token is [UNK].
// Encode: [CLS] + wordpieces (truncated to max_length - 2) + [SEP], padded with [PAD] to max_length;
//   attention_mask 1 on real tokens, 0 on padding; token_type_ids all 0 (one sentence).
#pragma once

#include <cstdint>
#include <string>
#include <unordered_map>
#include <vector>

#include "act/status.h"

namespace act::data {

class WordPieceTokenizer {
 public:
  // vocab.txt: one token per line, id = line number (0-based); a later duplicate wins, as in the reference.
  // Fails (naming the file) when [UNK], [CLS], [SEP] or [PAD] is missing.
  static Expected<WordPieceTokenizer> FromVocabFile(const std::string& path, bool lower_case = true);
  static Expected<WordPieceTokenizer> FromTokens(const std::vector<std::string>& tokens, const std::string& origin,
                                                 bool lower_case = true);

  // `max_tokens` > 0 stops after that many basic tokens (Encode needs at most max_length - 2 of them).
  std::vector<std::string> BasicTokenize(const std::string& text, size_t max_tokens = 0) const;
  std::vector<std::string> WordPieces(const std::string& basic_token) const;
  std::vector<std::string> Tokenize(const std::string& text) const;

  struct Encoding {
    std::vector<int64_t> input_ids, attention_mask, token_type_ids;  // each max_length long
  };
  Encoding Encode(const std::string& text, int64_t max_length) const;

  // Id of `token`, or -1.
  int64_t TokenId(const std::string& token) const;
  size_t vocab_size() const { return vocab_.size(); }

 private:
  WordPieceTokenizer() = default;
  std::unordered_map<std::string, int64_t> vocab_;
  bool lower_case_ = true;
  int64_t unk_ = -1, cls_ = -1, sep_ = -1, pad_ = -1;
};

// UTF-8 helpers (exposed for tests): decoding replaces each invalid byte with U+FFFD.
std::vector<uint32_t> DecodeUtf8(const std::string& text, bool* valid = nullptr);
bool IsValidUtf8(const std::string& text);
void AppendUtf8(uint32_t cp, std::string* out);

}  // namespace act::data
