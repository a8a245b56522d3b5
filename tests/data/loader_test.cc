// Loader: batching (concatenation along dimension 0), seeded shuffling, skip/limit, drop_last, the
// background prefetch (same batches as decoding on the caller's thread) and error propagation.
#include <gtest/gtest.h>

#include <algorithm>
#include <set>

#include "data/loader.h"

namespace act::data {
namespace {

// Sample i: input "x" = [[i, 10 i]] (float, [1, 2]), "id" = [i] (int64, [1]), label class i % 3.
class CountingDataset : public Dataset {
 public:
  explicit CountingDataset(int64_t n, int64_t failing = -1) : n_(n), failing_(failing) {}
  int64_t size() const override { return n_; }
  std::string Describe() const override { return "counting"; }
  Expected<Sample> Get(int64_t i) const override {
    if (i == failing_) return InvalidInput("img" + std::to_string(i) + ".png: cannot decode image");
    Sample s;
    s.inputs["x"] = Tensor::FromVector<float>({1, 2}, {float(i), float(10 * i)});
    s.inputs["id"] = Tensor::FromVector<int64_t>({1}, {i});
    Label l;
    l.class_id = i % 3;
    s.label = l;
    return s;
  }

 private:
  int64_t n_, failing_;
};

std::vector<int64_t> ServedIds(Loader& loader, std::vector<int64_t>* batch_sizes = nullptr) {
  std::vector<int64_t> ids;
  while (true) {
    Expected<std::optional<Batch>> b = loader.Next();
    EXPECT_TRUE(b.ok()) << b.status().message();
    if (!b.ok() || !b->has_value()) break;
    const Batch& batch = **b;
    const Tensor& id = batch.inputs.at("id");
    const Tensor& x = batch.inputs.at("x");
    EXPECT_EQ(x.shape(), (Shape{batch.size(), 2}));
    for (int64_t r = 0; r < batch.size(); ++r) {
      const int64_t i = id.data<int64_t>()[r];
      ids.push_back(i);
      EXPECT_EQ(x.data<float>()[2 * r + 1], 10.0f * i);  // rows stay with their sample
      EXPECT_EQ(batch.labels[r]->class_id, i % 3);       // labels in the same order
    }
    if (batch_sizes) batch_sizes->push_back(batch.size());
  }
  return ids;
}

TEST(LoaderTest, BatchesInOrderWithALastPartialBatch) {
  CountingDataset d(10);
  LoaderOptions o;
  o.batch_size = 4;
  auto loader = Loader::Create(d, o);
  ASSERT_TRUE(loader.ok());
  EXPECT_EQ((*loader)->num_batches(), 3);
  std::vector<int64_t> sizes;
  std::vector<int64_t> ids = ServedIds(**loader, &sizes);
  EXPECT_EQ(sizes, (std::vector<int64_t>{4, 4, 2}));
  std::vector<int64_t> want(10);
  for (int i = 0; i < 10; ++i) want[i] = i;
  EXPECT_EQ(ids, want);
  o.drop_last = true;
  loader = Loader::Create(d, o);
  sizes.clear();
  ServedIds(**loader, &sizes);
  EXPECT_EQ(sizes, (std::vector<int64_t>{4, 4}));
}

TEST(LoaderTest, SkipAndLimitSelectTheSameSubsetWhateverTheShuffle) {
  CountingDataset d(100);
  LoaderOptions o;
  o.batch_size = 7;
  o.skip = 10;
  o.limit = 30;
  auto plain = Loader::Create(d, o);
  std::vector<int64_t> a = ServedIds(**plain);
  ASSERT_EQ(a.size(), 30u);
  EXPECT_EQ(a.front(), 10);
  EXPECT_EQ(a.back(), 39);
  o.shuffle = true;
  o.seed = 7;
  auto shuffled = Loader::Create(d, o);
  std::vector<int64_t> b = ServedIds(**shuffled);
  EXPECT_NE(a, b);
  std::vector<int64_t> sorted = b;
  std::sort(sorted.begin(), sorted.end());
  EXPECT_EQ(sorted, a);  // a permutation of [10, 40)
  // limit beyond the end stops at the end.
  o.shuffle = false;
  o.skip = 95;
  o.limit = 50;
  auto tail = Loader::Create(d, o);
  EXPECT_EQ(ServedIds(**tail).size(), 5u);
  o.skip = 100;
  EXPECT_FALSE(Loader::Create(d, o).ok());
}

TEST(LoaderTest, ShuffleIsDeterministicPerSeedAndEpoch) {
  CountingDataset d(50);
  LoaderOptions o;
  o.batch_size = 8;
  o.shuffle = true;
  o.seed = 42;
  auto l1 = Loader::Create(d, o);
  auto l2 = Loader::Create(d, o);
  std::vector<int64_t> first = ServedIds(**l1);
  EXPECT_EQ(first, ServedIds(**l2));
  (*l1)->Reset(1);
  std::vector<int64_t> second = ServedIds(**l1);
  EXPECT_NE(first, second);
  (*l1)->Reset(0);
  EXPECT_EQ(ServedIds(**l1), first);
  o.seed = 43;
  auto l3 = Loader::Create(d, o);
  EXPECT_NE(ServedIds(**l3), first);
}

TEST(LoaderTest, PrefetchServesTheSameBatchesAsInlineDecoding) {
  CountingDataset d(37);
  LoaderOptions o;
  o.batch_size = 5;
  o.shuffle = true;
  o.seed = 3;
  o.prefetch = 0;
  auto inline_loader = Loader::Create(d, o);
  o.prefetch = 2;
  auto prefetching = Loader::Create(d, o);
  EXPECT_EQ(ServedIds(**inline_loader), ServedIds(**prefetching));
  // Destroying a loader mid-pass stops its worker cleanly.
  auto partial = Loader::Create(d, o);
  ASSERT_TRUE((*partial)->Next().ok());
}

TEST(LoaderTest, ASampleErrorEndsThePassNamingTheSample) {
  CountingDataset d(20, /*failing=*/9);
  LoaderOptions o;
  o.batch_size = 4;
  auto loader = Loader::Create(d, o);
  ASSERT_TRUE((*loader)->Next().ok());
  ASSERT_TRUE((*loader)->Next().ok());
  Expected<std::optional<Batch>> b = (*loader)->Next();  // samples 8..11
  ASSERT_FALSE(b.ok());
  EXPECT_NE(b.status().message().find("sample 9"), std::string::npos) << b.status().message();
  EXPECT_NE(b.status().message().find("img9.png"), std::string::npos) << b.status().message();
  Expected<std::optional<Batch>> after = (*loader)->Next();
  ASSERT_TRUE(after.ok());
  EXPECT_FALSE(after->has_value());
}

TEST(LoaderTest, CollateRefusesMismatchedShapes) {
  Sample a, b;
  a.inputs["x"] = Tensor(DType::kFloat32, {1, 3, 4, 4});
  b.inputs["x"] = Tensor(DType::kFloat32, {1, 3, 4, 5});
  Expected<Batch> batch = Collate({a, b}, "images", {0, 1});
  ASSERT_FALSE(batch.ok());
  EXPECT_NE(batch.status().message().find("[1,3,4,5]"), std::string::npos) << batch.status().message();
}

}  // namespace
}  // namespace act::data
