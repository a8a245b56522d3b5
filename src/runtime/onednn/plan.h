// The oneDNN backend's execution plan for one set of input shapes: every value's dtype, shape and memory
// layout, the kernels in execution order, and one arena holding every intermediate buffer.
//
// A plan is built once per input-shape signature (onednn_backend.cc) and then run many times: Run copies
// the inputs into their buffers, executes the kernels, and copies the outputs out; nothing is allocated in
// between, and the output tensors are refilled in place once the caller has let go of the last ones. Values
// whose data is known when planning (initializers, shape computations, folded weights) are constants and
// live outside the arena.
#pragma once

#include <chrono>
#include <deque>
#include <map>
#include <memory>
#include <string>
#include <unordered_map>
#include <vector>

#include <oneapi/dnnl/dnnl.hpp>

#include "act/runtime.h"
#include "act/status.h"
#include "act/tensor.h"

namespace act::runtime::onednn {

// A non-owning view of a plain (dense row-major) buffer; what the reference kernels read and write.
struct View {
  DType dtype = DType::kUndefined;
  Shape shape;
  void* data = nullptr;  // nullptr while planning: only dtype and shape are asked for then
  int64_t numel() const { return NumElements(shape); }
  template <typename T> T* as() const { return static_cast<T*>(data); }
};

// Quantization of an INT8 value: real = scale · (q − zero_point).
struct QuantParams {
  float scale = 0;
  int32_t zero_point = 0;
  bool defined() const { return scale > 0; }
};

struct Value {
  std::string name;
  DType dtype = DType::kUndefined;
  Shape shape;                  // logical (ONNX) shape
  dnnl::memory::desc md;        // physical layout; zero desc for dtypes oneDNN lacks (int64, bool)
  bool blocked = false;         // md is not the plain row-major layout of `shape`
  bool is_const = false;
  Tensor constant;              // data of a constant value
  QuantParams quant;            // for u8/s8 values produced by the INT8 path
  int alias_of = -1;            // shares the buffer of this value (Reshape, Squeeze, ...)
  size_t nbytes = 0;
  int first_kernel = -1, last_kernel = -1;  // liveness, in kernel order
  size_t offset = 0;
  void* data = nullptr;
  dnnl::memory mem;             // bound after memory planning for oneDNN dtypes
};

class Plan;

// One step of the plan. `reads`/`writes` list value ids (used for liveness); Execute reads the bound
// buffers of those values.
class Kernel {
 public:
  virtual ~Kernel() = default;
  // Called once after buffers are placed (create dnnl::memory argument maps and the like).
  virtual Status Bind(Plan& plan) { return Status::Ok(); }
  virtual Status Execute(Plan& plan) = 0;

  std::string label;            // op type(s) for the profile, e.g. "Conv+BatchNormalization+Relu"
  std::string node_name;        // for messages
  std::vector<int> reads, writes;
  std::string detail;           // per-kernel profile only: shapes, weights, oneDNN implementation
  // Whether Execute may use the session's other threads (see Threading below). kAuto: decided by
  // Plan::Finalize from the bytes the kernel reads and writes. kSplit: the kernel computes one part of
  // its output per thread (ExecutePart), see "Split execution" below.
  enum class Threads { kAuto, kOne, kAll, kSplit };
  Threads threads = Threads::kAuto;

  // Split execution: a kernel that can compute part `part` of `parts` of its output on its own (an even
  // split of the output's spatial positions, PartRange) says so here; with several threads Plan::Run runs
  // part t on thread t, and consecutive split kernels in one parallel region with a barrier between them.
  virtual bool Splittable() const { return false; }
  virtual Status ExecutePart(Plan& plan, int part, int parts) { return part == 0 ? Execute(plan) : Status::Ok(); }

