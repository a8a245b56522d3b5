// The `onnx-act` subcommands. Each lives in its own cmd_<name>.cc, adds its CLI11 subcommand and options
// in its Add function, and returns the function that runs it once the command line is parsed. They are
// listed in one table (AllCommands, in main.cc).
#pragma once

#include <CLI/CLI.hpp>
#include <functional>

#include "act/status.h"

namespace act::cli {

using CommandRunner = std::function<Status()>;
using AddCommandFunction = CommandRunner (*)(CLI::App& app);

CommandRunner AddInspectCommand(CLI::App& app);
CommandRunner AddRunCommand(CLI::App& app);
CommandRunner AddEvalCommand(CLI::App& app);
CommandRunner AddCompressCommand(CLI::App& app);
CommandRunner AddBenchCommand(CLI::App& app);

}  // namespace act::cli
