// `onnx-act bench`: the --vs comparison in run-by-run alternation and in turns (--block), and its errors.
// No timing is asserted (speed targets live in bench/, not in tests): the lines must be there and sane.
#include <gtest/gtest.h>

#include <cstdlib>
#include <string>

#include "test_support.h"

namespace act::runtime {
namespace {

// The value of `key=` on the last line (the key starting the line or after a space), −1 when missing.
double Field(const std::string& text, const std::string& key) {
  const size_t line = text.rfind("median_ms=");
  for (size_t at = text.find(key + "=", line == std::string::npos ? 0 : text.rfind('\n', line) + 1);
       at != std::string::npos; at = text.find(key + "=", at + 1)) {
    if (at == 0 || text[at - 1] == ' ' || text[at - 1] == '\n') return std::atof(text.c_str() + at + key.size() + 1);
  }
  return -1.0;
}

TEST(BenchCommand, VsInTurnsPrintsBothMediansAndTheirRatio) {
  const std::string model = test::SharedDataPath("mnist/mnist_cnn.onnx");
  ACT_SKIP_IF_EMPTY(model, "the MNIST model");
  for (const char* block : {"1", "4"}) {
    auto r = test::RunOnnxAct("bench --model " + model + " --vs " + model + " --runs 12 --block " + block);
    ASSERT_EQ(r.exit_code, 0) << r.err;
    EXPECT_NE(r.out.find(std::string("block=") + block), std::string::npos) << r.out;
    const double a = Field(r.out, "median_ms"), b = Field(r.out, "vs_median_ms"), ratio = Field(r.out, "ratio");
    ASSERT_GT(a, 0) << r.out;
    ASSERT_GT(b, 0) << r.out;
    EXPECT_NEAR(ratio, a / b, 0.002 * ratio + 0.001) << r.out;
  }
  auto bad = test::RunOnnxAct("bench --model " + model + " --vs " + model + " --block 0");
  EXPECT_NE(bad.exit_code, 0);
  EXPECT_NE((bad.err + bad.out).find("--block"), std::string::npos) << bad.err;
}

}  // namespace
}  // namespace act::runtime
