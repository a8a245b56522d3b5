#include "config/yaml_reader.h"

#include <cstdio>

#include "core/file_util.h"
#include "core/strings.h"

namespace act::config {
namespace {

std::string Show(const YAML::Node& node) {
  if (node.IsScalar()) return "'" + node.Scalar() + "'";
  if (node.IsSequence()) return "a list";
  if (node.IsMap()) return "a map";
  return "nothing";
}

template <typename T>
Status ReadScalar(const ParseContext& ctx, const YAML::Node& map, const std::string& path, const char* key,
                  const char* expected, T* out) {
  const YAML::Node node = map[key];
  if (!node.IsDefined() || node.IsNull()) return Status::Ok();
  T value{};
  if (!node.IsScalar() || !YAML::convert<T>::decode(node, value)) {
    return InvalidInput(Where(ctx, node, path + "." + key) + ": expected " + expected + ", found " + Show(node));
  }
  *out = value;
  return Status::Ok();
}

template <typename T>
Status ReadList(const ParseContext& ctx, const YAML::Node& map, const std::string& path, const char* key,
                const char* expected, std::vector<T>* out) {
  const YAML::Node node = map[key];
  if (!node.IsDefined() || node.IsNull()) return Status::Ok();
  std::vector<T> values;
  auto decode_one = [&](const YAML::Node& item) -> bool {
    T value{};
    if (!item.IsScalar() || !YAML::convert<T>::decode(item, value)) return false;
    values.push_back(value);
    return true;
  };
  bool ok = true;
  if (node.IsSequence()) {
    for (const auto& item : node) ok = ok && decode_one(item);
  } else {
    ok = decode_one(node);
  }
  if (!ok) {
    return InvalidInput(Where(ctx, node, path + "." + key) + ": expected " + expected + ", found " + Show(node));
  }
  *out = std::move(values);
  return Status::Ok();
}

}  // namespace

std::string Where(const ParseContext& ctx, const YAML::Node& node, const std::string& key_path) {
  std::string where = ctx.source_file.empty() ? "<config>" : ctx.source_file;
  if (node.IsDefined() && node.Mark().line >= 0) where += ":" + std::to_string(node.Mark().line + 1);
  return where + ": " + key_path;
}

Status CheckKeys(const ParseContext& ctx, const YAML::Node& node, const std::string& path,
                 const std::vector<std::string>& allowed, const std::map<std::string, std::string>& hints) {
  if (node.IsNull()) return Status::Ok();  // `QuantPost:` with nothing under it: all defaults (as ACT)
  if (!node.IsMap()) {
    return InvalidInput(Where(ctx, node, path) + ": expected a map of keys, found " + Show(node));
  }
  for (const auto& entry : node) {
    const std::string key = entry.first.Scalar();
    bool known = false;
    for (const auto& a : allowed) known = known || a == key;
    if (known) continue;
    std::string message = Where(ctx, entry.first, path + "." + key) + ": unknown key" + DidYouMean(key, allowed);
    auto hint = hints.find(key);
    if (hint != hints.end()) message += "; " + hint->second;
    message += ". Valid keys: " + Join(allowed, ", ");
    return InvalidInput(message);
  }
  return Status::Ok();
}

Status Read(const ParseContext& ctx, const YAML::Node& map, const std::string& path, const char* key,
            std::string* out) {
  return ReadScalar(ctx, map, path, key, "a string", out);
}
Status Read(const ParseContext& ctx, const YAML::Node& map, const std::string& path, const char* key,
            int64_t* out) {
  return ReadScalar(ctx, map, path, key, "an integer", out);
}
Status Read(const ParseContext& ctx, const YAML::Node& map, const std::string& path, const char* key,
            uint64_t* out) {
  return ReadScalar(ctx, map, path, key, "a non-negative integer", out);
}
Status Read(const ParseContext& ctx, const YAML::Node& map, const std::string& path, const char* key,
            double* out) {
  return ReadScalar(ctx, map, path, key, "a number", out);
}
Status Read(const ParseContext& ctx, const YAML::Node& map, const std::string& path, const char* key,
            bool* out) {
  return ReadScalar(ctx, map, path, key, "true or false", out);
}
Status Read(const ParseContext& ctx, const YAML::Node& map, const std::string& path, const char* key,
            std::vector<std::string>* out) {
  return ReadList(ctx, map, path, key, "a list of strings", out);
}
Status Read(const ParseContext& ctx, const YAML::Node& map, const std::string& path, const char* key,
            std::vector<int64_t>* out) {
  return ReadList(ctx, map, path, key, "a list of integers", out);
}
Status Read(const ParseContext& ctx, const YAML::Node& map, const std::string& path, const char* key,
            std::vector<double>* out) {
  return ReadList(ctx, map, path, key, "a list of numbers", out);
}
Status Read(const ParseContext& ctx, const YAML::Node& map, const std::string& path, const char* key,
            std::vector<bool>* out) {
  return ReadList(ctx, map, path, key, "a list of true/false", out);
}

YAML::Node DoubleNode(double value) {
  char buf[40];
  std::snprintf(buf, sizeof(buf), "%.15g", value);
  std::string text = buf;
  // Keep it a float when read back ("1" would read as an integer; both parse as double, but be explicit).
  if (text.find_first_of(".eEn") == std::string::npos) text += ".0";
  return YAML::Node(text);
}

YAML::Node DoubleList(const std::vector<double>& values) {
  YAML::Node list(YAML::NodeType::Sequence);
  for (double v : values) list.push_back(DoubleNode(v));
  return list;
}

std::string ResolvePath(const std::string& base_dir, const std::string& path) {
  if (path.empty() || path[0] == '/' || base_dir.empty()) return path;
  return JoinPath(base_dir, path);
}

Status ReadPath(const ParseContext& ctx, const YAML::Node& map, const std::string& path, const char* key,
                std::string* out) {
  std::string value;
  ACT_RETURN_IF_ERROR(Read(ctx, map, path, key, &value));
  if (!value.empty()) *out = ResolvePath(ctx.base_dir, value);
  return Status::Ok();
}

Status CheckChoice(const ParseContext& ctx, const YAML::Node& map, const std::string& path, const char* key,
                   const std::string& value, const std::vector<std::string>& choices) {
  for (const auto& c : choices) {
    if (c == value) return Status::Ok();
  }
  return InvalidInput(Where(ctx, map[key], path + "." + key) + ": unknown value '" + value + "'" +
                      DidYouMean(value, choices) + "; expected one of " + Join(choices, ", "));
}

}  // namespace act::config
