// onnx-act bench --model M [--vs M2 [--block N]] [--threads N] [--runs K] [--warmup W] [--engine onednn|torch|reference]
//                [--profile] [--shape NAME=d0,d1,...] [--clock wall|cpu]
// Measures inference latency in our runtime: W warm-up runs, then K timed runs (with --vs, M and M2
// alternate run by run so that both see the same machine state; with --block N they take turns of N runs,
// the first of each turn untimed, which measures each model with warm caches). Inputs are fixed-seed uniform noise in
// [0, 1) for float inputs and ones for integer inputs (token ids, masks); symbolic dimensions are 1
// unless --shape gives them. The last line is
//   median_ms=<M> p10_ms=… p90_ms=… peak_rss_mb=… [vs_median_ms=<M2> vs_p10_ms=… vs_p90_ms=… ratio=<M/M2>]
// ratio = median(M) / median(M2): above 1 means M2 is faster (e.g. --model fp32.onnx --vs int8.onnx gives
// the INT8 speed-up). peak_rss_mb is the process's peak resident memory (getrusage), both models included.
#include <sys/resource.h>

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <random>
#include <ctime>

#include "act/runtime.h"
#include "core/strings.h"
#include "ir/graph.h"
#include "ir/onnx_io.h"
#include "tools/cli/command.h"

namespace act::cli {
namespace {

struct BenchOptions {
  std::string model;
  std::string vs;
  int threads = 1;
  int runs = 50;
  int warmup = -1;
  int block = 1;  // with --vs: runs per turn (the first of a turn after the first turn is not timed)
  std::string engine = "onednn";
  bool profile = false;
  int profile_kernels = 0;  // > 0: also list the N slowest kernels one by one
  std::string clock = "wall";
  std::vector<std::string> shapes;
};

Expected<std::map<std::string, Shape>> ParseShapes(const std::vector<std::string>& items) {
  std::map<std::string, Shape> shapes;
  for (const std::string& item : items) {
    const size_t eq = item.find('=');
    if (eq == std::string::npos || eq == 0) return InvalidInput("--shape expects NAME=d0,d1,..., got '" + item + "'");
    Shape shape;
    std::string dims = item.substr(eq + 1);
    for (size_t p = 0; p <= dims.size();) {
      size_t q = dims.find(',', p);
      if (q == std::string::npos) q = dims.size();
      try {
        shape.push_back(std::stoll(dims.substr(p, q - p)));
      } catch (...) {
        return InvalidInput("--shape '" + item + "': '" + dims.substr(p, q - p) + "' is not a number");
      }
      p = q + 1;
    }
    shapes[item.substr(0, eq)] = shape;
  }
  return shapes;
}

// Inputs for `model` from its declared inputs: --shape overrides, symbolic dims default to 1.
Expected<std::map<std::string, Tensor>> MakeInputs(const std::string& model, const std::map<std::string, Shape>& shapes) {
  ACT_ASSIGN_OR_RETURN(ir::Graph graph, ir::LoadModel(model));
  std::map<std::string, Tensor> inputs;
  std::mt19937 rng(42);
  std::uniform_real_distribution<float> dist(0.f, 1.f);
  for (const ir::ValueInfo& in : graph.inputs) {
    Shape shape;
    auto it = shapes.find(in.name);
    if (it != shapes.end()) {
      shape = it->second;
    } else if (in.shape) {
      for (const ir::Dim& d : *in.shape) shape.push_back(d.known() ? d.value : 1);
    } else {
      return InvalidInput(model + ": input '" + in.name + "' has no declared shape; give it with --shape " + in.name + "=d0,d1,...");
    }
    Tensor t(in.dtype == DType::kUndefined ? DType::kFloat32 : in.dtype, shape);
    if (t.dtype() == DType::kFloat32) {
      for (int64_t i = 0; i < t.numel(); ++i) t.data<float>()[i] = dist(rng);
    } else if (t.dtype() == DType::kInt64) {
      for (int64_t i = 0; i < t.numel(); ++i) t.data<int64_t>()[i] = 1;
    } else if (t.dtype() == DType::kInt32) {
      for (int64_t i = 0; i < t.numel(); ++i) t.data<int32_t>()[i] = 1;
    }
    inputs[in.name] = std::move(t);
  }
  for (const auto& [name, shape] : shapes) {
    bool known = false;
    for (const auto& in : graph.inputs) known |= in.name == name;
    if (!known) {
      std::vector<std::string> names;
      for (const auto& in : graph.inputs) names.push_back(in.name);
      return InvalidInput(model + " has no input '" + name + "' (inputs: " + Join(names, ", ") + ")" + DidYouMean(name, names));
    }
  }
  return inputs;
}

struct Stats {
  double median = 0, p10 = 0, p90 = 0;
};
Stats Summarize(std::vector<double> ms) {
  std::sort(ms.begin(), ms.end());
  auto at = [&](double q) { return ms[static_cast<size_t>(q * (ms.size() - 1) + 0.5)]; };
  return {at(0.5), at(0.1), at(0.9)};
}

double PeakRssMb() {
  rusage usage{};
  getrusage(RUSAGE_SELF, &usage);
  return usage.ru_maxrss / 1024.0;  // Linux reports KiB
}

struct Subject {
  std::string path;
  std::unique_ptr<runtime::Session> session;
  std::map<std::string, Tensor> inputs;
  std::vector<double> ms;
};

double ProcessCpuMs() {
  timespec t{};
  clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &t);
  return t.tv_sec * 1e3 + t.tv_nsec * 1e-6;
}

Status TimedRun(Subject& s, bool cpu_clock) {
  const auto start = std::chrono::steady_clock::now();
  const double cpu_start = cpu_clock ? ProcessCpuMs() : 0;
  auto out = s.session->Run(s.inputs);
  const double ms = cpu_clock ? ProcessCpuMs() - cpu_start
                              : std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now() - start).count();
  if (!out.ok()) return out.status().WithContext(s.path);
  s.ms.push_back(ms);
  return Status::Ok();
}

