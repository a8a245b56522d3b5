// exec_bench: FP32 forward latency of exec::Module (the libtorch training engine) on one model.
//   exec_bench MODEL [--shape NAME=d0,d1,...] [--runs K] [--warmup W] [--threads N] [--grad]
// Inputs are seeded uniform [0, 1) floats (integer inputs: [0, 100)) of each input's shape; a symbolic dim
// takes its size from --shape, else 1 — the same convention as bench/ort/bench.js, so the two numbers
// compare. Each run is one Module::Forward under InferenceMode (or with autograd recording, --grad).
// Output: median_ms=<x> p10_ms=<y> p90_ms=<z>
// Environment switches for performance work: ACT_EXEC_PROFILE=1 prints per-op-type time on stderr;
// ACT_EXEC_NO_MKLDNN=1 turns off libtorch's oneDNN convolutions (measured 1.8-2.3x slower here);
// ACT_EXEC_CHANNELS_LAST=1 feeds NHWC inputs and weights (about equal on PP-OCRv4 rec, 2-3x slower on
// FastestDet, whose channel shuffles then copy).
#include <c10/core/InferenceMode.h>
#include <ATen/Context.h>
#include <ATen/Parallel.h>

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <sstream>

#include "exec/module.h"
#include "exec/tensor_convert.h"
#include "ir/onnx_io.h"

int main(int argc, char** argv) {
  using namespace act;
  if (argc < 2) {
    std::fprintf(stderr, "usage: exec_bench MODEL [--shape NAME=d0,d1,...] [--runs K] [--warmup W] [--threads N] [--grad]\n");
    return 2;
  }
  const std::string model = argv[1];
  std::map<std::string, std::vector<int64_t>> shapes;
  int runs = 100, warmup = 10, threads = 1;
  bool grad = false;
  for (int i = 2; i < argc; ++i) {
    const std::string a = argv[i];
    auto next = [&]() -> std::string { return i + 1 < argc ? argv[++i] : ""; };
    if (a == "--shape") {
      const std::string s = next();
      const size_t eq = s.find('=');
      std::vector<int64_t> dims;
      std::stringstream ss(s.substr(eq + 1));
      std::string d;
      while (std::getline(ss, d, ',')) dims.push_back(std::stoll(d));
      shapes[s.substr(0, eq)] = dims;
    } else if (a == "--runs") {
      runs = std::stoi(next());
    } else if (a == "--warmup") {
      warmup = std::stoi(next());
    } else if (a == "--threads") {
      threads = std::stoi(next());
    } else if (a == "--grad") {
      grad = true;
    } else {
      std::fprintf(stderr, "exec_bench: unknown argument '%s'\n", a.c_str());
      return 2;
    }
  }
  at::set_num_threads(threads);
  if (std::getenv("ACT_EXEC_NO_MKLDNN") != nullptr) at::globalContext().setUserEnabledMkldnn(false);
  auto graph = ir::LoadModel(model);
  if (!graph.ok()) {
    std::fprintf(stderr, "exec_bench: %s\n", graph.status().message().c_str());
    return 2;
  }
  auto module = exec::Module::Create(*graph);
  if (!module.ok()) {
    std::fprintf(stderr, "exec_bench: %s\n", module.status().message().c_str());
    return module.status().ExitCode();
  }
  at::manual_seed(1);
  std::map<std::string, at::Tensor> inputs;
  for (const auto& in : graph->inputs) {
    if (graph->IsInitializer(in.name)) continue;
    std::vector<int64_t> dims;
    if (shapes.count(in.name)) {
      dims = shapes[in.name];
    } else if (in.shape) {
      for (const auto& d : *in.shape) dims.push_back(d.known() ? d.value : 1);
    }
    auto type = exec::ToScalarType(in.dtype);
    if (!type.ok()) {
      std::fprintf(stderr, "exec_bench: input '%s': %s\n", in.name.c_str(), type.status().message().c_str());
      return 2;
    }
    inputs[in.name] = at::isFloatingType(*type) ? at::rand(dims, *type) : at::randint(0, 100, dims, *type);
  }
  if (std::getenv("ACT_EXEC_CHANNELS_LAST") != nullptr) {
    for (auto& [name, t] : inputs) {
      if (t.dim() == 4) t = t.contiguous(at::MemoryFormat::ChannelsLast);
    }
    at::NoGradGuard no_grad;
    for (const auto& [name, p] : (*module)->parameters()) {
      if (p.dim() == 4) const_cast<at::Tensor&>(p).set_data(p.contiguous(at::MemoryFormat::ChannelsLast));
    }
  }
  std::vector<double> ms;
  for (int r = 0; r < warmup + runs; ++r) {
    const auto start = std::chrono::steady_clock::now();
    if (grad) {
      auto out = (*module)->Forward(inputs);
      if (!out.ok()) { std::fprintf(stderr, "exec_bench: %s\n", out.status().message().c_str()); return 1; }
    } else {
      c10::InferenceMode inference;
      auto out = (*module)->Forward(inputs);
      if (!out.ok()) { std::fprintf(stderr, "exec_bench: %s\n", out.status().message().c_str()); return 1; }
    }
    const double elapsed = std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now() - start).count();
    if (r >= warmup) ms.push_back(elapsed);
  }
  if (std::getenv("ACT_EXEC_PROFILE") != nullptr) {  // per-op-type time of a few extra runs, on stderr
    (*module)->SetProfiling(true);
    c10::InferenceMode inference;
    for (int r = 0; r < 10; ++r) (void)(*module)->Forward(inputs);
    for (const auto& [op, total] : (*module)->profile()) std::fprintf(stderr, "  %-20s %8.3f ms/run\n", op.c_str(), total / 10);
  }
  std::sort(ms.begin(), ms.end());
  auto pct = [&](double p) { return ms[std::min(ms.size() - 1, static_cast<size_t>(p * ms.size()))]; };
  std::printf("median_ms=%.3f p10_ms=%.3f p90_ms=%.3f\n", pct(0.5), pct(0.1), pct(0.9));
  return 0;
}
