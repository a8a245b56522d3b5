// The YAML config (DESIGN.md §5) as typed structs with ACT's and DESIGN's defaults.
//
// `Global` names the model, the data and the evaluation (ACT passes those in Python; we put them in YAML
// so the CLI needs no code). The compression sections keep PaddleSlim ACT's names, keys and defaults.
// Parsing is strict: an unknown section or key is an error naming the file, the key path
// (`Global.train_data.limt`) and the nearest valid key; a wrong type names the key and the expected type.
// Relative paths are resolved against the YAML file's folder, so the structs hold usable paths.
// ACT's own example configs name Paddle models (Global.model_dir, model_filename, params_filename) and
// keys of their example scripts (Global.reader_config, batch_size, ...; sections Train, Eval, Metric):
// those are refused, naming the key and saying what to write instead (Global.model = the paddle2onnx
// export; Global.train_data / eval_data / eval). Their compression sections are accepted as they are.
//
// Sections are listed in one table (src/config/sections.cc); each typed section is one struct here and
// one parse/emit pair in its own file. Sections not yet typed (QuantAware, Distillation, TrainConfig, the
// pruning sections) are kept as checked YAML text in `Config::pending`: their keys are validated against
// ACT's, so typos are caught now, and their typed parsers replace the entry later.
#pragma once

#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <vector>

#include "act/status.h"

