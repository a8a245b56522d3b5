// make_int8 MODEL OUT NAME=d0,d1,... [--batches N] [--algo hist|min_max|...]: a quick INT8 QDQ version of
// MODEL for runtime benchmarks and parity checks, through the project's own PTQ (quant::RunPtq, x86 scheme:
// u8 asymmetric activations, s8 per-channel weights). Calibration batches are smooth synthetic images
// (low-frequency sinusoids per channel, shifted per batch) in [-1, 1] — enough to exercise the kernels and
// compare engines on the same file; for accuracy use `onnx-act compress` with real data (bench/ptq/).
#include <cmath>
#include <cstdio>
#include <cstring>
#include <string>

#include "ir/onnx_io.h"
#include "quant/ptq.h"

using namespace act;

static Tensor Smooth(const Shape& shape, int batch) {
  Tensor t(DType::kFloat32, shape);
  float* p = t.data<float>();
  const int64_t c = shape.size() > 1 ? shape[1] : 1, h = shape.size() > 2 ? shape[2] : 1, w = shape.size() > 3 ? shape[3] : 1;
  for (int64_t n = 0; n < shape[0]; ++n)
    for (int64_t k = 0; k < c; ++k)
      for (int64_t y = 0; y < h; ++y)
        for (int64_t x = 0; x < w; ++x)
          *p++ = 0.5f * std::sin(0.07f * x * (k + 1) + 0.9f * batch + 0.3f * n) + 0.5f * std::cos(0.05f * y * (k + 2) - 0.4f * batch);
  return t;
}

int main(int argc, char** argv) {
  if (argc < 4) {
    std::fprintf(stderr, "usage: make_int8 MODEL OUT NAME=d0,d1,... [--batches N] [--algo A]\n");
    return 2;
  }
  std::string arg = argv[3];
  const size_t eq = arg.find('=');
  const std::string name = arg.substr(0, eq);
  Shape shape;
  for (size_t p = eq + 1; p < arg.size();) {
    size_t q = arg.find(',', p);
    if (q == std::string::npos) q = arg.size();
    shape.push_back(std::stoll(arg.substr(p, q - p)));
    p = q + 1;
  }
  int batches = 4;
  quant::PtqOptions options;
  for (int i = 4; i + 1 < argc; i += 2) {
    if (!std::strcmp(argv[i], "--batches")) batches = std::atoi(argv[i + 1]);
    if (!std::strcmp(argv[i], "--algo")) options.algo = argv[i + 1];
  }
  auto graph = ir::LoadModel(argv[1]);
  if (!graph.ok()) { std::fprintf(stderr, "%s\n", graph.status().message().c_str()); return 1; }
  int served = 0;
  quant::BatchSource source = [&]() -> Expected<std::optional<data::Batch>> {
    if (served >= batches) return std::optional<data::Batch>();
    data::Batch b;
    b.inputs[name] = Smooth(shape, served++);
    b.labels.resize(shape[0]);
    return std::optional<data::Batch>(std::move(b));
  };
  auto result = quant::RunPtq(*graph, source, options);
  if (!result.ok()) { std::fprintf(stderr, "%s\n", result.status().message().c_str()); return 1; }
  Status s = ir::SaveModel(result->model, argv[2]);
  if (!s.ok()) { std::fprintf(stderr, "%s\n", s.message().c_str()); return 1; }
  std::printf("wrote %s (%lld batches)\n", argv[2], static_cast<long long>(result->batches));
  return 0;
}
