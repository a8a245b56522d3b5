// File helpers. Every file the project writes goes through AtomicWriteFile: the bytes land in a temporary
// file in the same folder, which is renamed over the target only when complete, so a crash never leaves
// a half-written output.
#pragma once

#include <string>

#include "act/status.h"

namespace act {

Expected<std::string> ReadFileToString(const std::string& path);
Status AtomicWriteFile(const std::string& path, const std::string& bytes);
// Fails when `output` names the same file as `input` (also through links): inputs are never overwritten.
Status CheckNotSameFile(const std::string& input, const std::string& output);
bool FileExists(const std::string& path);
// Creates the folder and its parents.
Status MakeDirs(const std::string& path);
// Folder part of a path ("" for a bare name) and the path joined to a relative one.
std::string DirName(const std::string& path);
std::string JoinPath(const std::string& dir, const std::string& name);

}  // namespace act
