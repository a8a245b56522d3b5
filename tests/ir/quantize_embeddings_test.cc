// quantize_embeddings: int8 embedding tables with per-column scales, run in ONNX Runtime.
// - A tiny lookup: ORT's result equals scale[d] · round(W[id, d] / scale[d]) element by element (exact), and
//   differs from the float lookup by at most half a column step; a table also read by a MatMul stays float.
// - A position table added whole: one DequantizeLinear in front of the Add, the same per-column bound.
// - The SST-2 transformer fixture: its token and position tables (56% of its weights) become 1 byte per weight, and the dev-set predictions in ORT
//   agree with the FP32 model's on ≥ 99.5% of the 872 sentences with accuracy within 0.5 point.
#include <gtest/gtest.h>

#include <cmath>

#include "data/loader.h"
#include "data/registry.h"
#include "ir/onnx_io.h"
#include "ir/passes/pass.h"
#include "ir/passes/quantize_embeddings.h"
#include "quant/test_graphs.h"

namespace act::test {
namespace {

TEST(QuantizeEmbeddings, LookupInOrtIsTheDequantizedRow) {
  ir::Graph g = NewGraph();
  g.inputs.push_back(Value("ids", {2, 3}, DType::kInt64));
  g.initializers["table"] = Random({100, 48}, 7, -2.0f, 2.0f);
  g.nodes.push_back(Op("Gather", {"table", "ids"}, {"rows"}));
  g.outputs.push_back(Value("rows", {2, 3, 48}));
  const Tensor table = g.initializers.at("table");
  const Tensor ids = Tensor::FromVector<int64_t>({2, 3}, {0, 99, 5, 5, 42, 17});
  auto before = SaveAndRunOrt(g, TempDir("embeddings"), "before.onnx", {{"ids", ids}});
  ASSERT_TRUE(before.ok()) << before.status().message();

  auto count = ir::QuantizeEmbeddingTables(g);
  ASSERT_TRUE(count.ok()) << count.status().message();
  EXPECT_EQ(*count, 1);
  EXPECT_EQ(CountOps(g, "DequantizeLinear"), 1);
  auto again = ir::QuantizeEmbeddingTables(g);
  ASSERT_TRUE(again.ok());
  EXPECT_EQ(*again, 0) << "idempotent: the table is int8 now";
  auto after = SaveAndRunOrt(g, TempDir("embeddings"), "after.onnx", {{"ids", ids}});
  ASSERT_TRUE(after.ok()) << after.status().message();

  std::vector<float> scale(48, 0.0f);
  for (int64_t v = 0; v < 100; ++v) {
    for (int64_t d = 0; d < 48; ++d) scale[d] = std::max(scale[d], std::fabs(table.data<float>()[v * 48 + d]) / 127.0f);
  }
  const float* got = after->at("rows").data<float>();
  const float* exact = before->at("rows").data<float>();
  for (int64_t i = 0; i < 6; ++i) {
    const int64_t id = ids.data<int64_t>()[i];
    for (int64_t d = 0; d < 48; ++d) {
      const float w = table.data<float>()[id * 48 + d];
      const float expected = scale[d] * std::nearbyint(w / scale[d]);
      ASSERT_FLOAT_EQ(got[i * 48 + d], expected) << "id " << id << " column " << d;
      ASSERT_LE(std::fabs(got[i * 48 + d] - exact[i * 48 + d]), 0.5f * scale[d] * 1.0001f);
    }
  }
}

TEST(QuantizeEmbeddings, AddedPositionTableIsDequantizedOnceInFront) {
  ir::Graph g = NewGraph();
  g.inputs.push_back(Value("x", {2, 128, 32}));
  g.initializers["position"] = Random({128, 32}, 5, -0.5f, 0.5f);
  g.nodes.push_back(Op("Add", {"x", "position"}, {"y"}));
  g.outputs.push_back(Value("y", {2, 128, 32}));
  const Tensor table = g.initializers.at("position");
  const std::map<std::string, Tensor> inputs = {{"x", Tensor(DType::kFloat32, {2, 128, 32})}};  // zeros: y = table
  auto count = ir::QuantizeEmbeddingTables(g);
  ASSERT_TRUE(count.ok()) << count.status().message();
  EXPECT_EQ(*count, 1);
  EXPECT_EQ(CountOps(g, "DequantizeLinear"), 1);
  EXPECT_EQ(g.initializers.count("position"), 0u);
  auto after = SaveAndRunOrt(g, TempDir("embeddings"), "added.onnx", inputs);
  ASSERT_TRUE(after.ok()) << after.status().message();
  std::vector<float> scale(32, 0.0f);
  for (int64_t p = 0; p < 128; ++p) {
    for (int64_t d = 0; d < 32; ++d) scale[d] = std::max(scale[d], std::fabs(table.data<float>()[p * 32 + d]) / 127.0f);
  }
  const float* got = after->at("y").data<float>();
  for (int64_t i = 0; i < 2 * 128 * 32; ++i) {
    const int64_t d = i % 32;
    const float w = table.data<float>()[i % (128 * 32)];
    ASSERT_FLOAT_EQ(got[i], scale[d] * std::nearbyint(w / scale[d])) << "element " << i;
  }
}

TEST(QuantizeEmbeddings, TableAlsoReadByAMatMulStaysFloat) {
  ir::Graph g = NewGraph();
  g.inputs.push_back(Value("ids", {4}, DType::kInt64));
  g.initializers["table"] = Random({100, 64}, 3);
  g.initializers["perm"] = Random({64, 100}, 4);
  g.nodes.push_back(Op("Gather", {"table", "ids"}, {"rows"}));
  g.nodes.push_back(Op("MatMul", {"rows", "table_t"}, {"logits"}));
  g.nodes.push_back(Op("Transpose", {"table"}, {"table_t"}));
  g.outputs.push_back(Value("logits", {4, 100}));
  auto count = ir::QuantizeEmbeddingTables(g);
  ASSERT_TRUE(count.ok());
  EXPECT_EQ(*count, 0);
  EXPECT_EQ(g.initializers.at("table").dtype(), DType::kFloat32);
}

int64_t Correct(const Tensor& logits, const std::vector<std::optional<data::Label>>& labels, const Tensor* other,
                int64_t* agree) {
  int64_t correct = 0;
  for (int64_t i = 0; i < logits.dim(0); ++i) {
    const float* row = logits.data<float>() + i * 2;
    const int64_t c = row[1] > row[0];
    correct += c == labels[i]->class_id;
    if (other) *agree += c == (other->data<float>()[i * 2 + 1] > other->data<float>()[i * 2]);
  }
  return correct;
}

TEST(QuantizeEmbeddings, Sst2TransformerKeepsItsPredictionsInOrt) {
  const std::string dev = SharedDataPath("sst2/dev.tsv");
  ACT_SKIP_IF_EMPTY(dev, "SST-2 dev.tsv");
  if (!OrtAvailable()) GTEST_SKIP() << "onnxruntime-node is not installed (deps/); skipping";
  const std::string model = RepoPath("examples/sst2_bert/model.onnx");
  auto loaded = ir::LoadModel(model);
  ASSERT_TRUE(loaded.ok()) << loaded.status().message();
  ir::Graph g = std::move(loaded).value();
  ASSERT_TRUE(ir::Normalize(g, model).ok());
  int64_t float_bytes_before = 0;
  for (const auto& [name, t] : g.initializers) float_bytes_before += t.dtype() == DType::kFloat32 ? t.nbytes() : 0;
  auto count = ir::QuantizeEmbeddingTables(g);
  ASSERT_TRUE(count.ok()) << count.status().message();
  EXPECT_EQ(*count, 2) << "the token embedding (looked up) and the position table (added whole)";
  int64_t float_bytes_after = 0, int8_bytes = 0;
  for (const auto& [name, t] : g.initializers) {
    float_bytes_after += t.dtype() == DType::kFloat32 ? t.nbytes() : 0;
    int8_bytes += t.dtype() == DType::kInt8 ? t.nbytes() : 0;
  }
  // 8000x128 + 64x128 weights: 4 bytes each before; 1 byte and 128 float scales a table after (no zero
  // points: DequantizeLinear's default is 0).
  EXPECT_EQ(int8_bytes, (8000 + 64) * 128);
  EXPECT_EQ(float_bytes_before - float_bytes_after, 4 * (8000 + 64) * 128 - 2 * 4 * 128);
  const std::string out = TempDir("embeddings_sst2") + "/model.onnx";
  ASSERT_TRUE(ir::SaveModel(g, out).ok());

  config::DatasetConfig c;
  c.type = "text_tsv";
  c.key_path = "test";
  c.path = dev;
  c.vocab = RepoPath("examples/sst2_bert/vocab.txt");
  c.max_length = 64;
  c.token_type_ids_name = "";
  c.num_classes = 2;
  auto dataset = data::CreateDataset(c);
  ASSERT_TRUE(dataset.ok()) << dataset.status().message();
  data::LoaderOptions lo = data::LoaderOptionsFrom(c);
  lo.batch_size = 1 << 20;
  auto loader = data::Loader::Create(**dataset, lo);
  ASSERT_TRUE(loader.ok());
  auto batch = (*loader)->Next();
  ASSERT_TRUE(batch.ok() && batch->has_value());
  const data::Batch& b = **batch;
  auto fp32 = RunOrt(model, b.inputs);
  auto int8 = RunOrt(out, b.inputs);
  ASSERT_TRUE(fp32.ok() && int8.ok()) << (fp32.ok() ? int8.status() : fp32.status()).message();
  int64_t agree = 0;
  const int64_t n = b.size();
  const double acc_fp32 = Correct(fp32->begin()->second, b.labels, nullptr, &agree) / static_cast<double>(n);
  const double acc_int8 = Correct(int8->begin()->second, b.labels, &fp32->begin()->second, &agree) / static_cast<double>(n);
  std::printf("SST-2 with int8 embeddings: ORT accuracy fp32=%.4f int8-embeddings=%.4f, predictions agree %lld/%lld\n",
              acc_fp32, acc_int8, static_cast<long long>(agree), static_cast<long long>(n));
  EXPECT_GE(agree, static_cast<int64_t>(std::ceil(0.995 * n)));
  EXPECT_LE(std::fabs(acc_fp32 - acc_int8), 0.005);
}

}  // namespace
}  // namespace act::test
