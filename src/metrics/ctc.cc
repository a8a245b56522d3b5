#include "metrics/ctc.h"

#include <algorithm>

#include "core/file_util.h"
#include "metrics/output_select.h"

namespace act::metrics {

Expected<std::u32string> DecodeUtf8(const std::string& text, const std::string& what) {
  std::u32string out;
  out.reserve(text.size());
  size_t i = 0;
  while (i < text.size()) {
    const unsigned char b = static_cast<unsigned char>(text[i]);
    int extra = 0;
    char32_t cp = 0;
    if (b < 0x80) cp = b;
    else if ((b & 0xE0) == 0xC0) cp = b & 0x1F, extra = 1;
    else if ((b & 0xF0) == 0xE0) cp = b & 0x0F, extra = 2;
    else if ((b & 0xF8) == 0xF0) cp = b & 0x07, extra = 3;
    else return InvalidInput(what + " is not valid UTF-8 (byte " + std::to_string(i) + ")");
    for (int k = 1; k <= extra; ++k) {
      if (i + k >= text.size()) {
        return InvalidInput(what + " is not valid UTF-8 (truncated sequence at byte " + std::to_string(i) + ")");
      }
      const unsigned char c = static_cast<unsigned char>(text[i + k]);
      if ((c & 0xC0) != 0x80) {
        return InvalidInput(what + " is not valid UTF-8 (bad continuation byte " + std::to_string(i + k) + ")");
      }
      cp = (cp << 6) | (c & 0x3F);
    }
    out.push_back(cp);
    i += extra + 1;
  }
  return out;
}

std::string EncodeUtf8(const std::u32string& text) {
  std::string out;
  for (char32_t cp : text) {
    if (cp < 0x80) {
      out += static_cast<char>(cp);
    } else if (cp < 0x800) {
      out += static_cast<char>(0xC0 | (cp >> 6));
      out += static_cast<char>(0x80 | (cp & 0x3F));
    } else if (cp < 0x10000) {
      out += static_cast<char>(0xE0 | (cp >> 12));
      out += static_cast<char>(0x80 | ((cp >> 6) & 0x3F));
      out += static_cast<char>(0x80 | (cp & 0x3F));
    } else {
      out += static_cast<char>(0xF0 | (cp >> 18));
      out += static_cast<char>(0x80 | ((cp >> 12) & 0x3F));
      out += static_cast<char>(0x80 | ((cp >> 6) & 0x3F));
      out += static_cast<char>(0x80 | (cp & 0x3F));
    }
  }
  return out;
}

int64_t CodePointEditDistance(const std::u32string& a, const std::u32string& b) {
  std::vector<int64_t> row(b.size() + 1);
  for (size_t j = 0; j <= b.size(); ++j) row[j] = static_cast<int64_t>(j);
  for (size_t i = 1; i <= a.size(); ++i) {
    int64_t diagonal = row[0];
    row[0] = static_cast<int64_t>(i);
    for (size_t j = 1; j <= b.size(); ++j) {
      const int64_t above = row[j];
      row[j] = std::min({row[j] + 1, row[j - 1] + 1, diagonal + (a[i - 1] == b[j - 1] ? 0 : 1)});
      diagonal = above;
    }
  }
  return row[b.size()];
}

Expected<CtcDictionary> CtcDictionary::Load(const std::string& path) {
  ACT_ASSIGN_OR_RETURN(std::string bytes, ReadFileToString(path));
  std::vector<std::u32string> symbols;
  size_t start = 0;
  int64_t line_number = 1;
  while (start < bytes.size()) {
    size_t end = bytes.find('\n', start);
    if (end == std::string::npos) end = bytes.size();
    std::string line = bytes.substr(start, end - start);
    if (!line.empty() && line.back() == '\r') line.pop_back();
    ACT_ASSIGN_OR_RETURN(std::u32string symbol, DecodeUtf8(line, path + " line " + std::to_string(line_number)));
    symbols.push_back(std::move(symbol));
    start = end + 1;
    ++line_number;
  }
  if (symbols.empty()) return InvalidInput("CTC dictionary " + path + " is empty; expected one symbol per line");
  return FromSymbols(std::move(symbols), path);
}

CtcDictionary CtcDictionary::FromSymbols(std::vector<std::u32string> symbols, std::string origin) {
  CtcDictionary d;
  d.symbols_ = std::move(symbols);
  d.origin_ = std::move(origin);
  return d;
}

std::u32string CtcDictionary::Decode(const float* scores, int64_t steps) const {
  const int64_t classes = num_classes();
  std::u32string text;
  int64_t previous = -1;
  for (int64_t t = 0; t < steps; ++t) {
    const int64_t k = ArgMax(scores + t * classes, classes);
    if (k != previous && k != 0) {
      if (k == classes - 1) text += U' ';
      else text += symbols_[k - 1];
    }
    previous = k;
  }
  return text;
}

Status CtcMetric::Update(const std::map<std::string, Tensor>& outputs,
                         const std::vector<std::optional<data::Label>>& labels,
                         const std::map<std::string, Tensor>& /*reference*/) {
  ACT_ASSIGN_OR_RETURN(Tensor raw, SelectOutput(outputs, output_, name()));
  const int64_t n = static_cast<int64_t>(labels.size());
  if (raw.rank() != 3 || raw.dim(0) != n) {
    return InvalidInput("metric " + name() + " expects CTC scores [N, T, classes] for a batch of " +
                        std::to_string(n) + " lines, got " + ShapeToString(raw.shape()));
  }
  if (raw.dim(2) != dictionary_.num_classes()) {
    return InvalidInput("metric " + name() + ": the model scores " + std::to_string(raw.dim(2)) +
                        " classes per step but dictionary " + dictionary_.origin() + " gives " +
                        std::to_string(dictionary_.num_classes()) + " (blank + " +
                        std::to_string(dictionary_.num_classes() - 2) +
                        " lines + space); use the dictionary the model was trained with");
  }
  ACT_ASSIGN_OR_RETURN(Tensor scores, ToFloat32(raw, name() + " input"));
  const int64_t steps = raw.dim(1);
  for (int64_t i = 0; i < n; ++i) {
    if (!labels[i]) {
      return InvalidInput("metric " + name() + ": line " + std::to_string(i) +
                          " of the batch has no label text; use an ocr_lines data set");
    }
    ACT_ASSIGN_OR_RETURN(std::u32string expected,
                         DecodeUtf8(labels[i]->text, "label text of line " + std::to_string(i) + " of the batch"));
    const std::u32string decoded =
        dictionary_.Decode(scores.data<float>() + i * steps * dictionary_.num_classes(), steps);
    ++lines_;
    if (decoded == expected) ++exact_;
    edits_ += CodePointEditDistance(decoded, expected);
    label_chars_ += static_cast<int64_t>(expected.size());
  }
  return Status::Ok();
}

std::map<std::string, double> CtcMetric::Details() const {
  return {{"exact_match", ExactMatch()},
          {"cer", CharErrorRate()},
          {"lines", static_cast<double>(lines_)},
          {"label_chars", static_cast<double>(label_chars_)}};
}

}  // namespace act::metrics
