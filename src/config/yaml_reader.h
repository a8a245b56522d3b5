// Strict reading of YAML maps into typed fields: every key checked against the section's list (unknown
// keys fail with the nearest valid one), every value checked for its type, every message prefixed with
// `file:line: key.path:`. yaml-cpp's exceptions stop here; nothing above sees them.
#pragma once

#include <yaml-cpp/yaml.h>

#include <cstdint>
#include <map>
#include <string>
#include <vector>

#include "act/status.h"

namespace act::config {

// Where the YAML came from: messages name `source_file`, relative paths resolve against `base_dir`.
struct ParseContext {
  std::string source_file;
  std::string base_dir;
};

// "file:line: path" for messages (line from the node's mark, when yaml-cpp knows it).
std::string Where(const ParseContext& ctx, const YAML::Node& node, const std::string& key_path);

// Fails unless `node` is a map whose keys are all in `allowed`. `hints` adds advice for keys that are
// known not to belong here (key → sentence), e.g. Paddle's model_dir.
Status CheckKeys(const ParseContext& ctx, const YAML::Node& node, const std::string& path,
                 const std::vector<std::string>& allowed,
                 const std::map<std::string, std::string>& hints = {});

// Typed readers: leave `*out` untouched when `key` is absent (the default stays); fail on a wrong type.
Status Read(const ParseContext& ctx, const YAML::Node& map, const std::string& path, const char* key,
            std::string* out);
Status Read(const ParseContext& ctx, const YAML::Node& map, const std::string& path, const char* key,
            int64_t* out);
Status Read(const ParseContext& ctx, const YAML::Node& map, const std::string& path, const char* key,
            uint64_t* out);
Status Read(const ParseContext& ctx, const YAML::Node& map, const std::string& path, const char* key,
            double* out);
Status Read(const ParseContext& ctx, const YAML::Node& map, const std::string& path, const char* key,
            bool* out);
// A list; a single scalar is accepted as a list of one (ACT allows `loss: l2` or `loss: [l2]`).
Status Read(const ParseContext& ctx, const YAML::Node& map, const std::string& path, const char* key,
            std::vector<std::string>* out);
Status Read(const ParseContext& ctx, const YAML::Node& map, const std::string& path, const char* key,
            std::vector<int64_t>* out);
Status Read(const ParseContext& ctx, const YAML::Node& map, const std::string& path, const char* key,
            std::vector<double>* out);
Status Read(const ParseContext& ctx, const YAML::Node& map, const std::string& path, const char* key,
            std::vector<bool>* out);
// A path: resolved against ctx.base_dir unless absolute.
Status ReadPath(const ParseContext& ctx, const YAML::Node& map, const std::string& path, const char* key,
                std::string* out);
// Fails unless `value` (already read from `key`) is one of `choices`.
Status CheckChoice(const ParseContext& ctx, const YAML::Node& map, const std::string& path, const char* key,
                   const std::string& value, const std::vector<std::string>& choices);

std::string ResolvePath(const std::string& base_dir, const std::string& path);

// Numbers for the resolved config, with 15 significant digits (0.45 stays "0.45", not yaml-cpp's
// "0.45000000000000001"); 15 digits read back and written again give the same text.
YAML::Node DoubleNode(double value);
YAML::Node DoubleList(const std::vector<double>& values);

}  // namespace act::config
