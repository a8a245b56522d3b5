// `idx`: MNIST / Fashion-MNIST IDX files (gzip or plain). Images: magic 0x00000803 (unsigned bytes, 3 dims
// N x rows x cols, big-endian sizes); labels: 0x00000801 (N). Each sample is a grey image through the
// transforms ([1, 1, rows, cols] with none) and its class label.
#include "data/datasets.h"
#include "data/file_reading.h"
#include "data/transforms.h"

namespace act::data {
namespace {

uint32_t BigEndian32(const std::string& s, size_t at) {
  const auto* p = reinterpret_cast<const unsigned char*>(s.data() + at);
  return (static_cast<uint32_t>(p[0]) << 24) | (p[1] << 16) | (p[2] << 8) | p[3];
}

// Checks the header; returns the dimensions.
Expected<std::vector<int64_t>> ParseIdxHeader(const std::string& bytes, const std::string& path, int want_dims) {
  if (bytes.size() < 4 || bytes[0] != 0 || bytes[1] != 0) {
    return InvalidInput(path + ": not an IDX file (the first two bytes must be 0)");
  }
  const int type = static_cast<unsigned char>(bytes[2]), dims = static_cast<unsigned char>(bytes[3]);
  if (type != 0x08) {
    return Unsupported(path + ": IDX element type 0x" + std::to_string(type) + "; only unsigned bytes (0x08) are supported");
  }
  if (dims != want_dims) {
    return InvalidInput(path + ": IDX file has " + std::to_string(dims) + " dimensions; expected " +
                        std::to_string(want_dims) + (want_dims == 3 ? " (N x rows x cols images)" : " (N labels)"));
  }
  if (bytes.size() < 4 + 4 * static_cast<size_t>(dims)) return InvalidInput(path + ": truncated IDX header");
  std::vector<int64_t> shape;
  int64_t total = 1;
  for (int d = 0; d < dims; ++d) {
    shape.push_back(BigEndian32(bytes, 4 + 4 * d));
    total *= shape.back();
  }
  const size_t need = 4 + 4 * static_cast<size_t>(dims) + static_cast<size_t>(total);
  if (bytes.size() < need) {
    return InvalidInput(path + ": truncated IDX data: " + std::to_string(bytes.size()) + " bytes, header says " +
                        std::to_string(need));
  }
  return shape;
}

class IdxDataset : public Dataset {
 public:
  int64_t size() const override { return count_; }
  std::string Describe() const override { return "idx " + images_path_; }
  Expected<Sample> Get(int64_t index) const override {
    if (index < 0 || index >= count_) return InvalidInput(Describe() + ": sample index " + std::to_string(index) + " out of range");
    const auto* pixels = reinterpret_cast<const uint8_t*>(images_.data()) + 16 + index * rows_ * cols_;
    Sample sample;
    ACT_ASSIGN_OR_RETURN(Tensor t, transforms_.Apply(GrayImage(pixels, rows_, cols_),
                                                     images_path_ + "[" + std::to_string(index) + "]"));
    sample.inputs[input_name_] = std::move(t);
    if (!labels_.empty()) {
      Label label;
      label.class_id = labels_[index];
      label.image_id = index;
      label.image_width = cols_;
      label.image_height = rows_;
      sample.label = label;
    }
    return sample;
  }

  static Expected<std::unique_ptr<Dataset>> Create(const config::DatasetConfig& c) {
    auto d = std::make_unique<IdxDataset>();
    d->images_path_ = c.images;
    d->input_name_ = ImageInputName(c);
    ACT_ASSIGN_OR_RETURN(d->transforms_, ImageTransforms::Create(c.transforms, c.key_path + ".transforms"));
    ACT_ASSIGN_OR_RETURN(d->images_, ReadMaybeGzip(c.images));
    ACT_ASSIGN_OR_RETURN(std::vector<int64_t> shape, ParseIdxHeader(d->images_, c.images, 3));
    d->count_ = shape[0];
    d->rows_ = shape[1];
    d->cols_ = shape[2];
    if (!c.labels.empty()) {
      ACT_ASSIGN_OR_RETURN(std::string labels, ReadMaybeGzip(c.labels));
      ACT_ASSIGN_OR_RETURN(std::vector<int64_t> lshape, ParseIdxHeader(labels, c.labels, 1));
      if (lshape[0] != d->count_) {
        return InvalidInput(c.labels + ": " + std::to_string(lshape[0]) + " labels for " + std::to_string(d->count_) +
                            " images in " + c.images + "; the two files must match");
      }
      for (int64_t i = 0; i < lshape[0]; ++i) {
        const int64_t label = static_cast<unsigned char>(labels[8 + i]);
        ACT_RETURN_IF_ERROR(CheckClassLabel(label, c.num_classes, c.labels + " [label " + std::to_string(i) + "]"));
        d->labels_.push_back(label);
      }
    }
    return std::unique_ptr<Dataset>(std::move(d));
  }

 private:
  std::string images_path_, input_name_;
  std::string images_;  // the whole (decompressed) file; pixels start at byte 16
  std::vector<int64_t> labels_;
  int64_t count_ = 0, rows_ = 0, cols_ = 0;
  ImageTransforms transforms_;
};

}  // namespace

Expected<std::unique_ptr<Dataset>> CreateIdxDataset(const config::DatasetConfig& config) {
  return IdxDataset::Create(config);
}

}  // namespace act::data
