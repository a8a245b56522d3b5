#include "quant/calibration.h"

#include <gtest/gtest.h>

#include "core/file_util.h"
#include "test_support.h"

namespace act::quant {
namespace {

TEST(CalibrationTable, JsonRoundTripThroughAFile) {
  CalibrationTable table;
  table.Set("conv1_out", {QuantParams{0.0235f, 0, DType::kUInt8, 8}, 0.0f, 5.99f, "hist"});
  table.Set("x", {QuantParams{0.01f, -3, DType::kInt8, 8}, -1.2f, 1.3f, "KL"});
  const std::string path = test::TempDir("calibration") + "/calibration.json";
  ASSERT_TRUE(table.Save(path).ok());
  auto back = CalibrationTable::Load(path);
  ASSERT_TRUE(back.ok()) << back.status().message();
  ASSERT_EQ(back->size(), 2u);
  const CalibrationEntry* e = back->Find("x");
  ASSERT_NE(e, nullptr);
  EXPECT_FLOAT_EQ(e->params.scale, 0.01f);
  EXPECT_EQ(e->params.zero_point, -3);
  EXPECT_EQ(e->params.dtype, DType::kInt8);
  EXPECT_FLOAT_EQ(e->min, -1.2f);
  EXPECT_EQ(e->algorithm, "KL");
  EXPECT_EQ(back->Find("conv1_out")->params.dtype, DType::kUInt8);
}

TEST(CalibrationTable, BadFilesAreRefusedWithTheTensorNamed) {
  auto r = CalibrationTable::FromJson(R"({"tensors": {"t": {"scale": 0, "zero_point": 0, "dtype": "u8"}}})", "c.json");
  ASSERT_FALSE(r.ok());
  EXPECT_NE(r.status().message().find("c.json: tensor 't'"), std::string::npos) << r.status().message();
  r = CalibrationTable::FromJson(R"({"tensors": {"t": {"scale": 0.1, "zero_point": 300, "dtype": "u8"}}})", "c.json");
  EXPECT_FALSE(r.ok());
  r = CalibrationTable::FromJson(R"({"tensors": {"t": {"scale": 0.1, "zero_point": 0, "dtype": "u16"}}})", "c.json");
  EXPECT_FALSE(r.ok());
  r = CalibrationTable::FromJson("[1, 2]", "c.json");
  EXPECT_FALSE(r.ok());
  r = CalibrationTable::FromJson("{\"tensors\": {}}", "c.json");
  EXPECT_TRUE(r.ok());
}

}  // namespace
}  // namespace act::quant
