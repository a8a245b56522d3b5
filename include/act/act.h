// The C++ API: compress an ONNX model in two lines, as PaddleSlim ACT does in Python.
//
//   act::Options options;
//   options.model_path = "model.onnx";
//   options.save_dir = "out";
//   options.config_path = "ptq.yaml";            // or options.config = <a config::Config built in code>
//   options.train_data = my_dataset;             // any act::data::Dataset; else Global.train_data
//   options.eval_callback = [](const std::string& model_file) -> act::Expected<double> { ... };
//   act::AutoCompression ac(options);
//   act::Expected<act::Report> report = ac.Compress();
//
// Compress runs the strategies the config names (QuantPost, HyperParameterOptimization; DESIGN.md §2,
// §4), keeps the best model within Global.max_metric_loss (falling back the most sensitive layers to FP32
// when needed), and writes save_dir/{model.onnx, report.json, report.html, config.resolved.yaml,
// calibration.json}, each atomically. The input model is never overwritten.
#pragma once

#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "act/config.h"
#include "act/data.h"
#include "act/status.h"
#include "act/tensor.h"

namespace act {

// A model the callback may run: named inputs → named outputs (the candidate graph on our executor).
using RunModelFn = std::function<Expected<std::map<std::string, Tensor>>(const std::map<std::string, Tensor>&)>;

// The user's evaluation, as ACT's eval_callback: a number where higher is better (unless
// Options::higher_is_better is false). Either form may be given; the file form gets a candidate ONNX file
// (a temporary one in save_dir, removed afterwards), the runner form a function running the candidate.
using EvalFileCallback = std::function<Expected<double>(const std::string& model_file)>;
using EvalRunnerCallback = std::function<Expected<double>(const RunModelFn& run)>;

struct Options {
  std::string model_path;                   // overrides Global.model when set
  std::string save_dir;                     // overrides Global.save_dir when set
  std::optional<config::Config> config;     // a config built (or parsed) in code, or:
  std::string config_path;                  // a YAML file (used when `config` is empty)
  // Data sets; when null, Global.train_data / Global.eval_data of the config are loaded.
  std::shared_ptr<const data::Dataset> train_data;
  std::shared_ptr<const data::Dataset> eval_data;
  int64_t batch_size = 0;                   // batching of the data sets above; 0: the config's
  // Evaluation; when neither is set the config's Global.eval metric runs on the eval data.
  EvalFileCallback eval_callback;
  EvalRunnerCallback eval_runner_callback;
  bool higher_is_better = true;             // for the callbacks' number
  bool show_progress = true;                // progress bars on stderr
  bool resume = false;                      // training strategies continue from save_dir's checkpoint
  int threads = 0;                          // executor threads (0: all cores)
  // Engine scoring candidates with the built-in metric: "onednn" (the runtime's INT8 kernels; a model it
  // cannot run falls back to the executor) or "torch" (the libtorch executor simulating Q/DQ).
  std::string engine = "onednn";
};

// One evaluated candidate: a PTQ trial, a sensitivity measurement, a fallback step.
struct Trial {
  std::string strategy;                          // quant_post | ptq_hpo | layer_fallback | sensitivity
  std::string name;                              // "trial 3", "only Conv 'conv1'", ...
  std::map<std::string, std::string> params;     // algo, bias_correct, hist_percent, ...
  double metric = 0;
  double loss = 0;                               // fp32 metric - metric (sign-adjusted: positive = worse)
  double seconds = 0;
  bool chosen = false;
};

struct Report {
  std::string model;                        // the input FP32 model
  std::string output_model;                 // save_dir/model.onnx
  std::string metric_name;
  bool higher_is_better = true;
  double fp32_metric = 0;
  double int8_metric = 0;                   // of the written model.onnx
  std::string measured_with;                // which engine measured int8_metric
  double max_metric_loss = 0;
  bool within_budget = false;
  int64_t fp32_bytes = 0, int8_bytes = 0;   // file sizes
  double size_ratio = 0;                    // int8_bytes / fp32_bytes
  std::string deploy_hardware;
  std::string scheme;                       // "u8 asymmetric activations, s8 symmetric per-channel weights"
  std::vector<std::string> strategies;      // run, in order
  std::string chosen_strategy;
  std::map<std::string, std::string> chosen_params;
  std::vector<Trial> trials;
  std::vector<std::string> decisions;       // every choice and why, in order
  std::vector<std::string> warnings;
  std::vector<std::string> quantized_nodes;
  std::vector<std::string> fp32_nodes;      // quantizable nodes left in FP32 (fallback, skip list) and why
  std::map<std::string, int> output_op_counts;
  double calibration_seconds = 0;
  double total_seconds = 0;

  // Marks trials[index] as the candidate that was kept; a later strategy's choice replaces an earlier one's.
  void Choose(size_t index) {
    for (size_t i = 0; i < trials.size(); ++i) trials[i].chosen = i == index;
  }
};

class AutoCompression {
 public:
  explicit AutoCompression(Options options);
  ~AutoCompression();
  // Runs the whole job and writes the outputs. Errors: InvalidInput/NotFound/Unsupported for bad config,
  // model or data (nothing is written then), Failure when the job cannot finish.
  Expected<Report> Compress();

 private:
  Options options_;
};

}  // namespace act
