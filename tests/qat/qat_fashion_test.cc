// Acceptance of issue 7 on the bundled Fashion-MNIST CNN (examples/fashion_mnist/fashion_cnn.onnx, Debian's
// dataset-fashion-mnist) at 4-bit per-channel weights / 8-bit activations:
//   - PTQ (hist, 10 batches) vs distillation QAT (400 iterations at batch 32, no labels: the FP32 model is
//     the teacher, its logits the targets) — every top-1 measured on the 10,000 test images in ONNX Runtime;
//     QAT within 0.5 point of FP32;
//   - the simulated model (our executor) and the exported one (ORT) within 0.1 point on the test set;
// The speed line (1,000 iterations in at most 10 minutes) is measured in the note, not here: the
// test prints steps/s, and a timed assertion would fail on a loaded CI machine for no fault of the code.
// Model selection during training uses 2,000 held-out *training* images (58,000–59,999), never the test set.
#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <iostream>

#include "data/datasets.h"
#include "data/loader.h"
#include "distill/qat_trainer.h"
#include "exec/runner.h"
#include "ir/onnx_io.h"
#include "mnist_fixture.h"
#include "quant/ptq.h"
#include "test_support.h"

namespace act::test {
namespace {

const char* kData = "/usr/share/datasets/fashion-mnist/";

config::DatasetConfig FashionConfig(const std::string& split) {
  return NormalizedIdx(std::string(kData) + split + "-images-idx3-ubyte.gz",
                       std::string(kData) + split + "-labels-idx1-ubyte.gz");
}

Expected<data::Batch> WholeSplit(const data::Dataset& ds, int64_t skip, int64_t limit) {
  ACT_ASSIGN_OR_RETURN(auto loader, data::Loader::Create(ds, data::LoaderOptions{limit, false, 0, skip, limit, false, 0}));
  ACT_ASSIGN_OR_RETURN(auto batch, loader->Next());
  if (!batch) return InvalidInput("empty split");
  return std::move(*batch);
}

TEST(QatFashion, FourBitWeightsRecoverWhatPtqLoses) {
  const std::string model_path = RepoPath("examples/fashion_mnist/fashion_cnn.onnx");
  auto model = ir::LoadModel(model_path);
  if (!model.ok()) GTEST_SKIP() << "examples/fashion_mnist/fashion_cnn.onnx is not available; skipping";
  auto train_set = data::CreateIdxDataset(FashionConfig("train"));
  auto test_set = data::CreateIdxDataset(FashionConfig("t10k"));
  if (!train_set.ok() || !test_set.ok()) GTEST_SKIP() << "Debian dataset-fashion-mnist is not installed; skipping";
  if (!OrtAvailable()) GTEST_SKIP() << "onnxruntime-node is not installed (deps/); skipping";
  auto train = data::Loader::Create(**train_set, data::LoaderOptions{32, true, 1, 0, 58000, true, 4});
  ASSERT_TRUE(train.ok());
  auto select = WholeSplit(**train_set, 58000, 2000);
  ASSERT_TRUE(select.ok()) << select.status().message();
  auto test = WholeSplit(**test_set, 0, 10000);
  ASSERT_TRUE(test.ok()) << test.status().message();

  distill::QatDisJob job;
  job.fp32 = *model;
  job.quant.weight_bits = 4;
  job.quant.quantize_op_types = {"conv2d", "mul"};
  job.quant.quant_post_first = true;
  job.train.train_iter = 400;
  job.train.eval_iter = 200;
  job.train.optimizer = "Momentum";
  job.train.learning_rate.type = "CosineAnnealingDecay";
  job.train.learning_rate.learning_rate = 0.002;
  job.train.weight_decay = 0;
  job.next_batch = [&]() { return (*train)->Next(); };
  job.reset = [&](uint64_t epoch) { (*train)->Reset(epoch); };
  job.batches_per_epoch = (*train)->num_batches();
  job.evaluate = [&](const ir::Graph& g, const std::string&) -> Expected<double> {
    ACT_ASSIGN_OR_RETURN(auto runner, exec::Runner::Create(g));
    ACT_ASSIGN_OR_RETURN(auto out, runner->Run(select->inputs));
    return 100.0 * Top1Fraction(out.at("logits"), select->labels);
  };
  job.save_dir = TempDir("qat_fashion");
  job.threads = 2;
  auto r = distill::RunQatDistillation(job);
  ASSERT_TRUE(r.ok()) << r.status().message();
  for (const auto& d : r->decisions) std::cout << "decision: " << d << "\n";
  for (const auto& [s, m] : r->evaluations) std::cout << "step " << s << ": held-out top-1 " << m << "%\n";

  // Test-set top-1 in ORT: FP32, PTQ (hist, same 10 batches), QAT export; simulated in our executor.
  const std::string qat_path = job.save_dir + "/qat.onnx";
  ASSERT_TRUE(ir::SaveModel(r->model, qat_path).ok());
  auto fp32_ort = RunOrt(model_path, test->inputs, 2);
  ASSERT_TRUE(fp32_ort.ok()) << fp32_ort.status().message();
  auto qat_ort = RunOrt(qat_path, test->inputs, 2);
  ASSERT_TRUE(qat_ort.ok()) << qat_ort.status().message();
  auto sim_runner = exec::Runner::Create(r->simulated);
  ASSERT_TRUE(sim_runner.ok()) << sim_runner.status().message();
  auto sim = (*sim_runner)->Run(test->inputs);
  ASSERT_TRUE(sim.ok()) << sim.status().message();
  (*train)->Reset(0);
  quant::PtqOptions ptq_options;
  ptq_options.batch_nums = 10;
  ptq_options.weight_bits = 4;
  auto ptq = quant::RunPtq(*model, [&]() { return (*train)->Next(); }, ptq_options);
  ASSERT_TRUE(ptq.ok()) << ptq.status().message();
  const std::string ptq_path = job.save_dir + "/ptq.onnx";
  ASSERT_TRUE(ir::SaveModel(ptq->model, ptq_path).ok());
  auto ptq_ort = RunOrt(ptq_path, test->inputs, 2);
  ASSERT_TRUE(ptq_ort.ok()) << ptq_ort.status().message();

  const double fp32 = 100.0 * Top1Fraction(fp32_ort->at("logits"), test->labels);
  const double ptq_top1 = 100.0 * Top1Fraction(ptq_ort->at("logits"), test->labels);
  const double qat = 100.0 * Top1Fraction(qat_ort->at("logits"), test->labels);
  const double simulated = 100.0 * Top1Fraction(sim->at("logits"), test->labels);
  std::cout << "test top-1: FP32 " << fp32 << "%, PTQ W4A8 " << ptq_top1 << "%, QAT W4A8 exported (ORT) " << qat
            << "%, QAT simulated (onnx-act executor) " << simulated << "%\n"
            << "training: " << r->steps << " steps, " << r->steps_per_second << " steps/s (steps only), loop "
            << r->train_seconds << " s of which evaluation+checkpoints " << r->eval_seconds << " s\n";
  EXPECT_GE(qat, fp32 - 0.5);
  EXPECT_LE(std::fabs(qat - simulated), 0.1);
}

}  // namespace
}  // namespace act::test
