// LoadConfig / ParseConfig / ToYaml: the section loop over Sections(); each section's own file does the rest.
#include <filesystem>
#include <sstream>

#include "config/sections.h"
#include "core/file_util.h"
#include "core/strings.h"

namespace act::config {
namespace {

const SectionSpec* FindSection(const std::string& name) {
  for (const auto& s : Sections()) {
    if (s.name == name) return &s;
    for (const auto& a : s.aliases) {
      if (a == name) return &s;
    }
  }
  return nullptr;
}

Status ParseRoot(const ParseContext& ctx, const YAML::Node& root, Config* config) {
  if (root.IsNull() || !root.IsDefined()) return Status::Ok();
  if (!root.IsMap()) {
    return InvalidInput(Where(ctx, root, "(top level)") + ": expected a map of sections (Global, QuantPost, ...)");
  }
  std::map<std::string, std::string> seen;  // canonical → name used
  for (const auto& entry : root) {
    const std::string name = entry.first.Scalar();
    const SectionSpec* spec = FindSection(name);
    if (spec == nullptr) {
      std::string message = Where(ctx, entry.first, name) + ": unknown section" + DidYouMean(name, KnownSections());
      auto hint = ScriptSectionHints().find(name);
      if (hint != ScriptSectionHints().end()) message += "; " + hint->second;
      message += ". Valid sections: " + Join(KnownSections(), ", ");
      return InvalidInput(message);
    }
    if (seen.count(spec->name)) {
      return InvalidInput(Where(ctx, entry.first, name) + ": section given twice (as '" + seen[spec->name] +
                          "' and '" + name + "', which are the same section); keep one");
    }
    seen[spec->name] = name;
    if (spec->parse != nullptr) {
      ACT_RETURN_IF_ERROR(spec->parse(ctx, entry.second, config));
    } else {
      ACT_RETURN_IF_ERROR(CheckKeys(ctx, entry.second, name, spec->pending_keys));
      config->pending[spec->name] = entry.second.IsNull() ? "" : YAML::Dump(entry.second);
    }
  }
  return Status::Ok();
}

}  // namespace

Expected<Config> ParseConfig(const std::string& yaml_text, const std::string& source_file,
                             const std::string& base_dir) {
  ParseContext ctx{source_file, base_dir};
  Config config;
  config.source_file = source_file;
  try {
    const YAML::Node root = YAML::Load(yaml_text);
    ACT_RETURN_IF_ERROR(ParseRoot(ctx, root, &config));
  } catch (const YAML::Exception& e) {
    // Syntax errors (and any yaml-cpp surprise) end here, with the position yaml-cpp reports.
    std::string where = source_file.empty() ? "<config>" : source_file;
    if (e.mark.line >= 0) where += ":" + std::to_string(e.mark.line + 1) + ":" + std::to_string(e.mark.column + 1);
    return InvalidInput(where + ": not valid YAML: " + e.msg);
  }
  return config;
}

Expected<Config> LoadConfig(const std::string& path) {
  Expected<std::string> text = ReadFileToString(path);
  if (!text.ok()) return text.status().WithContext("reading config");
  // Absolute, so the resolved config means the same files wherever it is written (save_dir).
  std::error_code ec;
  std::string base = std::filesystem::absolute(DirName(path).empty() ? "." : DirName(path), ec).lexically_normal().string();
  if (ec) base = DirName(path);
  return ParseConfig(*text, path, base);
}

std::string ToYaml(const Config& config) {
  YAML::Node root(YAML::NodeType::Map);
  for (const auto& s : Sections()) {
    if (s.emit != nullptr) {
      s.emit(config, &root);
    } else if (auto it = config.pending.find(s.name); it != config.pending.end()) {
      root[s.name] = it->second.empty() ? YAML::Node(YAML::NodeType::Null) : YAML::Load(it->second);
    }
  }
  std::ostringstream out;
  out << "# The resolved config: every default filled in, paths resolved. `onnx-act compress --config` reads it.\n";
  if (!config.source_file.empty()) out << "# Resolved from " << config.source_file << "\n";
  out << YAML::Dump(root) << "\n";
  return out.str();
}

Status WriteResolvedConfig(const Config& config, const std::string& path) {
  return AtomicWriteFile(path, ToYaml(config));
}

}  // namespace act::config
