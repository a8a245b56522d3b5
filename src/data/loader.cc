#include "data/loader.h"

#include <algorithm>
#include <random>

namespace act::data {

LoaderOptions LoaderOptionsFrom(const config::DatasetConfig& config) {
  LoaderOptions o;
  o.batch_size = config.batch_size;
  o.shuffle = config.shuffle;
  o.seed = config.seed;
  o.skip = config.skip;
  o.limit = config.limit;
  return o;
}

Expected<Batch> Collate(std::vector<Sample> samples, const std::string& origin, const std::vector<int64_t>& indices) {
  Batch batch;
  if (samples.empty()) return batch;
  const Sample& first = samples.front();
  for (const auto& [name, tensor] : first.inputs) {
    if (tensor.rank() == 0) return InvalidInput(origin + ": input '" + name + "' is a scalar; samples need a batch dimension");
    int64_t rows = 0;
    for (size_t i = 0; i < samples.size(); ++i) {
      auto it = samples[i].inputs.find(name);
      if (it == samples[i].inputs.end()) {
        return InvalidInput(origin + ": sample " + std::to_string(indices[i]) + " has no input '" + name +
                            "' but sample " + std::to_string(indices[0]) + " has");
      }
      const Tensor& t = it->second;
      Shape a(t.shape().begin() + (t.rank() ? 1 : 0), t.shape().end());
      Shape b(tensor.shape().begin() + 1, tensor.shape().end());
      if (t.dtype() != tensor.dtype() || a != b) {
        return InvalidInput(origin + ": cannot batch input '" + name + "': sample " + std::to_string(indices[i]) + " is " +
                            DTypeName(t.dtype()) + ShapeToString(t.shape()) + ", sample " + std::to_string(indices[0]) +
                            " is " + DTypeName(tensor.dtype()) + ShapeToString(tensor.shape()) +
                            "; resize the images to one size (a resize transform) or use batch_size: 1");
      }
      rows += t.dim(0);
    }
    if (samples.size() == 1) {
      batch.inputs[name] = tensor;
      continue;
    }
    Shape shape = tensor.shape();
    shape[0] = rows;
    Tensor out(tensor.dtype(), shape);
    auto* dst = static_cast<std::byte*>(out.raw_data());
    for (const auto& s : samples) {
      const Tensor& t = s.inputs.at(name);
      std::copy_n(static_cast<const std::byte*>(t.raw_data()), t.nbytes(), dst);
      dst += t.nbytes();
    }
    batch.inputs[name] = std::move(out);
  }
  for (size_t i = 1; i < samples.size(); ++i) {
    if (samples[i].inputs.size() != first.inputs.size()) {
      return InvalidInput(origin + ": sample " + std::to_string(indices[i]) + " has " +
                          std::to_string(samples[i].inputs.size()) + " inputs, sample " + std::to_string(indices[0]) +
                          " has " + std::to_string(first.inputs.size()));
    }
  }
  for (auto& s : samples) batch.labels.push_back(std::move(s.label));
  return batch;
}

Expected<std::unique_ptr<Loader>> Loader::Create(const Dataset& dataset, LoaderOptions options) {
  if (options.batch_size <= 0) return InvalidInput(dataset.Describe() + ": batch_size must be positive");
  if (options.skip < 0 || options.skip >= dataset.size()) {
    return InvalidInput(dataset.Describe() + ": skip " + std::to_string(options.skip) + " leaves no samples of " +
                        std::to_string(dataset.size()));
  }
  if (options.limit == 0 || options.limit < -1) return InvalidInput(dataset.Describe() + ": limit must be positive or -1");
  return std::unique_ptr<Loader>(new Loader(dataset, options));
}

Loader::Loader(const Dataset& dataset, LoaderOptions options) : dataset_(dataset), options_(options) {
  const int64_t end = options_.limit < 0 ? dataset_.size() : std::min(dataset_.size(), options_.skip + options_.limit);
  for (int64_t i = options_.skip; i < end; ++i) subset_.push_back(i);
  Reset(0);
}

Loader::~Loader() { StopWorker(); }

int64_t Loader::num_batches() const {
  const int64_t n = num_samples(), b = options_.batch_size;
  return options_.drop_last ? n / b : (n + b - 1) / b;
}

void Loader::Reset(uint64_t epoch) {
  StopWorker();
  order_ = subset_;
  if (options_.shuffle) {
    // Fisher–Yates with our own index draw: the order depends only on the seed, not on the standard
    // library's std::shuffle / distribution implementations.
    std::mt19937_64 rng(options_.seed + epoch);
    for (size_t i = order_.size(); i > 1; --i) {
      const size_t j = static_cast<size_t>(rng() % i);
      std::swap(order_[i - 1], order_[j]);
    }
  }
  next_batch_ = 0;
  produced_ = 0;
  ready_.clear();
  worker_failed_ = false;
}

Expected<Batch> Loader::MakeBatch(int64_t batch_index) const {
  const int64_t begin = batch_index * options_.batch_size;
  const int64_t end = std::min<int64_t>(begin + options_.batch_size, num_samples());
  std::vector<Sample> samples;
  std::vector<int64_t> indices;
  for (int64_t i = begin; i < end; ++i) {
    Expected<Sample> s = dataset_.Get(order_[i]);
    if (!s.ok()) return s.status().WithContext(dataset_.Describe() + ", sample " + std::to_string(order_[i]));
    samples.push_back(std::move(s).value());
    indices.push_back(order_[i]);
  }
  return Collate(std::move(samples), dataset_.Describe(), indices);
}

void Loader::StartWorker() {
  stop_ = false;
  worker_ = std::thread([this] { WorkerLoop(); });
}

void Loader::StopWorker() {
  if (!worker_.joinable()) return;
  {
    std::lock_guard<std::mutex> lock(mutex_);
    stop_ = true;
  }
  changed_.notify_all();
  worker_.join();
}

void Loader::WorkerLoop() {
  const int64_t total = num_batches();
  while (true) {
    int64_t index;
    {
      std::unique_lock<std::mutex> lock(mutex_);
      changed_.wait(lock, [&] {
        return stop_ || worker_failed_ || produced_ >= total ||
               static_cast<int64_t>(ready_.size()) < options_.prefetch;
      });
      if (stop_ || worker_failed_ || produced_ >= total) return;
      index = produced_;
    }
    Expected<Batch> batch = MakeBatch(index);  // decoding happens outside the lock
    {
      std::lock_guard<std::mutex> lock(mutex_);
      if (stop_) return;
      worker_failed_ = !batch.ok();
      ready_.push_back(std::move(batch));
      ++produced_;
    }
    changed_.notify_all();
  }
}

Expected<std::optional<Batch>> Loader::Next() {
  if (next_batch_ >= num_batches()) return std::optional<Batch>();
  if (options_.prefetch <= 0) {
    Expected<Batch> b = MakeBatch(next_batch_++);
    if (!b.ok()) return b.status();
    return std::optional<Batch>(std::move(b).value());
  }
  if (!worker_.joinable()) StartWorker();
  std::unique_lock<std::mutex> lock(mutex_);
  changed_.wait(lock, [&] { return !ready_.empty(); });
  Expected<Batch> b = std::move(ready_.front());
  ready_.pop_front();
  ++next_batch_;
  lock.unlock();
  changed_.notify_all();
  if (!b.ok()) {
    next_batch_ = num_batches();  // the pass ends at the first error
    return b.status();
  }
  return std::optional<Batch>(std::move(b).value());
}

}  // namespace act::data
