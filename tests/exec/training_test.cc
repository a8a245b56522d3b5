// Training smoke test on a real model: the MNIST CNN's weights are parameters of exec::Module; 20 plain SGD
// steps toward a new target (each digit's label shifted by one) must lower the cross-entropy, and the
// trained weights written back into the graph must give the same outputs in a fresh Runner.
#include <gtest/gtest.h>
#include <zlib.h>

#include "exec/module.h"
#include "exec/runner.h"
#include "exec/tensor_convert.h"
#include "ir/onnx_io.h"
#include "test_support.h"

namespace act::exec {
namespace {

std::vector<unsigned char> ReadGz(const std::string& path, size_t skip, size_t count) {
  std::vector<unsigned char> bytes(skip + count);
  gzFile f = gzopen(path.c_str(), "rb");
  if (f == nullptr) return {};
  const int n = gzread(f, bytes.data(), static_cast<unsigned>(bytes.size()));
  gzclose(f);
  if (n != static_cast<int>(bytes.size())) return {};
  return std::vector<unsigned char>(bytes.begin() + skip, bytes.end());
}

TEST(Training, SgdOnMnistCnnLowersTheLoss) {
  const std::string model = act::test::SharedDataPath("mnist/mnist_cnn.onnx");
  ACT_SKIP_IF_EMPTY(model, "the MNIST model");
  constexpr int kBatch = 64;
  const auto pixels = ReadGz(act::test::SharedDataPath("mnist/t10k-images-idx3-ubyte.gz"), 16, kBatch * 784);
  const auto labels = ReadGz(act::test::SharedDataPath("mnist/t10k-labels-idx1-ubyte.gz"), 8, kBatch);
  ASSERT_EQ(pixels.size(), static_cast<size_t>(kBatch) * 784);
  ASSERT_EQ(labels.size(), static_cast<size_t>(kBatch));
  at::Tensor x = at::empty({kBatch, 1, 28, 28}, at::kFloat);
  for (size_t i = 0; i < pixels.size(); ++i) x.data_ptr<float>()[i] = (pixels[i] / 255.f - 0.5f) / 0.5f;
  at::Tensor target = at::empty({kBatch}, at::kLong);
  for (int i = 0; i < kBatch; ++i) target.data_ptr<int64_t>()[i] = (labels[i] + 1) % 10;

  auto graph = ir::LoadModel(model);
  ASSERT_TRUE(graph.ok()) << graph.status().ToString();
  auto module = Module::Create(*graph);
  ASSERT_TRUE(module.ok()) << module.status().ToString();
  // conv1/conv2/fc1/fc2 weights and biases.
  EXPECT_EQ((*module)->parameters().size(), 8u);
  const std::vector<at::Tensor> params = (*module)->ParameterList();

  std::vector<double> losses;
  constexpr double kLearningRate = 0.01;
  for (int step = 0; step < 20; ++step) {
    auto out = (*module)->Forward({{"input", x}});
    ASSERT_TRUE(out.ok()) << out.status().ToString();
    at::Tensor loss = at::nll_loss(at::log_softmax(out->at("output"), 1), target);
    losses.push_back(loss.item<double>());
    for (const auto& p : params) {
      if (p.grad().defined()) p.mutable_grad().zero_();
    }
    loss.backward();
    at::NoGradGuard no_grad;
    for (const auto& p : params) {
      ASSERT_TRUE(p.grad().defined());
      p.sub_(p.grad() * kLearningRate);
    }
  }
  std::printf("loss: first %.4f, last %.4f\n", losses.front(), losses.back());
  EXPECT_LT(losses.back(), 0.5 * losses.front()) << "SGD did not lower the loss enough";

  // Write back and compare a fresh Runner with the trained Module.
  ir::Graph trained = *graph;
  ASSERT_TRUE((*module)->WriteParametersTo(trained).ok());
  auto runner = Runner::Create(trained);
  ASSERT_TRUE(runner.ok());
  auto x_tensor = FromAten(x);
  ASSERT_TRUE(x_tensor.ok());
  auto from_runner = (*runner)->Run({{"input", *x_tensor}});
  ASSERT_TRUE(from_runner.ok());
  at::NoGradGuard no_grad;
  auto from_module = (*module)->Forward({{"input", x}});
  ASSERT_TRUE(from_module.ok());
  auto expected = FromAten(from_module->at("output"));
  ASSERT_TRUE(expected.ok());
  EXPECT_LE(act::test::MaxRelativeError(from_runner->at("output"), *expected), 1e-6);
}

}  // namespace
}  // namespace act::exec
