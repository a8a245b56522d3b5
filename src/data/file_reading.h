// File helpers for the data sets: whole files (gzip-compressed or not), text lines, folder listings, and
// the entries of a .npz archive (a zip of .npy files: stored, or deflated through zlib).
#pragma once

#include <map>
#include <string>
#include <vector>

#include "act/status.h"

namespace act::data {

// The file's bytes; gzip files (by their magic bytes, whatever the name) are decompressed.
Expected<std::string> ReadMaybeGzip(const std::string& path);
// Lines without their "\n" (and a trailing "\r"); a final empty line is not returned.
std::vector<std::string> SplitLines(const std::string& text);
// Sorted names (not paths) of the regular files / sub-folders in `dir`; hidden names (".x") are skipped.
Expected<std::vector<std::string>> ListFiles(const std::string& dir);
Expected<std::vector<std::string>> ListFolders(const std::string& dir);
bool IsDirectory(const std::string& path);
// The entries of a .npz (zip) archive: entry name → bytes. Supports stored and deflated entries.
Expected<std::map<std::string, std::string>> ReadZipEntries(const std::string& path);

}  // namespace act::data
