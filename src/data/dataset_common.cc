#include <cerrno>
#include <cstdlib>

#include "core/strings.h"
#include "data/datasets.h"
#include "data/file_reading.h"

namespace act::data {

std::string ConfigWhere(const config::DatasetConfig& config) {
  std::string where = config.key_path.empty() ? "data set" : config.key_path;
  if (!config.source_file.empty()) where += " (" + config.source_file + ")";
  return where;
}

std::string ImageInputName(const config::DatasetConfig& config) {
  return config.input_name.empty() ? "input" : config.input_name;
}

Status CheckClassLabel(int64_t label, int64_t num_classes, const std::string& where) {
  if (label < 0 || (num_classes > 0 && label >= num_classes)) {
    return InvalidInput(where + ": label " + std::to_string(label) + " is outside the class range [0, " +
                        (num_classes > 0 ? std::to_string(num_classes - 1) : std::string("inf")) +
                        "]; fix the label or the data set's num_classes");
  }
  return Status::Ok();
}

bool ParseInt(const std::string& text, int64_t* value) {
  if (text.empty()) return false;
  errno = 0;
  char* end = nullptr;
  long long v = std::strtoll(text.c_str(), &end, 10);
  if (errno != 0 || end != text.c_str() + text.size()) return false;
  *value = v;
  return true;
}

Expected<std::vector<std::pair<std::string, int64_t>>> FolderClasses(const config::DatasetConfig& config,
                                                                     const std::string& root) {
  ACT_ASSIGN_OR_RETURN(std::vector<std::string> folders, ListFolders(root));
  std::vector<std::pair<std::string, int64_t>> classes;
  if (config.class_map.empty()) {
    if (folders.empty()) return InvalidInput(root + ": no sub-folders; expected one sub-folder per class");
    for (size_t i = 0; i < folders.size(); ++i) classes.emplace_back(folders[i], static_cast<int64_t>(i));
  } else {
    for (const auto& [name, id] : config.class_map) {
      bool found = false;
      for (const auto& f : folders) found = found || f == name;
      if (!found) {
        return NotFound(ConfigWhere(config) + ": class_map names sub-folder '" + name + "', which " + root +
                        " does not have" + DidYouMean(name, folders) + "; sub-folders: " + Join(folders, ", "));
      }
      classes.emplace_back(name, id);
    }
  }
  for (const auto& [name, id] : classes) {
    ACT_RETURN_IF_ERROR(CheckClassLabel(id, config.num_classes, root + "/" + name));
  }
  return classes;
}

}  // namespace act::data
