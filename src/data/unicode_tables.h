// Unicode facts for the BERT tokenizer (src/data/wordpiece.h), generated from Python's unicodedata by
// gen_unicode_tables.py so that the C++ tokenizer matches the Python reference code point for code point.
#pragma once

#include <cstddef>
#include <cstdint>

namespace act::data::unicode {

struct CodePointRange {
  uint32_t first, last;  // inclusive
};
// strip_accents(lower(cp)): up to 4 code points (n may be 0: the character vanishes).
struct FoldEntry {
  uint32_t cp;
  uint8_t n;
  uint32_t out[4];
};

extern const FoldEntry kFold[];
extern const size_t kFoldSize;
extern const CodePointRange kPunctuation[];
extern const size_t kPunctuationSize;
extern const CodePointRange kControl[];
extern const size_t kControlSize;
extern const CodePointRange kWhitespace[];
extern const size_t kWhitespaceSize;
extern const CodePointRange kCased[];
extern const size_t kCasedSize;
extern const CodePointRange kCaseIgnorable[];
extern const size_t kCaseIgnorableSize;

}  // namespace act::data::unicode
