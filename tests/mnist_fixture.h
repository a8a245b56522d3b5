// The real MNIST test set of ../shared/data as the data-set config the tests share (idx, normalised to
// [-1, 1] as the CNN was trained), and top-1 of a logits batch against its labels.
#pragma once

#include <algorithm>
#include <optional>
#include <vector>

#include "act/config.h"
#include "act/data.h"
#include "act/tensor.h"
#include "test_support.h"

namespace act::test {

// Test digits [skip, skip + limit) (limit -1: to the end), `batch` per batch.
inline config::DatasetConfig MnistTestDigits(int64_t skip = 0, int64_t limit = -1, int64_t batch = 1) {
  config::DatasetConfig c;
  c.type = "idx";
  c.key_path = "test";
  c.images = SharedDataPath("mnist/t10k-images-idx3-ubyte.gz");
  c.labels = SharedDataPath("mnist/t10k-labels-idx1-ubyte.gz");
  c.input_name = "input";
  config::TransformConfig normalize;
  normalize.kind = config::TransformConfig::Kind::kNormalize;
  normalize.scale = 1.0 / 255;
  normalize.mean = {0.5};
  normalize.std = {0.5};
  c.transforms = {normalize};
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
