// The built-in data sets, one factory per type (one .cc each), listed in registry.cc. Each checks what
// it can when built (files exist, labels in range, counts agree) so bad input fails before a long run,
// and names the file (and line) it is about.
#pragma once

#include <memory>
#include <string>

#include "act/config.h"
#include "act/data.h"

namespace act::data {

Expected<std::unique_ptr<Dataset>> CreateIdxDataset(const config::DatasetConfig& config);
Expected<std::unique_ptr<Dataset>> CreateImageFolderDataset(const config::DatasetConfig& config);
Expected<std::unique_ptr<Dataset>> CreateCocoDataset(const config::DatasetConfig& config);
Expected<std::unique_ptr<Dataset>> CreateNpyDataset(const config::DatasetConfig& config);
Expected<std::unique_ptr<Dataset>> CreateTextTsvDataset(const config::DatasetConfig& config);
Expected<std::unique_ptr<Dataset>> CreateOcrLinesDataset(const config::DatasetConfig& config);

// Shared by the factories.
// "Global.eval_data (my.yaml)" — how messages name the config entry.
std::string ConfigWhere(const config::DatasetConfig& config);
// The image tensor's name: `input_name`, or "input" when unset.
std::string ImageInputName(const config::DatasetConfig& config);
// Fails unless 0 <= label < num_classes (when num_classes > 0); `where` is "file:line".
Status CheckClassLabel(int64_t label, int64_t num_classes, const std::string& where);
// Parses a whole decimal integer; false on anything else.
bool ParseInt(const std::string& text, int64_t* value);
// Classes of a folder-per-class layout: sub-folder → class id (class_map, or the sorted index).
Expected<std::vector<std::pair<std::string, int64_t>>> FolderClasses(const config::DatasetConfig& config,
                                                                     const std::string& root);

}  // namespace act::data
