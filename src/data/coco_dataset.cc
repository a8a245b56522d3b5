// `coco`: images + a COCO instances.json. Each sample is one entry of "images" (in file order) with its
// boxes from "annotations": bbox [x, y, w, h] → Box{x, y, x + w, y + h} in original-image pixels, the
// COCO category id, image_id and the original width/height (for mapping predictions back). Crowd
// annotations (iscrowd = 1) are kept with Box::crowd set: as in COCO's evaluation, a detection matching one
// counts neither as a hit nor as a false positive, and dropping them would make such detections misses.
#include <nlohmann/json.hpp>

#include "core/file_util.h"
#include "data/datasets.h"
#include "data/transforms.h"

namespace act::data {
namespace {

class CocoDataset : public Dataset {
 public:
  int64_t size() const override { return static_cast<int64_t>(entries_.size()); }
  std::string Describe() const override { return "coco " + annotations_; }
  Expected<Sample> Get(int64_t index) const override {
    if (index < 0 || index >= size()) return InvalidInput(Describe() + ": sample index out of range");
    const Entry& e = entries_[index];
    ACT_ASSIGN_OR_RETURN(Image image, DecodeImageFile(e.path));
    if (image.width != e.label.image_width || image.height != e.label.image_height) {
      return InvalidInput(e.path + ": image is " + std::to_string(image.width) + "x" + std::to_string(image.height) +
                          " but " + annotations_ + " says " + std::to_string(e.label.image_width) + "x" +
                          std::to_string(e.label.image_height) + "; the boxes would not fit it");
    }
    Sample sample;
    ACT_ASSIGN_OR_RETURN(sample.inputs[input_name_], transforms_.Apply(std::move(image), e.path));
    sample.label = e.label;
    return sample;
  }

  static Expected<std::unique_ptr<Dataset>> Create(const config::DatasetConfig& c) {
    auto d = std::make_unique<CocoDataset>();
    d->annotations_ = c.annotations;
    d->input_name_ = ImageInputName(c);
    ACT_ASSIGN_OR_RETURN(d->transforms_, ImageTransforms::Create(c.transforms, c.key_path + ".transforms"));
    if (!FileExists(c.annotations)) return NotFound(c.annotations + ": annotations file not found (" + ConfigWhere(c) + ".annotations)");
    ACT_ASSIGN_OR_RETURN(std::string text, ReadFileToString(c.annotations));
    nlohmann::json j = nlohmann::json::parse(text, nullptr, /*allow_exceptions=*/false);
    if (j.is_discarded() || !j.is_object()) return InvalidInput(c.annotations + ": not valid JSON");
    if (!j.contains("images") || !j["images"].is_array()) {
      return InvalidInput(c.annotations + ": no \"images\" list; expected COCO instances format");
    }
    std::map<int64_t, size_t> by_id;
    for (const auto& im : j["images"]) {
      if (!im.is_object() || !im.contains("id") || !im.contains("file_name") || !im["id"].is_number_integer() ||
          !im["file_name"].is_string()) {
        return InvalidInput(c.annotations + ": an \"images\" entry lacks an integer id or a file_name: " + im.dump().substr(0, 120));
      }
      Entry e;
      e.path = JoinPath(c.images, im["file_name"].get<std::string>());
      if (!FileExists(e.path)) return NotFound(c.annotations + ": image file not found: " + e.path);
      e.label.image_id = im["id"].get<int64_t>();
      if (!im.contains("width") || !im.contains("height") || !im["width"].is_number_integer() ||
          !im["height"].is_number_integer()) {
        return InvalidInput(c.annotations + ": image " + im["id"].dump() + " lacks integer width/height (needed to "
                                            "map boxes between the image and the network input)");
      }
      e.label.image_width = im["width"].get<int64_t>();
      e.label.image_height = im["height"].get<int64_t>();
      by_id[e.label.image_id] = d->entries_.size();
      d->entries_.push_back(std::move(e));
    }
    if (j.contains("annotations") && j["annotations"].is_array()) {
      for (const auto& a : j["annotations"]) {
        if (!a.is_object() || !a.contains("image_id") || !a.contains("bbox") || !a["bbox"].is_array() ||
            a["bbox"].size() != 4 || !a["bbox"][0].is_number() || !a["bbox"][1].is_number() ||
            !a["bbox"][2].is_number() || !a["bbox"][3].is_number() || !a.contains("category_id") ||
            !a["category_id"].is_number_integer() || !a["image_id"].is_number_integer()) {
          return InvalidInput(c.annotations + ": an annotation lacks image_id, bbox [x, y, w, h] or category_id: " +
                              a.dump().substr(0, 120));
        }
        auto it = by_id.find(a["image_id"].get<int64_t>());
        if (it == by_id.end()) {
          return InvalidInput(c.annotations + ": annotation for image_id " + a["image_id"].dump() + ", which \"images\" does not list");
        }
        const auto& b = a["bbox"];
        Box box;
        box.x0 = b[0].get<float>();
        box.y0 = b[1].get<float>();
        box.x1 = box.x0 + b[2].get<float>();
        box.y1 = box.y0 + b[3].get<float>();
        box.category = a["category_id"].get<int64_t>();
        box.crowd = a.contains("iscrowd") && a["iscrowd"].is_number() && a["iscrowd"].get<double>() != 0;
        d->entries_[it->second].label.boxes.push_back(box);
      }
    }
    if (d->entries_.empty()) return InvalidInput(c.annotations + ": no images listed");
    return std::unique_ptr<Dataset>(std::move(d));
  }

 private:
  struct Entry {
    std::string path;
    Label label;
  };
  std::vector<Entry> entries_;
  std::string annotations_, input_name_;
  ImageTransforms transforms_;
};

}  // namespace

Expected<std::unique_ptr<Dataset>> CreateCocoDataset(const config::DatasetConfig& config) {
  return CocoDataset::Create(config);
}

}  // namespace act::data