// The N slowest kernels, each on its own line (label | node | shapes, weights, oneDNN implementation).
void PrintKernelProfile(const std::vector<runtime::OpProfile>& profile, int runs, int n) {
  std::printf("slowest kernels (per run; label | node | inputs -> outputs, weights [oneDNN implementation]):\n");
  std::printf("  %10s %10s  %s\n", "wall_ms", "cpu_ms", "kernel");
  for (int i = 0; i < n && i < static_cast<int>(profile.size()); ++i) {
    const auto& p = profile[i];
    std::printf("  %10.4f %10.4f  %s%s\n", p.total_ms / runs, p.cpu_ms / runs, p.op_type.c_str(),
                p.calls > runs ? " (more than once per run)" : "");
  }
}

void PrintProfile(const Subject& s, int runs, int kernels) {
  std::vector<runtime::OpProfile> profile = s.session->Profile();
  if (kernels > 0) {
    // Per-kernel entries: print the slowest, then fold them by label for the usual table.
    std::sort(profile.begin(), profile.end(), [](const auto& a, const auto& b) { return a.cpu_ms > b.cpu_ms; });
    PrintKernelProfile(profile, runs, kernels);
    std::map<std::string, runtime::OpProfile> by_label;
    for (const auto& p : profile) {
      const std::string label = p.op_type.substr(0, p.op_type.find(" | "));
      runtime::OpProfile& q = by_label[label];
      q.op_type = label;
      q.calls += p.calls;
      q.total_ms += p.total_ms;
      q.cpu_ms += p.cpu_ms;
    }
    profile.clear();
    for (const auto& [label, p] : by_label) profile.push_back(p);
  }
  std::sort(profile.begin(), profile.end(), [](const auto& a, const auto& b) { return a.total_ms > b.total_ms; });
  double total = 0, cpu = 0;
  for (const auto& p : profile) { total += p.total_ms; cpu += p.cpu_ms; }
  std::printf("profile of %s (per run, %d runs; kernels timed one by one; cpu = the calling thread's CPU time)\n",
              s.path.c_str(), runs);
  std::printf("  %-48s %8s %10s %10s %7s\n", "kernel", "calls", "wall_ms", "cpu_ms", "share");
  for (const auto& p : profile) {
    std::printf("  %-48s %8.1f %10.3f %10.3f %6.1f%%\n", p.op_type.c_str(), static_cast<double>(p.calls) / runs,
                p.total_ms / runs, p.cpu_ms / runs, total > 0 ? 100.0 * p.total_ms / total : 0.0);
  }
  std::printf("  %-48s %8s %10.3f %10.3f\n", "total", "", total / runs, cpu / runs);
}

