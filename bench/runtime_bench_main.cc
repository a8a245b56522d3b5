// runtime_bench: `onnx-act bench` built alone (tools/cli/cmd_bench.cc), so the runtime can be measured
// without linking the rest of the CLI. Same options and output as `onnx-act bench`.
#include <cstdio>

#include "tools/cli/command.h"

int main(int argc, char** argv) {
  CLI::App app{"runtime_bench: onnx-act's bench subcommand on its own"};
  app.require_subcommand(1);
  act::cli::CommandRunner run = act::cli::AddBenchCommand(app);
  try {
    app.parse(argc, argv);
  } catch (const CLI::ParseError& e) {
    const int code = app.exit(e);
    return code == 0 ? 0 : 2;
  }
  act::Status status = run();
  if (!status.ok()) std::fprintf(stderr, "bench: error: %s\n", status.message().c_str());
  return status.ExitCode();
}
