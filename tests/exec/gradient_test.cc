// Gradient checks: for one small graph per differentiable op family, in double precision, the gradient
// autograd computes for every float input and parameter matches central finite differences.
//
// Loss L = Σ_o Σ R_o ⊙ Y_o with fixed random R_o. Numeric: (L(x + h) − L(x − h)) / 2h with h = 1e-6; its
// truncation error is O(h²·L''') ≈ 1e-12 and its rounding error ≈ ε·|L|/h ≈ 1e-9 for |L| ~ 10, so
// |analytic − numeric| ≤ 1e-6 + 1e-5·|numeric| leaves a wide margin while catching any wrong formula
// (those are off by O(1)). Inputs are random normal (positive where the op needs it); kinks of
// Relu/Clip/Max are hit with probability ~1e-6 per element.
#include <gtest/gtest.h>

#include <random>

#include "exec/module.h"
#include "graph_builder.h"

namespace act::exec {
namespace {

using test::GraphBuilder;

enum class Kind { kInput, kParam, kConst };
struct Operand {
  Kind kind;
  Shape shape;
  bool positive = false;
  Tensor value;  // kConst
};
struct GradCase {
  std::string name;
  int64_t opset;
  std::string op;
  std::map<std::string, ir::Attribute> attrs;
  std::vector<Operand> operands;
  int outputs = 1;
};

Operand In(Shape s, bool positive = false) { return {Kind::kInput, std::move(s), positive, {}}; }
Operand Param(Shape s, bool positive = false) { return {Kind::kParam, std::move(s), positive, {}}; }
Operand Const(Tensor t) { return {Kind::kConst, t.shape(), false, t}; }
Operand ConstI(std::vector<int64_t> v) { return Const(Tensor::FromVector<int64_t>({static_cast<int64_t>(v.size())}, v)); }
Operand ConstD(Shape s, std::vector<double> v) { return Const(Tensor::FromVector<double>(std::move(s), v)); }
ir::Attribute I(int64_t v) { return ir::Attribute::Int(v); }
ir::Attribute Is(std::vector<int64_t> v) { return ir::Attribute::Ints(std::move(v)); }
ir::Attribute F(float v) { return ir::Attribute::Float(v); }
ir::Attribute S(std::string v) { return ir::Attribute::String(std::move(v)); }

Tensor BoolMask() {
  Tensor t(DType::kBool, {4});
  const bool values[4] = {true, false, true, false};
  for (int i = 0; i < 4; ++i) t.data<bool>()[i] = values[i];
  return t;
}

std::vector<GradCase> Cases() {
  const Shape x = {2, 3, 4};
  std::vector<GradCase> c = {
      // element-wise arithmetic with broadcasting
      {"Add", 13, "Add", {}, {In(x), Param({3, 1})}},
      {"Sub", 13, "Sub", {}, {In(x), In({4})}},
      {"Mul", 13, "Mul", {}, {In(x), Param({1, 3, 1})}},
      {"Div", 13, "Div", {}, {In(x), In({4}, true)}},
      {"Pow", 13, "Pow", {}, {In(x, true), In({4})}},
      {"PowConst2", 13, "Pow", {}, {In(x), ConstD({}, {2.0})}},
      {"Sqrt", 13, "Sqrt", {}, {In(x, true)}},
      {"Exp", 13, "Exp", {}, {In(x)}},
      {"Log", 13, "Log", {}, {In(x, true)}},
      {"Erf", 13, "Erf", {}, {In(x)}},
      {"Tanh", 13, "Tanh", {}, {In(x)}},
      {"Neg", 13, "Neg", {}, {In(x)}},
      {"Abs", 13, "Abs", {}, {In(x)}},
      {"Reciprocal", 13, "Reciprocal", {}, {In(x, true)}},
      {"Where", 13, "Where", {}, {Const(BoolMask()), In(x), In({3, 1})}},
      {"Sum", 13, "Sum", {}, {In(x), In({4}), Param({3, 1})}},
      {"Max", 13, "Max", {}, {In(x), In(x)}},
      // activations
      {"Relu", 13, "Relu", {}, {In(x)}},
      {"Sigmoid", 13, "Sigmoid", {}, {In(x)}},
      {"LeakyRelu", 13, "LeakyRelu", {{"alpha", F(0.1f)}}, {In(x)}},
      {"PRelu", 13, "PRelu", {}, {In({2, 3, 2, 2}), Param({3, 1, 1})}},
      {"HardSigmoid", 13, "HardSigmoid", {{"alpha", F(0.3f)}}, {In(x)}},
      {"HardSwish", 14, "HardSwish", {}, {In(x)}},
      {"Clip13", 13, "Clip", {}, {In(x), ConstD({}, {-0.5}), ConstD({}, {0.7})}},
      {"Clip6", 6, "Clip", {{"min", F(-0.5f)}, {"max", F(0.7f)}}, {In(x)}},
      {"Elu", 13, "Elu", {}, {In(x)}},
      {"Softplus", 13, "Softplus", {}, {In(x)}},
      // linear algebra
      {"MatMul", 13, "MatMul", {}, {In(x), Param({4, 5})}},
      {"Gemm", 13, "Gemm", {{"transB", I(1)}, {"alpha", F(0.5f)}, {"beta", F(2.f)}}, {In({3, 4}), Param({5, 4}), Param({5})}},
      // convolutions
      {"ConvGroupsDilation", 13, "Conv",
       {{"group", I(2)}, {"dilations", Is({2, 1})}, {"pads", Is({1, 0, 2, 1})}, {"strides", Is({1, 2})}},
       {In({1, 4, 6, 5}), Param({4, 2, 2, 3}), Param({4})}},
      {"ConvSameUpper", 13, "Conv", {{"auto_pad", S("SAME_UPPER")}, {"strides", Is({2, 2})}},
       {In({1, 2, 5, 5}), Param({3, 2, 2, 2})}},
      {"ConvTranspose", 13, "ConvTranspose",
       {{"strides", Is({2, 2})}, {"pads", Is({1, 0, 0, 1})}, {"output_padding", Is({1, 1})}, {"group", I(2)}},
       {In({1, 4, 3, 3}), Param({4, 1, 3, 3}), Param({2})}},
      // pooling
      {"MaxPool", 13, "MaxPool", {{"kernel_shape", Is({3, 3})}, {"strides", Is({2, 2})}, {"pads", Is({1, 1, 1, 1})}, {"ceil_mode", I(1)}},
       {In({1, 2, 6, 6})}},
      {"AveragePoolAsym", 13, "AveragePool", {{"kernel_shape", Is({3, 3})}, {"strides", Is({2, 2})}, {"pads", Is({0, 1, 1, 0})}},
       {In({1, 2, 6, 6})}},
      {"GlobalAveragePool", 13, "GlobalAveragePool", {}, {In({2, 3, 4, 5})}},
      // normalisation
      {"BatchNormalization", 13, "BatchNormalization", {{"epsilon", F(1e-3f)}},
       {In({2, 3, 2, 2}), Param({3}), Param({3}), ConstD({3}, {0.1, -0.2, 0.3}), ConstD({3}, {0.5, 1.5, 2.0})}},
      {"LayerNormalization", 17, "LayerNormalization", {{"axis", I(-1)}}, {In(x), Param({4}), Param({4})}},
      {"InstanceNormalization", 13, "InstanceNormalization", {}, {In({2, 3, 4}), Param({3}), Param({3})}},
      {"Softmax13", 13, "Softmax", {{"axis", I(1)}}, {In(x)}},
      {"Softmax11", 11, "Softmax", {{"axis", I(1)}}, {In(x)}},
      {"LogSoftmax", 13, "LogSoftmax", {}, {In(x)}},
      // reductions
      {"ReduceMean", 13, "ReduceMean", {{"axes", Is({1})}, {"keepdims", I(0)}}, {In(x)}},
      {"ReduceSum13", 13, "ReduceSum", {}, {In(x), ConstI({-1})}},
      {"ReduceMax", 13, "ReduceMax", {{"axes", Is({2})}}, {In(x)}},
      // data movement
      {"Reshape", 13, "Reshape", {}, {In(x), ConstI({0, -1})}},
      {"Transpose", 13, "Transpose", {{"perm", Is({2, 0, 1})}}, {In(x)}},
      {"Concat", 13, "Concat", {{"axis", I(1)}}, {In(x), In({2, 2, 4})}},
      {"Split13", 13, "Split", {{"axis", I(2)}}, {In(x), ConstI({1, 3})}, 2},
      {"Split11", 11, "Split", {{"axis", I(2)}, {"split", Is({3, 1})}}, {In(x)}, 2},
      {"SliceNegStep", 13, "Slice", {}, {In(x), ConstI({3, 0}), ConstI({0, 3}), ConstI({2, 1}), ConstI({-2, 2})}},
      {"Slice9", 9, "Slice", {{"starts", Is({1})}, {"ends", Is({1000})}, {"axes", Is({2})}}, {In(x)}},
      {"GatherEmbedding", 13, "Gather", {}, {Param({10, 4}), Const(Tensor::FromVector<int64_t>({2, 3}, {1, 5, -1, 0, 5, 9}))}},
      {"Expand", 13, "Expand", {}, {In({3, 1}), ConstI({2, 3, 4})}},
      {"Tile", 13, "Tile", {}, {In({2, 3}), ConstI({2, 1})}},
      {"PadReflect", 13, "Pad", {{"mode", S("reflect")}}, {In({1, 2, 4, 4}), ConstI({0, 0, 1, 2, 0, 0, 2, 1})}},
      {"PadConstant2", 2, "Pad", {{"pads", Is({0, 1, 0, 1})}, {"value", F(1.5f)}}, {In({3, 4})}},
      {"ResizeLinear", 13, "Resize", {{"mode", S("linear")}},
       {In({1, 2, 3, 4}), Const(Tensor()), ConstD({4}, {1, 1, 2, 1.5})}},
      {"ResizeNearest", 11, "Resize", {{"mode", S("nearest")}, {"coordinate_transformation_mode", S("asymmetric")}, {"nearest_mode", S("floor")}},
       {In({1, 2, 3, 4}), ConstD({0}, {}), ConstD({4}, {1, 1, 2, 2})}},
      {"Upsample9", 9, "Upsample", {{"mode", S("linear")}}, {In({1, 2, 3, 4}), ConstD({4}, {1, 1, 2, 2})}},
      {"Unsqueeze11", 11, "Unsqueeze", {{"axes", Is({0, 3})}}, {In(x)}},
      {"Flatten", 13, "Flatten", {{"axis", I(2)}}, {In(x)}},
  };
  // The Resize roi operand is an omitted optional input.
  return c;
}

class GradientCheck : public ::testing::TestWithParam<GradCase> {};

TEST_P(GradientCheck, MatchesFiniteDifferences) {
  const GradCase& tc = GetParam();
  std::mt19937 rng(42);
  std::normal_distribution<double> normal(0.0, 1.0);
  auto random_tensor = [&](const Shape& shape, bool positive) {
    std::vector<double> v(NumElements(shape));
    for (auto& e : v) e = positive ? 0.5 + std::abs(normal(rng)) : normal(rng);
    return Tensor::FromVector<double>(shape, v);
  };
  GraphBuilder b(tc.opset);
  std::vector<std::string> names;
  std::map<std::string, at::Tensor> inputs;
  std::vector<std::string> extra_params;
  for (size_t i = 0; i < tc.operands.size(); ++i) {
    const Operand& o = tc.operands[i];
    const std::string name = "in" + std::to_string(i);
    if (o.kind == Kind::kConst && !o.value.defined()) {  // omitted optional input
      names.push_back("");
      continue;
    }
    names.push_back(name);
    if (o.kind == Kind::kInput) {
      b.Input(name, DType::kFloat64, o.shape);
      Tensor t = random_tensor(o.shape, o.positive);
      inputs[name] = at::from_blob(t.data<double>(), o.shape, at::kDouble).clone().set_requires_grad(true);
    } else if (o.kind == Kind::kParam) {
      b.Init(name, random_tensor(o.shape, o.positive));
      extra_params.push_back(name);
    } else {
      b.Init(name, o.value);
    }
  }
  std::vector<std::string> outs;
  for (int i = 0; i < tc.outputs; ++i) outs.push_back("out" + std::to_string(i));
  b.Node(tc.op, names, outs, tc.attrs);
  for (const auto& o : outs) b.Output(o);
  ModuleOptions options;
  options.extra_parameters = extra_params;
  auto module = Module::Create(b.Build(), options);
  ASSERT_TRUE(module.ok()) << module.status().ToString();

  auto forward = [&]() { return (*module)->Forward(inputs); };
  auto first = forward();
  ASSERT_TRUE(first.ok()) << first.status().ToString();
  std::map<std::string, at::Tensor> weights;
  at::Tensor loss = at::zeros({}, at::kDouble);
  at::manual_seed(7);
  for (const auto& o : outs) {
    weights[o] = at::randn(first->at(o).sizes(), at::kDouble);
    loss = loss + (first->at(o) * weights[o]).sum();
  }
  loss.backward();
  auto loss_value = [&]() {
    at::NoGradGuard no_grad;
    auto r = forward();
    EXPECT_TRUE(r.ok()) << r.status().ToString();
    double l = 0;
    for (const auto& o : outs) l += (r->at(o) * weights[o]).sum().item<double>();
    return l;
  };
  // Every differentiable tensor: graph inputs and parameters.
  std::vector<std::pair<std::string, at::Tensor>> leaves(inputs.begin(), inputs.end());
  for (const auto& [name, p] : (*module)->parameters()) leaves.emplace_back(name, p);
  ASSERT_FALSE(leaves.empty());
  const double h = 1e-6;
  for (auto& [name, leaf] : leaves) {
    ASSERT_TRUE(leaf.grad().defined()) << tc.name << ": no gradient reached " << name;
    const at::Tensor grad = leaf.grad().contiguous();
    double* data = leaf.data_ptr<double>();
    const int64_t n = leaf.numel();
    for (int64_t i = 0; i < n; i += std::max<int64_t>(1, n / 12)) {
      const double saved = data[i];
      data[i] = saved + h;
      const double up = loss_value();
      data[i] = saved - h;
      const double down = loss_value();
      data[i] = saved;
      const double numeric = (up - down) / (2 * h);
      const double analytic = grad.data_ptr<double>()[i];
      EXPECT_NEAR(analytic, numeric, 1e-6 + 1e-5 * std::abs(numeric)) << tc.name << ": d/d" << name << "[" << i << "]";
    }
  }
}

INSTANTIATE_TEST_SUITE_P(OpFamilies, GradientCheck, ::testing::ValuesIn(Cases()),
                         [](const ::testing::TestParamInfo<GradCase>& info) { return info.param.name; });

}  // namespace
}  // namespace act::exec