Status RunBench(const BenchOptions& o) {
  if (o.runs < 1) return InvalidInput("--runs must be at least 1");
  if (o.threads < 1) return InvalidInput("--threads must be at least 1");
  if (o.clock != "wall" && o.clock != "cpu") return InvalidInput("--clock must be wall or cpu, got '" + o.clock + "'");
  ACT_ASSIGN_OR_RETURN(auto shapes, ParseShapes(o.shapes));
  runtime::SessionOptions session_options;
  session_options.backend = o.engine;
  session_options.threads = o.threads;
  std::vector<Subject> subjects;
  for (const std::string& path : {o.model, o.vs}) {
    if (path.empty()) continue;
    Subject s;
    s.path = path;
    ACT_ASSIGN_OR_RETURN(s.inputs, MakeInputs(path, shapes));
    ACT_ASSIGN_OR_RETURN(s.session, runtime::Session::Create(path, session_options));
    subjects.push_back(std::move(s));
  }
  const int warmup = o.warmup >= 0 ? o.warmup : std::max(3, o.runs / 10);
  for (int i = 0; i < warmup; ++i) {
    for (Subject& s : subjects) ACT_RETURN_IF_ERROR(TimedRun(s, o.clock == "cpu"));
  }
  for (Subject& s : subjects) s.ms.clear();
  if (o.block <= 1) {
    for (int i = 0; i < o.runs; ++i) {
      for (Subject& s : subjects) ACT_RETURN_IF_ERROR(TimedRun(s, o.clock == "cpu"));
    }
  } else {
    // Turns of `block` runs: the first run of a turn warms the caches the other model evicted and is
    // dropped, so the timed runs see each model as it runs on its own, while the turns still alternate
    // often enough (tens of ms) that both models see the same machine state.
    for (int done = 0; done < o.runs; done += o.block - 1) {
      for (Subject& s : subjects) {
        ACT_RETURN_IF_ERROR(TimedRun(s, o.clock == "cpu"));  // the warming run, not kept
        s.ms.pop_back();
        for (int i = 0; i < o.block - 1 && done + i < o.runs; ++i) ACT_RETURN_IF_ERROR(TimedRun(s, o.clock == "cpu"));
      }
    }
  }
  if (o.profile || o.profile_kernels > 0) {
    // Profiling times every kernel separately (with a stream wait each), so it runs apart from the timing.
    for (Subject& s : subjects) {
      session_options.profile = true;
      session_options.profile_per_kernel = o.profile_kernels > 0;
      ACT_ASSIGN_OR_RETURN(auto profiled, runtime::Session::Create(s.path, session_options));
      for (int i = 0; i < warmup; ++i) {
        auto out = profiled->Run(s.inputs);
        if (!out.ok()) return out.status().WithContext(s.path);
      }
      profiled->ResetProfile();
      for (int i = 0; i < o.runs; ++i) {
        auto out = profiled->Run(s.inputs);
        if (!out.ok()) return out.status().WithContext(s.path);
      }
      Subject view;
      view.path = s.path;
      view.session = std::move(profiled);
      PrintProfile(view, o.runs, o.profile_kernels);
    }
  }
  std::printf("engine=%s threads=%d runs=%d warmup=%d clock=%s block=%d\n", o.engine.c_str(), o.threads, o.runs,
              warmup, o.clock.c_str(), o.block);
  const Stats a = Summarize(subjects[0].ms);
  std::printf("model: %s\n", subjects[0].path.c_str());
  if (subjects.size() > 1) std::printf("vs:    %s\n", subjects[1].path.c_str());
  std::printf("median_ms=%.4f p10_ms=%.4f p90_ms=%.4f peak_rss_mb=%.1f", a.median, a.p10, a.p90, PeakRssMb());
  if (subjects.size() > 1) {
    const Stats b = Summarize(subjects[1].ms);
    std::printf(" vs_median_ms=%.4f vs_p10_ms=%.4f vs_p90_ms=%.4f ratio=%.3f", b.median, b.p10, b.p90,
                b.median > 0 ? a.median / b.median : 0.0);
  }
  std::printf("\n");
  return Status::Ok();
}

}  // namespace

CommandRunner AddBenchCommand(CLI::App& app) {
  auto options = std::make_shared<BenchOptions>();
  CLI::App* sub = app.add_subcommand(
      "bench", "Measure inference latency (median/p10/p90) and peak memory; with --vs compare two models.\n"
               "Last line: median_ms=… p10_ms=… p90_ms=… peak_rss_mb=… [vs_median_ms=… ratio=median(M)/median(M2)]\n"
               "(ratio > 1: the --vs model is faster)");
  sub->add_option("--model", options->model, "ONNX model file")->required();
  sub->add_option("--vs", options->vs, "A second model, run alternately with the first (e.g. its INT8 version)");
  sub->add_option("--threads", options->threads, "Threads")->capture_default_str();
  sub->add_option("--block", options->block,
                  "With --vs: the models take turns of N runs instead of alternating run by run; the first run "
                  "of each turn is not timed (it reloads the caches the other model evicted), so the medians "
                  "are each model's warm latency, as when it runs alone")->capture_default_str()->check(CLI::PositiveNumber);
  sub->add_option("--runs", options->runs, "Timed runs per model")->capture_default_str();
  sub->add_option("--warmup", options->warmup, "Warm-up runs per model (default: max(3, runs/10))");
  sub->add_option("--engine", options->engine, "Runtime backend: onednn | torch")->capture_default_str();
  sub->add_option("--clock", options->clock,
                  "wall | cpu: time runs by the process's CPU time (as bench/ort/bench.js --clock cpu; with 1 thread "
                  "this is the latency on an idle core, use it on a shared machine)")->capture_default_str();
  sub->add_flag("--profile", options->profile, "Also print the time per kernel (op type, fused ops joined by '+')");
  sub->add_option("--profile-kernels", options->profile_kernels,
                  "With the profile, also list the N slowest kernels one by one (node, shapes, weight shape: "
                  "groups and kernel size, oneDNN implementation; onednn engine)");
  sub->add_option("--shape", options->shapes, "NAME=d0,d1,... input shape (repeatable; default: declared, symbolic dims 1)");
  return [options]() { return RunBench(*options); };
}

}  // namespace act::cli
