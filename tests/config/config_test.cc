// The YAML contract of DESIGN.md §5: defaults, strictness (unknown keys and sections name the nearest valid
// one), type errors, path resolution, the resolved-config round trip, and ACT's own configs.
#include <gtest/gtest.h>
#include <yaml-cpp/yaml.h>

#include <filesystem>

#include "act/config.h"
#include "core/file_util.h"
#include "test_support.h"

namespace act::config {
namespace {

const char* kDesignExample = R"(
Global:
  model: ../shared/data/mnist/mnist_cnn.onnx
  save_dir: out/mnist_int8
  deploy_hardware: x86_vnni
  train_data:
    type: idx
    images: ../shared/data/mnist/t10k-images-idx3-ubyte.gz
    labels: ../shared/data/mnist/t10k-labels-idx1-ubyte.gz
    input_name: input
    transforms: [{normalize: {scale: 0.0039215686, mean: [0.5], std: [0.5]}}]
    skip: 0
    limit: 1000
    batch_size: 32
  eval_data: {type: idx, images: a.gz, labels: b.gz, skip: 1000, limit: 9000}
  eval: {metric: top1}
  max_metric_loss: 0.005
QuantPost: {algo: hist, batch_nums: 10, bias_correction: false, weight_quantize_type: channel_wise_abs_max}
)";

TEST(ConfigTest, DesignExampleParsesWithDefaultsAndResolvedPaths) {
  Expected<Config> c = ParseConfig(kDesignExample, "/cfg/c.yaml", "/cfg");
  ASSERT_TRUE(c.ok()) << c.status().message();
  EXPECT_EQ(c->global.model, "/shared/data/mnist/mnist_cnn.onnx");  // ../ from /cfg
  EXPECT_EQ(c->global.save_dir, "/cfg/out/mnist_int8");
  ASSERT_TRUE(c->global.train_data.has_value());
  const DatasetConfig& t = *c->global.train_data;
  EXPECT_EQ(t.type, "idx");
  EXPECT_EQ(t.limit, 1000);
  EXPECT_EQ(t.batch_size, 32);
  EXPECT_EQ(t.key_path, "Global.train_data");
  ASSERT_EQ(t.transforms.size(), 1u);
  EXPECT_EQ(t.transforms[0].kind, TransformConfig::Kind::kNormalize);
  EXPECT_DOUBLE_EQ(t.transforms[0].scale, 0.0039215686);
  EXPECT_EQ(c->global.eval_data->skip, 1000);
  EXPECT_EQ(c->global.eval_data->images, "/cfg/a.gz");
  EXPECT_EQ(c->global.eval.metric, "top1");
  ASSERT_TRUE(c->quant_post.has_value());
  // Given keys win, the rest keep PaddleSlim's defaults.
  EXPECT_EQ(c->quant_post->batch_nums, 10);
  EXPECT_EQ(c->quant_post->batch_size, 32);
  EXPECT_DOUBLE_EQ(c->quant_post->hist_percent, 0.999);
  EXPECT_EQ(c->quant_post->activation_quantize_type, "range_abs_max");
  EXPECT_TRUE(c->quant_post->onnx_format);
  EXPECT_FALSE(c->hyper_parameter_optimization.has_value());
}

TEST(ConfigTest, EmptySectionsTakeActDefaults) {
  Expected<Config> c = ParseConfig("QuantPost:\nHyperParameterOptimization:\nDistillation:\n", "", "");
  ASSERT_TRUE(c.ok()) << c.status().message();
  EXPECT_EQ(c->quant_post->algo, "hist");
  EXPECT_EQ(c->hyper_parameter_optimization->ptq_algo, (std::vector<std::string>{"KL", "hist", "avg", "mse"}));
  EXPECT_EQ(c->hyper_parameter_optimization->batch_num, (std::vector<int64_t>{10, 30}));
  EXPECT_EQ(c->hyper_parameter_optimization->max_quant_count, 20);
  ASSERT_TRUE(c->distillation.has_value());  // typed since issue 7
  EXPECT_EQ(c->distillation->loss, (std::vector<std::string>{"l2"}));
}

TEST(ConfigTest, UnknownDatasetKeyNamesFileLinePathAndNearestKey) {
  const std::string yaml = "Global:\n  train_data:\n    type: idx\n    images: x.gz\n    limt: 10\n";
  Expected<Config> c = ParseConfig(yaml, "my.yaml", "");
  ASSERT_FALSE(c.ok());
  EXPECT_EQ(c.status().code(), StatusCode::kInvalidInput);
  const std::string& m = c.status().message();
  EXPECT_NE(m.find("my.yaml:5"), std::string::npos) << m;
  EXPECT_NE(m.find("Global.train_data.limt"), std::string::npos) << m;
  EXPECT_NE(m.find("did you mean 'limit'"), std::string::npos) << m;
}

TEST(ConfigTest, WrongTypeNamesKeyAndExpectedType) {
  Expected<Config> c = ParseConfig("Global:\n  eval_data: {type: idx, images: a, batch_size: many}\n", "c.yaml", "");
  ASSERT_FALSE(c.ok());
  EXPECT_NE(c.status().message().find("Global.eval_data.batch_size: expected an integer, found 'many'"),
            std::string::npos)
      << c.status().message();
  c = ParseConfig("QuantPost: {bias_correction: maybe}\n", "c.yaml", "");
  ASSERT_FALSE(c.ok());
  EXPECT_NE(c.status().message().find("QuantPost.bias_correction: expected true or false"), std::string::npos);
}

TEST(ConfigTest, UnknownSectionAndValuesSuggestNearest) {
  Expected<Config> c = ParseConfig("QuantPst: {}\n", "c.yaml", "");
  ASSERT_FALSE(c.ok());
  EXPECT_NE(c.status().message().find("did you mean 'QuantPost'"), std::string::npos) << c.status().message();
  c = ParseConfig("Global: {eval: {metric: top_1}}\n", "c.yaml", "");
  ASSERT_FALSE(c.ok());
  EXPECT_NE(c.status().message().find("did you mean 'top1'"), std::string::npos) << c.status().message();
  c = ParseConfig("Global: {train_data: {type: imagefolder, path: x}}\n", "c.yaml", "");
  ASSERT_FALSE(c.ok());
  EXPECT_NE(c.status().message().find("did you mean 'image_folder'"), std::string::npos) << c.status().message();
  c = ParseConfig("Global: {train_data: {type: idx, images: a, transforms: [{resize: {size: [2, 2], mode: pad}}]}}\n",
                  "c.yaml", "");
  ASSERT_FALSE(c.ok());
  EXPECT_NE(c.status().message().find("Global.train_data.transforms[0].resize.mode"), std::string::npos)
      << c.status().message();
}

TEST(ConfigTest, PaddleGlobalKeysAreRefusedWithAdvice) {
  Expected<Config> c = ParseConfig("Global:\n  model_dir: ./MobileNetV1_infer\n", "c.yaml", "");
  ASSERT_FALSE(c.ok());
  EXPECT_NE(c.status().message().find("Global.model_dir"), std::string::npos);
  EXPECT_NE(c.status().message().find("paddle2onnx"), std::string::npos) << c.status().message();
  c = ParseConfig("Eval:\n  dataset: {}\n", "c.yaml", "");
  ASSERT_FALSE(c.ok());
  EXPECT_NE(c.status().message().find("Global.eval_data"), std::string::npos) << c.status().message();
}

TEST(ConfigTest, QuantizationIsAnAliasOfQuantAwareAndPendingKeysAreChecked) {
  Expected<Config> c = ParseConfig("Quantization: {use_pact: true, weight_bits: 8}\n", "", "");
  ASSERT_TRUE(c.ok()) << c.status().message();
  ASSERT_TRUE(c->quant_aware.has_value());  // typed since issue 7
  EXPECT_TRUE(c->quant_aware->use_pact);
  c = ParseConfig("QuantAware: {use_pac: true}\n", "", "");
  ASSERT_FALSE(c.ok());
  EXPECT_NE(c.status().message().find("did you mean 'use_pact'"), std::string::npos) << c.status().message();
  c = ParseConfig("QuantAware: {}\nQuantization: {}\n", "", "");
  ASSERT_FALSE(c.ok());
  EXPECT_NE(c.status().message().find("given twice"), std::string::npos);
}

TEST(ConfigTest, SyntaxErrorNamesPosition) {
  Expected<Config> c = ParseConfig("Global:\n  model: [unclosed\n", "bad.yaml", "");
  ASSERT_FALSE(c.ok());
  EXPECT_NE(c.status().message().find("bad.yaml:"), std::string::npos);
  EXPECT_NE(c.status().message().find("not valid YAML"), std::string::npos);
}

TEST(ConfigTest, ResolvedConfigRoundTrips) {
  const std::string yaml = std::string(kDesignExample) +
                           "HyperParameterOptimization: {ptq_algo: [KL], batch_num: [5, 6]}\n"
                           "Distillation: {alpha: 1.0, loss: l2}\n";
  Expected<Config> a = ParseConfig(yaml, "/cfg/c.yaml", "/cfg");
  ASSERT_TRUE(a.ok()) << a.status().message();
  const std::string text = ToYaml(*a);
  Expected<Config> b = ParseConfig(text, "/elsewhere/config.resolved.yaml", "/elsewhere");
  ASSERT_TRUE(b.ok()) << b.status().message() << "\n" << text;
  EXPECT_EQ(ToYaml(*b).substr(ToYaml(*b).find("Global:")), text.substr(text.find("Global:")));
  EXPECT_EQ(b->global.train_data->images, a->global.train_data->images);
  EXPECT_EQ(b->global.train_data->transforms.size(), 1u);
  EXPECT_EQ(b->hyper_parameter_optimization->batch_num, (std::vector<int64_t>{5, 6}));
  EXPECT_TRUE(b->distillation.has_value());

  const std::string dir = test::TempDir("config_resolved");
  ASSERT_TRUE(WriteResolvedConfig(*a, dir + "/config.resolved.yaml").ok());
  Expected<Config> c = LoadConfig(dir + "/config.resolved.yaml");
  ASSERT_TRUE(c.ok()) << c.status().message();
  EXPECT_EQ(c->global.model, a->global.model);
  EXPECT_NE(text.find("nms_iou: 0.45\n"), std::string::npos) << text;  // not 0.45000000000000001
}

// A config with relative paths, resolved and written into another folder (save_dir), still names the
// same files: LoadConfig resolves against the config's absolute folder.
TEST(ConfigTest, ResolvedConfigWrittenElsewhereNamesTheSameFiles) {
  const std::string dir = test::TempDir("config_relative");
  ASSERT_TRUE(MakeDirs(dir + "/project/cfg").ok());
  ASSERT_TRUE(MakeDirs(dir + "/out").ok());
  ASSERT_TRUE(AtomicWriteFile(dir + "/project/cfg/c.yaml",
                              "Global:\n  model: ../m.onnx\n  eval_data: {type: npy, path: data}\n").ok());
  Expected<Config> a = LoadConfig(dir + "/project/cfg/c.yaml");
  ASSERT_TRUE(a.ok()) << a.status().message();
  EXPECT_EQ(a->global.model, std::filesystem::path(dir + "/project/m.onnx").lexically_normal().string());
  ASSERT_TRUE(WriteResolvedConfig(*a, dir + "/out/config.resolved.yaml").ok());
  Expected<Config> b = LoadConfig(dir + "/out/config.resolved.yaml");
  ASSERT_TRUE(b.ok()) << b.status().message();
  EXPECT_EQ(b->global.model, a->global.model);
  EXPECT_EQ(b->global.eval_data->path, a->global.eval_data->path);
}

// ACT's 93 example configs (84 .yaml, 9 PaddleDetection reader .yml): each either parses or is refused naming a key. They all carry Paddle's
// Global.model_dir, so they are refused as a whole; without Global and the script sections, every ACT
// compression section in them must parse.
TEST(ConfigTest, ActExampleConfigsParseOrAreRefusedNamingAKey) {
  const std::string root = test::SharedDataPath("act_configs");
  ACT_SKIP_IF_EMPTY(root, "../shared/data/act_configs");
  int files = 0, stripped_ok = 0;
  for (const auto& entry : std::filesystem::recursive_directory_iterator(root)) {
    const std::string path = entry.path().string();
    if (entry.path().extension() != ".yaml" && entry.path().extension() != ".yml") continue;
    ++files;
    Expected<Config> c = LoadConfig(path);
    if (!c.ok()) {
      const std::string& m = c.status().message();
      EXPECT_NE(m.find(path + ":"), std::string::npos) << m;
      EXPECT_TRUE(m.find("unknown key") != std::string::npos || m.find("unknown section") != std::string::npos ||
                  m.find("not valid YAML") != std::string::npos)
          << m;
    }
    YAML::Node root_node;
    try {
      root_node = YAML::LoadFile(path);
    } catch (const YAML::Exception&) {
      continue;  // PaddleDetection reader files with tags yaml-cpp refuses; refused above with a position
    }
    YAML::Node kept(YAML::NodeType::Map);
    bool has_old_prune = false;
    for (const auto& s : root_node) {
      const std::string name = s.first.Scalar();
      if (name == "Prune") has_old_prune = true;
      bool known = false;
      for (const auto& k : KnownSections()) known = known || k == name;
      if (known && name != "Global") kept[name] = s.second;
    }
    Expected<Config> stripped = ParseConfig(YAML::Dump(kept), path, DirName(path));
    EXPECT_TRUE(stripped.ok()) << path << ": " << stripped.status().message();
    if (stripped.ok() && !has_old_prune) ++stripped_ok;
  }
  EXPECT_GE(files, 80);
  EXPECT_GE(stripped_ok, 80);
}

}  // namespace
}  // namespace act::config

namespace act::config {
namespace {

// The bundled eval configs (examples/configs/*.yaml) parse, with every path resolved next to the file.
TEST(ConfigTest, ExampleConfigsParse) {
  const std::string dir = test::RepoPath("examples/configs");
  int files = 0;
  for (const auto& entry : std::filesystem::directory_iterator(dir)) {
    if (entry.path().extension() != ".yaml") continue;
    ++files;
    Expected<Config> c = LoadConfig(entry.path().string());
    ASSERT_TRUE(c.ok()) << c.status().message();
    ASSERT_TRUE(c->global.eval_data.has_value()) << entry.path();
    EXPECT_FALSE(c->global.model.empty());
    EXPECT_EQ(c->global.model.find("configs/../"), std::string::npos) << "not normalised: " << c->global.model;
  }
  EXPECT_GE(files, 5);
}

}  // namespace
}  // namespace act::config
