// The table of subcommands, in the order `--help` lists them. Add a command here and in CMakeLists.txt.
#pragma once

#include "tools/cli/command.h"

namespace act::cli {

inline constexpr AddCommandFunction kCommands[] = {
    &AddInspectCommand,
    &AddCompressCommand,
    &AddRunCommand,
    &AddBenchCommand,
    &AddEvalCommand,
};

}  // namespace act::cli
