// The table of config sections. Each typed section is one parse/emit pair in its own file
// (global_section.cc, quant_post_section.cc, ...); adding a section = one struct in act/config.h, one file
// here, one row in Sections(). Sections not typed yet go through the pending parser, which checks their
// keys against ACT's list and keeps the YAML text.
#pragma once

#include <yaml-cpp/yaml.h>

#include <string>
#include <vector>

#include "act/config.h"
#include "config/yaml_reader.h"

namespace act::config {

using ParseSectionFunction = Status (*)(const ParseContext& ctx, const YAML::Node& node, Config* config);
using EmitSectionFunction = void (*)(const Config& config, YAML::Node* root);

struct SectionSpec {
  std::string name;                  // canonical name (written back by ToYaml)
  std::vector<std::string> aliases;  // other names ACT accepts (QuantAware: Quantization)
  ParseSectionFunction parse;        // nullptr: pending (keys checked against `pending_keys`)
  EmitSectionFunction emit;
  std::vector<std::string> pending_keys;
};

// Every section the parser accepts, in the order ToYaml writes them.
const std::vector<SectionSpec>& Sections();

// Top-level sections of ACT's example scripts (not ACT's own): refused with advice.
const std::map<std::string, std::string>& ScriptSectionHints();

Status ParseGlobal(const ParseContext& ctx, const YAML::Node& node, Config* config);
void EmitGlobal(const Config& config, YAML::Node* root);
Status ParseDataset(const ParseContext& ctx, const YAML::Node& node, const std::string& path, DatasetConfig* out);
YAML::Node DatasetToNode(const DatasetConfig& dataset);
Status ParseQuantPost(const ParseContext& ctx, const YAML::Node& node, Config* config);
void EmitQuantPost(const Config& config, YAML::Node* root);
Status ParseHyperParameterOptimization(const ParseContext& ctx, const YAML::Node& node, Config* config);
void EmitHyperParameterOptimization(const Config& config, YAML::Node* root);
Status ParseQuantAware(const ParseContext& ctx, const YAML::Node& node, Config* config);
void EmitQuantAware(const Config& config, YAML::Node* root);
Status ParseDistillation(const ParseContext& ctx, const YAML::Node& node, Config* config);
void EmitDistillation(const Config& config, YAML::Node* root);
Status ParseTrainConfig(const ParseContext& ctx, const YAML::Node& node, Config* config);
void EmitTrainConfig(const Config& config, YAML::Node* root);

}  // namespace act::config
