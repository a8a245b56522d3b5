#include "core/strings.h"

#include <gtest/gtest.h>

namespace act {
namespace {

TEST(StringsTest, EditDistance) {
  EXPECT_EQ(EditDistance("kitten", "sitting"), 3u);
  EXPECT_EQ(EditDistance("", "abc"), 3u);
  EXPECT_EQ(EditDistance("same", "same"), 0u);
}

TEST(StringsTest, NearestNameSuggestsTyposOnly) {
  const std::vector<std::string> keys = {"batch_nums", "batch_size", "hist_percent", "algo"};
  EXPECT_EQ(NearestName("batch_num", keys), "batch_nums");
  EXPECT_EQ(NearestName("Algo", keys), "algo");
  EXPECT_EQ(NearestName("completely_different", keys), "");
  EXPECT_EQ(DidYouMean("hist_percnt", keys), " (did you mean 'hist_percent'?)");
}

}  // namespace
}  // namespace act
