// Global: the model, where results go, the target hardware, the data and the evaluation (DESIGN.md §5).
// ACT's example configs put Paddle- and script-specific keys in Global (model_dir, reader_config, ...);
// those are refused with advice on the onnx-act equivalent rather than silently ignored.
#include "config/sections.h"
#include "core/strings.h"

namespace act::config {
namespace {

const std::vector<std::string> kGlobalKeys = {"model",     "save_dir",        "deploy_hardware", "train_data",
                                              "eval_data", "eval",            "max_metric_loss", "input_shapes"};
const std::vector<std::string> kEvalKeys = {"metric",         "output",  "num_classes",    "decoder",     "dictionary",
                                            "conf_threshold", "nms_iou", "max_detections", "category_ids"};
const std::vector<std::string> kMetrics = {"top1", "top5", "coco_map", "ctc_exact", "ctc_cer",
                                           "accuracy", "f1", "matthews", "agreement"};
const std::vector<std::string> kDecoders = {"fastestdet", "yolo_boxes_last", "yolo_channels_first"};
const std::vector<std::string> kHardware = {"x86_vnni", "x86_avx2", "arm", "gpu_tensorrt"};

const std::string kPaddleModelHint =
    "this is a Paddle inference-model key; onnx-act reads ONNX: export the model with paddle2onnx and set "
    "Global.model to the .onnx file";
const std::string kScriptDataHint =
    "this key is read by ACT's example script, not by ACT; describe the data in Global.train_data / "
    "Global.eval_data (type, paths, transforms, batch_size) and the evaluation in Global.eval";

std::map<std::string, std::string> GlobalHints() {
  std::map<std::string, std::string> hints;
  for (const char* key : {"model_dir", "model_filename", "params_filename"}) hints[key] = kPaddleModelHint;
  for (const char* key :
       {"reader_config", "batch_size", "data_dir", "input_name", "input_names", "model_type", "task_name",
        "dataset", "max_seq_length", "padding", "return_attention_mask", "img_size", "resize_size", "crop_size",
        "dev_data", "image_path", "coco_dataset_dir", "coco_train_image_dir", "coco_train_anno_path",
        "coco_val_image_dir", "coco_val_anno_path", "arch", "nms_num_top_k", "algorithm",
        "character_dict_path", "max_text_length", "use_space_char", "include_nms", "Evaluation"}) {
    hints[key] = kScriptDataHint;
  }
  return hints;
}

Status ParseEval(const ParseContext& ctx, const YAML::Node& node, EvalConfig* e) {
  const std::string path = "Global.eval";
  ACT_RETURN_IF_ERROR(CheckKeys(ctx, node, path, kEvalKeys));
  ACT_RETURN_IF_ERROR(Read(ctx, node, path, "metric", &e->metric));
  ACT_RETURN_IF_ERROR(CheckChoice(ctx, node, path, "metric", e->metric, kMetrics));
  ACT_RETURN_IF_ERROR(Read(ctx, node, path, "output", &e->output));
  ACT_RETURN_IF_ERROR(Read(ctx, node, path, "decoder", &e->decoder));
  if (!e->decoder.empty()) ACT_RETURN_IF_ERROR(CheckChoice(ctx, node, path, "decoder", e->decoder, kDecoders));
  ACT_RETURN_IF_ERROR(ReadPath(ctx, node, path, "dictionary", &e->dictionary));
  ACT_RETURN_IF_ERROR(Read(ctx, node, path, "num_classes", &e->num_classes));
  ACT_RETURN_IF_ERROR(Read(ctx, node, path, "conf_threshold", &e->conf_threshold));
  ACT_RETURN_IF_ERROR(Read(ctx, node, path, "nms_iou", &e->nms_iou));
  ACT_RETURN_IF_ERROR(Read(ctx, node, path, "max_detections", &e->max_detections));
  ACT_RETURN_IF_ERROR(Read(ctx, node, path, "category_ids", &e->category_ids));
  if (!e->category_ids.empty()) {
    ACT_RETURN_IF_ERROR(CheckChoice(ctx, node, path, "category_ids", e->category_ids, {"coco80", "index"}));
  }
  if (e->metric == "coco_map" && e->decoder.empty()) {
    return InvalidInput(Where(ctx, node, path + ".decoder") + ": metric coco_map needs a decoder, one of " +
                        Join(kDecoders, ", "));
  }
  if ((e->metric == "ctc_exact" || e->metric == "ctc_cer") && e->dictionary.empty()) {
    return InvalidInput(Where(ctx, node, path + ".dictionary") + ": metric " + e->metric +
                        " needs the recogniser's character dictionary (e.g. ppocr_keys_v1.txt)");
  }
  return Status::Ok();
}

}  // namespace

Status ParseGlobal(const ParseContext& ctx, const YAML::Node& node, Config* config) {
  GlobalConfig& g = config->global;
  ACT_RETURN_IF_ERROR(CheckKeys(ctx, node, "Global", kGlobalKeys, GlobalHints()));
  if (node.IsNull()) return Status::Ok();
  ACT_RETURN_IF_ERROR(ReadPath(ctx, node, "Global", "model", &g.model));
  ACT_RETURN_IF_ERROR(ReadPath(ctx, node, "Global", "save_dir", &g.save_dir));
  ACT_RETURN_IF_ERROR(Read(ctx, node, "Global", "deploy_hardware", &g.deploy_hardware));
  ACT_RETURN_IF_ERROR(CheckChoice(ctx, node, "Global", "deploy_hardware", g.deploy_hardware, kHardware));
  ACT_RETURN_IF_ERROR(Read(ctx, node, "Global", "max_metric_loss", &g.max_metric_loss));
  if (g.max_metric_loss < 0) {
    return InvalidInput(Where(ctx, node["max_metric_loss"], "Global.max_metric_loss") + ": must be >= 0");
  }
  for (const char* key : {"train_data", "eval_data"}) {
    const YAML::Node d = node[key];
    if (!d.IsDefined() || d.IsNull()) continue;
    DatasetConfig dataset;
    ACT_RETURN_IF_ERROR(ParseDataset(ctx, d, std::string("Global.") + key, &dataset));
    (std::string(key) == "train_data" ? g.train_data : g.eval_data) = std::move(dataset);
  }
  if (const YAML::Node e = node["eval"]; e.IsDefined() && !e.IsNull()) {
    ACT_RETURN_IF_ERROR(ParseEval(ctx, e, &g.eval));
  }
  if (const YAML::Node shapes = node["input_shapes"]; shapes.IsDefined() && !shapes.IsNull()) {
    // ACT: a map input → shape, or one shape for a model with one input (stored under "").
    auto read_shape = [&](const YAML::Node& s, const std::string& where, std::vector<int64_t>* out) -> Status {
      bool ok = s.IsSequence();
      for (const auto& v : s) {
        int64_t dim = 0;
        ok = ok && v.IsScalar() && YAML::convert<int64_t>::decode(v, dim);
        out->push_back(dim);
      }
      if (!ok) return InvalidInput(Where(ctx, s, where) + ": expected a shape (list of integers, -1 for dynamic)");
      return Status::Ok();
    };
    if (shapes.IsMap()) {
      for (const auto& entry : shapes) {
        ACT_RETURN_IF_ERROR(read_shape(entry.second, "Global.input_shapes." + entry.first.Scalar(),
                                       &g.input_shapes[entry.first.Scalar()]));
      }
    } else {
      ACT_RETURN_IF_ERROR(read_shape(shapes, "Global.input_shapes", &g.input_shapes[""]));
    }
  }
  return Status::Ok();
}

void EmitGlobal(const Config& config, YAML::Node* root) {
  const GlobalConfig& g = config.global;
  YAML::Node n;
  n["model"] = g.model;
  n["save_dir"] = g.save_dir;
  n["deploy_hardware"] = g.deploy_hardware;
  if (g.train_data) n["train_data"] = DatasetToNode(*g.train_data);
  if (g.eval_data) n["eval_data"] = DatasetToNode(*g.eval_data);
  YAML::Node e;
  e["metric"] = g.eval.metric;
  if (!g.eval.output.empty()) e["output"] = g.eval.output;
  if (!g.eval.decoder.empty()) e["decoder"] = g.eval.decoder;
  if (!g.eval.dictionary.empty()) e["dictionary"] = g.eval.dictionary;
  e["num_classes"] = g.eval.num_classes;
  e["conf_threshold"] = DoubleNode(g.eval.conf_threshold);
  e["nms_iou"] = DoubleNode(g.eval.nms_iou);
  e["max_detections"] = g.eval.max_detections;
  if (!g.eval.category_ids.empty()) e["category_ids"] = g.eval.category_ids;
  n["eval"] = e;
  n["max_metric_loss"] = DoubleNode(g.max_metric_loss);
  if (!g.input_shapes.empty()) {
    if (g.input_shapes.size() == 1 && g.input_shapes.begin()->first.empty()) {
      n["input_shapes"] = g.input_shapes.begin()->second;
    } else {
      for (const auto& [name, shape] : g.input_shapes) n["input_shapes"][name] = shape;
    }
  }
  (*root)["Global"] = n;
}

}  // namespace act::config
