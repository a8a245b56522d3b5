#include "core/file_util.h"

#include <gtest/gtest.h>

#include <filesystem>

#include "test_support.h"

namespace act {
namespace {

TEST(FileUtilTest, AtomicWriteLeavesNoTemporaryFiles) {
  const std::string dir = test::TempDir("atomic");
  ASSERT_TRUE(AtomicWriteFile(dir + "/a.txt", "hello").ok());
  ASSERT_TRUE(AtomicWriteFile(dir + "/a.txt", "world").ok());
  EXPECT_EQ(*ReadFileToString(dir + "/a.txt"), "world");
  int files = 0;
  for (auto& e : std::filesystem::directory_iterator(dir)) { (void)e; ++files; }
  EXPECT_EQ(files, 1);
}

TEST(FileUtilTest, WriteIntoMissingFolderFailsCleanly) {
  Status s = AtomicWriteFile("/nonexistent_folder_for_test/x.txt", "x");
  EXPECT_FALSE(s.ok());
  EXPECT_EQ(s.ExitCode(), 1);
}

TEST(FileUtilTest, RefusesToOverwriteTheInput) {
  const std::string dir = test::TempDir("same");
  ASSERT_TRUE(AtomicWriteFile(dir + "/m.onnx", "x").ok());
  EXPECT_FALSE(CheckNotSameFile(dir + "/m.onnx", dir + "/./m.onnx").ok());
  EXPECT_TRUE(CheckNotSameFile(dir + "/m.onnx", dir + "/out.onnx").ok());
}

TEST(FileUtilTest, ReadErrorsSayWhatIsWrong) {
  auto r = ReadFileToString("/nonexistent/model.onnx");
  EXPECT_EQ(r.status().code(), StatusCode::kNotFound);
  EXPECT_NE(r.status().message().find("/nonexistent/model.onnx"), std::string::npos);
  r = ReadFileToString(test::TempDir("folder"));
  EXPECT_EQ(r.status().code(), StatusCode::kInvalidInput);
}

}  // namespace
}  // namespace act
