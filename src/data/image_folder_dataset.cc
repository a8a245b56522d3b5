// `image_folder`: a folder with one sub-folder per class (label = sorted index, or class_map), or a list
// file of `path<TAB>label` lines (paths relative to the list file). Images are decoded with stb when read.
#include "data/datasets.h"
#include "data/file_reading.h"
#include "data/transforms.h"
#include "core/file_util.h"

namespace act::data {
namespace {

bool IsImageName(const std::string& name) {
  const size_t dot = name.rfind('.');
  if (dot == std::string::npos) return false;
  std::string ext = name.substr(dot + 1);
  for (auto& ch : ext) ch = static_cast<char>(std::tolower(static_cast<unsigned char>(ch)));
  for (const char* e : {"jpg", "jpeg", "png", "bmp", "gif", "tga", "ppm", "pgm", "pnm", "psd", "hdr"}) {
    if (ext == e) return true;
  }
  return false;
}

class ImageFolderDataset : public Dataset {
 public:
  int64_t size() const override { return static_cast<int64_t>(entries_.size()); }
  std::string Describe() const override { return "image_folder " + origin_; }
  Expected<Sample> Get(int64_t index) const override {
    if (index < 0 || index >= size()) return InvalidInput(Describe() + ": sample index out of range");
    const Entry& e = entries_[index];
    ACT_ASSIGN_OR_RETURN(Image image, DecodeImageFile(e.path));
    Label label;
    label.class_id = e.label;
    label.image_id = index;
    label.image_width = image.width;
    label.image_height = image.height;
    Sample sample;
    ACT_ASSIGN_OR_RETURN(sample.inputs[input_name_], transforms_.Apply(std::move(image), e.path));
    sample.label = label;
    return sample;
  }

  static Expected<std::unique_ptr<Dataset>> Create(const config::DatasetConfig& c) {
    auto d = std::make_unique<ImageFolderDataset>();
    d->input_name_ = ImageInputName(c);
    ACT_ASSIGN_OR_RETURN(d->transforms_, ImageTransforms::Create(c.transforms, c.key_path + ".transforms"));
    if (!c.list.empty()) {
      d->origin_ = c.list;
      if (!FileExists(c.list)) return NotFound(c.list + ": list file not found (" + ConfigWhere(c) + ".list)");
      ACT_ASSIGN_OR_RETURN(std::string text, ReadFileToString(c.list));
      const std::string base = DirName(c.list);
      std::vector<std::string> lines = SplitLines(text);
      for (size_t i = 0; i < lines.size(); ++i) {
        if (lines[i].empty()) continue;
        const std::string where = c.list + ":" + std::to_string(i + 1);
        const size_t tab = lines[i].rfind('\t');
        int64_t label = 0;
        if (tab == std::string::npos || !ParseInt(lines[i].substr(tab + 1), &label)) {
          return InvalidInput(where + ": expected `path<TAB>label` with an integer label, found '" + lines[i] + "'");
        }
        ACT_RETURN_IF_ERROR(CheckClassLabel(label, c.num_classes, where));
        const std::string path = JoinPath(base, lines[i].substr(0, tab));
        if (!FileExists(path)) return NotFound(where + ": image file not found: " + path);
        d->entries_.push_back({path, label});
      }
    } else {
      d->origin_ = c.path;
      ACT_ASSIGN_OR_RETURN(auto classes, FolderClasses(c, c.path));
      for (const auto& [folder, id] : classes) {
        const std::string dir = JoinPath(c.path, folder);
        ACT_ASSIGN_OR_RETURN(std::vector<std::string> files, ListFiles(dir));
        for (const auto& f : files) {
          if (IsImageName(f)) d->entries_.push_back({JoinPath(dir, f), id});
        }
      }
    }
    if (d->entries_.empty()) return InvalidInput(d->origin_ + ": no images found (" + ConfigWhere(c) + ")");
    return std::unique_ptr<Dataset>(std::move(d));
  }

 private:
  struct Entry {
    std::string path;
    int64_t label;
  };
  std::vector<Entry> entries_;
  std::string origin_, input_name_;
  ImageTransforms transforms_;
};

}  // namespace

Expected<std::unique_ptr<Dataset>> CreateImageFolderDataset(const config::DatasetConfig& config) {
  return ImageFolderDataset::Create(config);
}

}  // namespace act::data
