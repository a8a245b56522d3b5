// Global.train_data / Global.eval_data: a data set and its transforms (DESIGN.md §5).
#include <cmath>

#include "config/sections.h"
#include "core/strings.h"

namespace act::config {

const std::vector<std::string>& CommonDatasetKeys() {
  static const std::vector<std::string> keys = {"type",  "input_name", "transforms", "skip",       "limit",
                                                "batch_size", "shuffle", "seed",    "num_classes"};
  return keys;
}

const std::vector<std::pair<std::string, std::vector<std::string>>>& DatasetTypeKeys() {
  static const std::vector<std::pair<std::string, std::vector<std::string>>> types = {
      {"idx", {"images", "labels"}},
      {"image_folder", {"path", "list", "class_map"}},
      {"coco", {"images", "annotations"}},
      {"npy", {"path"}},
      {"text_tsv",
       {"path", "vocab", "max_length", "lower_case", "header", "class_map", "input_ids_name",
        "attention_mask_name", "token_type_ids_name"}},
      {"ocr_lines", {"list", "dictionary", "height", "width"}},
  };
  return types;
}

namespace {

const std::vector<std::string> kTransformNames = {"resize", "center_crop", "color", "normalize", "layout"};

Status ParseSize(const ParseContext& ctx, const YAML::Node& map, const std::string& path,
                 std::vector<int64_t>* size) {
  ACT_RETURN_IF_ERROR(Read(ctx, map, path, "size", size));
  if (size->size() == 1) size->push_back(size->front());  // `size: 224` → [224, 224]
  if (size->size() != 2 || (*size)[0] <= 0 || (*size)[1] <= 0) {
    return InvalidInput(Where(ctx, map["size"], path + ".size") +
                        ": expected [height, width] with positive integers");
  }
  return Status::Ok();
}

Status ParseTransform(const ParseContext& ctx, const YAML::Node& item, const std::string& path,
                      TransformConfig* t) {
  if (!item.IsMap() || item.size() != 1) {
    return InvalidInput(Where(ctx, item, path) + ": expected one transform as `{name: options}`, one of " +
                        Join(kTransformNames, ", "));
  }
  const std::string name = item.begin()->first.Scalar();
  const YAML::Node body = item.begin()->second;
  const std::string here = path + "." + name;
  if (name == "resize") {
    t->kind = TransformConfig::Kind::kResize;
    ACT_RETURN_IF_ERROR(CheckKeys(ctx, body, here, {"size", "mode", "interpolation", "pad_value"}));
    ACT_RETURN_IF_ERROR(ParseSize(ctx, body, here, &t->size));
    ACT_RETURN_IF_ERROR(Read(ctx, body, here, "mode", &t->mode));
    ACT_RETURN_IF_ERROR(CheckChoice(ctx, body, here, "mode", t->mode, {"stretch", "keep_aspect_pad", "letterbox"}));
    ACT_RETURN_IF_ERROR(Read(ctx, body, here, "interpolation", &t->interpolation));
    ACT_RETURN_IF_ERROR(CheckChoice(ctx, body, here, "interpolation", t->interpolation,
                                    {"bilinear", "bilinear_antialias"}));
    ACT_RETURN_IF_ERROR(Read(ctx, body, here, "pad_value", &t->pad_value));
  } else if (name == "center_crop") {
    t->kind = TransformConfig::Kind::kCenterCrop;
    ACT_RETURN_IF_ERROR(CheckKeys(ctx, body, here, {"size"}));
    ACT_RETURN_IF_ERROR(ParseSize(ctx, body, here, &t->size));
  } else if (name == "color" || name == "layout") {
    std::string* value = name == "color" ? &t->color : &t->layout;
    t->kind = name == "color" ? TransformConfig::Kind::kColor : TransformConfig::Kind::kLayout;
    if (!body.IsScalar()) {
      return InvalidInput(Where(ctx, body, here) + ": expected a string (" +
                          (name == "color" ? "bgr, rgb or gray" : "nchw or nhwc") + ")");
    }
    *value = body.Scalar();
    ACT_RETURN_IF_ERROR(CheckChoice(ctx, item, path, name.c_str(), *value,
                                    name == "color" ? std::vector<std::string>{"bgr", "rgb", "gray"}
                                                    : std::vector<std::string>{"nchw", "nhwc"}));
  } else if (name == "normalize") {
    t->kind = TransformConfig::Kind::kNormalize;
    ACT_RETURN_IF_ERROR(CheckKeys(ctx, body, here, {"scale", "mean", "std"}));
    ACT_RETURN_IF_ERROR(Read(ctx, body, here, "scale", &t->scale));
    ACT_RETURN_IF_ERROR(Read(ctx, body, here, "mean", &t->mean));
    ACT_RETURN_IF_ERROR(Read(ctx, body, here, "std", &t->std));
    if (!t->mean.empty() && !t->std.empty() && t->mean.size() != t->std.size()) {
      return InvalidInput(Where(ctx, body, here) + ": mean has " + std::to_string(t->mean.size()) +
                          " values but std has " + std::to_string(t->std.size()) + "; give one per channel");
    }
    for (double s : t->std) {
      if (s == 0.0 || !std::isfinite(s)) return InvalidInput(Where(ctx, body["std"], here + ".std") + ": must be non-zero");
    }
  } else {
    return InvalidInput(Where(ctx, item.begin()->first, here) + ": unknown transform" + DidYouMean(name, kTransformNames) +
                        "; expected one of " + Join(kTransformNames, ", "));
  }
  return Status::Ok();
}

}  // namespace

Status ParseDataset(const ParseContext& ctx, const YAML::Node& node, const std::string& path, DatasetConfig* out) {
  DatasetConfig d;
  d.key_path = path;
  d.source_file = ctx.source_file;
  if (!node.IsMap()) return InvalidInput(Where(ctx, node, path) + ": expected a map with `type` and its keys");
  ACT_RETURN_IF_ERROR(Read(ctx, node, path, "type", &d.type));
  std::vector<std::string> type_names;
  const std::vector<std::string>* type_keys = nullptr;
  for (const auto& [name, keys] : DatasetTypeKeys()) {
    type_names.push_back(name);
    if (name == d.type) type_keys = &keys;
  }
  if (d.type.empty()) {
    return InvalidInput(Where(ctx, node, path + ".type") + ": missing; expected one of " + Join(type_names, ", "));
  }
  if (type_keys == nullptr) {
    return InvalidInput(Where(ctx, node["type"], path + ".type") + ": unknown data set type '" + d.type + "'" +
                        DidYouMean(d.type, type_names) + "; expected one of " + Join(type_names, ", "));
  }
  std::vector<std::string> allowed = CommonDatasetKeys();
  allowed.insert(allowed.end(), type_keys->begin(), type_keys->end());
  ACT_RETURN_IF_ERROR(CheckKeys(ctx, node, path, allowed));

  ACT_RETURN_IF_ERROR(Read(ctx, node, path, "input_name", &d.input_name));
  ACT_RETURN_IF_ERROR(Read(ctx, node, path, "skip", &d.skip));
  ACT_RETURN_IF_ERROR(Read(ctx, node, path, "limit", &d.limit));
  ACT_RETURN_IF_ERROR(Read(ctx, node, path, "batch_size", &d.batch_size));
  ACT_RETURN_IF_ERROR(Read(ctx, node, path, "shuffle", &d.shuffle));
  ACT_RETURN_IF_ERROR(Read(ctx, node, path, "seed", &d.seed));
  ACT_RETURN_IF_ERROR(Read(ctx, node, path, "num_classes", &d.num_classes));
  if (d.skip < 0) return InvalidInput(Where(ctx, node["skip"], path + ".skip") + ": must be >= 0");
  if (d.limit < -1 || d.limit == 0) {
    return InvalidInput(Where(ctx, node["limit"], path + ".limit") + ": must be positive (or -1 for all)");
  }
  if (d.batch_size <= 0) return InvalidInput(Where(ctx, node["batch_size"], path + ".batch_size") + ": must be positive");
  if (d.num_classes < 0) return InvalidInput(Where(ctx, node["num_classes"], path + ".num_classes") + ": must be >= 0");

  ACT_RETURN_IF_ERROR(ReadPath(ctx, node, path, "images", &d.images));
  ACT_RETURN_IF_ERROR(ReadPath(ctx, node, path, "labels", &d.labels));
  ACT_RETURN_IF_ERROR(ReadPath(ctx, node, path, "annotations", &d.annotations));
  ACT_RETURN_IF_ERROR(ReadPath(ctx, node, path, "path", &d.path));
  ACT_RETURN_IF_ERROR(ReadPath(ctx, node, path, "list", &d.list));
  ACT_RETURN_IF_ERROR(ReadPath(ctx, node, path, "vocab", &d.vocab));
  ACT_RETURN_IF_ERROR(ReadPath(ctx, node, path, "dictionary", &d.dictionary));
  ACT_RETURN_IF_ERROR(Read(ctx, node, path, "max_length", &d.max_length));
  ACT_RETURN_IF_ERROR(Read(ctx, node, path, "lower_case", &d.lower_case));
  ACT_RETURN_IF_ERROR(Read(ctx, node, path, "header", &d.header));
  ACT_RETURN_IF_ERROR(Read(ctx, node, path, "input_ids_name", &d.input_ids_name));
  ACT_RETURN_IF_ERROR(Read(ctx, node, path, "attention_mask_name", &d.attention_mask_name));
  ACT_RETURN_IF_ERROR(Read(ctx, node, path, "token_type_ids_name", &d.token_type_ids_name));
  ACT_RETURN_IF_ERROR(Read(ctx, node, path, "height", &d.height));
  ACT_RETURN_IF_ERROR(Read(ctx, node, path, "width", &d.width));
  if (d.max_length < 2) return InvalidInput(Where(ctx, node["max_length"], path + ".max_length") + ": must be >= 2 ([CLS] and [SEP])");
  if (d.height <= 0 || d.width <= 0) return InvalidInput(Where(ctx, node, path) + ": height and width must be positive");

  if (const YAML::Node map = node["class_map"]; map.IsDefined() && !map.IsNull()) {
    if (!map.IsMap()) return InvalidInput(Where(ctx, map, path + ".class_map") + ": expected a map `sub-folder: class id`");
    for (const auto& entry : map) {
      int64_t id = 0;
      if (!entry.second.IsScalar() || !YAML::convert<int64_t>::decode(entry.second, id) || id < 0) {
        return InvalidInput(Where(ctx, entry.second, path + ".class_map." + entry.first.Scalar()) +
                            ": expected a class id (integer >= 0)");
      }
      d.class_map[entry.first.Scalar()] = id;
    }
  }

  // Which source keys each type needs.
  auto require = [&](const std::string& value, const char* key) -> Status {
    if (!value.empty()) return Status::Ok();
    return InvalidInput(Where(ctx, node, path + "." + key) + ": missing; a '" + d.type + "' data set needs it");
  };
  if (d.type == "idx") {
    ACT_RETURN_IF_ERROR(require(d.images, "images"));
  } else if (d.type == "image_folder") {
    if (d.path.empty() == d.list.empty()) {
      return InvalidInput(Where(ctx, node, path) + ": an image_folder data set takes exactly one of `path` "
                                                   "(folder with one sub-folder per class) or `list` (path<TAB>label lines)");
    }
  } else if (d.type == "coco") {
    ACT_RETURN_IF_ERROR(require(d.images, "images"));
    ACT_RETURN_IF_ERROR(require(d.annotations, "annotations"));
  } else if (d.type == "npy") {
    ACT_RETURN_IF_ERROR(require(d.path, "path"));
  } else if (d.type == "text_tsv") {
    ACT_RETURN_IF_ERROR(require(d.path, "path"));
    ACT_RETURN_IF_ERROR(require(d.vocab, "vocab"));
  } else if (d.type == "ocr_lines") {
    ACT_RETURN_IF_ERROR(require(d.list, "list"));
  }

  if (const YAML::Node list = node["transforms"]; list.IsDefined() && !list.IsNull()) {
    if (!list.IsSequence()) {
      return InvalidInput(Where(ctx, list, path + ".transforms") + ": expected a list of transforms");
    }
    for (size_t i = 0; i < list.size(); ++i) {
      TransformConfig t;
      ACT_RETURN_IF_ERROR(ParseTransform(ctx, list[i], path + ".transforms[" + std::to_string(i) + "]", &t));
      d.transforms.push_back(std::move(t));
    }
  }
  *out = std::move(d);
  return Status::Ok();
}

YAML::Node DatasetToNode(const DatasetConfig& d) {
  YAML::Node n;
  n["type"] = d.type;
  auto put = [&](const char* key, const std::string& value) {
    if (!value.empty()) n[key] = value;
  };
  put("images", d.images);
  put("labels", d.labels);
  put("annotations", d.annotations);
  put("path", d.path);
  put("list", d.list);
  put("vocab", d.vocab);
  put("dictionary", d.dictionary);
  if (!d.class_map.empty()) {
    for (const auto& [k, v] : d.class_map) n["class_map"][k] = v;
  }
  if (d.type == "text_tsv") {
    n["max_length"] = d.max_length;
    n["lower_case"] = d.lower_case;
    n["header"] = d.header;
    n["input_ids_name"] = d.input_ids_name;
    n["attention_mask_name"] = d.attention_mask_name;
    n["token_type_ids_name"] = d.token_type_ids_name;
  }
  if (d.type == "ocr_lines") {
    n["height"] = d.height;
    n["width"] = d.width;
  }
  put("input_name", d.input_name);
  n["skip"] = d.skip;
  n["limit"] = d.limit;
  n["batch_size"] = d.batch_size;
  n["shuffle"] = d.shuffle;
  n["seed"] = d.seed;
  n["num_classes"] = d.num_classes;
  if (!d.transforms.empty()) {
    YAML::Node list(YAML::NodeType::Sequence);
    for (const auto& t : d.transforms) {
      YAML::Node item, body;
      switch (t.kind) {
        case TransformConfig::Kind::kResize:
          body["size"] = t.size;
          body["mode"] = t.mode;
          body["interpolation"] = t.interpolation;
          body["pad_value"] = DoubleNode(t.pad_value);
          item["resize"] = body;
          break;
        case TransformConfig::Kind::kCenterCrop:
          body["size"] = t.size;
          item["center_crop"] = body;
          break;
        case TransformConfig::Kind::kColor:
          item["color"] = t.color;
          break;
        case TransformConfig::Kind::kNormalize:
          body["scale"] = DoubleNode(t.scale);
          if (!t.mean.empty()) body["mean"] = DoubleList(t.mean);
          if (!t.std.empty()) body["std"] = DoubleList(t.std);
          item["normalize"] = body;
          break;
        case TransformConfig::Kind::kLayout:
          item["layout"] = t.layout;
          break;
      }
      list.push_back(item);
    }
    n["transforms"] = list;
  }
  return n;
}

}  // namespace act::config
