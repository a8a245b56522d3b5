// Loader: serves a Dataset as batches. The samples served are dataset indices [skip, skip + limit) — the
// same subset whatever the seed, so a train and an eval split set by skip/limit never overlap — in dataset
// order, or shuffled with a seeded Fisher–Yates (mt19937_64) when `shuffle`. Each batch concatenates the
// samples' tensors along dimension 0 (shapes must agree apart from it). A background thread decodes and
// collates up to `prefetch` batches ahead, so the model never waits on decoding.
#pragma once

#include <condition_variable>
#include <cstdint>
#include <deque>
#include <memory>
#include <mutex>
#include <optional>
#include <thread>
#include <vector>

#include "act/config.h"
#include "act/data.h"

namespace act::data {

struct LoaderOptions {
  int64_t batch_size = 1;
  bool shuffle = false;
  uint64_t seed = 0;
  int64_t skip = 0;
  int64_t limit = -1;      // -1: every sample after skip
  bool drop_last = false;  // drop a final batch smaller than batch_size
  int64_t prefetch = 4;    // batches decoded ahead on the background thread; 0: decode on the caller's thread
};

// batch_size, shuffle, seed, skip and limit from a data set's YAML entry.
LoaderOptions LoaderOptionsFrom(const config::DatasetConfig& config);

// Concatenates samples along dimension 0. `origin` (the data set) and the indices name a mismatch.
Expected<Batch> Collate(std::vector<Sample> samples, const std::string& origin, const std::vector<int64_t>& indices);

class Loader {
 public:
  // `dataset` must outlive the Loader.
  static Expected<std::unique_ptr<Loader>> Create(const Dataset& dataset, LoaderOptions options);
  ~Loader();
  Loader(const Loader&) = delete;
  Loader& operator=(const Loader&) = delete;

  int64_t num_samples() const { return static_cast<int64_t>(order_.size()); }
  int64_t num_batches() const;
  // Dataset indices in the order they are served this epoch.
  const std::vector<int64_t>& order() const { return order_; }
  // The next batch, std::nullopt after the last one, or the error of the sample that failed.
  Expected<std::optional<Batch>> Next();
  // Starts another pass; with shuffle, epoch e uses the order drawn from seed + e.
  void Reset(uint64_t epoch);

 private:
  Loader(const Dataset& dataset, LoaderOptions options);
  Expected<Batch> MakeBatch(int64_t batch_index) const;
  void StartWorker();
  void StopWorker();
  void WorkerLoop();

  const Dataset& dataset_;
  LoaderOptions options_;
  std::vector<int64_t> subset_;  // [skip, skip + limit)
  std::vector<int64_t> order_;
  int64_t next_batch_ = 0;       // the next batch Next() returns

  std::thread worker_;
  std::mutex mutex_;
  std::condition_variable changed_;
  std::deque<Expected<Batch>> ready_;
  int64_t produced_ = 0;         // batches the worker has queued
  bool stop_ = false;
  bool worker_failed_ = false;
};

}  // namespace act::data
