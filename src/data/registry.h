// The data-set registry: one row per type name → factory, in one table (registry.cc). The config's
// DatasetTypeKeys() lists the same names with their YAML keys; tests/data checks the two agree.
#pragma once

#include <memory>
#include <string>
#include <vector>

#include "act/config.h"
#include "act/data.h"

namespace act::data {

using DatasetFactory = Expected<std::unique_ptr<Dataset>> (*)(const config::DatasetConfig& config);

struct DatasetType {
  std::string name;
  DatasetFactory create;
};

const std::vector<DatasetType>& DatasetTypes();

}  // namespace act::data
