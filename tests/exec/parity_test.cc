// Parity of the executor with ONNX Runtime on real models and real inputs (issue 3's acceptance):
// for every output, max |ours − ORT| / max |ORT| ≤ 1e-4, and the same for intermediate values asked for
// with `want` (compared with ORT running a copy of the model in which they are graph outputs).
//
// Why 1e-4: both engines compute in float32 but sum in different orders (oneDNN/MLAS vs OpenBLAS/ATen
// kernels); over the ~60 layers of these models the relative differences measured are 1e-7–1e-5, so
// 1e-4 passes real agreement and fails any semantic slip (a wrong pad, axis or rounding mode gives 1e-2
// or more).
#include <gtest/gtest.h>
#include <zlib.h>

#include <algorithm>
#include <cmath>
#include <filesystem>
#include <fstream>
#include <random>

#define STB_IMAGE_IMPLEMENTATION
#define STB_IMAGE_STATIC
#if defined(__GNUC__)
#pragma GCC diagnostic push
#pragma GCC diagnostic ignored "-Wmissing-field-initializers"
#pragma GCC diagnostic ignored "-Wsign-compare"
#pragma GCC diagnostic ignored "-Wunused-function"
#endif
#include <stb/stb_image.h>
#if defined(__GNUC__)
#pragma GCC diagnostic pop
#endif

#include "core/npy.h"
#include "exec/runner.h"
#include "ir/onnx_io.h"
#include "test_support.h"

