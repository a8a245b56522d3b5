// The graph layer on the real models people export (../shared/data and the PaddleOCR npm models):
// what `inspect` reports about each, and that load → normalise (constants → initializers, opset 13) →
// save gives a model ONNX Runtime runs with the original's outputs (≤ 1e-5 relative, float32 rounding of
// identical arithmetic), on real inputs.
#include <gtest/gtest.h>

#include "image_util.h"
#include "ir/analysis.h"
#include "ir/checker.h"
#include "ir/onnx_io.h"
#include "ir/passes/pass.h"
#include "test_support.h"

namespace act::ir {
namespace {

struct ModelCase {
  const char* label;
  std::string path;
  int64_t opset;
  int64_t parameters;      // float weights, in initializers or Constant nodes
  size_t quantizable;
  ModelType type;
};

std::string Mnist() { return test::SharedDataPath("mnist/mnist_cnn.onnx"); }
std::string FastestDet() { return test::SharedDataPath("fastestdet/FastestDet.onnx"); }

int64_t FloatParameters(const Graph& g) {
  int64_t n = CountConstantNodes(g).weight_elements;
  for (const auto& [name, t] : g.initializers) if (t.dtype() == DType::kFloat32) n += t.numel();
  return n;
}

void ExpectInspectFacts(const ModelCase& c) {
  ACT_SKIP_IF_EMPTY(c.path, c.label);
  auto g = LoadModel(c.path);
  ASSERT_TRUE(g.ok()) << g.status().message();
  EXPECT_EQ(g->opset(), c.opset);
  EXPECT_EQ(FloatParameters(*g), c.parameters);
  EXPECT_EQ(QuantizableNodes(*g).size(), c.quantizable);
  EXPECT_EQ(DetectModelType(*g), c.type);
}

TEST(RealModelsTest, InspectMnistCnn) { ExpectInspectFacts({"MNIST CNN", Mnist(), 11, 421642, 4, ModelType::kCnn}); }
TEST(RealModelsTest, InspectFastestDet) {
  ExpectInspectFacts({"FastestDet", FastestDet(), 11, 240305, 70, ModelType::kCnn});
}
TEST(RealModelsTest, InspectPaddleOcrRecognizer) {
  // PP-OCRv4 rec's SVTR neck holds two real attention blocks, so the structural rule calls it a transformer.
  ExpectInspectFacts({"PP-OCRv4 rec", test::OcrModelPath("ch_PP-OCRv4_rec_infer.onnx"), 9, 2690109, 47,
                      ModelType::kTransformer});
}
TEST(RealModelsTest, InspectPaddleOcrDetector) {
  ExpectInspectFacts({"PP-OCRv4 det", test::OcrModelPath("ch_PP-OCRv4_det_infer.onnx"), 11, 1171640, 64,
                      ModelType::kCnn});
}
TEST(RealModelsTest, InspectPaddleOcrClassifier) {
  ExpectInspectFacts({"PP-OCR cls", test::OcrModelPath("ch_ppocr_mobile_v2.0_cls_infer.onnx"), 9, 133628, 54,
                      ModelType::kCnn});
}

// Normalises the model, saves it, and compares ORT's outputs on both files.
void ExpectNormalisedModelMatches(const std::string& path, const std::map<std::string, Tensor>& inputs) {
  auto g = LoadModel(path);
  ASSERT_TRUE(g.ok()) << g.status().message();
  ASSERT_TRUE(Normalize(*g, path).ok());
  EXPECT_EQ(g->opset(), std::max<int64_t>(13, g->opset()));
  EXPECT_EQ(CountConstantNodes(*g).weight_nodes, 0);
  Status checked = CheckModel(*g, path);
  EXPECT_TRUE(checked.ok()) << checked.message();
  const std::string out = test::TempDir("normalised") + "/model.onnx";
  ASSERT_TRUE(SaveModel(*g, out).ok());

  auto original = test::RunOrt(path, inputs);
  ASSERT_TRUE(original.ok()) << original.status().message();
  auto converted = test::RunOrt(out, inputs);
  ASSERT_TRUE(converted.ok()) << converted.status().message();
  ASSERT_EQ(original->size(), converted->size());
  for (const auto& [name, reference] : *original) {
    ASSERT_TRUE(converted->count(name)) << "output " << name << " missing after normalisation";
    EXPECT_LE(test::MaxRelativeError(converted->at(name), reference), 1e-5) << path << " output " << name;
  }
}

class NormaliseTest : public ::testing::Test {
 protected:
  void SetUp() override {
    if (!test::OrtAvailable()) GTEST_SKIP() << "ONNX Runtime (deps/node_modules/onnxruntime-node) not installed";
  }
};

TEST_F(NormaliseTest, MnistCnnOnTestDigits) {
  ACT_SKIP_IF_EMPTY(Mnist(), "MNIST CNN");
  Tensor digits = test::LoadIdxImages(test::SharedDataPath("mnist/t10k-images-idx3-ubyte.gz"), 8);
  ExpectNormalisedModelMatches(Mnist(), {{"input", digits}});
}

TEST_F(NormaliseTest, FastestDetOnItsSamplePhoto) {
  ACT_SKIP_IF_EMPTY(FastestDet(), "FastestDet");
  test::Image img = test::Resize(test::LoadImageRgb(test::SharedDataPath("fastestdet/sample.jpg")), 352, 352);
  ExpectNormalisedModelMatches(FastestDet(), {{"input.1", test::ToNchw(img, true, 1 / 255.0f, {0, 0, 0}, {1, 1, 1})}});
}

// A text line: a rendered one from examples/ocr_lines when present, else a strip of the sample photo.
test::Image TextLine() {
  test::Image line = test::LoadImageRgb(test::RepoPath("examples/ocr_lines/images/0000.png"));
  if (line.width == 0) line = test::LoadImageRgb(test::SharedDataPath("fastestdet/sample.jpg"));
  return line;
}

TEST_F(NormaliseTest, PaddleOcrRecognizerOnATextLine) {
  const std::string path = test::OcrModelPath("ch_PP-OCRv4_rec_infer.onnx");
  ACT_SKIP_IF_EMPTY(path, "PP-OCRv4 rec");
  test::Image line = TextLine();
  ASSERT_GT(line.width, 0);
  const int width = std::min(320, static_cast<int>(std::ceil(48.0 * line.width / line.height)));
  Tensor x = test::ToNchw(test::Resize(line, width, 48), false, 1 / 255.0f, {0.5f, 0.5f, 0.5f}, {0.5f, 0.5f, 0.5f}, 320);
  ExpectNormalisedModelMatches(path, {{"x", x}});
}

TEST_F(NormaliseTest, PaddleOcrClassifierOnATextLine) {
  const std::string path = test::OcrModelPath("ch_ppocr_mobile_v2.0_cls_infer.onnx");
  ACT_SKIP_IF_EMPTY(path, "PP-OCR cls");
  Tensor x = test::ToNchw(test::Resize(TextLine(), 192, 48), false, 1 / 255.0f, {0.5f, 0.5f, 0.5f}, {0.5f, 0.5f, 0.5f});
  ExpectNormalisedModelMatches(path, {{"x", x}});
}

TEST_F(NormaliseTest, PaddleOcrDetectorOnAPhoto) {
  const std::string path = test::OcrModelPath("ch_PP-OCRv4_det_infer.onnx");
  ACT_SKIP_IF_EMPTY(path, "PP-OCRv4 det");
  ACT_SKIP_IF_EMPTY(FastestDet(), "sample photo");
  test::Image img = test::Resize(test::LoadImageRgb(test::SharedDataPath("fastestdet/sample.jpg")), 320, 320);
  Tensor x = test::ToNchw(img, true, 1 / 255.0f, {0.485f, 0.456f, 0.406f}, {0.229f, 0.224f, 0.225f});
  ExpectNormalisedModelMatches(path, {{"x", x}});
}

}  // namespace
}  // namespace act::ir
