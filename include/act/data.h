// Data sets: index → Sample (named input tensors, batch dimension 1, plus an optional label).
// Built-in types are configured from YAML (Global.train_data / eval_data, DESIGN.md §5); C++ users may pass
// any Dataset of their own.
#pragma once

#include <cstdint>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "act/status.h"
#include "act/tensor.h"

namespace act::config {
struct DatasetConfig;
}  // namespace act::config

namespace act::data {

// A ground-truth box in the original image's pixel coordinates.
struct Box {
  float x0 = 0, y0 = 0, x1 = 0, y1 = 0;
  int64_t category = -1;  // data set's category id (COCO: 1..90); metrics map ids to class indices
  bool crowd = false;     // COCO iscrowd: detections matching it count neither as hits nor as misses
};

struct Label {
  int64_t class_id = -1;     // classification (top-k, accuracy, F1, Matthews)
  std::string text;          // OCR lines (CTC exact match / CER)
  std::vector<Box> boxes;    // detection (mAP)
  int64_t image_id = -1;
  int64_t image_width = 0;   // original image size, for mapping normalised boxes back to pixels
  int64_t image_height = 0;
};

struct Sample {
  std::map<std::string, Tensor> inputs;  // each with a leading batch dimension of 1
  std::optional<Label> label;
};

class Dataset {
 public:
  virtual ~Dataset() = default;
  virtual int64_t size() const = 0;
  virtual Expected<Sample> Get(int64_t index) const = 0;
  // Human-readable origin for messages ("idx t10k-images-idx3-ubyte.gz").
  virtual std::string Describe() const = 0;
};

// A batch: inputs concatenated along dimension 0, and the labels of the samples in order.
struct Batch {
  std::map<std::string, Tensor> inputs;
  std::vector<std::optional<Label>> labels;
  int64_t size() const { return static_cast<int64_t>(labels.size()); }
};

// Builds a built-in data set from its config (Global.train_data / eval_data); the types are listed in
// src/data/registry.cc. Errors name the config key and the file. Batching, shuffling, skip/limit and
// prefetching are the Loader's (src/data/loader.h).
Expected<std::unique_ptr<Dataset>> CreateDataset(const config::DatasetConfig& config);

}  // namespace act::data
