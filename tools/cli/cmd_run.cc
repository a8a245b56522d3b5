// onnx-act run --model M --input NAME=FILE.npy ... --output-dir DIR [--engine torch] [--want NAME ...]:
// runs a model once on .npy inputs and writes every output (and every value asked for with --want) as
// DIR/<sanitised name>.npy, plus DIR/outputs.json mapping names to files — the same layout as
// tests/ort/run.js, so engines can be compared by hand.
#include <cstdio>
#include <nlohmann/json.hpp>

#include "core/file_util.h"
#include "core/npy.h"
#include "exec/runner.h"
#include "ir/onnx_io.h"
#include "tools/cli/command.h"

namespace act::cli {
namespace {

struct RunOptions {
  std::string model;
  std::vector<std::string> inputs;
  std::vector<std::string> want;
  std::string output_dir;
  std::string engine = "torch";
  int threads = 0;
};

// Every character outside [A-Za-z0-9._-] becomes '_' ("conv/out:0" → "conv_out_0"), as run.js does.
std::string SanitiseName(const std::string& name) {
  std::string s = name;
  for (char& c : s) {
    const bool ok = (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '.' ||
                    c == '_' || c == '-';
    if (!ok) c = '_';
  }
  return s;
}

Status RunModel(const RunOptions& o) {
  if (o.engine != "torch") {
    return Unsupported("engine '" + o.engine + "' is not available in `run` yet; use --engine torch");
  }
  std::map<std::string, Tensor> inputs;
  for (const auto& item : o.inputs) {
    const size_t eq = item.find('=');
    if (eq == std::string::npos || eq == 0) return InvalidInput("--input expects NAME=FILE.npy, got '" + item + "'");
    const std::string name = item.substr(0, eq), file = item.substr(eq + 1);
    auto t = ReadNpy(file);
    if (!t.ok()) return t.status().WithContext("input '" + name + "'");
    inputs[name] = std::move(*t);
  }
  ACT_ASSIGN_OR_RETURN(ir::Graph graph, ir::LoadModel(o.model));
  exec::RunnerOptions runner_options;
  runner_options.threads = o.threads;
  auto runner = exec::Runner::Create(graph, runner_options);
  if (!runner.ok()) return runner.status().WithContext(o.model);
  auto outputs = (*runner)->Run(inputs, o.want);
  if (!outputs.ok()) return outputs.status().WithContext(o.model);
  ACT_RETURN_IF_ERROR(MakeDirs(o.output_dir));
  nlohmann::ordered_json index = nlohmann::ordered_json::object();
  std::vector<std::string> order = (*runner)->OutputNames();
  order.insert(order.end(), o.want.begin(), o.want.end());
  for (const auto& name : order) {
    if (index.contains(name)) continue;
    const std::string file = SanitiseName(name) + ".npy";
    ACT_RETURN_IF_ERROR(WriteNpy(JoinPath(o.output_dir, file), outputs->at(name)));
    index[name] = file;
  }
  return AtomicWriteFile(JoinPath(o.output_dir, "outputs.json"), index.dump(2) + "\n");
}

}  // namespace

CommandRunner AddRunCommand(CLI::App& app) {
  auto options = std::make_shared<RunOptions>();
  CLI::App* sub = app.add_subcommand("run", "Run a model once on .npy inputs and write its outputs as .npy");
  sub->add_option("--model", options->model, "ONNX model file")->required();
  sub->add_option("--input", options->inputs, "NAME=FILE.npy, once per model input")->required();
  sub->add_option("--output-dir", options->output_dir, "Folder for <output>.npy files and outputs.json")->required();
  sub->add_option("--engine", options->engine, "Execution engine: torch")->capture_default_str();
  sub->add_option("--want", options->want, "Also write this intermediate value (repeatable)");
  sub->add_option("--threads", options->threads, "Intra-op threads (0: library default)");
  return [options]() -> Status { return RunModel(*options); };
}

}  // namespace act::cli
