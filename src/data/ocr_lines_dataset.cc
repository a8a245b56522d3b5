// `ocr_lines`: images of text lines with their text (`path<TAB>text` lines, paths relative to the list
// file), preprocessed exactly as PaddleOCR's recogniser does (resize_norm_img with a fixed width;
// scripts/fixtures/ocr_preprocess.py is the Python reference):
//   1. decode, convert to RGB;
//   2. resize to height H keeping the aspect ratio: width w' = min(W, ceil(H * w / h)) (PIL's bilinear,
//      8-bit rounding as PIL does);
//   3. x / 255, then (x - 0.5) / 0.5;
//   4. pad on the right with 0 up to width W  →  float32 [1, 3, H, W] (H = 48, W = 320 by default).
// With `dictionary`, every character of every label must be in it (or be a space): a character the
// recogniser cannot emit would make the line unreadable by construction.
#include <set>

#include "core/file_util.h"
#include "data/datasets.h"
#include "data/file_reading.h"
#include "data/transforms.h"
#include "data/wordpiece.h"

namespace act::data {
namespace {

class OcrLinesDataset : public Dataset {
 public:
  int64_t size() const override { return static_cast<int64_t>(entries_.size()); }
  std::string Describe() const override { return "ocr_lines " + list_; }
  Expected<Sample> Get(int64_t index) const override {
    if (index < 0 || index >= size()) return InvalidInput(Describe() + ": sample index out of range");
    const Entry& e = entries_[index];
    ACT_ASSIGN_OR_RETURN(Image image, DecodeImageFile(e.path));
    const int64_t h = image.height, w = image.width;
    const int64_t resized_w = std::max<int64_t>(1, std::min(width_, (height_ * w + h - 1) / h));  // ceil(H w / h)
    Image resized = Resize(image, height_, resized_w, /*antialias=*/true, /*round_to_uint8=*/true);
    Tensor t(DType::kFloat32, {1, 3, height_, width_});  // zero-filled: the right padding
    float* out = t.data<float>();
    for (int64_t c = 0; c < 3; ++c) {
      for (int64_t y = 0; y < height_; ++y) {
        for (int64_t x = 0; x < resized_w; ++x) {
          const float v = resized.at(y, x, c) / 255.0f;
          out[(c * height_ + y) * width_ + x] = (v - 0.5f) / 0.5f;
        }
      }
    }
    Sample sample;
    sample.inputs[input_name_] = std::move(t);
    Label label;
    label.text = e.text;
    label.image_id = index;
    label.image_width = w;
    label.image_height = h;
    sample.label = label;
    return sample;
  }

  static Expected<std::unique_ptr<Dataset>> Create(const config::DatasetConfig& c) {
    if (!c.transforms.empty()) {
      return InvalidInput(ConfigWhere(c) + ".transforms: ocr_lines applies PP-OCR's recogniser preprocessing itself "
                                           "(set height/width to change its size); remove the transforms");
    }
    auto d = std::make_unique<OcrLinesDataset>();
    d->list_ = c.list;
    d->input_name_ = c.input_name.empty() ? "x" : c.input_name;  // PP-OCR recognisers call their input x
    d->height_ = c.height;
    d->width_ = c.width;
    std::set<std::string> symbols;
    if (!c.dictionary.empty()) {
      if (!FileExists(c.dictionary)) return NotFound(c.dictionary + ": dictionary not found (" + ConfigWhere(c) + ".dictionary)");
      ACT_ASSIGN_OR_RETURN(std::string dict, ReadFileToString(c.dictionary));
      for (const auto& line : SplitLines(dict)) symbols.insert(line);
      symbols.insert(" ");
    }
    if (!FileExists(c.list)) return NotFound(c.list + ": list file not found (" + ConfigWhere(c) + ".list)");
    ACT_ASSIGN_OR_RETURN(std::string text, ReadFileToString(c.list));
    const std::string base = DirName(c.list);
    std::vector<std::string> lines = SplitLines(text);
    for (size_t i = 0; i < lines.size(); ++i) {
      if (lines[i].empty()) continue;
      const std::string where = c.list + ":" + std::to_string(i + 1);
      const size_t tab = lines[i].find('\t');
      if (tab == std::string::npos) return InvalidInput(where + ": expected `path<TAB>text`, found '" + lines[i] + "'");
      Entry e{JoinPath(base, lines[i].substr(0, tab)), lines[i].substr(tab + 1)};
      if (!FileExists(e.path)) return NotFound(where + ": image file not found: " + e.path);
      if (!symbols.empty()) {
        for (uint32_t cp : DecodeUtf8(e.text)) {
          std::string ch;
          AppendUtf8(cp, &ch);
          if (!symbols.count(ch)) {
            return InvalidInput(where + ": label character '" + ch + "' is not in the dictionary " + c.dictionary +
                                "; the recogniser cannot produce it");
          }
        }
      }
      d->entries_.push_back(std::move(e));
    }
    if (d->entries_.empty()) return InvalidInput(c.list + ": no lines (" + ConfigWhere(c) + ")");
    return std::unique_ptr<Dataset>(std::move(d));
  }

 private:
  struct Entry {
    std::string path, text;
  };
  std::vector<Entry> entries_;
  std::string list_, input_name_;
  int64_t height_ = 48, width_ = 320;
};

}  // namespace

Expected<std::unique_ptr<Dataset>> CreateOcrLinesDataset(const config::DatasetConfig& config) {
  return OcrLinesDataset::Create(config);
}

}  // namespace act::data
