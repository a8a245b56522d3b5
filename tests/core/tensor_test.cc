#include "act/tensor.h"

#include <gtest/gtest.h>

namespace act {
namespace {

TEST(TensorTest, ZeroFilledWithShapeAndBytes) {
  Tensor t(DType::kFloat32, {2, 3});
  EXPECT_EQ(t.numel(), 6);
  EXPECT_EQ(t.nbytes(), 24u);
  for (float v : t.ToVector<float>()) EXPECT_EQ(v, 0.0f);
}

TEST(TensorTest, ReshapeSharesStorageAndInfersOneDimension) {
  Tensor t = Tensor::FromVector<float>({2, 3}, {1, 2, 3, 4, 5, 6});
  Tensor r = t.Reshaped({3, -1});
  EXPECT_EQ(r.shape(), (Shape{3, 2}));
  r.data<float>()[0] = 42;
  EXPECT_EQ(t.data<float>()[0], 42);  // same storage
  EXPECT_THROW(t.Reshaped({4, 2}), std::invalid_argument);
}

TEST(TensorTest, CloneIsDeep) {
  Tensor t = Tensor::FromVector<int64_t>({2}, {7, 8});
  Tensor c = t.Clone();
  c.data<int64_t>()[0] = 1;
  EXPECT_EQ(t.data<int64_t>()[0], 7);
}

TEST(TensorTest, CastConvertsElementWise) {
  Tensor t = Tensor::FromVector<float>({3}, {1.9f, -2.5f, 0.0f});
  Tensor i = t.CastTo(DType::kInt32);
  EXPECT_EQ(i.ToVector<int32_t>(), (std::vector<int32_t>{1, -2, 0}));  // C++ truncation, as ONNX Cast
  Tensor b = t.CastTo(DType::kBool);
  EXPECT_EQ(b.ElementAsDouble(0), 1.0);
  EXPECT_EQ(b.ElementAsDouble(2), 0.0);
}

TEST(TensorTest, FromBytesRejectsWrongSize) {
  float v[3] = {1, 2, 3};
  EXPECT_THROW(Tensor::FromBytes(DType::kFloat32, {2, 2}, v, sizeof v), std::invalid_argument);
}

}  // namespace
}  // namespace act
