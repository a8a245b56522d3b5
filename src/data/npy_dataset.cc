// `npy`: a folder of .npy / .npz files, one per sample, in sorted name order — for inputs no other type
// describes. A .npy holds one tensor, named `input_name` (default "input"); a .npz holds one tensor per
// entry, named by the entry (without ".npy"); an entry named "label" (an integer scalar) is the class
// label rather than an input. A tensor whose first dimension is not 1 gets a leading batch dimension of 1.
#include "core/file_util.h"
#include "core/npy.h"
#include "data/datasets.h"
#include "data/file_reading.h"

namespace act::data {
namespace {

Tensor WithBatchDim(const Tensor& t) {
  if (t.rank() > 0 && t.dim(0) == 1) return t;
  Shape shape = t.shape();
  shape.insert(shape.begin(), 1);
  return t.Reshaped(shape);
}

class NpyDataset : public Dataset {
 public:
  int64_t size() const override { return static_cast<int64_t>(files_.size()); }
  std::string Describe() const override { return "npy " + dir_; }
  Expected<Sample> Get(int64_t index) const override {
    if (index < 0 || index >= size()) return InvalidInput(Describe() + ": sample index out of range");
    const std::string path = JoinPath(dir_, files_[index]);
    Sample sample;
    if (files_[index].size() > 4 && files_[index].substr(files_[index].size() - 4) == ".npz") {
      ACT_ASSIGN_OR_RETURN(auto entries, ReadZipEntries(path));
      for (const auto& [entry, bytes] : entries) {
        std::string name = entry;
        if (name.size() > 4 && name.substr(name.size() - 4) == ".npy") name.resize(name.size() - 4);
        ACT_ASSIGN_OR_RETURN(Tensor t, ParseNpy(bytes, path + ":" + entry));
        if (name == "label") {
          if (t.numel() != 1 || !(t.dtype() == DType::kInt64 || t.dtype() == DType::kInt32 || t.dtype() == DType::kUInt8)) {
            return InvalidInput(path + ": entry 'label' must be one integer (the class label)");
          }
          Label label;
          label.class_id = static_cast<int64_t>(t.ElementAsDouble(0));
          label.image_id = index;
          ACT_RETURN_IF_ERROR(CheckClassLabel(label.class_id, num_classes_, path + ":label"));
          sample.label = label;
          continue;
        }
        sample.inputs[name] = WithBatchDim(t);
      }
      if (sample.inputs.empty()) return InvalidInput(path + ": the archive holds no input arrays");
    } else {
      ACT_ASSIGN_OR_RETURN(Tensor t, ReadNpy(path));
      sample.inputs[input_name_] = WithBatchDim(t);
    }
    return sample;
  }

  static Expected<std::unique_ptr<Dataset>> Create(const config::DatasetConfig& c) {
    if (!c.transforms.empty()) {
      return InvalidInput(ConfigWhere(c) + ".transforms: npy data sets hold ready model inputs; transforms apply to "
                                           "image data sets (idx, image_folder, coco)");
    }
    auto d = std::make_unique<NpyDataset>();
    d->dir_ = c.path;
    d->input_name_ = ImageInputName(c);
    d->num_classes_ = c.num_classes;
    ACT_ASSIGN_OR_RETURN(std::vector<std::string> files, ListFiles(c.path));
    for (const auto& f : files) {
      if (f.size() > 4 && (f.substr(f.size() - 4) == ".npy" || f.substr(f.size() - 4) == ".npz")) d->files_.push_back(f);
    }
    if (d->files_.empty()) return InvalidInput(c.path + ": no .npy or .npz files (" + ConfigWhere(c) + ".path)");
    return std::unique_ptr<Dataset>(std::move(d));
  }

 private:
  std::string dir_, input_name_;
  std::vector<std::string> files_;
  int64_t num_classes_ = 0;
};

}  // namespace

Expected<std::unique_ptr<Dataset>> CreateNpyDataset(const config::DatasetConfig& config) {
  return NpyDataset::Create(config);
}

}  // namespace act::data
