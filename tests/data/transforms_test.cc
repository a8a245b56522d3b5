// Image transforms and resampling against pixels worked out by hand (the arithmetic is in the comments),
// and PP-OCR's recogniser preprocessing against the Python reference (PIL) when it is installed.
#include <gtest/gtest.h>

#include <cmath>

#include "act/config.h"
#include "core/file_util.h"
#include "core/npy.h"
#include "data/image.h"
#include "data/registry.h"
#include "data/transforms.h"
#include "data/file_reading.h"
#include "test_support.h"

namespace act::data {
namespace {

using config::TransformConfig;
using Kind = TransformConfig::Kind;

Image Make(int64_t h, int64_t w, int64_t c, std::vector<float> pixels, ColorOrder order = ColorOrder::kRgb) {
  Image img;
  img.height = h;
  img.width = w;
  img.channels = c;
  img.order = order;
  img.pixels = std::move(pixels);
  return img;
}

TEST(ResizeTest, BilinearUpscaleMatchesHandValues) {
  // 1-D [0, 10] → 4: centres (i + 0.5) / 2 = 0.25, 0.75, 1.25, 1.75 in input pixels; input pixel j sits at
  // j + 0.5, so i=1 mixes 0.75 * p0 + 0.25 * p1 = 2.5; i=0 has only p0 inside the image → 0.
  Image img = Make(2, 2, 1, {0, 10, 20, 30});
  Image out = Resize(img, 4, 4, /*antialias=*/false);
  ASSERT_EQ(out.height, 4);
  ASSERT_EQ(out.width, 4);
  const std::vector<float> row0 = {0, 2.5f, 7.5f, 10};
  for (int x = 0; x < 4; ++x) EXPECT_FLOAT_EQ(out.at(0, x, 0), row0[x]);
  // Row 1 = 0.75 * row(0) + 0.25 * row(1): at x=1, 0.75 * 2.5 + 0.25 * 22.5 = 7.5.
  EXPECT_FLOAT_EQ(out.at(1, 1, 0), 7.5f);
  EXPECT_FLOAT_EQ(out.at(3, 3, 0), 30.0f);
}

TEST(ResizeTest, AntialiasWidensTheFilterWhenShrinking) {
  Image img = Make(1, 4, 1, {0, 10, 20, 30});
  // Without antialias (support 1): centre 1.0 → taps 0, 1 with weight 0.5 each → 5; centre 3 → 25.
  Image plain = Resize(img, 1, 2, false);
  EXPECT_FLOAT_EQ(plain.at(0, 0, 0), 5.0f);
  EXPECT_FLOAT_EQ(plain.at(0, 1, 0), 25.0f);
  // With antialias (scale 2, support 2): centre 1 → taps x=0,1,2 at distance |x + 0.5 - 1| / 2 = .25, .25, .75
  // → weights .75, .75, .25 (sum 1.75): (0 * .75 + 10 * .75 + 20 * .25) / 1.75 = 7.142857.
  Image aa = Resize(img, 1, 2, true);
  EXPECT_NEAR(aa.at(0, 0, 0), 12.5 / 1.75, 1e-5);
  EXPECT_NEAR(aa.at(0, 1, 0), 40.0 / 1.75, 1e-5);  // taps 1,2,3: (10 * .25 + 20 * .75 + 30 * .75) / 1.75
  // PIL's 8-bit path rounds: 7.142857 → 7, 22.857 → 23.
  Image rounded = Resize(img, 1, 2, true, /*round_to_uint8=*/true);
  EXPECT_EQ(rounded.at(0, 0, 0), 7.0f);
  EXPECT_EQ(rounded.at(0, 1, 0), 23.0f);
}

Expected<Image> ApplyAll(const std::vector<TransformConfig>& list, Image img) {
  ACT_ASSIGN_OR_RETURN(ImageTransforms t, ImageTransforms::Create(list, "test.transforms"));
  return t.ApplyToImage(std::move(img), "img");
}

TEST(TransformsTest, LetterboxAndKeepAspectPadPlaceTheImage) {
  // A 2x4 image into 4x4: r = min(4/2, 4/4) = 1, no resampling; letterbox pads (4-2)/2 = 1 row on top.
  Image img = Make(2, 4, 1, {1, 2, 3, 4, 5, 6, 7, 8});
  TransformConfig r;
  r.kind = Kind::kResize;
  r.size = {4, 4};
  r.mode = "letterbox";
  r.pad_value = -1;
  Expected<Image> out = ApplyAll({r}, img);
  ASSERT_TRUE(out.ok()) << out.status().message();
  EXPECT_EQ(out->at(0, 0, 0), -1);
  EXPECT_EQ(out->at(1, 0, 0), 1);
  EXPECT_EQ(out->at(2, 3, 0), 8);
  EXPECT_EQ(out->at(3, 3, 0), -1);
  // keep_aspect_pad anchors top-left: image rows 0-1, padding rows 2-3.
  r.mode = "keep_aspect_pad";
  out = ApplyAll({r}, img);
  ASSERT_TRUE(out.ok());
  EXPECT_EQ(out->at(0, 0, 0), 1);
  EXPECT_EQ(out->at(1, 3, 0), 8);
  EXPECT_EQ(out->at(2, 0, 0), -1);
  // A 1x3 line into [2, 8]: r = min(2/1, 8/3) = 2 → 2 x ceil(6) = 2x6, padded right by 2 columns.
  Image line = Make(1, 3, 1, {0, 30, 60});
  r.size = {2, 8};
  out = ApplyAll({r}, line);
  ASSERT_TRUE(out.ok());
  EXPECT_EQ(out->at(0, 0, 0), 0);            // centre 0.25 → only p0
  EXPECT_FLOAT_EQ(out->at(0, 1, 0), 7.5f);   // centre 0.75 → .75 p0 + .25 p1
  EXPECT_EQ(out->at(1, 5, 0), 60);
  EXPECT_EQ(out->at(0, 6, 0), -1);
  EXPECT_EQ(out->at(1, 7, 0), -1);
}

TEST(TransformsTest, CenterCropColorNormalizeLayout) {
  // 3x3 RGB image, pixel (y, x) = (10y + x, 100 + 10y + x, 200 + 10y + x).
  std::vector<float> px;
  for (int y = 0; y < 3; ++y) {
    for (int x = 0; x < 3; ++x) px.insert(px.end(), {10.f * y + x, 100.f + 10 * y + x, 200.f + 10 * y + x});
  }
  Image img = Make(3, 3, 3, px);
  TransformConfig crop;
  crop.kind = Kind::kCenterCrop;
  crop.size = {1, 1};
  TransformConfig bgr;
  bgr.kind = Kind::kColor;
  bgr.color = "bgr";
  TransformConfig norm;
  norm.kind = Kind::kNormalize;
  norm.scale = 0.5;
  norm.mean = {100, 50, 0};
  norm.std = {2, 1, 0.5};
  Expected<Image> out = ApplyAll({crop, bgr, norm}, img);
  ASSERT_TRUE(out.ok()) << out.status().message();
  // Centre pixel (1,1) = RGB (11, 111, 211) → BGR (211, 111, 11) → *0.5 = (105.5, 55.5, 5.5)
  // → ((105.5-100)/2, (55.5-50)/1, (5.5-0)/0.5) = (2.75, 5.5, 11).
  ASSERT_EQ(out->height, 1);
  EXPECT_FLOAT_EQ(out->at(0, 0, 0), 2.75f);
  EXPECT_FLOAT_EQ(out->at(0, 0, 1), 5.5f);
  EXPECT_FLOAT_EQ(out->at(0, 0, 2), 11.0f);

  TransformConfig gray;
  gray.kind = Kind::kColor;
  gray.color = "gray";
  out = ApplyAll({gray}, img);
  ASSERT_TRUE(out.ok());
  // (0,0): 0.299 * 0 + 0.587 * 100 + 0.114 * 200 = 81.5
  EXPECT_NEAR(out->at(0, 0, 0), 81.5, 1e-4);
  EXPECT_EQ(out->channels, 1);

  // Layout: NCHW puts channel planes first, NHWC keeps pixels interleaved.
  Tensor nchw = ImageToTensor(img, false), nhwc = ImageToTensor(img, true);
  EXPECT_EQ(nchw.shape(), (Shape{1, 3, 3, 3}));
  EXPECT_EQ(nchw.data<float>()[1], 1.0f);        // channel 0, y 0, x 1
  EXPECT_EQ(nchw.data<float>()[9], 100.0f);      // channel 1, y 0, x 0
  EXPECT_EQ(nhwc.data<float>()[1], 100.0f);      // y 0, x 0, channel 1
  TransformConfig layout;
  layout.kind = Kind::kLayout;
  layout.layout = "nhwc";
  Expected<ImageTransforms> t = ImageTransforms::Create({layout}, "t");
  ASSERT_TRUE(t.ok());
  Expected<Tensor> packed = t->Apply(img, "img");
  ASSERT_TRUE(packed.ok());
  EXPECT_EQ(packed->shape(), (Shape{1, 3, 3, 3}));
  EXPECT_EQ(packed->data<float>()[1], 100.0f);
}

TEST(TransformsTest, BadSettingsNameTheStep) {
  Image img = Make(2, 2, 3, std::vector<float>(12, 1));
  TransformConfig crop;
  crop.kind = Kind::kCenterCrop;
  crop.size = {3, 3};
  Expected<Image> out = ApplyAll({crop}, img);
  ASSERT_FALSE(out.ok());
  EXPECT_NE(out.status().message().find("test.transforms[0]"), std::string::npos) << out.status().message();
  TransformConfig norm;
  norm.kind = Kind::kNormalize;
  norm.mean = {1, 2};
  out = ApplyAll({norm}, img);
  ASSERT_FALSE(out.ok());
  EXPECT_NE(out.status().message().find("3 channels"), std::string::npos) << out.status().message();
}

// ocr_lines against scripts/fixtures/ocr_preprocess.py (PIL): the same float32 tensors.
TEST(OcrLinesTest, MatchesPythonPreprocessing) {
  const std::string list = test::RepoPath("examples/ocr_lines/labels.tsv");
  if (!FileExists(list)) GTEST_SKIP() << "examples/ocr_lines missing";
  test::CommandResult probe = test::RunCommand("/usr/bin/python3 -c 'import PIL, numpy'");
  if (probe.exit_code != 0) GTEST_SKIP() << "/usr/bin/python3 with PIL and numpy not available";
  const std::string dir = test::TempDir("ocr_python");
  // The first 12 lines are enough to cover narrow and wide (squeezed) lines.
  Expected<std::string> text = ReadFileToString(list);
  ASSERT_TRUE(text.ok());
  std::vector<std::string> lines = SplitLines(*text);
  lines.resize(12);
  // A list with absolute image paths (both readers join relative paths to the list's folder only).
  std::string abs_list;
  for (const auto& l : lines) abs_list += test::RepoPath("examples/ocr_lines/") + l + "\n";
  const std::string sub = dir + "/list";
  ASSERT_TRUE(MakeDirs(sub + "/x").ok());
  ASSERT_TRUE(AtomicWriteFile(sub + "/x/labels.tsv", abs_list).ok());
  test::CommandResult r = test::RunCommand("/usr/bin/python3 " + test::RepoPath("scripts/fixtures/ocr_preprocess.py") +
                                           " --list " + sub + "/x/labels.tsv --out " + dir + "/npy");
  ASSERT_EQ(r.exit_code, 0) << r.err;

  config::DatasetConfig c;
  c.type = "ocr_lines";
  c.list = sub + "/x/labels.tsv";
  c.dictionary = test::OcrModelPath("ppocr_keys_v1.txt");
  Expected<std::unique_ptr<Dataset>> d = CreateDataset(c);
  ASSERT_TRUE(d.ok()) << d.status().message();
  ASSERT_EQ((*d)->size(), 12);
  for (int i = 0; i < 12; ++i) {
    Expected<Sample> s = (*d)->Get(i);
    ASSERT_TRUE(s.ok()) << s.status().message();
    char name[32];
    std::snprintf(name, sizeof(name), "/%04d.npy", i);
    Expected<Tensor> want = ReadNpy(dir + "/npy" + name);
    ASSERT_TRUE(want.ok()) << want.status().message();
    const Tensor& got = s->inputs.at("x");
    ASSERT_EQ(got.shape(), want->shape());
    // Same PIL fixed-point resampling and the same float32 arithmetic: bit-identical.
    EXPECT_EQ(test::MaxRelativeError(got, *want), 0.0) << "line " << i;
    EXPECT_EQ(s->label->text, lines[i].substr(lines[i].find('\t') + 1));
  }
}

}  // namespace
}  // namespace act::data
