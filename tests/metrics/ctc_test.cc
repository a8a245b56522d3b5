#include "metrics/ctc.h"

#include <gtest/gtest.h>

#include <fstream>

#include "act/metrics.h"
#include "metrics_test_util.h"
#include "test_support.h"

namespace act::metrics {
namespace {

using test::TextLabels;

// Dictionary lines a, b, c, é, 中 → classes: 0 blank, 1 a, 2 b, 3 c, 4 é, 5 中, 6 space (7 in all).
CtcDictionary SmallDictionary() {
  return CtcDictionary::FromSymbols({U"a", U"b", U"c", U"é", U"中"});
}

// One-hot CTC scores [steps, 7] whose argmax is `path`.
std::vector<float> Path(const std::vector<int>& path, int classes = 7) {
  std::vector<float> scores(path.size() * classes, 0.01f);
  for (size_t t = 0; t < path.size(); ++t) scores[t * classes + path[t]] = 0.9f;
  return scores;
}

TEST(CtcTest, GreedyDecodingMergesRepeatsAndDropsBlank) {
  const CtcDictionary dict = SmallDictionary();
  ASSERT_EQ(dict.num_classes(), 7);
  // 1 1 0 1 2 6 5 5 0 4 → a (repeat merged), blank, a, b, space, 中 (merged), blank, é.
  const auto scores = Path({1, 1, 0, 1, 2, 6, 5, 5, 0, 4});
  EXPECT_EQ(dict.Decode(scores.data(), 10), U"aab 中é");
  EXPECT_EQ(EncodeUtf8(dict.Decode(scores.data(), 10)), "aab 中é");
}

TEST(CtcTest, ExactMatchAndCerHandWorked) {
  // Three lines, padded to 10 steps with blanks:
  //   "aab 中é" decoded exactly: 0 edits, 6 code points (9 UTF-8 bytes — CER counts code points);
  //   path 3 0 3 3 → "cc" vs label "c": 1 edit, 1 code point;
  //   path 5 → "中"  vs label "中文": 1 edit, 2 code points.
  //   exact = 1/3; CER = (0 + 1 + 1) / (6 + 1 + 2) = 2/9.
  std::vector<float> scores = Path({1, 1, 0, 1, 2, 6, 5, 5, 0, 4});
  for (const auto& p : {Path({3, 0, 3, 3, 0, 0, 0, 0, 0, 0}), Path({5, 0, 0, 0, 0, 0, 0, 0, 0, 0})}) {
    scores.insert(scores.end(), p.begin(), p.end());
  }
  const std::map<std::string, Tensor> outputs = {{"softmax", Tensor::FromVector<float>({3, 10, 7}, scores)}};
  const auto labels = TextLabels({"aab 中é", "c", "中文"});
  CtcMetric exact(CtcMetric::Kind::kExactMatch, SmallDictionary(), "");
  CtcMetric cer(CtcMetric::Kind::kCharErrorRate, SmallDictionary(), "");
  ASSERT_TRUE(exact.Update(outputs, labels, {}).ok());
  ASSERT_TRUE(cer.Update(outputs, labels, {}).ok());
  EXPECT_DOUBLE_EQ(exact.Result(), 1.0 / 3);
  EXPECT_DOUBLE_EQ(cer.Result(), 2.0 / 9);
  EXPECT_FALSE(cer.higher_is_better());
  EXPECT_TRUE(exact.higher_is_better());
  EXPECT_DOUBLE_EQ(exact.Details().at("cer"), 2.0 / 9);
}

TEST(CtcTest, CodePointEditDistance) {
  auto a = DecodeUtf8("kitten", "a"), b = DecodeUtf8("sitting", "b");
  EXPECT_EQ(CodePointEditDistance(*a, *b), 3);
  // é is 2 bytes, 中 3 bytes, 😀 4 bytes: one substitution each in code points.
  EXPECT_EQ(CodePointEditDistance(*DecodeUtf8("café", ""), *DecodeUtf8("cafe", "")), 1);
  EXPECT_EQ(CodePointEditDistance(*DecodeUtf8("中文", ""), *DecodeUtf8("中字", "")), 1);
  EXPECT_EQ(DecodeUtf8("a😀b", "")->size(), 3u);
  EXPECT_EQ(EncodeUtf8(*DecodeUtf8("a😀é中", "")), "a😀é中");
}

TEST(CtcTest, MalformedUtf8IsAnError) {
  auto bad = DecodeUtf8(std::string("ab\xC3", 3), "label of line 7");
  ASSERT_FALSE(bad.ok());
  EXPECT_NE(bad.status().message().find("label of line 7"), std::string::npos);
  EXPECT_FALSE(DecodeUtf8(std::string("\xE4\x41\x41", 3), "x").ok());
}

TEST(CtcTest, LoadsDictionaryFilesWithCrLfAndNoFinalNewline) {
  const std::string path = act::test::TempDir("ctc_dict") + "/keys.txt";
  std::ofstream(path, std::ios::binary) << "a\r\nb\nc\né\n中";
  auto dict = CtcDictionary::Load(path);
  ASSERT_TRUE(dict.ok()) << dict.status().ToString();
  EXPECT_EQ(dict->num_classes(), 7);
  const auto scores = Path({4, 5, 6, 3});
  EXPECT_EQ(dict->Decode(scores.data(), 4), U"é中 c");

  MetricConfig config;
  config.name = "ctc_exact";
  EXPECT_EQ(CreateMetric(config).status().code(), StatusCode::kInvalidInput);  // no dictionary
  config.dictionary = path + ".missing";
  EXPECT_FALSE(CreateMetric(config).ok());
  config.dictionary = path;
  auto metric = CreateMetric(config);
  ASSERT_TRUE(metric.ok());
  // A model scoring 8 classes does not fit a 5-line dictionary (7 classes).
  Status s = (*metric)->Update({{"y", Tensor(DType::kFloat32, {1, 4, 8})}}, TextLabels({"a"}), {});
  EXPECT_EQ(s.code(), StatusCode::kInvalidInput);
  EXPECT_NE(s.message().find("8 classes"), std::string::npos) << s.message();
}

TEST(CtcTest, PaddleOcrDictionaryGives6625Classes) {
  const std::string keys = act::test::OcrModelPath("ppocr_keys_v1.txt");
  ACT_SKIP_IF_EMPTY(keys, "ppocr_keys_v1.txt");
  auto dict = CtcDictionary::Load(keys);
  ASSERT_TRUE(dict.ok()) << dict.status().ToString();
  EXPECT_EQ(dict->num_classes(), 6625);  // PP-OCRv4 rec's output [N, T, 6625]
}

}  // namespace
}  // namespace act::metrics