namespace act::config {

// One preprocessing step of an image data set, applied in YAML order.
struct TransformConfig {
  enum class Kind { kResize, kCenterCrop, kColor, kNormalize, kLayout };
  Kind kind = Kind::kResize;
  // resize / center_crop: target [height, width].
  std::vector<int64_t> size;
  // resize: stretch | keep_aspect_pad (height := H, width := min(W, ceil(H*w/h)), pad right/bottom:
  // PP-OCR's recogniser rule) | letterbox (fit inside keeping aspect, centred, pad both sides).
  std::string mode = "stretch";
  // resize: bilinear (OpenCV INTER_LINEAR, half-pixel centres) | bilinear_antialias (PIL's BILINEAR:
  // the triangle filter widens by the down-scaling factor).
  std::string interpolation = "bilinear";
  double pad_value = 0.0;  // resize: value of the padded pixels, in the units the image has at that step
  std::string color;       // color: bgr | rgb | gray
  double scale = 1.0;      // normalize: x*scale, then (x - mean[c]) / std[c]
  std::vector<double> mean, std;
  std::string layout;      // layout: nchw | nhwc
};

// A data set (Global.train_data / Global.eval_data). Which keys apply depends on `type`
// (DatasetTypeKeys lists them); every type takes the common ones.
struct DatasetConfig {
  std::string type;          // idx | image_folder | coco | npy | text_tsv | ocr_lines
  std::string key_path;      // "Global.eval_data", for messages
  std::string source_file;   // the YAML file, for messages
  // Common keys.
  std::string input_name;    // name of the image tensor; empty: the model's only input (the CLI fills it)
  std::vector<TransformConfig> transforms;
  int64_t skip = 0;
  int64_t limit = -1;        // -1: all samples after `skip`
  int64_t batch_size = 1;
  bool shuffle = false;
  uint64_t seed = 0;
  int64_t num_classes = 0;   // when > 0, class labels must lie in [0, num_classes)
  // Type-specific keys (paths already resolved against the YAML file's folder).
  std::string images;        // idx: images file; coco: image folder
  std::string labels;        // idx: labels file
  std::string annotations;   // coco: instances.json
  std::string path;          // image_folder / text_tsv: folder (one sub-folder per class) or file; npy: folder
  std::string list;          // image_folder / ocr_lines: `path<TAB>label|text` list file
  std::map<std::string, int64_t> class_map;  // folder-per-class layouts: sub-folder → class (default: sorted index)
  std::string vocab;         // text_tsv: BERT vocab.txt
  int64_t max_length = 128;  // text_tsv
  bool lower_case = true;    // text_tsv (the uncased BERT tokenizer)
  bool header = true;        // text_tsv file form: the first line is a header
  // text_tsv: names of the tensors to produce; an empty name leaves that tensor out (feed only what the
  // model declares).
  std::string input_ids_name = "input_ids";
  std::string attention_mask_name = "attention_mask";
  std::string token_type_ids_name = "token_type_ids";
  std::string dictionary;    // ocr_lines: the recogniser's character dictionary (for the label check)
  int64_t height = 48;       // ocr_lines: recogniser input height and maximum width
  int64_t width = 320;
};

// The data-set types the config accepts, and the type-specific keys of each (the contract of §5;
// src/data's registry has one factory per entry, and a test checks the two lists agree).
const std::vector<std::pair<std::string, std::vector<std::string>>>& DatasetTypeKeys();
const std::vector<std::string>& CommonDatasetKeys();

// Global.eval: how model outputs become a metric. The fields are metrics::MetricConfig's (the CLI copies
// them; the network input size and resize mode for box decoding come from the eval data's resize transform).
struct EvalConfig {
  std::string metric = "top1";  // top1 | top5 | coco_map | ctc_exact | ctc_cer | accuracy | f1 | matthews | agreement
  std::string output;           // the model output the metric reads; empty: the only (or first) output
  int64_t num_classes = 0;      // coco_map: classes the detector predicts; 0: from the output's shape
  std::string decoder;          // coco_map: fastestdet | yolo_boxes_last | yolo_channels_first
  std::string dictionary;       // ctc_*: character dictionary (ppocr_keys_v1.txt)
  double conf_threshold = 0.001;  // coco_map: detections scoring below are dropped before NMS
  double nms_iou = 0.45;          // coco_map: class-aware NMS IoU threshold
  int64_t max_detections = 100;   // coco_map: per image after NMS
  std::string category_ids;       // coco_map: coco80 | index | "" (coco80 for 80 classes, else index)
};

struct GlobalConfig {
  std::string model;                       // the FP32 ONNX model
  std::string save_dir = "output";
  std::string deploy_hardware = "x86_vnni";  // x86_vnni | x86_avx2 | arm | gpu_tensorrt
  std::optional<DatasetConfig> train_data;
  std::optional<DatasetConfig> eval_data;
  EvalConfig eval;
  double max_metric_loss = 0.005;          // absolute metric the user accepts to lose
  std::map<std::string, std::vector<int64_t>> input_shapes;  // fix dynamic dims (ACT's input_shapes)
};

// ACT's QuantPost (PaddleSlim strategy_config.py defaults).
struct QuantPostConfig {
  int64_t batch_size = 32;
  int64_t batch_nums = -1;  // -1 (ACT: None): all calibration data
  int64_t epochs = 20;
  double lr = 0.1;
  std::string algo = "hist";  // hist | KL | avg | mse | emd | abs_max | min_max
  double hist_percent = 0.999;
  bool is_full_quantize = false;
  bool bias_correction = false;
  std::string weight_quantize_type = "channel_wise_abs_max";  // channel_wise_abs_max | abs_max
  std::string activation_quantize_type = "range_abs_max";
  bool simulate_activation_quant = false;
  std::vector<std::string> skip_tensor_list;
  bool onnx_format = true;
  std::vector<std::string> quantize_op_types = {"conv2d", "depthwise_conv2d", "mul", "matmul", "matmul_v2"};
  int64_t weight_bits = 8;
  int64_t activation_bits = 8;
  std::string recon_level;  // ACT's reconstruction quanter; "" (None) = off
};

// ACT's HyperParameterOptimization: the search space of the PTQ hyper-parameter search.
struct HyperParameterOptimizationConfig {
  std::vector<std::string> ptq_algo = {"KL", "hist", "avg", "mse"};
  std::vector<bool> bias_correct = {true, false};
  std::vector<std::string> weight_quantize_type = {"channel_wise_abs_max"};
  std::vector<double> hist_percent = {0.98, 0.999};  // [low, high]
  std::vector<int64_t> batch_num = {10, 30};         // [low, high]
  int64_t max_quant_count = 20;
};

// ACT's QuantAware (alias Quantization): quantization-aware training (PaddleSlim strategy_config.py defaults),
// plus quant_post_first (start from PTQ's scales) and scale_trainable (LSQ-style activation scales).
struct QuantAwareConfig {
  bool use_pact = false;
  std::string weight_quantize_type = "channel_wise_abs_max";  // channel_wise_abs_max | abs_max
  std::string activation_quantize_type = "moving_average_abs_max";  // | range_abs_max | abs_max
  int64_t weight_bits = 8;
  int64_t activation_bits = 8;
  std::vector<std::string> not_quant_pattern = {"skip_quant"};  // node names containing one stay FP32
  std::vector<std::string> quantize_op_types = {"conv2d", "depthwise_conv2d", "mul"};
  std::string dtype = "int8";
  int64_t window_size = 10000;
  double moving_rate = 0.9;
  bool for_tensorrt = false;
  bool onnx_format = true;  // ACT's default is false (Paddle format); we always export standard ONNX QDQ
  bool is_full_quantize = false;
  bool quant_post_first = false;
  bool scale_trainable = false;
};

// ACT's Distillation. `node`: a flat list (self-distillation: each name is compared with itself in the
// teacher), a flat list of (teacher, student) pairs when `teacher_model_dir` names another model, or a list
// of groups (one loss per group). Empty: the automatic nodes (src/distill/auto_nodes.h).
struct DistillationConfig {
  std::vector<std::string> loss = {"l2"};  // one per group, or one for all
  std::vector<double> alpha = {1.0};       // one per group, or one for all
  std::vector<std::vector<std::string>> node;  // groups as written (a flat list is one entry per name)
  bool node_is_grouped = false;                // `node` was a list of lists
  std::string teacher_model_dir;           // another ONNX model (a file, or a folder with one .onnx)
  std::string teacher_model_filename, teacher_params_filename;
  double teacher_temperature = 1.0;        // soft_label / kl
  double student_temperature = 1.0;
};

// A learning-rate schedule (ACT's learning_rate: a number, or {type: ..., ...}).
struct LearningRateConfig {
  std::string type = "constant";  // constant | CosineAnnealingDecay | PiecewiseDecay | ExponentialDecay | LinearWarmup | ...
  double learning_rate = 0.02;
  double T_max = 0;               // CosineAnnealingDecay (steps; 0: the whole run)
  double eta_min = 0;
  std::vector<int64_t> boundaries;  // PiecewiseDecay
  std::vector<double> values;
  double gamma = 0.9;             // ExponentialDecay (per step) / MultiStepDecay / StepDecay
  int64_t step_size = 1;          // StepDecay
  int64_t warmup_steps = 0;       // LinearWarmup
  double start_lr = 0, end_lr = 0;
  std::vector<LearningRateConfig> inner;  // LinearWarmup's learning_rate when it is itself a schedule
};

// ACT's TrainConfig.
struct TrainConfig {
  int64_t epochs = 0;       // 0: use train_iter
  int64_t train_iter = 0;
  int64_t eval_iter = 1000;
  int64_t logging_iter = 10;
  LearningRateConfig learning_rate;
  std::string optimizer = "SGD";  // SGD | Momentum | Adam | AdamW (optimizer_builder.optimizer.type)
  double momentum = 0.9;
  double beta1 = 0.9, beta2 = 0.999, epsilon = 1e-8;
  double weight_decay = 4e-5;     // optimizer_builder.weight_decay
  double grad_clip = 0;           // global-norm clip (optimizer_builder.grad_clip); 0: off
  std::optional<double> origin_metric;
  std::optional<double> target_metric;
};

struct Config {
  std::string source_file;  // the YAML file ("" when parsed from a string)
  GlobalConfig global;
  std::optional<QuantPostConfig> quant_post;
  std::optional<HyperParameterOptimizationConfig> hyper_parameter_optimization;
  std::optional<QuantAwareConfig> quant_aware;
  std::optional<DistillationConfig> distillation;
  std::optional<TrainConfig> train;
  // Sections accepted (keys checked against ACT's) but not typed yet: canonical name → YAML text.
  std::map<std::string, std::string> pending;
};

// Reads and validates `path`.
Expected<Config> LoadConfig(const std::string& path);
// Validates YAML text; relative paths resolve against `base_dir`; `source_file` names it in messages.
Expected<Config> ParseConfig(const std::string& yaml_text, const std::string& source_file,
                             const std::string& base_dir);
// The resolved config (defaults filled in, absolute paths) as YAML that LoadConfig reads back.
std::string ToYaml(const Config& config);
// Writes ToYaml(config) to `path` atomically (save_dir/config.resolved.yaml).
Status WriteResolvedConfig(const Config& config, const std::string& path);

// The section names the parser accepts (canonical names and aliases), for messages and tests.
std::vector<std::string> KnownSections();

}  // namespace act::config
