#include "data/wordpiece.h"

#include <algorithm>

#include "core/file_util.h"
#include "data/unicode_tables.h"

namespace act::data {
namespace {

constexpr size_t kMaxCharsPerWord = 100;
constexpr uint32_t kReplacement = 0xFFFD;

bool InRanges(uint32_t cp, const unicode::CodePointRange* ranges, size_t n) {
  const unicode::CodePointRange* end = ranges + n;
  const unicode::CodePointRange* it =
      std::upper_bound(ranges, end, cp, [](uint32_t v, const unicode::CodePointRange& r) { return v < r.first; });
  return it != ranges && cp <= (it - 1)->last;
}

bool IsWhitespace(uint32_t cp) {
  return cp == ' ' || cp == '\t' || cp == '\n' || cp == '\r' ||
         InRanges(cp, unicode::kWhitespace, unicode::kWhitespaceSize);
}
bool IsControl(uint32_t cp) {
  if (cp == '\t' || cp == '\n' || cp == '\r') return false;
  return InRanges(cp, unicode::kControl, unicode::kControlSize);
}
bool IsPunctuation(uint32_t cp) {
  if ((cp >= 33 && cp <= 47) || (cp >= 58 && cp <= 64) || (cp >= 91 && cp <= 96) || (cp >= 123 && cp <= 126)) {
    return true;
  }
  return InRanges(cp, unicode::kPunctuation, unicode::kPunctuationSize);
}
bool IsCjk(uint32_t cp) {
  return (cp >= 0x4E00 && cp <= 0x9FFF) || (cp >= 0x3400 && cp <= 0x4DBF) || (cp >= 0x20000 && cp <= 0x2A6DF) ||
         (cp >= 0x2A700 && cp <= 0x2B73F) || (cp >= 0x2B740 && cp <= 0x2B81F) || (cp >= 0x2B820 && cp <= 0x2CEAF) ||
         (cp >= 0xF900 && cp <= 0xFAFF) || (cp >= 0x2F800 && cp <= 0x2FA1F);
}
// What str.split() still splits on after cleaning (which turned \t \n \r and Zs into spaces).
bool IsSplitSpace(uint32_t cp) { return cp == ' ' || cp == 0x2028 || cp == 0x2029; }

bool IsCased(uint32_t cp) { return InRanges(cp, unicode::kCased, unicode::kCasedSize); }
bool IsCaseIgnorable(uint32_t cp) { return InRanges(cp, unicode::kCaseIgnorable, unicode::kCaseIgnorableSize); }

// Greek capital sigma lower-cases to final sigma (U+03C2) when a cased letter precedes it and none follows
// (skipping case-ignorable characters both ways), as Python's str.lower does.
bool IsFinalSigma(const std::vector<uint32_t>& piece, size_t i) {
  size_t j = i;
  bool cased_before = false;
  while (j > 0) {
    --j;
    if (IsCaseIgnorable(piece[j])) continue;
    cased_before = IsCased(piece[j]);
    break;
  }
  if (!cased_before) return false;
  for (size_t k = i + 1; k < piece.size(); ++k) {
    if (IsCaseIgnorable(piece[k])) continue;
    return !IsCased(piece[k]);
  }
  return true;
}

// strip_accents(lower(cp)) appended to `out`.
void AppendFolded(uint32_t cp, bool final_sigma, std::vector<uint32_t>* out) {
  if (cp == 0x3A3 && final_sigma) {
    out->push_back(0x3C2);
    return;
  }
  if (cp >= 0xAC00 && cp <= 0xD7A3) {  // Hangul syllable: NFD = leading, vowel, optional trailing jamo
    const uint32_t s = cp - 0xAC00;
    out->push_back(0x1100 + s / 588);
    out->push_back(0x1161 + (s % 588) / 28);
    if (s % 28 != 0) out->push_back(0x11A7 + s % 28);
    return;
  }
  const unicode::FoldEntry* end = unicode::kFold + unicode::kFoldSize;
  const unicode::FoldEntry* it =
      std::lower_bound(unicode::kFold, end, cp, [](const unicode::FoldEntry& e, uint32_t v) { return e.cp < v; });
  if (it != end && it->cp == cp) {
    out->insert(out->end(), it->out, it->out + it->n);
  } else {
    out->push_back(cp);
  }
}

std::string ToUtf8(const std::vector<uint32_t>& cps, size_t begin, size_t end) {
  std::string s;
  for (size_t i = begin; i < end; ++i) AppendUtf8(cps[i], &s);
  return s;
}

}  // namespace

bool IsValidUtf8(const std::string& text) {
  bool valid = true;
  DecodeUtf8(text, &valid);
  return valid;
}

std::vector<uint32_t> DecodeUtf8(const std::string& text, bool* valid) {
  if (valid != nullptr) *valid = true;
  std::vector<uint32_t> out;
  out.reserve(text.size());
  const auto* s = reinterpret_cast<const unsigned char*>(text.data());
  const size_t n = text.size();
  size_t i = 0;
  while (i < n) {
    const unsigned char c = s[i];
    int len = 0;
    uint32_t cp = 0, min = 0;
    if (c < 0x80) { len = 1; cp = c; }
    else if ((c & 0xE0) == 0xC0) { len = 2; cp = c & 0x1F; min = 0x80; }
    else if ((c & 0xF0) == 0xE0) { len = 3; cp = c & 0x0F; min = 0x800; }
    else if ((c & 0xF8) == 0xF0) { len = 4; cp = c & 0x07; min = 0x10000; }
    bool ok = len > 0 && i + len <= n;
    for (int k = 1; ok && k < len; ++k) {
      ok = (s[i + k] & 0xC0) == 0x80;
      cp = (cp << 6) | (s[i + k] & 0x3F);
    }
    ok = ok && cp >= min && cp <= 0x10FFFF && !(cp >= 0xD800 && cp <= 0xDFFF);
    if (!ok) {
      if (valid != nullptr) *valid = false;
      out.push_back(kReplacement);
      ++i;
      continue;
    }
    out.push_back(cp);
    i += len;
  }
  return out;
}

void AppendUtf8(uint32_t cp, std::string* out) {
  if (cp < 0x80) {
    out->push_back(static_cast<char>(cp));
  } else if (cp < 0x800) {
    out->push_back(static_cast<char>(0xC0 | (cp >> 6)));
    out->push_back(static_cast<char>(0x80 | (cp & 0x3F)));
  } else if (cp < 0x10000) {
    out->push_back(static_cast<char>(0xE0 | (cp >> 12)));
    out->push_back(static_cast<char>(0x80 | ((cp >> 6) & 0x3F)));
    out->push_back(static_cast<char>(0x80 | (cp & 0x3F)));
  } else {
    out->push_back(static_cast<char>(0xF0 | (cp >> 18)));
    out->push_back(static_cast<char>(0x80 | ((cp >> 12) & 0x3F)));
    out->push_back(static_cast<char>(0x80 | ((cp >> 6) & 0x3F)));
    out->push_back(static_cast<char>(0x80 | (cp & 0x3F)));
  }
}

Expected<WordPieceTokenizer> WordPieceTokenizer::FromTokens(const std::vector<std::string>& tokens,
                                                            const std::string& origin, bool lower_case) {
  WordPieceTokenizer t;
  t.lower_case_ = lower_case;
  for (size_t i = 0; i < tokens.size(); ++i) t.vocab_[tokens[i]] = static_cast<int64_t>(i);
  for (auto [name, id] : {std::pair<const char*, int64_t*>{"[UNK]", &t.unk_}, {"[CLS]", &t.cls_},
                          {"[SEP]", &t.sep_}, {"[PAD]", &t.pad_}}) {
    *id = t.TokenId(name);
    if (*id < 0) {
      return InvalidInput(origin + ": the vocabulary has no " + name + " token (" + std::to_string(tokens.size()) +
                          " tokens read); a BERT vocab.txt lists [PAD], [UNK], [CLS], [SEP] and [MASK], one per line");
    }
  }
  return t;
}

Expected<WordPieceTokenizer> WordPieceTokenizer::FromVocabFile(const std::string& path, bool lower_case) {
  Expected<std::string> text = ReadFileToString(path);
  if (!text.ok()) return text.status().WithContext("reading vocabulary");
  std::vector<std::string> tokens;
  size_t start = 0;
  const std::string& s = *text;
  while (start < s.size()) {  // lines split on \n only; a trailing \r stays part of the token, as in the reference
    size_t end = s.find('\n', start);
    if (end == std::string::npos) end = s.size();
    tokens.push_back(s.substr(start, end - start));
    start = end + 1;
  }
  return FromTokens(tokens, path, lower_case);
}

int64_t WordPieceTokenizer::TokenId(const std::string& token) const {
  auto it = vocab_.find(token);
  return it == vocab_.end() ? -1 : it->second;
}

std::vector<std::string> WordPieceTokenizer::BasicTokenize(const std::string& text, size_t max_tokens) const {
  // Steps 1-2: clean and space out CJK characters.
  std::vector<uint32_t> cleaned;
  for (uint32_t cp : DecodeUtf8(text)) {
    if (cp == 0 || cp == kReplacement || IsControl(cp)) continue;
    if (IsWhitespace(cp)) {
      cleaned.push_back(' ');
    } else if (IsCjk(cp)) {
      cleaned.insert(cleaned.end(), {' ', cp, ' '});
    } else {
      cleaned.push_back(cp);
    }
  }
  // Step 3: per whitespace-separated piece, fold (lower + strip accents), then split off punctuation.
  std::vector<std::string> tokens;
  std::vector<uint32_t> piece, folded;
  auto flush = [&]() {
    if (piece.empty()) return;
    folded.clear();
    if (lower_case_) {
      for (size_t i = 0; i < piece.size(); ++i) {
        AppendFolded(piece[i], piece[i] == 0x3A3 && IsFinalSigma(piece, i), &folded);
      }
    } else {
      folded = piece;
    }
    size_t run_start = 0;
    for (size_t i = 0; i < folded.size(); ++i) {
      if (!IsPunctuation(folded[i])) continue;
      if (i > run_start) tokens.push_back(ToUtf8(folded, run_start, i));
      tokens.push_back(ToUtf8(folded, i, i + 1));
      run_start = i + 1;
    }
    if (run_start < folded.size()) tokens.push_back(ToUtf8(folded, run_start, folded.size()));
    piece.clear();
  };
  for (uint32_t cp : cleaned) {
    if (max_tokens > 0 && tokens.size() >= max_tokens) return tokens;  // at least that many already
    if (IsSplitSpace(cp)) {
      flush();
    } else {
      piece.push_back(cp);
    }
  }
  flush();
  return tokens;
}

std::vector<std::string> WordPieceTokenizer::WordPieces(const std::string& basic_token) const {
  // Code-point boundaries: substrings are taken in characters, as Python slices strings.
  std::vector<size_t> bounds;
  for (size_t i = 0; i < basic_token.size(); ++i) {
    if ((static_cast<unsigned char>(basic_token[i]) & 0xC0) != 0x80) bounds.push_back(i);
  }
  const size_t chars = bounds.size();
  bounds.push_back(basic_token.size());
  if (chars > kMaxCharsPerWord) return {"[UNK]"};
  std::vector<std::string> pieces;
  size_t start = 0;
  while (start < chars) {
    size_t end = chars;
    std::string match;
    while (start < end) {
      std::string candidate = basic_token.substr(bounds[start], bounds[end] - bounds[start]);
      if (start > 0) candidate = "##" + candidate;
      if (vocab_.count(candidate)) {
        match = std::move(candidate);
        break;
      }
      --end;
    }
    if (match.empty()) return {"[UNK]"};
    pieces.push_back(std::move(match));
    start = end;
  }
  return pieces;
}

std::vector<std::string> WordPieceTokenizer::Tokenize(const std::string& text) const {
  std::vector<std::string> out;
  for (const auto& token : BasicTokenize(text)) {
    for (auto& piece : WordPieces(token)) out.push_back(std::move(piece));
  }
  return out;
}

WordPieceTokenizer::Encoding WordPieceTokenizer::Encode(const std::string& text, int64_t max_length) const {
  // Each basic token gives at least one word piece, so max_length - 2 basic tokens are enough.
  const size_t budget = static_cast<size_t>(std::max<int64_t>(max_length - 2, 1));
  std::vector<std::string> pieces;
  for (const auto& token : BasicTokenize(text, budget)) {
    for (auto& piece : WordPieces(token)) pieces.push_back(std::move(piece));
    if (pieces.size() >= budget) break;
  }
  const size_t keep = std::min(pieces.size(), static_cast<size_t>(std::max<int64_t>(max_length - 2, 0)));
  Encoding e;
  e.input_ids.push_back(cls_);
  for (size_t i = 0; i < keep; ++i) e.input_ids.push_back(vocab_.at(pieces[i]));
  e.input_ids.push_back(sep_);
  e.attention_mask.assign(e.input_ids.size(), 1);
  while (static_cast<int64_t>(e.input_ids.size()) < max_length) {
    e.input_ids.push_back(pad_);
    e.attention_mask.push_back(0);
  }
  e.token_type_ids.assign(e.input_ids.size(), 0);
  return e;
}

}  // namespace act::data
