// runtime::Session: run an ONNX model for inference on the CPU, FP32 or INT8 (QDQ models).
//
//   ACT_ASSIGN_OR_RETURN(auto session, runtime::Session::Create("model.onnx", {"onednn", 1}));
//   ACT_ASSIGN_OR_RETURN(auto outputs, session->Run({{"input", tensor}}));
//
// A Session owns one backend, chosen by name from an explicit table (runtime/backend.h):
//   onednn  the fast one: oneDNN primitives with fused post-ops, INT8 from Q/DQ patterns, plain C++ for
//           data movement; plans (primitives, buffers) are built once per set of input shapes.
//   torch   the reference: the libtorch executor (src/exec); present when the program links
//           act_runtime_torch.
//   reference  the onednn backend's planner with plain C++ kernels only (slow; what its kernels are
//           tested against).
#pragma once

#include <map>
#include <memory>
#include <string>
#include <vector>

#include "act/status.h"
#include "act/tensor.h"

namespace act::ir {
class Graph;
}

namespace act::runtime {

struct SessionOptions {
  std::string backend = "onednn";
  int threads = 1;        // OpenMP threads for this session's runs (0: leave the process default)
  bool profile = false;   // time each kernel; read with Session::Profile()
  // With profile: one profile entry per kernel (node name, shapes, weight shape, implementation) instead of
  // one per op type (`bench --profile-kernels`).
  bool profile_per_kernel = false;
};

// Time spent per op type over the runs since the last ResetProfile(), when SessionOptions::profile is set.
struct OpProfile {
  std::string op_type;    // "Conv+Relu", "Reorder", "Transpose", ... (fused kernels name their parts)
  int64_t calls = 0;
  double total_ms = 0;      // wall clock
  double cpu_ms = 0;        // CPU time of the calling thread (excludes time the OS gave to other processes;
                            // with threads > 1 the worker threads' time is not in it)
};

class Backend;

class Session {
 public:
  static Expected<std::unique_ptr<Session>> Create(const std::string& model_path, const SessionOptions& options = {});
  // Takes a graph already in memory (it is normalized: Constant nodes → initializers, opset ≥ 13 where the
  // converter handles it, shapes inferred).
  static Expected<std::unique_ptr<Session>> Create(ir::Graph graph, const SessionOptions& options = {});
  ~Session();

  // Runs the model. Inputs are matched by name; every graph input must be given. Returns every graph output.
  Expected<std::map<std::string, Tensor>> Run(const std::map<std::string, Tensor>& inputs);

  const std::vector<std::string>& input_names() const { return input_names_; }
  const std::vector<std::string>& output_names() const { return output_names_; }
  const std::string& backend_name() const { return options_.backend; }

  std::vector<OpProfile> Profile() const;
  void ResetProfile();

 private:
  Session() = default;
  static Expected<std::unique_ptr<Session>> CreateFromPrepared(ir::Graph graph, const SessionOptions& options);
  SessionOptions options_;
  std::unique_ptr<Backend> backend_;
  std::vector<std::string> input_names_;
  std::vector<std::string> output_names_;
};

// The backend names the table knows, in order ("onednn", "torch").
std::vector<std::string> BackendNames();

}  // namespace act::runtime
