#include "runtime/onednn/plan.h"

#include <algorithm>
#include <climits>
#include <cstring>
#include <cstdlib>
#include <ctime>

#include <omp.h>

namespace act::runtime::onednn {

bool IsDnnlDType(DType dtype) {
  return dtype == DType::kFloat32 || dtype == DType::kInt32 || dtype == DType::kInt8 || dtype == DType::kUInt8;
}

dnnl::memory::data_type ToDnnl(DType dtype) {
  switch (dtype) {
    case DType::kFloat32: return dnnl::memory::data_type::f32;
    case DType::kInt32: return dnnl::memory::data_type::s32;
    case DType::kInt8: return dnnl::memory::data_type::s8;
    case DType::kUInt8: return dnnl::memory::data_type::u8;
    default: return dnnl::memory::data_type::undef;
  }
}

dnnl::memory::dims ToDims(const Shape& shape) {
  if (shape.empty()) return {1};
  return dnnl::memory::dims(shape.begin(), shape.end());
}

dnnl::memory::desc PlainDesc(const Shape& shape, DType dtype) {
  dnnl::memory::dims dims = ToDims(shape);
  dnnl::memory::dims strides(dims.size(), 1);
  for (int i = static_cast<int>(dims.size()) - 2; i >= 0; --i) strides[i] = strides[i + 1] * std::max<int64_t>(dims[i + 1], 1);
  return dnnl::memory::desc(dims, ToDnnl(dtype), strides);
}

namespace {
// Thresholds of the threading decision; ACT_RUNTIME_PARALLEL_MACS / ACT_RUNTIME_PARALLEL_BYTES override
// them (for measuring other machines).
int64_t EnvOr(const char* name, int64_t fallback) {
  const char* v = std::getenv(name);
  return v && *v ? std::atoll(v) : fallback;
}
}  // namespace

// Measured on the 2-core Zen 4 (PP-OCRv4 rec, FastestDet, 1 vs 2 threads, kernel by kernel): float
// convolutions/matmuls gained from 2 threads above ~1M multiply-accumulates (a 40x120·120x360 matmul
// 1.17x, a 3x3 3→16 conv on 24x160 0.93x), INT8 ones (4x the throughput) above ~4M (1x1 convs of 6.9M
// 1.22x, of 2.3M 0.73x, a 40x120·120x360 matmul 0.98x).
bool ComputeWorthThreads(int64_t macs, bool int8) {
  static const int64_t threshold = EnvOr("ACT_RUNTIME_PARALLEL_MACS", int64_t{1} << 20);
  return macs > (int8 ? 4 * threshold : threshold);
}

bool SplitExecution() {
  return EnvOr("ACT_RUNTIME_SPLIT", 1) != 0 && omp_get_max_threads() > 1;  // read when planning, not per run
}

SingleThreadScope::SingleThreadScope(bool active) {
  if (!active) return;
  const int threads = omp_get_max_threads();
  if (threads > 1) {
    saved_ = threads;
    omp_set_num_threads(1);
  }
}

SingleThreadScope::~SingleThreadScope() {
  if (saved_ > 0) omp_set_num_threads(saved_);
}

View Plan::ViewOf(int id) const {
  const Value& v = values[id];
  return View{v.dtype, v.shape, v.data};
}

namespace {
constexpr size_t kAlignment = 64;
size_t AlignUp(size_t n) { return (n + kAlignment - 1) / kAlignment * kAlignment; }
int Root(const std::deque<Value>& values, int id) {
  while (values[id].alias_of >= 0) id = values[id].alias_of;
  return id;
}
}  // namespace

Status Plan::Finalize() {
  // 1. Liveness of every buffer owner (aliases extend their owner's life).
  for (auto& v : values) { v.first_kernel = INT_MAX; v.last_kernel = -1; }
  for (int id : input_ids) values[Root(values, id)].first_kernel = -1;
  for (int k = 0; k < static_cast<int>(kernels.size()); ++k) {
    for (int id : kernels[k]->writes) {
      Value& r = values[Root(values, id)];
      r.first_kernel = std::min(r.first_kernel, k);
      r.last_kernel = std::max(r.last_kernel, k);
    }
    for (int id : kernels[k]->reads) {
      Value& r = values[Root(values, id)];
      r.last_kernel = std::max(r.last_kernel, k);
      r.first_kernel = std::min(r.first_kernel, k);
    }
  }
  for (const auto& [name, id] : outputs) values[Root(values, id)].last_kernel = INT_MAX;

  // 2. Place owners largest first at the lowest offset that no live-overlapping owner occupies.
  std::vector<int> owners;
  for (int id = 0; id < static_cast<int>(values.size()); ++id) {
    const Value& v = values[id];
    if (!v.is_const && v.alias_of < 0 && v.nbytes > 0 && v.last_kernel >= -1 && v.first_kernel != INT_MAX) {
      owners.push_back(id);
    }
  }
  std::sort(owners.begin(), owners.end(), [&](int a, int b) { return values[a].nbytes > values[b].nbytes; });
  std::vector<int> placed;
  arena_size_ = 0;
  for (int id : owners) {
    Value& v = values[id];
    std::vector<std::pair<size_t, size_t>> busy;  // [begin, end) of overlapping owners
    for (int p : placed) {
      const Value& o = values[p];
      if (o.first_kernel <= v.last_kernel && v.first_kernel <= o.last_kernel) {
        busy.emplace_back(o.offset, o.offset + AlignUp(o.nbytes));
      }
    }
    std::sort(busy.begin(), busy.end());
    size_t offset = 0;
    for (const auto& [begin, end] : busy) {
      if (offset + v.nbytes <= begin) break;
      offset = std::max(offset, end);
    }
    v.offset = offset;
    arena_size_ = std::max(arena_size_, offset + AlignUp(v.nbytes));
    placed.push_back(id);
  }
  arena_storage_.reset(new std::byte[arena_size_ + kAlignment]);
  arena_ = reinterpret_cast<std::byte*>(AlignUp(reinterpret_cast<size_t>(arena_storage_.get())));
  std::memset(arena_, 0, arena_size_);

  // 3. Bind data pointers and oneDNN memories.
  for (int id = 0; id < static_cast<int>(values.size()); ++id) {
    Value& v = values[id];
    if (v.is_const) {
      v.data = v.constant.raw_data();
    } else {
      const Value& owner = values[Root(values, id)];
      v.data = owner.nbytes > 0 ? arena_ + owner.offset : nullptr;
    }
    if (IsDnnlDType(v.dtype) && v.md.data.ndims > 0) {
      v.mem = dnnl::memory(v.md, engine_, v.data ? v.data : DNNL_MEMORY_NONE);
    }
  }
  // 4. Threads of the kernels that did not choose: by the bytes they touch (see kParallelBytes).
  static const int64_t parallel_bytes = EnvOr("ACT_RUNTIME_PARALLEL_BYTES", static_cast<int64_t>(kParallelBytes));
  for (auto& kernel : kernels) {
    if (kernel->threads != Kernel::Threads::kAuto) continue;
    int64_t bytes = 0;
    for (const auto* ids : {&kernel->reads, &kernel->writes}) {
      for (int id : *ids) {
        const Value& v = values[id];
        if (v.dtype != DType::kUndefined) bytes += NumElements(v.shape) * static_cast<int64_t>(DTypeSize(v.dtype));
      }
    }
    kernel->threads = bytes > parallel_bytes ? Kernel::Threads::kAll : Kernel::Threads::kOne;
  }
  // 5. Outputs written straight into the returned tensors (plan.h, direct_output_).
  direct_output_.assign(outputs.size(), false);
  for (size_t i = 0; i < outputs.size(); ++i) {
    const int id = outputs[i].second;
    const Value& v = values[id];
    bool direct = v.alias_of < 0 && !v.is_const && v.nbytes > 0 && NumElements(v.shape) * DTypeSize(v.dtype) == v.nbytes;
    for (int in : input_ids) direct &= in != id;
    for (size_t j = 0; j < outputs.size(); ++j) direct &= j == i || outputs[j].second != id;
    int writers = 0;
    for (const auto& kernel : kernels) {
      for (int r : kernel->reads) direct &= Root(values, r) != id;
      for (int w : kernel->writes) {
        if (Root(values, w) != id) continue;
        ++writers;
        direct &= w == id && kernel->WritesThroughValueData();
      }
    }
    direct_output_[i] = direct && writers > 0;
  }
  // 6. Split execution (plan.h) with several threads.
  if (SplitExecution()) {
    for (auto& kernel : kernels) {
      if (kernel->Splittable()) kernel->threads = Kernel::Threads::kSplit;
    }
  }
  for (auto& kernel : kernels) {
    Status s = kernel->Bind(*this);
    if (!s.ok()) return s.WithContext("preparing " + kernel->label + " '" + kernel->node_name + "'");
  }
  return Status::Ok();
}

// Kernels [begin, end) (all kSplit) in one parallel region: part t of each on thread t, a barrier between
// kernels (the next one reads halo rows the other thread wrote). The parts' primitives were created
// single-threaded, so oneDNN does not fork inside the region.
Status Plan::RunSplit(size_t begin, size_t end, int threads) {
  while (static_cast<int>(part_streams_.size()) < threads) part_streams_.emplace_back(engine_);
  Status first_error = Status::Ok();
  bool failed = false;
#pragma omp parallel num_threads(threads)
  {
    const int part = omp_get_thread_num(), parts = omp_get_num_threads();
    for (size_t k = begin; k < end; ++k) {
      Status s = kernels[k]->ExecutePart(*this, part, parts);
      if (!s.ok()) {
#pragma omp critical(act_runtime_split_error)
        if (!failed) {
          failed = true;
          first_error = s.WithContext(kernels[k]->label + " '" + kernels[k]->node_name + "'");
        }
      }
#pragma omp barrier
    }
  }
  return first_error;
}

Expected<std::map<std::string, Tensor>> Plan::Run(const std::map<std::string, Tensor>& inputs, bool profile,
                                                  std::map<std::string, OpProfile>* profile_out) {
  returned_.resize(outputs.size());
  for (size_t i = 0; i < outputs.size(); ++i) {
    if (!direct_output_[i]) continue;
    Value& v = values[outputs[i].second];
    Tensor& out = returned_[i];
    if (!out.unique() || out.dtype() != v.dtype || out.shape() != v.shape) out = Tensor(v.dtype, v.shape);
    v.data = out.raw_data();
  }
  for (int id : input_ids) {
    Value& v = values[id];
    const Tensor& t = inputs.at(v.name);
    if (t.nbytes() != v.nbytes) return Internal("input '" + v.name + "' size changed within a plan");
    if (v.nbytes) std::memcpy(v.data, t.raw_data(), v.nbytes);
  }
  const int threads = omp_get_max_threads();
  const bool many_threads = threads > 1;
  const size_t count = kernels.size();
  for (size_t k = 0; k < count; ++k) {
    Kernel* kernel = kernels[k].get();
    const bool split = many_threads && kernel->threads == Kernel::Threads::kSplit;
    if (split && !profile) {
      size_t end = k + 1;
      while (end < count && kernels[end]->threads == Kernel::Threads::kSplit) ++end;
      ACT_RETURN_IF_ERROR(RunSplit(k, end, threads));
      k = end - 1;
      continue;
    }
    SingleThreadScope one_thread(many_threads && kernel->threads == Kernel::Threads::kOne);
    if (!profile) {
      Status s = kernel->Execute(*this);
      if (!s.ok()) return s.WithContext(kernel->label + " '" + kernel->node_name + "'");
      continue;
    }
    timespec cpu0{}, cpu1{};
    clock_gettime(CLOCK_THREAD_CPUTIME_ID, &cpu0);
    const auto start = std::chrono::steady_clock::now();
    Status s = split ? RunSplit(k, k + 1, threads) : kernel->Execute(*this);
    stream_.wait();
    const double ms = std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now() - start).count();
    clock_gettime(CLOCK_THREAD_CPUTIME_ID, &cpu1);
    if (!s.ok()) return s.WithContext(kernel->label + " '" + kernel->node_name + "'");
    const std::string key =
        profile_per_kernel ? kernel->label + " | " + kernel->node_name + " | " + kernel->detail : kernel->label;
    OpProfile& p = (*profile_out)[key];
    p.op_type = key;
    p.calls++;
    p.total_ms += ms;
    p.cpu_ms += (cpu1.tv_sec - cpu0.tv_sec) * 1e3 + (cpu1.tv_nsec - cpu0.tv_nsec) * 1e-6;
  }
  stream_.wait();
  std::map<std::string, Tensor> result;
  for (size_t i = 0; i < outputs.size(); ++i) {
    const auto& [name, id] = outputs[i];
    if (direct_output_[i]) {
      result[name] = returned_[i];
      continue;
    }
    const Value& v = values[id];
    // Outputs are plain (the builder reorders blocked ones); aliases carry no byte count of their own.
    const size_t nbytes = NumElements(v.shape) * DTypeSize(v.dtype);
    Tensor& out = returned_[i];
    if (out.unique() && out.dtype() == v.dtype && out.shape() == v.shape) {
      if (nbytes) std::memcpy(out.raw_data(), v.data, nbytes);
    } else {
      out = Tensor::FromBytes(v.dtype, v.shape, v.data, nbytes);
    }
    result[name] = out;
  }
  return result;
}

}  // namespace act::runtime::onednn
