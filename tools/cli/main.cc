// onnx-act: compress ONNX models (see `onnx-act --help`). Exit codes: 0 success, 1 failure,
// 2 bad input or usage (DESIGN.md §5); errors are one line on stderr naming the file, key or node.
#include <cstdio>
#include <vector>

#include "core/logging.h"
#include "tools/cli/command.h"
#include "tools/cli/commands_list.h"

int main(int argc, char** argv) {
  CLI::App app{
      "onnx-act: automatic compression of ONNX models (post-training quantization, distillation-aware\n"
      "quantization training, pruning), with a CPU runtime to measure the result.\n"};
  app.require_subcommand(1);
  bool verbose = false;
  app.add_flag("-v,--verbose", verbose, "Print what each step does");

  std::vector<std::pair<CLI::App*, act::cli::CommandRunner>> commands;
  for (act::cli::AddCommandFunction add : act::cli::kCommands) {
    const size_t before = app.get_subcommands({}).size();
    act::cli::CommandRunner run = add(app);
    commands.emplace_back(app.get_subcommands({})[before], std::move(run));
  }
  try {
    app.parse(argc, argv);
  } catch (const CLI::ParseError& e) {
    const int code = app.exit(e);
    return code == 0 ? 0 : 2;
  }
  if (verbose) act::SetLogLevel(act::LogLevel::kInfo);
  for (auto& [sub, run] : commands) {
    if (!sub->parsed()) continue;
    act::Status status = run();
    if (!status.ok()) {
      std::fprintf(stderr, "onnx-act %s: error: %s\n", sub->get_name().c_str(), status.message().c_str());
    }
    return status.ExitCode();
  }
  return 2;
}