  // Execute finds the buffers of the values it writes through Value::data each time (no pointer kept
  // from Bind): a graph output written only by such kernels goes straight into the tensor Run returns.
  virtual bool WritesThroughValueData() const { return false; }
};

// Smallest work worth splitting (measured on PP-OCRv4 rec and FastestDet, 2 threads, bench/runtime_ab
// ACT_RUNTIME_SPLIT=1,0): below these a kernel's halves gain less than the barrier and the halo traffic
// cost, and a split kernel between unsplit ones (FastestDet's 1M-MAC 1x1 convolutions between channel
// splits and concats) pays a fork as well.
constexpr int64_t kMinSplitMacs = 2'000'000;            // INT8 1x1 convolutions and matmuls
constexpr int64_t kMinSplitDepthwiseMacs = 1'000'000;   // our INT8 depthwise convolution
constexpr int64_t kMinSplitBytes = 64 << 10;            // memory-bound kernels: bytes of the source

// Part `part` of `parts` of [0, n): [begin, end), boundaries rounded down to multiples of `align` (so that
// parts written by different threads do not share cache lines when align·element bytes is a multiple of 64).
struct Range {
  int64_t begin = 0, end = 0;
};
inline Range PartRange(int64_t n, int part, int parts, int64_t align = 1) {
  auto at = [&](int p) { return p >= parts ? n : n * p / parts / align * align; };
  return {at(part), at(part + 1)};
}

// Threading at batch 1. Most tensors of a batch-1 model are small, and on a shared 2-core machine a
// parallel region costs a fork/join (~3 µs with spinning OpenMP threads, ~25 µs with
// OMP_WAIT_POLICY=passive) and every cache line the other core wrote costs a cross-core transfer (reading
// 256 KiB written by the other core: 10.5 µs, by the same core: 1.6 µs). A kernel that cannot repay that
// runs on the calling thread alone (Kernel::Threads::kOne): Plan::Run lowers the OpenMP thread count to 1
// around it, so neither our `omp parallel` regions nor oneDNN's (which ask omp_get_max_threads) fork.
// oneDNN's convolution and matmul fix their thread split when the primitive is created: create those
// inside a SingleThreadScope when they will run on one thread.
//   - compute (convolution, matmul): all threads when the multiply-accumulates exceed ParallelMacs;
//   - everything else (memory-bound: element-wise, tables, pooling, reorders, data movement, our depthwise
//     INT8 convolution): all threads when the bytes read and written exceed kParallelBytes. On PP-OCRv4
//     rec none of these gained from a second thread (a 40x6625 float softmax, 2.1 MB: 0.99x; u8 tables,
//     pads, pooling: 0.4–0.8x), while a kernel reading what the other core just wrote pays for the
//     transfer either way.
// Split execution keeps data on the core that wrote it: in a chain of split kernels (INT8 1x1 convolution →
// hard-swish table + pad → depthwise convolution → ...), thread t computes the t-th part of every output
// and reads (up to a few halo rows) only what it wrote itself; the parts run in one parallel region (a
// barrier between kernels, ~1 µs, instead of a fork each).
bool ComputeWorthThreads(int64_t macs, bool int8);
// Split execution is on: more than one OpenMP thread, and not turned off with ACT_RUNTIME_SPLIT=0.
bool SplitExecution();
constexpr size_t kParallelBytes = size_t{4} << 20;  // 4 MiB

// While alive (and `active`), the calling thread's OpenMP thread count is 1.
class SingleThreadScope {
 public:
  explicit SingleThreadScope(bool active);
  ~SingleThreadScope();
  SingleThreadScope(const SingleThreadScope&) = delete;
  SingleThreadScope& operator=(const SingleThreadScope&) = delete;

 private:
  int saved_ = 0;
};

bool IsDnnlDType(DType dtype);
dnnl::memory::data_type ToDnnl(DType dtype);
// Dense row-major layout of `shape` (scalars become {1}).
dnnl::memory::desc PlainDesc(const Shape& shape, DType dtype);
dnnl::memory::dims ToDims(const Shape& shape);

class Plan {
 public:
  explicit Plan(dnnl::engine engine) : engine_(std::move(engine)), stream_(engine_) {}

  dnnl::engine& engine() { return engine_; }
  dnnl::stream& stream() { return stream_; }
  // The stream of part `part` of a split kernel (one per thread: a stream is not shared between threads).
  dnnl::stream& PartStream(int part) { return part_streams_[part]; }

  std::deque<Value> values;  // deque: references stay valid while the builder adds values
  std::unordered_map<std::string, int> ids;  // ONNX value name → id (the id that currently holds it)
  std::vector<std::unique_ptr<Kernel>> kernels;
  std::vector<int> input_ids;                // graph inputs, in graph order
  std::vector<std::pair<std::string, int>> outputs;  // graph output name → value id

  View ViewOf(int id) const;
  dnnl::memory& Mem(int id) { return values[id].mem; }

  // Places every non-constant value in the arena (values with disjoint lifetimes share bytes), then binds
  // the kernels. Called once after the last kernel is added.
  Status Finalize();
  size_t arena_bytes() const { return arena_size_; }

  // Profile every kernel on its own (key: label, node name, detail) instead of per label.
  bool profile_per_kernel = false;

  Expected<std::map<std::string, Tensor>> Run(const std::map<std::string, Tensor>& inputs, bool profile,
                                              std::map<std::string, OpProfile>* profile_out);

 private:
  Status RunSplit(size_t begin, size_t end, int threads);

  dnnl::engine engine_;
  dnnl::stream stream_;
  std::vector<dnnl::stream> part_streams_;
  std::unique_ptr<std::byte[]> arena_storage_;
  std::byte* arena_ = nullptr;
  size_t arena_size_ = 0;
  // The tensors the last Run returned, one per output: refilled in place when nobody else holds them
  // (PP-OCRv4 rec's 40x6625 float output: a fresh zero-filled 1 MB tensor per run cost 60–90 µs).
  std::vector<Tensor> returned_;
  // Per output: its kernels write into returned_[i] itself (Kernel::WritesThroughValueData, no reader
  // kernel), so Run points the value at that tensor instead of copying it out afterwards.
  std::vector<bool> direct_output_;
};

}  // namespace act::runtime::onednn
