#include "core/npy.h"

#include <gtest/gtest.h>

#include "test_support.h"

namespace act {
namespace {

TEST(NpyTest, RoundTripKeepsDtypeShapeAndValues) {
  const std::string dir = test::TempDir("npy");
  for (DType dtype : {DType::kFloat32, DType::kInt64, DType::kUInt8, DType::kInt8, DType::kBool}) {
    Tensor t = Tensor::FromVector<float>({2, 3}, {0, 1, 0, 1, 1, 0}).CastTo(dtype);
    ASSERT_TRUE(WriteNpy(dir + "/t.npy", t).ok());
    auto back = ReadNpy(dir + "/t.npy");
    ASSERT_TRUE(back.ok()) << back.status().message();
    EXPECT_EQ(back->dtype(), dtype);
    EXPECT_EQ(back->shape(), (Shape{2, 3}));
    EXPECT_EQ(test::MaxRelativeError(*back, t), 0.0);
  }
}

TEST(NpyTest, ScalarAndOneDimensionalShapes) {
  Tensor s = Tensor::Scalar<float>(3.5f);
  auto back = ParseNpy(SerializeNpy(s), "scalar");
  ASSERT_TRUE(back.ok());
  EXPECT_EQ(back->rank(), 0u);
  EXPECT_EQ(back->data<float>()[0], 3.5f);
  Tensor v = Tensor::FromVector<int32_t>({4}, {1, 2, 3, 4});
  back = ParseNpy(SerializeNpy(v), "vector");
  ASSERT_TRUE(back.ok());
  EXPECT_EQ(back->shape(), (Shape{4}));
}

TEST(NpyTest, HeaderIsAlignedTo64Bytes) {
  const std::string bytes = SerializeNpy(Tensor(DType::kFloat32, {5}));
  EXPECT_EQ((bytes.size() - 5 * 4) % 64, 0u);
}

TEST(NpyTest, ErrorsNameTheFile) {
  auto r = ParseNpy("not numpy at all", "x.npy");
  ASSERT_FALSE(r.ok());
  EXPECT_NE(r.status().message().find("x.npy"), std::string::npos);
  std::string truncated = SerializeNpy(Tensor(DType::kFloat32, {100}));
  truncated.resize(truncated.size() - 8);
  r = ParseNpy(truncated, "cut.npy");
  ASSERT_FALSE(r.ok());
  EXPECT_NE(r.status().message().find("truncated"), std::string::npos);
  r = ReadNpy("/nonexistent/file.npy");
  EXPECT_EQ(r.status().code(), StatusCode::kNotFound);
}

}  // namespace
}  // namespace act
