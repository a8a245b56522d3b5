// Unit tests of the PTQ strategies' parts on tiny graphs built in code: the HPO trial plan, the shared
// calibration statistics (checked against observers fed directly), bias correction, the strategy plan,
// the scheme table, and the refusal of a model with nothing to quantize.
#include <gtest/gtest.h>

#include <cmath>
#include <nlohmann/json.hpp>
#include <set>

#include "exec/runner.h"
#include "ir/passes/pass.h"
#include "quant/observer.h"
#include "quant/test_graphs.h"
#include "strategy/activation_statistics.h"
#include "strategy/bias_correction.h"
#include "strategy/ptq_hpo.h"
#include "strategy/quantizer.h"
#include "strategy/report_writer.h"
#include "strategy/strategy.h"

namespace act::test {
namespace {

using strategy::ActivationStatistics;

// x [N,3,8,8] → Conv(w [4,3,3,3], b [4], pad 1) → Relu → y
ir::Graph ConvReluGraph() {
  ir::Graph g = NewGraph();
  g.inputs.push_back(Value("x", {-1, 3, 8, 8}));
  g.inputs[0].shape->at(0) = ir::Dim{-1, "N"};
  g.outputs.push_back(Value("y", {-1, 4, 8, 8}));
  g.outputs[0].shape->at(0) = ir::Dim{-1, "N"};
  // Weights with a positive mean per channel, so coarse weight rounding shifts the output mean.
  Tensor w = Random({4, 3, 3, 3}, 7, -0.3f, 1.0f);
  g.initializers["w"] = w;
  g.initializers["b"] = Random({4}, 8, -0.5f, 0.5f);
  g.AddNode(Op("Conv", {"x", "w", "b"}, {"c"}, {{"pads", ir::Attribute::Ints({1, 1, 1, 1})}}));
  g.AddNode(Op("Relu", {"c"}, {"y"}));
  return g;
}

std::vector<data::Batch> Batches(int count, int rows, uint32_t seed) {
  std::vector<data::Batch> out;
  for (int i = 0; i < count; ++i) {
    data::Batch b;
    b.inputs["x"] = Random({rows, 3, 8, 8}, seed + i, -1.0f, 2.0f);
    b.labels.resize(rows);
    out.push_back(std::move(b));
  }
  return out;
}

TEST(HpoRecipes, GridFirstThenDistinctDrawsWithinRanges) {
  config::HyperParameterOptimizationConfig hpo;  // ACT's defaults: KL, hist, avg, mse × bias true/false
  hpo.max_quant_count = 14;
  hpo.batch_num = {10, 30};
  hpo.hist_percent = {0.98, 0.999};
  auto recipes = strategy::HpoRecipes(hpo, /*available_batches=*/20);
  ASSERT_EQ(recipes.size(), 14u);
  // The first 8 are the full grid of algo × bias_correct.
  std::set<std::pair<std::string, bool>> grid;
  for (size_t i = 0; i < 8; ++i) grid.insert({recipes[i].algo, recipes[i].bias_correct});
  EXPECT_EQ(grid.size(), 8u);
  std::set<std::string> keys;
  for (const auto& r : recipes) {
    EXPECT_GE(r.batch_num, 10);
    EXPECT_LE(r.batch_num, 20) << "batch_num is clipped to the batches available";
    if (r.algo == "hist") {
      EXPECT_GE(r.hist_percent, 0.98);
      EXPECT_LE(r.hist_percent, 0.999);
    }
    keys.insert(r.algo + std::to_string(r.hist_percent) + std::to_string(r.batch_num) +
                std::to_string(r.bias_correct));
  }
  EXPECT_EQ(keys.size(), recipes.size()) << "recipes are distinct";
  // Deterministic: the same plan twice.
  auto again = strategy::HpoRecipes(hpo, 20);
  for (size_t i = 0; i < recipes.size(); ++i) EXPECT_EQ(again[i].hist_percent, recipes[i].hist_percent);
}

TEST(ActivationStatistics, TablesEqualObserversFedDirectlyAtEveryCheckpoint) {
  ir::Graph g = ConvReluGraph();
  ASSERT_TRUE(ir::Normalize(g, "test").ok());
  auto batches = Batches(5, 4, 100);
  strategy::StatisticsOptions options;
  options.algorithms = {"abs_max", "avg", "hist", "KL", "mse", "emd"};
  options.checkpoints = {2};
  options.progress = false;
  options.run_chunk = 3;  // batches of 4 run as 3 + 1: statistics must not depend on it
  auto stats = ActivationStatistics::Collect(g, {"x", "y"}, batches, options);
  ASSERT_TRUE(stats.ok()) << stats.status().message();
  EXPECT_EQ(stats->batches_seen(), 5);
  EXPECT_EQ(stats->EffectiveBatches(2), 2);
  EXPECT_EQ(stats->EffectiveBatches(3), 2) << "the nearest checkpoint at or below";
  EXPECT_EQ(stats->EffectiveBatches(-1), 5);

  auto runner = exec::Runner::Create(g);
  ASSERT_TRUE(runner.ok());
  for (int upto : {2, 5}) {
    for (const std::string algo : {"abs_max", "KL", "mse", "emd"}) {
      auto direct = quant::MakeObserver(algo, options.observer);
      ASSERT_TRUE(direct.ok());
      for (int i = 0; i < upto; ++i) {
        // Same chunking as the collection (3 + 1 rows), so per-run reductions agree too.
        for (auto [r0, r1] : {std::pair<int64_t, int64_t>{0, 3}, {3, 4}}) {
          std::map<std::string, Tensor> in;
          const Tensor& x = batches[i].inputs.at("x");
          const size_t row = x.nbytes() / 4;
          in["x"] = Tensor::FromBytes(DType::kFloat32, {r1 - r0, 3, 8, 8},
                                      static_cast<const std::byte*>(x.raw_data()) + r0 * row, row * (r1 - r0));
          auto out = (*runner)->Run(in, {"y"});
          ASSERT_TRUE(out.ok());
          ASSERT_TRUE((*direct)->Observe(out->at("y")).ok());
        }
      }
      auto expected = (*direct)->Params();
      ASSERT_TRUE(expected.ok());
      auto table = stats->Table(algo, 0.999, upto);
      ASSERT_TRUE(table.ok()) << table.status().message();
      const auto* entry = table->Find("y");
      ASSERT_NE(entry, nullptr);
      EXPECT_FLOAT_EQ(entry->params.scale, expected->scale) << algo << " after " << upto << " batches";
      EXPECT_EQ(entry->params.zero_point, expected->zero_point) << algo;
    }
  }
  // hist at two percentiles from the one histogram equals PercentileObserver built with each.
  for (double percent : {0.9, 0.999}) {
    quant::ObserverOptions po = options.observer;
    po.hist_percent = percent;
    auto direct = quant::MakeObserver("hist", po);
    ASSERT_TRUE(direct.ok());
    for (const auto& b : batches) ASSERT_TRUE((*direct)->Observe(b.inputs.at("x")).ok());
    auto table = stats->Table("hist", percent, -1);
    ASSERT_TRUE(table.ok());
    EXPECT_FLOAT_EQ(table->Find("x")->params.scale, (*direct)->Params()->scale) << percent;
  }
  EXPECT_FALSE(stats->Table("unknown", 0.9, -1).ok());
}

TEST(BiasCorrection, RemovesTheOutputMeanShiftOfCoarseWeights) {
  ir::Graph g = ConvReluGraph();
  g.outputs[0].name = "c";  // read the Conv output directly
  g.nodes.pop_back();
  g.RebuildIndex();
  ASSERT_TRUE(ir::Normalize(g, "test").ok());
  config::QuantPostConfig qp;
  qp.weight_bits = 4;  // coarse weights: a visible mean shift
  auto scheme = strategy::SchemeForHardware("x86_vnni", 8, 4);
  ASSERT_TRUE(scheme.ok());
  auto quantizer = strategy::Quantizer::Create(g, *scheme, qp, nullptr);
  ASSERT_TRUE(quantizer.ok()) << quantizer.status().message();
  auto batches = Batches(4, 8, 200);
  strategy::StatisticsOptions so;
  so.algorithms = {"abs_max"};
  so.progress = false;
  auto stats = ActivationStatistics::Collect(quantizer->prepared(), quantizer->activation_tensors(), batches, so);
  ASSERT_TRUE(stats.ok()) << stats.status().message();
  auto table = stats->Table("abs_max", 1.0, -1);
  ASSERT_TRUE(table.ok());
  strategy::ExportSettings settings;
  auto quantized = quantizer->Export(*table, settings);
  ASSERT_TRUE(quantized.ok()) << quantized.status().message();
  auto corrected = strategy::CorrectBias(*quantizer, *quantized, settings, batches, 0);
  ASSERT_TRUE(corrected.ok()) << corrected.status().message();
  EXPECT_EQ(corrected->corrected_nodes, 1);
  auto requantized = quantizer->Export(*table, settings, &corrected->prepared);
  ASSERT_TRUE(requantized.ok());

  // Per-channel output mean error against FP32, before and after.
  auto fp32 = exec::Runner::Create(quantizer->prepared());
  auto before = exec::Runner::Create(*quantized);
  auto after = exec::Runner::Create(*requantized);
  ASSERT_TRUE(fp32.ok() && before.ok() && after.ok());
  std::vector<double> err_before(4, 0), err_after(4, 0);
  for (const auto& b : batches) {
    auto f = (*fp32)->Run(b.inputs), q0 = (*before)->Run(b.inputs), q1 = (*after)->Run(b.inputs);
    ASSERT_TRUE(f.ok() && q0.ok() && q1.ok());
    const float *pf = f->at("c").data<float>(), *p0 = q0->at("c").data<float>(), *p1 = q1->at("c").data<float>();
    for (int64_t i = 0; i < f->at("c").numel(); ++i) {
      const int c = static_cast<int>((i / 64) % 4);
      err_before[c] += p0[i] - pf[i];
      err_after[c] += p1[i] - pf[i];
    }
  }
  double total_before = 0, total_after = 0;
  for (int c = 0; c < 4; ++c) {
    total_before += std::fabs(err_before[c]);
    total_after += std::fabs(err_after[c]);
  }
  // The correction is exact on these batches up to the output's own re-quantization (its Q rounds the
  // shifted values again), so at least a 4x reduction of the summed |mean error| is expected.
  EXPECT_GT(total_before, 0);
  EXPECT_LT(total_after, 0.25 * total_before) << "before " << total_before << " after " << total_after;
}

TEST(PlanStrategies, FollowsTheConfigSections) {
  config::Config c;
  std::vector<std::string> decisions;
  auto plan = strategy::PlanStrategies(c, &decisions);
  ASSERT_TRUE(plan.ok());
  EXPECT_EQ(*plan, std::vector<std::string>({"quant_post"}));
  c.quant_post = config::QuantPostConfig{};
  c.hyper_parameter_optimization = config::HyperParameterOptimizationConfig{};
  plan = strategy::PlanStrategies(c, &decisions);
  ASSERT_TRUE(plan.ok());
  EXPECT_EQ(*plan, std::vector<std::string>({"quant_post", "ptq_hpo"}));
  c.pending["Distillation"] = "{}";
  plan = strategy::PlanStrategies(c, &decisions);
  ASSERT_FALSE(plan.ok());
  EXPECT_EQ(plan.status().code(), StatusCode::kUnsupported);
  EXPECT_NE(plan.status().message().find("Distillation"), std::string::npos);
  for (const auto& e : strategy::Strategies()) EXPECT_TRUE(strategy::MakeStrategy(e.name).ok());
  EXPECT_FALSE(strategy::MakeStrategy("quant_pots").ok());
}

TEST(Scheme, FollowsDeployHardware) {
  auto x86 = strategy::SchemeForHardware("x86_vnni", 8, 8);
  ASSERT_TRUE(x86.ok());
  EXPECT_EQ(x86->activation_dtype, DType::kUInt8);
  EXPECT_FALSE(x86->activation_symmetric);
  auto trt = strategy::SchemeForHardware("gpu_tensorrt", 8, 8);
  ASSERT_TRUE(trt.ok());
  EXPECT_EQ(trt->activation_dtype, DType::kInt8);
  EXPECT_TRUE(trt->activation_symmetric);
  EXPECT_FALSE(strategy::SchemeForHardware("x86_vnnni", 8, 8).ok());
}

TEST(Quantizer, RefusesAModelWithoutQuantizableOps) {
  ir::Graph g = NewGraph();
  g.inputs.push_back(Value("x", {1, 4}));
  g.outputs.push_back(Value("y", {1, 4}));
  g.AddNode(Op("Relu", {"x"}, {"y"}));
  ASSERT_TRUE(ir::Normalize(g, "test").ok());
  auto q = strategy::Quantizer::Create(g, *strategy::SchemeForHardware("x86_vnni", 8, 8),
                                       config::QuantPostConfig{}, nullptr);
  ASSERT_FALSE(q.ok());
  EXPECT_EQ(q.status().code(), StatusCode::kUnsupported);
  EXPECT_NE(q.status().message().find("no quantizable op"), std::string::npos);
}

TEST(Report, JsonCarriesTrialsAndDecisions) {
  Report r;
  r.metric_name = "top1";
  r.fp32_metric = 0.98;
  r.int8_metric = 0.97;
  r.measured_with = "test";
  Trial t;
  t.strategy = "ptq_hpo";
  t.name = "trial 1";
  t.params = {{"algo", "KL"}};
  t.metric = 0.97;
  t.chosen = true;
  r.trials.push_back(t);
  r.decisions.push_back("a <decision>");
  auto j = nlohmann::json::parse(strategy::ReportToJson(r));
  EXPECT_NEAR(j["metric"]["loss"].get<double>(), 0.01, 1e-12);
  EXPECT_EQ(j["trials"][0]["params"]["algo"], "KL");
  EXPECT_EQ(j["decisions"][0], "a <decision>");
  const std::string html = strategy::ReportToHtml(r);
  EXPECT_NE(html.find("a &lt;decision&gt;"), std::string::npos) << "HTML escapes text";
}

}  // namespace
}  // namespace act::test
