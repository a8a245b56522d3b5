// The idx data-set configs the tests share (the real MNIST test set of ../shared/data, and any idx pair,
// normalised to [-1, 1] as the MNIST and Fashion CNNs were trained), and top-1 of logits against labels.
#pragma once

#include <algorithm>
#include <optional>
#include <string>
#include <vector>

#include "act/config.h"
#include "act/data.h"
#include "act/tensor.h"
#include "test_support.h"

namespace act::test {

// An idx image/label pair normalised to [-1, 1] (how the MNIST and Fashion-MNIST CNNs were trained).
inline config::DatasetConfig NormalizedIdx(const std::string& images, const std::string& labels) {
  config::DatasetConfig c;
  c.type = "idx";
  c.key_path = "test";
  c.images = images;
  c.labels = labels;
  c.input_name = "input";
  config::TransformConfig normalize;
  normalize.kind = config::TransformConfig::Kind::kNormalize;
  normalize.scale = 1.0 / 255;
  normalize.mean = {0.5};
  normalize.std = {0.5};
  c.transforms = {normalize};
  return c;
}

// MNIST test digits [skip, skip + limit) (limit -1: to the end), `batch` per batch.
inline config::DatasetConfig MnistTestDigits(int64_t skip = 0, int64_t limit = -1, int64_t batch = 1) {
  config::DatasetConfig c = NormalizedIdx(SharedDataPath("mnist/t10k-images-idx3-ubyte.gz"),
                                          SharedDataPath("mnist/t10k-labels-idx1-ubyte.gz"));
  c.skip = skip;
  c.limit = limit;
  c.batch_size = batch;
  return c;
}

// Fraction of rows of `logits` [N, K] whose arg-max is the label's class.
inline double Top1Fraction(const Tensor& logits, const std::vector<std::optional<data::Label>>& labels) {
  const int64_t n = logits.dim(0), k = logits.dim(1);
  int64_t correct = 0;
  for (int64_t i = 0; i < n; ++i) {
    const float* row = logits.data<float>() + i * k;
    correct += std::max_element(row, row + k) - row == labels[i]->class_id;
  }
  return static_cast<double>(correct) / static_cast<double>(n);
}

}  // namespace act::test
