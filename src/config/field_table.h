// A section's plain keys as one table: the YAML key, the member it fills and, for text values, the values
// accepted. Reading and writing back walk the same table, so a key is declared once; a section's own
// checks (ranges, combinations) stay in its parse function.
#pragma once

#include <yaml-cpp/yaml.h>

#include <string>
#include <utility>
#include <variant>
#include <vector>

#include "config/yaml_reader.h"

namespace act::config {

template <typename Section>
struct Field {
  using Member = std::variant<std::string Section::*, int64_t Section::*, double Section::*, bool Section::*,
                              std::vector<std::string> Section::*, std::vector<int64_t> Section::*,
                              std::vector<double> Section::*, std::vector<bool> Section::*>;
  Field(const char* key_, Member member_, std::vector<std::string> choices_ = {})
      : key(key_), member(member_), choices(std::move(choices_)) {}

  const char* key;
  Member member;
  std::vector<std::string> choices;  // text values (each, for a list) must be one of these; empty: any
};

template <typename Section>
std::vector<std::string> FieldKeys(const std::vector<Field<Section>>& fields) {
  std::vector<std::string> keys;
  for (const auto& f : fields) keys.push_back(f.key);
  return keys;
}

namespace field_detail {

inline Status CheckValue(const ParseContext& ctx, const YAML::Node& node, const std::string& path, const char* key,
                         const std::string& value, const std::vector<std::string>& choices) {
  return choices.empty() ? Status::Ok() : CheckChoice(ctx, node, path, key, value, choices);
}
inline Status CheckValue(const ParseContext& ctx, const YAML::Node& node, const std::string& path, const char* key,
                         const std::vector<std::string>& values, const std::vector<std::string>& choices) {
  for (const auto& v : values) ACT_RETURN_IF_ERROR(CheckValue(ctx, node, path, key, v, choices));
  return Status::Ok();
}
template <typename T>
Status CheckValue(const ParseContext&, const YAML::Node&, const std::string&, const char*, const T&,
                  const std::vector<std::string>&) {
  return Status::Ok();
}

inline YAML::Node ToNode(double v) { return DoubleNode(v); }
inline YAML::Node ToNode(const std::vector<double>& v) { return DoubleList(v); }
inline YAML::Node ToNode(const std::vector<bool>& v) {
  YAML::Node n(YAML::NodeType::Sequence);
  for (bool b : v) n.push_back(static_cast<bool>(b));
  return n;
}
template <typename T>
YAML::Node ToNode(const T& v) {
  return YAML::Node(v);
}

}  // namespace field_detail

// Reads every key of `fields` present in `node` into `*out` (absent keys keep their defaults).
template <typename Section>
Status ReadFields(const ParseContext& ctx, const YAML::Node& node, const std::string& path,
                  const std::vector<Field<Section>>& fields, Section* out) {
  for (const auto& f : fields) {
    Status s = std::visit(
        [&](auto member) -> Status {
          auto& value = out->*member;
          ACT_RETURN_IF_ERROR(Read(ctx, node, path, f.key, &value));
          return field_detail::CheckValue(ctx, node, path, f.key, value, f.choices);
        },
        f.member);
    ACT_RETURN_IF_ERROR(s);
  }
  return Status::Ok();
}

// Writes every field of `section` into `*node`, in table order.
template <typename Section>
void EmitFields(const std::vector<Field<Section>>& fields, const Section& section, YAML::Node* node) {
  for (const auto& f : fields) {
    std::visit([&](auto member) { (*node)[f.key] = field_detail::ToNode(section.*member); }, f.member);
  }
}

}  // namespace act::config
