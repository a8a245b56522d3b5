// runtime_parity MODEL NAME=d0,d1,...|NAME=FILE.npy [--fp32 FP32_MODEL]: runs MODEL on fixed-seed uniform inputs in our onednn
// backend and in ONNX Runtime, and prints the max relative error of every output. With a model whose
// intermediate values were added as outputs (bench/add_outputs.py), it finds the first op that differs.
#include <algorithm>
#include <cstdio>
#include <cstdlib>
#include <random>

#include "act/runtime.h"
#include "core/npy.h"
#include "test_support.h"

int main(int argc, char** argv) {
  using namespace act;
  if (argc < 3) {
    std::fprintf(stderr, "usage: runtime_parity MODEL NAME=d0,d1,... [NAME=...]\n");
    return 2;
  }
  std::string fp32_model;
  std::vector<char*> args;
  for (int i = 0; i < argc; ++i) {
    if (std::string(argv[i]) == "--fp32" && i + 1 < argc) fp32_model = argv[++i];
    else args.push_back(argv[i]);
  }
  argc = static_cast<int>(args.size());
  argv = args.data();
  std::map<std::string, Tensor> inputs;
  std::mt19937 rng(1234);
  std::uniform_real_distribution<float> dist(-1.f, 1.f);
  for (int i = 2; i < argc; ++i) {
    std::string arg = argv[i];
    const size_t eq = arg.find('=');
    if (arg.size() > 4 && arg.substr(arg.size() - 4) == ".npy") {
      // NAME=FILE.npy: a real input tensor.
      auto t = ReadNpy(arg.substr(eq + 1));
      if (!t.ok()) { std::fprintf(stderr, "%s\n", t.status().message().c_str()); return 1; }
      inputs[arg.substr(0, eq)] = *t;
      continue;
    }
    Shape shape;
    for (size_t p = eq + 1; p < arg.size();) {
      size_t q = arg.find(',', p);
      if (q == std::string::npos) q = arg.size();
      shape.push_back(std::stoll(arg.substr(p, q - p)));
      p = q + 1;
    }
    Tensor t(DType::kFloat32, shape);
    // ACT_PARITY_BLOCKS=1: a text-line-like image, 1 (white) with dark blocks and zero right padding.
    const bool blocks = std::getenv("ACT_PARITY_BLOCKS") != nullptr;
    for (int64_t k = 0; k < t.numel(); ++k) {
      const int64_t x = k % shape.back();
      t.data<float>()[k] = !blocks ? dist(rng) : x > shape.back() * 3 / 4 ? 0.f : ((x / 7) % 3 == 0 ? -1.f : 1.f);
    }
    inputs[arg.substr(0, eq)] = t;
  }
  auto session = runtime::Session::Create(argv[1], {"onednn", 1});
  if (!session.ok()) { std::fprintf(stderr, "%s\n", session.status().message().c_str()); return 1; }
  if (std::getenv("ACT_PARITY_WARM")) {
    // Run once on other data first: the plan (and its buffers) is then reused for the compared run.
    std::map<std::string, Tensor> other;
    for (const auto& [name, t] : inputs) {
      Tensor o = t.Clone();
      for (int64_t k = 0; k < o.numel(); ++k) o.data<float>()[k] = -o.data<float>()[k] * 0.5f;
      other[name] = o;
    }
    auto warm = (*session)->Run(other);
    if (!warm.ok()) { std::fprintf(stderr, "%s\n", warm.status().message().c_str()); return 1; }
  }
  auto ours = (*session)->Run(inputs);
  if (!ours.ok()) { std::fprintf(stderr, "%s\n", ours.status().message().c_str()); return 1; }
  auto ort = test::RunOrt(argv[1], inputs);
  if (!ort.ok()) { std::fprintf(stderr, "%s\n", ort.status().message().c_str()); return 1; }
  if (!fp32_model.empty()) {
    // The FP32 model in ONNX Runtime as the arbiter: how far each engine's INT8 output is from it.
    auto fp32 = test::RunOrt(fp32_model, inputs);
    if (!fp32.ok()) { std::fprintf(stderr, "%s\n", fp32.status().message().c_str()); return 1; }
    for (const auto& [name, ref] : *fp32) {
      if (!ours->count(name) || !ort->count(name)) continue;
      std::printf("%-40s vs FP32: ours err=%.3g  ORT err=%.3g\n", name.c_str(), test::MaxRelativeError(ours->at(name), ref),
                  test::MaxRelativeError(ort->at(name), ref));
    }
  }
  for (const std::string& name : (*session)->output_names()) {
    const Tensor& a = ours->at(name);
    auto it = ort->find(name);
    if (it == ort->end()) { std::printf("%-40s missing in ORT\n", name.c_str()); continue; }
    // Share of rows (over the last axis) whose argmax agrees: what classifiers and CTC decoding read.
    double agree = 0;
    const Tensor& r = it->second;
    if (a.shape() == r.shape() && a.rank() >= 1 && a.dtype() == DType::kFloat32) {
      const int64_t len = a.shape().back(), rows = a.numel() / std::max<int64_t>(len, 1);
      for (int64_t row = 0; row < rows; ++row) {
        const float* p = a.data<float>() + row * len;
        const float* q = r.data<float>() + row * len;
        const bool same = std::max_element(p, p + len) - p == std::max_element(q, q + len) - q;
        agree += same;
        if (!same && std::getenv("ACT_PARITY_ROWS")) std::printf("  row %lld differs\n", static_cast<long long>(row));
      }
      agree /= std::max<int64_t>(rows, 1);
    }
    if (std::getenv("ACT_PARITY_DUMP") && a.dtype() == DType::kFloat32 && a.shape() == r.shape()) {
      // ACT_PARITY_DUMP=K: the first K elements of each output, ours / ORT.
      const int64_t k = std::min<int64_t>(a.numel(), std::atoi(std::getenv("ACT_PARITY_DUMP")));
      for (int64_t e = 0; e < k; ++e) std::printf("  [%lld] ours %.6g  ORT %.6g\n", static_cast<long long>(e), a.data<float>()[e], r.data<float>()[e]);
    }
    if (std::getenv("ACT_PARITY_DIFFS") && a.dtype() == DType::kFloat32 && a.shape() == r.shape()) {
      // ACT_PARITY_DIFFS=K: the first K flat indices where the two differ.
      int64_t shown = 0, count = 0;
      for (int64_t e = 0; e < a.numel(); ++e) {
        if (a.data<float>()[e] == r.data<float>()[e]) continue;
        ++count;
        if (shown++ < std::atoi(std::getenv("ACT_PARITY_DIFFS")))
          std::printf("  diff at %lld: ours %.6g  ORT %.6g\n", static_cast<long long>(e), a.data<float>()[e], r.data<float>()[e]);
      }
      std::printf("  %lld of %lld elements differ\n", static_cast<long long>(count), static_cast<long long>(a.numel()));
    }
    std::printf("%-40s %-18s err=%.3g argmax_agreement=%.4f\n", name.c_str(), ShapeToString(a.shape()).c_str(),
                a.shape() == it->second.shape() ? test::MaxRelativeError(a, it->second) : -1.0, agree);
  }
  return 0;
}