namespace act::exec {
namespace {

namespace fs = std::filesystem;
constexpr double kTolerance = 1e-4;

// ---- inputs -----------------------------------------------------------------------------------------
// The first `count` MNIST test digits as [count,1,28,28], pixel/255 then (x − 0.5)/0.5.
Tensor ReadMnistImages(const std::string& path, int count) {
  gzFile f = gzopen(path.c_str(), "rb");
  EXPECT_NE(f, nullptr) << path;
  if (f == nullptr) return {};
  unsigned char header[16];
  EXPECT_EQ(gzread(f, header, 16), 16);
  std::vector<unsigned char> pixels(static_cast<size_t>(count) * 28 * 28);
  EXPECT_EQ(gzread(f, pixels.data(), static_cast<unsigned>(pixels.size())), static_cast<int>(pixels.size()));
  gzclose(f);
  std::vector<float> x(pixels.size());
  for (size_t i = 0; i < x.size(); ++i) x[i] = (pixels[i] / 255.f - 0.5f) / 0.5f;
  return Tensor::FromVector<float>({count, 1, 28, 28}, x);
}

struct Rgb {
  int w = 0, h = 0;
  std::vector<float> data;  // h·w·3, RGB, 0..255
  float At(int y, int x, int c) const { return data[(static_cast<size_t>(y) * w + x) * 3 + c]; }
};

Rgb LoadRgb(const std::string& path) {
  Rgb img;
  int n = 0;
  unsigned char* p = stbi_load(path.c_str(), &img.w, &img.h, &n, 3);
  EXPECT_NE(p, nullptr) << path;
  if (p == nullptr) return img;
  img.data.assign(p, p + static_cast<size_t>(img.w) * img.h * 3);
  stbi_image_free(p);
  return img;
}

// Bilinear resize (half-pixel centres); any fixed method will do, both engines see the same tensor.
Rgb Resize(const Rgb& src, int w, int h) {
  Rgb dst;
  dst.w = w;
  dst.h = h;
  dst.data.resize(static_cast<size_t>(w) * h * 3);
  for (int y = 0; y < h; ++y) {
    const float sy = std::clamp((y + 0.5f) * src.h / h - 0.5f, 0.f, src.h - 1.f);
    const int y0 = static_cast<int>(sy), y1 = std::min(y0 + 1, src.h - 1);
    const float wy = sy - y0;
    for (int x = 0; x < w; ++x) {
      const float sx = std::clamp((x + 0.5f) * src.w / w - 0.5f, 0.f, src.w - 1.f);
      const int x0 = static_cast<int>(sx), x1 = std::min(x0 + 1, src.w - 1);
      const float wx = sx - x0;
      for (int c = 0; c < 3; ++c) {
        const float top = src.At(y0, x0, c) * (1 - wx) + src.At(y0, x1, c) * wx;
        const float bottom = src.At(y1, x0, c) * (1 - wx) + src.At(y1, x1, c) * wx;
        dst.data[(static_cast<size_t>(y) * w + x) * 3 + c] = top * (1 - wy) + bottom * wy;
      }
    }
  }
  return dst;
}

// Writes `img` into batch item `n` of an NCHW buffer of width `width`, channel order `order`, as
// (v/255 − mean[c]) / std[c]; columns past img.w stay as they are.
void ToNchw(const Rgb& img, std::vector<float>& out, int n, int height, int width, const int order[3],
            const float mean[3], const float stddev[3]) {
  for (int c = 0; c < 3; ++c) {
    for (int y = 0; y < img.h; ++y) {
      for (int x = 0; x < img.w && x < width; ++x) {
        out[((static_cast<size_t>(n) * 3 + c) * height + y) * width + x] =
            (img.At(y, x, order[c]) / 255.f - mean[c]) / stddev[c];
      }
    }
  }
}

constexpr int kRgb[3] = {0, 1, 2}, kBgr[3] = {2, 1, 0};
constexpr float kZero[3] = {0, 0, 0}, kOne[3] = {1, 1, 1}, kHalf[3] = {0.5f, 0.5f, 0.5f};

// OCR lines of examples/ocr_lines as [count,3,48,width]: RGB, height 48 keeping aspect (width ≤ `width`),
// (x/255 − 0.5)/0.5, right-padded with 0 — the PP-OCR recogniser/classifier preprocessing.
Tensor OcrLines(int count, int width) {
  std::ifstream list(act::test::RepoPath("examples/ocr_lines/labels.tsv"));
  std::vector<float> data(static_cast<size_t>(count) * 3 * 48 * width, 0.f);
  std::string line;
  int n = 0;
  while (n < count && std::getline(list, line)) {
    const std::string file = line.substr(0, line.find('\t'));
    Rgb img = LoadRgb(act::test::RepoPath("examples/ocr_lines/" + file));
    if (img.w == 0) continue;
    const int w = std::min(width, static_cast<int>(std::ceil(48.0 * img.w / img.h)));
    ToNchw(Resize(img, w, 48), data, n++, 48, width, kRgb, kHalf, kHalf);
  }
  EXPECT_EQ(n, count);
  return Tensor::FromVector<float>({count, 3, 48, width}, data);
}

bool HaveOcrLines() { return fs::exists(act::test::RepoPath("examples/ocr_lines/labels.tsv")); }

// ---- comparison ---------------------------------------------------------------------------------------
void ExpectParity(const std::map<std::string, Tensor>& ours, const std::map<std::string, Tensor>& ort,
                  const std::string& what) {
  ASSERT_FALSE(ort.empty()) << what;
  for (const auto& [name, reference] : ort) {
    auto it = ours.find(name);
    ASSERT_NE(it, ours.end()) << what << ": we did not produce '" << name << "'";
    ASSERT_EQ(it->second.shape(), reference.shape()) << what << ": '" << name << "'";
    const double err = act::test::MaxRelativeError(it->second.CastTo(DType::kFloat64), reference.CastTo(DType::kFloat64));
    EXPECT_LE(err, kTolerance) << what << ": value '" << name << "' max|ours-ORT|/max|ORT| = " << err;
  }
}

// RunOrt with ORT's graph optimisations switched off (tests/ort/run.js --opt disabled).
Expected<std::map<std::string, Tensor>> RunOrtUnoptimized(const std::string& model,
                                                          const std::map<std::string, Tensor>& inputs) {
  static int counter = 0;
  const std::string dir = act::test::TempDir("exec_ort_disabled") + "/" + std::to_string(counter++);
  fs::create_directories(dir);
  std::string cmd = "node '" + act::test::RepoPath("tests/ort/run.js") + "' --opt disabled --threads 1 --model '" +
                    model + "' --output-dir '" + dir + "/out'";
  int i = 0;
  for (const auto& [name, tensor] : inputs) {
    const std::string file = dir + "/" + std::to_string(i++) + ".npy";
    ACT_RETURN_IF_ERROR(WriteNpy(file, tensor));
    cmd += " --input '" + name + "=" + file + "'";
  }
  auto r = act::test::RunCommand(cmd);
  if (r.exit_code != 0) return Failure("ONNX Runtime failed: " + r.err);
  std::map<std::string, Tensor> outputs;
  for (const auto& e : fs::directory_iterator(dir + "/out")) {
    if (e.path().extension() != ".npy") continue;
    ACT_ASSIGN_OR_RETURN(Tensor t, ReadNpy(e.path().string()));
    outputs[e.path().stem().string()] = std::move(t);  // sanitised names; the callers' names are plain
  }
  return outputs;
}

// Runs `model` in both engines on `inputs` and compares every output. Models below opset 13 are run twice:
// raised to 13 by the opset converter (the normal path) and at their own opset (the old-form lowerings).
std::map<std::string, Tensor> CheckOutputs(const std::string& model, const std::map<std::string, Tensor>& inputs) {
  auto graph = ir::LoadModel(model);
  EXPECT_TRUE(graph.ok()) << graph.status().ToString();
  if (!graph.ok()) return {};
  auto ort = act::test::RunOrt(model, inputs);
  EXPECT_TRUE(ort.ok()) << ort.status().ToString();
  if (!ort.ok()) return {};
  std::map<std::string, Tensor> result;
  for (bool convert : {true, false}) {
    if (!convert && graph->opset() >= 13) break;
    RunnerOptions options;
    options.convert_opset = convert;
    auto runner = Runner::Create(*graph, options);
    EXPECT_TRUE(runner.ok()) << runner.status().ToString();
    if (!runner.ok()) return {};
    auto ours = (*runner)->Run(inputs);
    EXPECT_TRUE(ours.ok()) << ours.status().ToString();
    if (!ours.ok()) return {};
    ExpectParity(*ours, *ort, model + (convert ? "" : " (at its own opset " + std::to_string(graph->opset()) + ")"));
    if (convert) result = *ours;
  }
  return result;
}

// Asks for every `stride`-th node output by name and compares with ORT running a copy of the model in which
// those values are graph outputs.
void CheckIntermediates(const std::string& model, const std::map<std::string, Tensor>& inputs, int stride) {
  auto graph = ir::LoadModel(model);
  ASSERT_TRUE(graph.ok()) << graph.status().ToString();
  std::vector<std::string> want;
  for (size_t i = 0; i < graph->nodes.size(); i += stride) {
    const ir::Node& node = graph->nodes[i];
    if (node.op_type == "Constant") continue;
    for (const auto& out : node.outputs) {
      if (!out.empty() && !graph->IsGraphOutput(out)) want.push_back(out);
    }
  }
  if (want.empty()) return;  // every node output is already a graph output
  auto runner = Runner::Create(*graph);
  ASSERT_TRUE(runner.ok()) << runner.status().ToString();
  auto ours = (*runner)->Run(inputs, want);
  ASSERT_TRUE(ours.ok()) << ours.status().ToString();
  ir::Graph probe = *graph;
  for (const auto& name : want) probe.outputs.push_back({name, ours->at(name).dtype(), std::nullopt});
  const std::string probe_path = act::test::TempDir("exec_probe") + "/" + fs::path(model).filename().string();
  ASSERT_TRUE(ir::SaveModel(probe, probe_path).ok());
  auto ort = act::test::RunOrt(probe_path, inputs);
  ASSERT_TRUE(ort.ok()) << ort.status().ToString();
  std::map<std::string, Tensor> ort_wanted;
  for (const auto& name : want) {
    ASSERT_TRUE(ort->count(name)) << name;
    ort_wanted[name] = ort->at(name);
  }
  ExpectParity(*ours, ort_wanted, model + " (intermediates)");
  std::printf("%s: %zu intermediate values match ORT\n", model.c_str(), want.size());
}

// ---- the models -------------------------------------------------------------------------------------
TEST(Parity, MnistCnnOn100TestDigits) {
  const std::string model = act::test::SharedDataPath("mnist/mnist_cnn.onnx");
  ACT_SKIP_IF_EMPTY(model, "the MNIST model");
  if (!act::test::OrtAvailable()) GTEST_SKIP() << "onnxruntime-node is not installed";
  const Tensor x = ReadMnistImages(act::test::SharedDataPath("mnist/t10k-images-idx3-ubyte.gz"), 100);
  CheckOutputs(model, {{"input", x}});
  CheckIntermediates(model, {{"input", x}}, 1);
}

// The bundled example model on 100 real Fashion-MNIST test images (Debian dataset-fashion-mnist), with the
// preprocessing of examples/fashion_mnist/ACCURACY.md (same as MNIST's).
TEST(Parity, FashionCnnOn100FashionMnistImages) {
  const std::string model = act::test::RepoPath("examples/fashion_mnist/fashion_cnn.onnx");
  const std::string images = "/usr/share/datasets/fashion-mnist/t10k-images-idx3-ubyte.gz";
  if (!fs::exists(model) || !fs::exists(images)) GTEST_SKIP() << "fashion_cnn.onnx or dataset-fashion-mnist missing";
  if (!act::test::OrtAvailable()) GTEST_SKIP() << "onnxruntime-node is not installed";
  CheckOutputs(model, {{"input", ReadMnistImages(images, 100)}});
}

TEST(Parity, FastestDetOn10Coco128Images) {
  const std::string model = act::test::SharedDataPath("fastestdet/FastestDet.onnx");
  const std::string images = act::test::SharedDataPath("coco128/images");
  ACT_SKIP_IF_EMPTY(model, "FastestDet");
  ACT_SKIP_IF_EMPTY(images, "coco128");
  if (!act::test::OrtAvailable()) GTEST_SKIP() << "onnxruntime-node is not installed";
  std::vector<std::string> files;
  for (const auto& e : fs::directory_iterator(images)) files.push_back(e.path().string());
  std::sort(files.begin(), files.end());
  files.resize(std::min<size_t>(files.size(), 10));
  ASSERT_EQ(files.size(), 10u);
  for (size_t i = 0; i < files.size(); ++i) {
    std::vector<float> data(3 * 352 * 352);
    ToNchw(Resize(LoadRgb(files[i]), 352, 352), data, 0, 352, 352, kBgr, kZero, kOne);
    const std::map<std::string, Tensor> inputs = {{"input.1", Tensor::FromVector<float>({1, 3, 352, 352}, data)}};
    CheckOutputs(model, inputs);
    if (i == 0) CheckIntermediates(model, inputs, 1);
  }
}

TEST(Parity, PpOcrV4RecognizerOnRenderedLines) {
  const std::string model = act::test::OcrModelPath("ch_PP-OCRv4_rec_infer.onnx");
  ACT_SKIP_IF_EMPTY(model, "PP-OCRv4 rec");
  if (!act::test::OrtAvailable()) GTEST_SKIP() << "onnxruntime-node is not installed";
  if (!HaveOcrLines()) GTEST_SKIP() << "examples/ocr_lines is missing";
  const Tensor x = OcrLines(8, 320);
  CheckOutputs(model, {{"x", x}});
  CheckIntermediates(model, {{"x", x.Reshaped({8, 3, 48, 320})}}, 5);
}

TEST(Parity, PpOcrV4DetectorOnRenderedPage) {
  const std::string model = act::test::OcrModelPath("ch_PP-OCRv4_det_infer.onnx");
  ACT_SKIP_IF_EMPTY(model, "PP-OCRv4 det");
  if (!act::test::OrtAvailable()) GTEST_SKIP() << "onnxruntime-node is not installed";
  if (!HaveOcrLines()) GTEST_SKIP() << "examples/ocr_lines is missing";
  // A 640x640 page: white, with rendered lines pasted one under the other; ImageNet normalisation (RGB).
  constexpr int kSize = 640;
  Rgb page;
  page.w = page.h = kSize;
  page.data.assign(static_cast<size_t>(kSize) * kSize * 3, 255.f);
  std::ifstream list(act::test::RepoPath("examples/ocr_lines/labels.tsv"));
  std::string line;
  int y = 20;
  while (y < kSize - 60 && std::getline(list, line)) {
    Rgb img = LoadRgb(act::test::RepoPath("examples/ocr_lines/" + line.substr(0, line.find('\t'))));
    if (img.w == 0 || img.w > kSize - 40) continue;
    for (int r = 0; r < img.h && y + r < kSize; ++r) {
      for (int c = 0; c < img.w; ++c) {
        for (int ch = 0; ch < 3; ++ch) page.data[((static_cast<size_t>(y + r)) * kSize + 20 + c) * 3 + ch] = img.At(r, c, ch);
      }
    }
    y += img.h + 10;
  }
  const float mean[3] = {0.485f, 0.456f, 0.406f}, stddev[3] = {0.229f, 0.224f, 0.225f};
  std::vector<float> data(3 * kSize * kSize);
  ToNchw(page, data, 0, kSize, kSize, kRgb, mean, stddev);
  const std::map<std::string, Tensor> inputs = {{"x", Tensor::FromVector<float>({1, 3, kSize, kSize}, data)}};
  // This output is a sigmoid of logits that are ~0 along text borders, where float noise shows most:
  // ORT disagrees with itself there — its optimised graph (level `all`, fused Conv+activation kernels) and
  // its plain graph (`disabled`) differ by 8.8e-5 of max|ORT| on this page. So the 1e-4 bound is checked
  // against ORT's plain graph (we measured 4.8e-5), and against the optimised one with that spread added.
  auto graph = ir::LoadModel(model);
  ASSERT_TRUE(graph.ok());
  auto runner = Runner::Create(*graph);
  ASSERT_TRUE(runner.ok()) << runner.status().ToString();
  auto ours_or = (*runner)->Run(inputs);
  ASSERT_TRUE(ours_or.ok()) << ours_or.status().ToString();
  const std::map<std::string, Tensor> ours = *ours_or;
  auto plain = RunOrtUnoptimized(model, inputs);
  ASSERT_TRUE(plain.ok()) << plain.status().ToString();
  ExpectParity(ours, *plain, model + " (ORT, optimisations disabled)");
  RunnerOptions own_opset;
  own_opset.convert_opset = false;
  auto old_runner = Runner::Create(*graph, own_opset);
  ASSERT_TRUE(old_runner.ok()) << old_runner.status().ToString();
  auto ours_old = (*old_runner)->Run(inputs);
  ASSERT_TRUE(ours_old.ok()) << ours_old.status().ToString();
  ExpectParity(*ours_old, *plain, model + " (at its own opset, ORT optimisations disabled)");
  auto optimised = act::test::RunOrt(model, inputs);
  ASSERT_TRUE(optimised.ok()) << optimised.status().ToString();
  for (const auto& [name, reference] : *optimised) {
    const double err = act::test::MaxRelativeError(ours.at(name), reference);
    std::printf("det output '%s': max|ours-ORT(all)|/max|ORT| = %.3g\n", name.c_str(), err);
    EXPECT_LE(err, kTolerance + 1e-4) << name;
  }
  // The page has text: the probability map must be confident somewhere (else the check above is vacuous).
  ASSERT_FALSE(ours.empty());
  const Tensor& prob = ours.begin()->second;
  double max_prob = 0;
  for (int64_t i = 0; i < prob.numel(); ++i) max_prob = std::max(max_prob, prob.ElementAsDouble(i));
  EXPECT_GT(max_prob, 0.9);
}

TEST(Parity, PpOcrDirectionClassifier) {
  const std::string model = act::test::OcrModelPath("ch_ppocr_mobile_v2.0_cls_infer.onnx");
  ACT_SKIP_IF_EMPTY(model, "PP-OCR cls");
  if (!act::test::OrtAvailable()) GTEST_SKIP() << "onnxruntime-node is not installed";
  if (!HaveOcrLines()) GTEST_SKIP() << "examples/ocr_lines is missing";
  CheckOutputs(model, {{"x", OcrLines(4, 192)}});
}

// Inputs for a model with unknown preprocessing: random floats; int64 token ids (or ones for masks, zeros
// for token types); symbolic dims become batch 2 / length 16.
std::map<std::string, Tensor> SyntheticInputs(const ir::Graph& g) {
  std::map<std::string, Tensor> inputs;
  std::mt19937 rng(3);
  for (const auto& in : g.inputs) {
    if (g.IsInitializer(in.name)) continue;
    Shape shape;
    if (in.shape) {
      for (size_t d = 0; d < in.shape->size(); ++d) {
        const auto& dim = (*in.shape)[d];
        shape.push_back(dim.known() ? dim.value : (d == 0 ? 2 : 16));
      }
    }
    const int64_t n = NumElements(shape);
    if (in.dtype == DType::kInt64) {
      std::vector<int64_t> v(n);
      const bool mask = in.name.find("mask") != std::string::npos;
      const bool type = in.name.find("type") != std::string::npos;
      std::uniform_int_distribution<int64_t> id(1, 999);
      for (auto& e : v) e = mask ? 1 : (type ? 0 : id(rng));
      inputs[in.name] = Tensor::FromVector<int64_t>(shape, v);
    } else {
      std::normal_distribution<float> normal;
      std::vector<float> v(n);
      for (auto& e : v) e = normal(rng);
      inputs[in.name] = Tensor::FromVector<float>(shape, v);
    }
  }
  return inputs;
}

class FixtureParity : public ::testing::TestWithParam<std::string> {};

TEST_P(FixtureParity, OutputsAndIntermediatesMatchOrt) {
  const std::string model = act::test::RepoPath(GetParam());
  if (!fs::exists(model)) GTEST_SKIP() << GetParam() << " does not exist (yet)";
  if (!act::test::OrtAvailable()) GTEST_SKIP() << "onnxruntime-node is not installed";
  auto graph = ir::LoadModel(model);
  ASSERT_TRUE(graph.ok()) << graph.status().ToString();
  std::map<std::string, Tensor> inputs = SyntheticInputs(*graph);
  if (GetParam().find("tiny_transformer") != std::string::npos) {  // padded second sequence: mask paths
    std::vector<int64_t> ids = inputs["ids"].ToVector<int64_t>();
    ASSERT_EQ(ids.size(), 32u);
    for (size_t t = 10; t < 16; ++t) ids.at(16 + t) = 0;
    for (auto& v : ids) v = v % 50;
    ids[0] = 1;
    inputs["ids"] = Tensor::FromVector<int64_t>({2, 16}, ids);
  }
  CheckOutputs(model, inputs);
  CheckIntermediates(model, inputs, 1);
}

INSTANTIATE_TEST_SUITE_P(Fixtures, FixtureParity,
                         ::testing::Values("examples/fashion_mnist/fashion_cnn.onnx", "examples/sst2_bert/model.onnx",
                                           "tests/exec/fixtures/tiny_transformer_op13.onnx",
                                           "tests/exec/fixtures/tiny_transformer_op17.onnx",
                                           "tests/exec/fixtures/tiny_cnn_op9.onnx",
                                           "tests/exec/fixtures/tiny_cnn_op11.onnx",
                                           "tests/exec/fixtures/tiny_cnn_op13.onnx",
                                           "tests/exec/fixtures/auto_pad_op13.onnx",
                                           "tests/exec/fixtures/misc_ops_op13.onnx"),
                         [](const ::testing::TestParamInfo<std::string>& info) {
                           std::string name = fs::path(info.param).parent_path().filename().string() + "_" +
                                              fs::path(info.param).stem().string();
                           for (char& c : name) {
                             if (!std::isalnum(static_cast<unsigned char>(c))) c = '_';
                           }
                           return name;
                         });

// `onnx-act run` writes the outputs the Runner computes; a missing input is an error naming it (exit 2).
TEST(RunCommand, WritesOutputsAndNamesMissingInputs) {
  const std::string model = act::test::SharedDataPath("mnist/mnist_cnn.onnx");
  ACT_SKIP_IF_EMPTY(model, "the MNIST model");
  const std::string dir = act::test::TempDir("exec_run_cmd");
  const Tensor x = ReadMnistImages(act::test::SharedDataPath("mnist/t10k-images-idx3-ubyte.gz"), 5);
  ASSERT_TRUE(WriteNpy(dir + "/x.npy", x).ok());
  auto r = act::test::RunOnnxAct("run --model " + model + " --input input=" + dir + "/x.npy --output-dir " + dir +
                                 "/out --want /relu_2/Relu_output_0");
  ASSERT_EQ(r.exit_code, 0) << r.err;
  auto written = ReadNpy(dir + "/out/output.npy");
  EXPECT_TRUE(ReadNpy(dir + "/out/_relu_2_Relu_output_0.npy").ok()) << "the --want value was not written";
  ASSERT_TRUE(written.ok()) << written.status().ToString();
  auto graph = ir::LoadModel(model);
  ASSERT_TRUE(graph.ok());
  auto runner = Runner::Create(*graph);
  ASSERT_TRUE(runner.ok());
  auto ours = (*runner)->Run({{"input", x}});
  ASSERT_TRUE(ours.ok());
  EXPECT_EQ(act::test::MaxRelativeError(*written, ours->at("output")), 0.0);

  auto missing = act::test::RunOnnxAct("run --model " + model + " --input wrong=" + dir + "/x.npy --output-dir " + dir + "/out2");
  EXPECT_EQ(missing.exit_code, 2);
  EXPECT_NE(missing.err.find("'wrong'"), std::string::npos) << missing.err;
}

}  // namespace
}  // namespace act::exec
