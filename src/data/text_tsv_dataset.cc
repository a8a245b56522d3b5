// `text_tsv`: sentences for a BERT-style classifier, tokenized with WordPiece (wordpiece.h).
//   file form:   `text<TAB>label` lines (the last tab separates the label), after one header line unless
//                `header: false` (GLUE's SST-2 layout);
//   folder form: one sub-folder per class (label = sorted index, or class_map), every *.txt file in it one
//                sample (the SpamAssassin layout). A file that is not valid UTF-8 is read as Latin-1, as old
//                e-mails are.
// Outputs int64 [1, max_length] tensors input_ids / attention_mask / token_type_ids under the configured
// names; an empty name leaves that tensor out (feed only what the model declares).
#include "core/file_util.h"
#include "data/datasets.h"
#include "data/file_reading.h"
#include "data/wordpiece.h"

namespace act::data {
namespace {

std::string Latin1ToUtf8(const std::string& s) {
  std::string out;
  for (unsigned char c : s) AppendUtf8(c, &out);
  return out;
}

class TextTsvDataset : public Dataset {
 public:
  explicit TextTsvDataset(WordPieceTokenizer tokenizer) : tokenizer_(std::move(tokenizer)) {}
  int64_t size() const override { return static_cast<int64_t>(entries_.size()); }
  std::string Describe() const override { return "text_tsv " + origin_; }
  Expected<Sample> Get(int64_t index) const override {
    if (index < 0 || index >= size()) return InvalidInput(Describe() + ": sample index out of range");
    const Entry& e = entries_[index];
    std::string text = e.text;
    if (!e.file.empty()) {
      ACT_ASSIGN_OR_RETURN(text, ReadFileToString(e.file));
      if (!IsValidUtf8(text)) text = Latin1ToUtf8(text);
    }
    const WordPieceTokenizer::Encoding enc = tokenizer_.Encode(text, max_length_);
    Sample sample;
    const Shape shape = {1, max_length_};
    if (!ids_name_.empty()) sample.inputs[ids_name_] = Tensor::FromVector<int64_t>(shape, enc.input_ids);
    if (!mask_name_.empty()) sample.inputs[mask_name_] = Tensor::FromVector<int64_t>(shape, enc.attention_mask);
    if (!types_name_.empty()) sample.inputs[types_name_] = Tensor::FromVector<int64_t>(shape, enc.token_type_ids);
    Label label;
    label.class_id = e.label;
    label.image_id = index;
    sample.label = label;
    return sample;
  }

  static Expected<std::unique_ptr<Dataset>> Create(const config::DatasetConfig& c) {
    if (!c.transforms.empty()) return InvalidInput(ConfigWhere(c) + ".transforms: transforms apply to image data sets, not text_tsv");
    if (!c.input_name.empty()) {
      return InvalidInput(ConfigWhere(c) + ".input_name: a text_tsv data set makes several tensors; name them with "
                                           "input_ids_name, attention_mask_name and token_type_ids_name");
    }
    if (!FileExists(c.vocab)) return NotFound(c.vocab + ": vocabulary file not found (" + ConfigWhere(c) + ".vocab)");
    ACT_ASSIGN_OR_RETURN(WordPieceTokenizer tokenizer, WordPieceTokenizer::FromVocabFile(c.vocab, c.lower_case));
    auto d = std::make_unique<TextTsvDataset>(std::move(tokenizer));
    d->origin_ = c.path;
    d->max_length_ = c.max_length;
    d->ids_name_ = c.input_ids_name;
    d->mask_name_ = c.attention_mask_name;
    d->types_name_ = c.token_type_ids_name;
    if (d->ids_name_.empty()) return InvalidInput(ConfigWhere(c) + ".input_ids_name: must not be empty (the model needs token ids)");
    if (IsDirectory(c.path)) {
      ACT_ASSIGN_OR_RETURN(auto classes, FolderClasses(c, c.path));
      for (const auto& [folder, id] : classes) {
        const std::string dir = JoinPath(c.path, folder);
        ACT_ASSIGN_OR_RETURN(std::vector<std::string> files, ListFiles(dir));
        for (const auto& f : files) {
          if (f.size() > 4 && f.substr(f.size() - 4) == ".txt") d->entries_.push_back({"", JoinPath(dir, f), id});
        }
      }
    } else {
      if (!FileExists(c.path)) return NotFound(c.path + ": text file or folder not found (" + ConfigWhere(c) + ".path)");
      ACT_ASSIGN_OR_RETURN(std::string text, ReadFileToString(c.path));
      std::vector<std::string> lines = SplitLines(text);
      for (size_t i = c.header ? 1 : 0; i < lines.size(); ++i) {
        if (lines[i].empty()) continue;
        const std::string where = c.path + ":" + std::to_string(i + 1);
        const size_t tab = lines[i].rfind('\t');
        int64_t label = 0;
        if (tab == std::string::npos || !ParseInt(lines[i].substr(tab + 1), &label)) {
          return InvalidInput(where + ": expected `text<TAB>label` with an integer label, found '" +
                              lines[i].substr(0, 80) + "'" + (i == 0 ? " (is this a header line? set header: true)" : ""));
        }
        ACT_RETURN_IF_ERROR(CheckClassLabel(label, c.num_classes, where));
        d->entries_.push_back({lines[i].substr(0, tab), "", label});
      }
    }
    if (d->entries_.empty()) return InvalidInput(c.path + ": no samples found (" + ConfigWhere(c) + ")");
    return std::unique_ptr<Dataset>(std::move(d));
  }

 private:
  struct Entry {
    std::string text;  // file form
    std::string file;  // folder form: read when needed
    int64_t label;
  };
  WordPieceTokenizer tokenizer_;
  std::vector<Entry> entries_;
  std::string origin_, ids_name_, mask_name_, types_name_;
  int64_t max_length_ = 128;
};

}  // namespace

Expected<std::unique_ptr<Dataset>> CreateTextTsvDataset(const config::DatasetConfig& config) {
  return TextTsvDataset::Create(config);
}

}  // namespace act::data
