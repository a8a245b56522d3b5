// The plain C++ reference kernels on hand-computed cases (exact: integer-valued data, no rounding).
#include <gtest/gtest.h>

#include "runtime/onednn/reference_ops.h"

namespace act::runtime::onednn {
namespace {

using ir::Attribute;

ir::Node MakeNode(const std::string& op, size_t outputs = 1, std::map<std::string, Attribute> attrs = {}) {
  ir::Node n;
  n.op_type = op;
  n.name = "n";
  n.outputs.assign(outputs, "y");
  n.attributes = std::move(attrs);
  return n;
}

Tensor Iota(const Shape& shape) {
  std::vector<float> v(NumElements(shape));
  for (size_t i = 0; i < v.size(); ++i) v[i] = static_cast<float>(i);
  return Tensor::FromVector<float>(shape, v);
}

std::vector<float> RunOp(const ir::Node& node, const std::vector<Tensor>& inputs, Shape* shape = nullptr, int64_t opset = 13) {
  auto out = RunReferenceOp(node, opset, inputs);
  EXPECT_TRUE(out.ok()) << out.status().message();
  if (!out.ok()) return {};
  if (shape) *shape = (*out)[0].shape();
  return (*out)[0].ToVector<float>();
}

TEST(ReferenceOps, SliceWithNegativeStep) {
  // x = [[0..4],[5..9]]; x[:, 3:0:-2] = [[3,1],[8,6]]
  Shape s;
  auto y = RunOp(MakeNode("Slice"), {Iota({2, 5}), Tensor::FromVector<int64_t>({1}, {3}), Tensor::FromVector<int64_t>({1}, {0}),
                                   Tensor::FromVector<int64_t>({1}, {1}), Tensor::FromVector<int64_t>({1}, {-2})}, &s);
  EXPECT_EQ(s, (Shape{2, 2}));
  EXPECT_EQ(y, (std::vector<float>{3, 1, 8, 6}));
}

TEST(ReferenceOps, TransposeAndGatherWithNegativeIndex) {
  Shape s;
  auto t = RunOp(MakeNode("Transpose", 1, {{"perm", Attribute::Ints({1, 0})}}), {Iota({2, 3})}, &s);
  EXPECT_EQ(s, (Shape{3, 2}));
  EXPECT_EQ(t, (std::vector<float>{0, 3, 1, 4, 2, 5}));
  auto g = RunOp(MakeNode("Gather", 1, {{"axis", Attribute::Int(1)}}), {Iota({2, 3}), Tensor::FromVector<int64_t>({2}, {-1, 0})}, &s);
  EXPECT_EQ(s, (Shape{2, 2}));
  EXPECT_EQ(g, (std::vector<float>{2, 0, 5, 3}));
}

TEST(ReferenceOps, ResizeNearestAsymmetricFloor) {
  // 1x1x2x2 → 1x1x4x4 by 2: each input pixel becomes a 2x2 block.
  ir::Node n = MakeNode("Resize", 1, {{"mode", Attribute::String("nearest")},
                                      {"coordinate_transformation_mode", Attribute::String("asymmetric")},
                                      {"nearest_mode", Attribute::String("floor")}});
  n.inputs = {"x", "roi", "scales"};
  Shape s;
  auto y = RunOp(n, {Iota({1, 1, 2, 2}), Tensor(), Tensor::FromVector<float>({4}, {1, 1, 2, 2})}, &s);
  EXPECT_EQ(s, (Shape{1, 1, 4, 4}));
  EXPECT_EQ(y, (std::vector<float>{0, 0, 1, 1, 0, 0, 1, 1, 2, 2, 3, 3, 2, 2, 3, 3}));
}

TEST(ReferenceOps, PadReflectAndEdge) {
  Shape s;
  auto r = RunOp(MakeNode("Pad", 1, {{"mode", Attribute::String("reflect")}}), {Iota({1, 3}), Tensor::FromVector<int64_t>({4}, {0, 2, 0, 1})}, &s);
  EXPECT_EQ(s, (Shape{1, 6}));
  EXPECT_EQ(r, (std::vector<float>{2, 1, 0, 1, 2, 1}));
  auto e = RunOp(MakeNode("Pad", 1, {{"mode", Attribute::String("edge")}}), {Iota({1, 3}), Tensor::FromVector<int64_t>({4}, {0, 1, 0, 2})});
  EXPECT_EQ(e, (std::vector<float>{0, 0, 1, 2, 2, 2}));
}

TEST(ReferenceOps, PadConstantOnInnerAndOuterAxes) {
  // [2,3] padded by (1,0) before and (0,2) after with 7: rows copied into a filled output.
  Shape s;
  auto r = RunOp(MakeNode("Pad", 1), {Iota({2, 3}), Tensor::FromVector<int64_t>({4}, {1, 0, 0, 2}),
                                      Tensor::FromVector<float>({}, {7.f})}, &s);
  EXPECT_EQ(s, (Shape{3, 5}));
  EXPECT_EQ(r, (std::vector<float>{7, 7, 7, 7, 7, 0, 1, 2, 7, 7, 3, 4, 5, 7, 7}));
}

TEST(ReferenceOps, ReshapeZeroAndMinusOne) {
  Shape s;
  RunOp(MakeNode("Reshape"), {Iota({2, 3, 4}), Tensor::FromVector<int64_t>({2}, {0, -1})}, &s);
  EXPECT_EQ(s, (Shape{2, 12}));
}

TEST(ReferenceOps, QuantizeRoundsHalfToEvenAndSaturates) {
  // x / 0.5 = {0.5, 1.5, 2.5, -3, 300} → round half to even {0, 2, 2, -3, 300} + zp 10 → saturate to u8.
  auto out = RunReferenceOp(MakeNode("QuantizeLinear"), 13,
                            {Tensor::FromVector<float>({5}, {0.25f, 0.75f, 1.25f, -1.5f, 150.f}),
                             Tensor::Scalar<float>(0.5f), Tensor::Scalar<uint8_t>(10)});
  ASSERT_TRUE(out.ok()) << out.status().message();
  EXPECT_EQ((*out)[0].ToVector<uint8_t>(), (std::vector<uint8_t>{10, 12, 12, 7, 255}));
  auto back = RunReferenceOp(MakeNode("DequantizeLinear"), 13, {(*out)[0], Tensor::Scalar<float>(0.5f), Tensor::Scalar<uint8_t>(10)});
  ASSERT_TRUE(back.ok());
  EXPECT_EQ((*back)[0].ToVector<float>(), (std::vector<float>{0, 1, 1, -1.5f, 122.5f}));
}

TEST(ReferenceOps, ConvAgainstHandComputedSum) {
  // 1x1x3x3 input 0..8, 2x2 kernel of ones, no padding: window sums.
  ir::Node n = MakeNode("Conv");
  auto y = RunOp(n, {Iota({1, 1, 3, 3}), Tensor::FromVector<float>({1, 1, 2, 2}, {1, 1, 1, 1})});
  EXPECT_EQ(y, (std::vector<float>{8, 12, 20, 24}));
}

TEST(ReferenceOps, DataDependentShapeInputMustBeConstant) {
  ir::Node n = MakeNode("Reshape");
  n.inputs = {"x", "shape"};
  std::vector<View> in = {View{DType::kFloat32, {2, 3}, nullptr}, View{DType::kInt64, {2}, nullptr}};
  std::vector<View> out(1);
  RefCall call{n, 13, in, out, false};
  Status s = FindReferenceOp("Reshape")->run(call);
  EXPECT_FALSE(s.ok());
  EXPECT_NE(s.message().find("Reshape 'n'"), std::string::npos) << s.message();
}

}  // namespace
}  // namespace act::runtime::onednn
