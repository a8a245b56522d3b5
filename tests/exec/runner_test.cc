// Runner and Module behaviour on small graphs: outputs and intermediates, input checks, dynamic batch,
// shape arithmetic, old-opset forms, parameter classification and write-back.
#include <gtest/gtest.h>

#include <cmath>

#include "exec/module.h"
#include "exec/runner.h"
#include "graph_builder.h"

namespace act::exec {
namespace {

using test::GraphBuilder;

ir::Attribute Ints(std::vector<int64_t> v) { return ir::Attribute::Ints(std::move(v)); }
ir::Attribute Int(int64_t v) { return ir::Attribute::Int(v); }

// y = Relu(x + b), z = y * 2
ir::Graph AddReluGraph() {
  return GraphBuilder(13)
      .Input("x", DType::kFloat32, {-1, 3})
      .Init("b", Tensor::FromVector<float>({3}, {1.f, -1.f, 0.5f}))
      .Init("two", Tensor::Scalar<float>(2.f))
      .Node("Add", {"x", "b"}, {"s"})
      .Node("Relu", {"s"}, {"y"})
      .Node("Mul", {"y", "two"}, {"z"})
      .Output("z", DType::kFloat32)
      .Build();
}

TEST(Runner, ComputesOutputsAndIntermediates) {
  auto runner = Runner::Create(AddReluGraph());
  ASSERT_TRUE(runner.ok()) << runner.status().ToString();
  for (int64_t batch : {1, 4}) {  // dynamic batch
    std::vector<float> x(batch * 3);
    for (size_t i = 0; i < x.size(); ++i) x[i] = static_cast<float>(i) - 4.f;
    auto out = (*runner)->Run({{"x", Tensor::FromVector<float>({batch, 3}, x)}}, {"s", "b", "x"});
    ASSERT_TRUE(out.ok()) << out.status().ToString();
    const std::vector<float> b = {1.f, -1.f, 0.5f};
    const auto z = out->at("z").ToVector<float>(), s = out->at("s").ToVector<float>();
    ASSERT_EQ(z.size(), x.size());
    for (size_t i = 0; i < x.size(); ++i) {
      EXPECT_FLOAT_EQ(s[i], x[i] + b[i % 3]);
      EXPECT_FLOAT_EQ(z[i], std::max(0.f, x[i] + b[i % 3]) * 2.f);
    }
    EXPECT_EQ(out->at("b").ToVector<float>(), b);
    EXPECT_EQ(out->at("x").ToVector<float>(), x);
  }
}

TEST(Runner, InputErrorsNameTheInput) {
  auto runner = Runner::Create(AddReluGraph());
  ASSERT_TRUE(runner.ok());
  auto missing = (*runner)->Run({});
  ASSERT_FALSE(missing.ok());
  EXPECT_NE(missing.status().message().find("'x'"), std::string::npos) << missing.status().message();

  auto dtype = (*runner)->Run({{"x", Tensor::FromVector<int64_t>({1, 3}, {1, 2, 3})}});
  ASSERT_FALSE(dtype.ok());
  EXPECT_NE(dtype.status().message().find("'x'"), std::string::npos);
  EXPECT_NE(dtype.status().message().find("int64"), std::string::npos) << dtype.status().message();

  auto shape = (*runner)->Run({{"x", Tensor::FromVector<float>({1, 4}, {1, 2, 3, 4})}});
  ASSERT_FALSE(shape.ok());
  EXPECT_NE(shape.status().message().find("'x'"), std::string::npos);
  EXPECT_NE(shape.status().message().find("[1,4]"), std::string::npos) << shape.status().message();

  auto extra = (*runner)->Run({{"x", Tensor::FromVector<float>({1, 3}, {1, 2, 3})}, {"xx", Tensor::Scalar<float>(1)}});
  ASSERT_FALSE(extra.ok());
  EXPECT_NE(extra.status().message().find("'xx'"), std::string::npos);

  auto want = (*runner)->Run({{"x", Tensor::FromVector<float>({1, 3}, {1, 2, 3})}}, {"nope"});
  ASSERT_FALSE(want.ok());
  EXPECT_NE(want.status().message().find("'nope'"), std::string::npos);
}

// Shape → Gather → Unsqueeze → Concat → Reshape: flattening everything but the (dynamic) batch dim.
TEST(Runner, ShapeArithmeticFollowsDynamicBatch) {
  ir::Graph g = GraphBuilder(13)
                    .Input("x", DType::kFloat32, {-1, 2, 3})
                    .Init("zero", Tensor::Scalar<int64_t>(0))
                    .Init("minus_one", Tensor::FromVector<int64_t>({1}, {-1}))
                    .Init("axes0", Tensor::FromVector<int64_t>({1}, {0}))
                    .Node("Shape", {"x"}, {"shape"})
                    .Node("Gather", {"shape", "zero"}, {"batch"}, {{"axis", Int(0)}})
                    .Node("Unsqueeze", {"batch", "axes0"}, {"batch1"})
                    .Node("Concat", {"batch1", "minus_one"}, {"new_shape"}, {{"axis", Int(0)}})
                    .Node("Reshape", {"x", "new_shape"}, {"y"})
                    .Output("y", DType::kFloat32)
                    .Build();
  auto runner = Runner::Create(g);
  ASSERT_TRUE(runner.ok()) << runner.status().ToString();
  for (int64_t batch : {1, 3}) {
    auto out = (*runner)->Run({{"x", Tensor(DType::kFloat32, {batch, 2, 3})}}, {"new_shape"});
    ASSERT_TRUE(out.ok()) << out.status().ToString();
    EXPECT_EQ(out->at("y").shape(), (Shape{batch, 6}));
    EXPECT_EQ(out->at("new_shape").ToVector<int64_t>(), (std::vector<int64_t>{batch, -1}));
  }
}

// Squeeze/Unsqueeze with the `axes` attribute (opset 10) and input (13) agree; Softmax before 13 normalises
// over the flattened trailing dims.
TEST(Runner, OldOpsetForms) {
  ir::Graph old_graph = GraphBuilder(10)
                            .Input("x", DType::kFloat32, {2, 1, 3})
                            .Node("Squeeze", {"x"}, {"s"}, {{"axes", Ints({1})}})
                            .Node("Unsqueeze", {"s"}, {"u"}, {{"axes", Ints({0})}})
                            .Node("Softmax", {"x"}, {"sm"}, {{"axis", Int(1)}})
                            .Node("Clip", {"x"}, {"c"}, {})
                            .Output("u")
                            .Output("sm")
                            .Build();
  old_graph.nodes[3].attributes["min"] = ir::Attribute::Float(-0.5f);
  old_graph.nodes[3].attributes["max"] = ir::Attribute::Float(0.5f);
  old_graph.outputs.push_back({"c", DType::kUndefined, std::nullopt});
  auto runner = Runner::Create(old_graph);
  ASSERT_TRUE(runner.ok()) << runner.status().ToString();
  const std::vector<float> x = {0.1f, -2.f, 0.7f, 1.f, 2.f, 3.f};
  auto out = (*runner)->Run({{"x", Tensor::FromVector<float>({2, 1, 3}, x)}});
  ASSERT_TRUE(out.ok()) << out.status().ToString();
  EXPECT_EQ(out->at("u").shape(), (Shape{1, 2, 3}));
  // axis 1 of [2,1,3] before opset 13: softmax over the 3 trailing elements of each row (the same here, as
  // dim 1 has size 1 — and different from softmax over dim 1 alone, which would give all ones).
  const auto sm = out->at("sm").ToVector<float>();
  for (int r = 0; r < 2; ++r) {
    double denom = 0;
    for (int j = 0; j < 3; ++j) denom += std::exp(x[r * 3 + j]);
    for (int j = 0; j < 3; ++j) EXPECT_NEAR(sm[r * 3 + j], std::exp(x[r * 3 + j]) / denom, 1e-6);
  }
  const auto c = out->at("c").ToVector<float>();
  for (size_t i = 0; i < x.size(); ++i) EXPECT_FLOAT_EQ(c[i], std::clamp(x[i], -0.5f, 0.5f));
}

TEST(Module, WeightsAreParametersAndWriteBack) {
  // Conv weight/bias are parameters; the Reshape shape stays a buffer. Paddle-style weights in Constant
  // nodes are written back into the Constant.
  ir::Graph g = GraphBuilder(13)
                    .Input("x", DType::kFloat32, {-1, 1, 4, 4})
                    .Init("w", Tensor::FromVector<float>({2, 1, 1, 1}, {1.f, 2.f}))
                    .Init("shape", Tensor::FromVector<int64_t>({2}, {0, -1}))
                    .Node("Constant", {}, {"bias"})
                    .Node("Conv", {"x", "w", "bias"}, {"c"})
                    .Node("Reshape", {"c", "shape"}, {"y"})
                    .Output("y", DType::kFloat32)
                    .Build();
  g.nodes[0].attributes["value"] = ir::Attribute::TensorValue(Tensor::FromVector<float>({2}, {0.f, 0.f}));
  auto module = Module::Create(g);
  ASSERT_TRUE(module.ok()) << module.status().ToString();
  const auto& params = (*module)->parameters();
  ASSERT_EQ(params.size(), 2u);
  EXPECT_TRUE(params.count("w"));
  EXPECT_TRUE(params.count("bias"));
  EXPECT_TRUE(params.at("w").requires_grad());
  EXPECT_TRUE((*module)->buffers().count("shape"));
  {
    at::NoGradGuard no_grad;
    params.at("w").mul_(3);
    params.at("bias").add_(1);
  }
  ASSERT_TRUE((*module)->WriteParametersTo(g).ok());
  EXPECT_EQ(g.initializers.at("w").ToVector<float>(), (std::vector<float>{3.f, 6.f}));
  EXPECT_EQ(g.nodes[0].attributes.at("value").t.ToVector<float>(), (std::vector<float>{1.f, 1.f}));
  // The written graph computes what the trained Module computes.
  auto runner = Runner::Create(g);
  ASSERT_TRUE(runner.ok());
  auto out = (*runner)->Run({{"x", Tensor::FromVector<float>({1, 1, 4, 4}, std::vector<float>(16, 1.f))}});
  ASSERT_TRUE(out.ok()) << out.status().ToString();
  const auto y = out->at("y").ToVector<float>();
  ASSERT_EQ(y.size(), 32u);
  EXPECT_FLOAT_EQ(y[0], 4.f);   // 1·3 + 1
  EXPECT_FLOAT_EQ(y[16], 7.f);  // 1·6 + 1
}

TEST(Module, GradientsReachParameters) {
  ir::Graph g = GraphBuilder(13)
                    .Input("x", DType::kFloat32, {-1, 3})
                    .Init("w", Tensor::FromVector<float>({3, 2}, {1, 2, 3, 4, 5, 6}))
                    .Node("MatMul", {"x", "w"}, {"y"})
                    .Output("y", DType::kFloat32)
                    .Build();
  auto module = Module::Create(g);
  ASSERT_TRUE(module.ok());
  auto out = (*module)->Forward({{"x", at::ones({2, 3})}});
  ASSERT_TRUE(out.ok());
  out->at("y").sum().backward();
  const at::Tensor grad = (*module)->parameters().at("w").grad();
  ASSERT_TRUE(grad.defined());
  // d/dW Σ x·W = xᵀ·1 = 2 everywhere (two rows of ones).
  EXPECT_TRUE(at::allclose(grad, at::full({3, 2}, 2.0)));
}

}  // namespace
}  // namespace act::exec
