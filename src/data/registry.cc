#include "data/registry.h"

#include "core/strings.h"
#include "data/datasets.h"

namespace act::data {

const std::vector<DatasetType>& DatasetTypes() {
  static const std::vector<DatasetType> types = {
      {"idx", &CreateIdxDataset},
      {"image_folder", &CreateImageFolderDataset},
      {"coco", &CreateCocoDataset},
      {"npy", &CreateNpyDataset},
      {"text_tsv", &CreateTextTsvDataset},
      {"ocr_lines", &CreateOcrLinesDataset},
  };
  return types;
}

Expected<std::unique_ptr<Dataset>> CreateDataset(const config::DatasetConfig& config) {
  std::vector<std::string> names;
  for (const auto& t : DatasetTypes()) {
    if (t.name == config.type) {
      Expected<std::unique_ptr<Dataset>> d = t.create(config);
      if (!d.ok()) return d.status();
      if ((*d)->size() <= config.skip) {
        return InvalidInput(ConfigWhere(config) + ".skip: skip " + std::to_string(config.skip) + " leaves no samples of " +
                            std::to_string((*d)->size()) + " in " + (*d)->Describe());
      }
      return d;
    }
    names.push_back(t.name);
  }
  return InvalidInput(ConfigWhere(config) + ".type: unknown data set type '" + config.type + "'" +
                      DidYouMean(config.type, names) + "; expected one of " + Join(names, ", "));
}

}  // namespace act::data
