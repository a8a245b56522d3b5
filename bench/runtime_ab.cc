// runtime_ab MODEL VAR=A,B [--threads N] [--runs K] [--block B] [NAME=d0,d1,...]: one model in two
// sessions of our onednn backend, planned with the environment variable VAR set to A and to B (the
// runtime's switches, e.g. ACT_RUNTIME_SPLIT=1,0), timed in alternating turns of B runs in one process
// (the first run of a turn untimed). On a VM whose speed drifts by 10-25% between runs this is how a
// runtime change is told apart from the drift: both variants see the same machine state.
#include <algorithm>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <random>
#include <string>
#include <vector>

#include "act/runtime.h"

int main(int argc, char** argv) {
  using namespace act;
  if (argc < 3) {
    std::fprintf(stderr, "usage: runtime_ab MODEL VAR=A,B [--threads N] [--runs K] [--block B] [NAME=d0,d1,...]\n");
    return 2;
  }
  const std::string model = argv[1], toggle = argv[2];
  const size_t eq = toggle.find('='), comma = toggle.find(',');
  if (eq == std::string::npos || comma == std::string::npos || comma < eq) {
    std::fprintf(stderr, "runtime_ab: expected VAR=A,B, got '%s'\n", toggle.c_str());
    return 2;
  }
  const std::string var = toggle.substr(0, eq);
  const std::string values[2] = {toggle.substr(eq + 1, comma - eq - 1), toggle.substr(comma + 1)};
  int threads = 1, runs = 200, block = 10;
  std::map<std::string, Tensor> inputs;
  std::mt19937 rng(1234);
  std::uniform_real_distribution<float> dist(0.f, 1.f);
  for (int i = 3; i < argc; ++i) {
    const std::string a = argv[i];
    if (a == "--threads" && i + 1 < argc) threads = std::atoi(argv[++i]);
    else if (a == "--runs" && i + 1 < argc) runs = std::atoi(argv[++i]);
    else if (a == "--block" && i + 1 < argc) block = std::max(2, std::atoi(argv[++i]));
    else if (const size_t e = a.find('='); e != std::string::npos) {
      Shape shape;
      for (size_t p = e + 1; p <= a.size();) {
        size_t q = a.find(',', p);
        if (q == std::string::npos) q = a.size();
        shape.push_back(std::atoll(a.substr(p, q - p).c_str()));
        p = q + 1;
      }
      Tensor t(DType::kFloat32, shape);
      for (int64_t k = 0; k < t.numel(); ++k) t.data<float>()[k] = dist(rng);
      inputs[a.substr(0, e)] = t;
    } else {
      std::fprintf(stderr, "runtime_ab: unknown argument '%s'\n", a.c_str());
      return 2;
    }
  }
  std::unique_ptr<runtime::Session> sessions[2];
  for (int v = 0; v < 2; ++v) {
    setenv(var.c_str(), values[v].c_str(), 1);
    auto s = runtime::Session::Create(model, {"onednn", threads});
    if (!s.ok()) { std::fprintf(stderr, "%s\n", s.status().message().c_str()); return 1; }
    sessions[v] = std::move(*s);
    auto out = sessions[v]->Run(inputs);  // plans now, with the variable set
    if (!out.ok()) { std::fprintf(stderr, "%s\n", out.status().message().c_str()); return 1; }
  }
  std::vector<double> ms[2];
  while (static_cast<int>(ms[1].size()) < runs) {
    for (int v = 0; v < 2; ++v) {
      for (int i = 0; i < block; ++i) {
        const auto start = std::chrono::steady_clock::now();
        auto out = sessions[v]->Run(inputs);
        if (!out.ok()) { std::fprintf(stderr, "%s\n", out.status().message().c_str()); return 1; }
        if (i > 0) ms[v].push_back(std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now() - start).count());
      }
    }
  }
  double median[2];
  for (int v = 0; v < 2; ++v) {
    std::sort(ms[v].begin(), ms[v].end());
    median[v] = ms[v][ms[v].size() / 2];
    std::printf("%s=%s median_ms=%.4f p10_ms=%.4f p90_ms=%.4f\n", var.c_str(), values[v].c_str(), median[v],
                ms[v][ms[v].size() / 10], ms[v][ms[v].size() * 9 / 10]);
  }
  std::printf("ratio=%.3f (median %s=%s / median %s=%s)\n", median[0] / median[1], var.c_str(), values[0].c_str(),
              var.c_str(), values[1].c_str());
  return 0;
}
