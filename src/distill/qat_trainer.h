// Distillation-driven quantization-aware training (ACT's qat_dis), free of libtorch includes so the
// strategy layer can call it.
//   1. Normalise the FP32 model and score it; TrainConfig.origin_metric more than 0.05 away from that score
//      stops the run (the data, preprocessing or metric is probably wrong).
//   2. Fold BatchNormalization / per-channel affine into the Conv/Gemm weights (what gets quantized).
//   3. quant_post_first: the training starts from the PTQ the pipeline chose when there is one (ptq_start:
//      its graph, corrected biases, scales, FP32 layers; step 0 is scored like every eval step, so the best
//      model can't be worse than the start as the simulation scores it); otherwise a PTQ here (QuantPost's
//      algo and batch_nums; default hist on 10 batches) gives the starting activation scales.
//   4. Student = fake-quant graph (quant/qat_insert.h); teacher = the folded FP32 graph kept untouched in
//      memory (or the model teacher_model_dir names). Both are cut at the distillation values
//      (distill_pairs.h), so post-processing never runs while training.
//   5. Each step: teacher forward (no gradient), student forward, loss = Σ_groups alpha · loss(t, s),
//      backward, global-norm clip, optimizer step (SGD | Momentum | AdamW, weight_decay; PACT thresholds get
//      L2 decay 1e-4) at the scheduled learning rate.
//   6. Every eval_iter steps (and at the end): score the simulated model, keep the best parameters, write a
//      checkpoint (weights, scales, observer states, optimizer state, step, best) atomically to save_dir;
//      stop early when target_metric is reached. With `resume`, the checkpoint is loaded and the data stream
//      is replayed to the same position, so the run continues where it stopped.
//   7. The best parameters are exported to standard ONNX QDQ (quant/qat_export.h).
#pragma once

#include <functional>
#include <map>
#include <optional>
#include <set>
#include <string>
#include <vector>

#include "act/config.h"
#include "act/data.h"
#include "act/status.h"
#include "ir/graph.h"
#include "ir/passes/qdq_export.h"
#include "quant/calibration.h"
#include "quant/qat_insert.h"

namespace act::distill {

struct QatDisJob {
  ir::Graph fp32;                         // the user's model
  std::optional<ir::Graph> teacher;       // another teacher (teacher_model_dir); empty: fp32 is the teacher
  config::QuantAwareConfig quant;
  std::optional<config::QuantPostConfig> quant_post;  // quant_post_first's PTQ settings (default: hist, 10 batches)
  // quant_post_first from a PTQ the pipeline already chose (its folds, corrected biases, scales and FP32
  // layers): the training starts from exactly that model instead of running its own PTQ.
  struct PtqStart {
    ir::Graph prepared;                   // the FP32 graph the PTQ quantized (biases corrected)
    ir::Graph teacher;                    // the same graph before bias correction (exact FP32)
    quant::CalibrationTable table;
    std::set<std::string> float_nodes;    // quantizable nodes the PTQ kept in FP32
    double metric = 0;
    std::string description;
  };
  std::optional<PtqStart> ptq_start;
  config::DistillationConfig distillation;
  config::TrainConfig train;
  std::string deploy_hardware = "x86_vnni";
  // Training batches of the current epoch (nullopt at its end); reset(e) starts epoch e (seeded order).
  std::function<Expected<std::optional<data::Batch>>()> next_batch;
  std::function<void(uint64_t epoch)> reset;
  int64_t batches_per_epoch = 0;
  int64_t run_batch = 0;                  // fixed-batch models: samples per executor run (0: whole batch)
  // Scores a graph (FP32, simulated fake-quant, or exported QDQ) on the eval data; `label` names it.
  std::function<Expected<double>(const ir::Graph& graph, const std::string& label)> evaluate;
  bool higher_is_better = true;
  std::optional<double> fp32_metric;      // already measured: skip step 1's evaluation
  std::string save_dir;                   // where checkpoints go ("" : none)
  bool resume = false;
  int threads = 2;
  bool progress = true;
  int64_t stop_after_steps = -1;          // tests: return after this many steps, as if killed
};

struct QatDisResult {
  ir::Graph model;                        // the exported QDQ model (best parameters)
  ir::Graph float_model;                  // trained FP32 weights without act nodes
  ir::Graph simulated;                    // the fake-quant graph with the best parameters
  quant::CalibrationTable table;
  ir::QdqExportResult export_result;
  double fp32_metric = 0;
  std::optional<double> ptq_metric;       // quant_post_first: PTQ's score
  std::optional<ir::Graph> ptq_model;     // quant_post_first: PTQ's QDQ model (for comparison)
  double best_metric = 0;                 // the simulated model's best score
  int64_t best_step = -1;
  int64_t steps = 0, resumed_from = -1;
  bool stopped_early = false;             // stop_after_steps hit (tests)
  double train_seconds = 0;               // the training loop, evaluations and checkpoints included
  double eval_seconds = 0;                // of which evaluations and checkpoints
  double steps_per_second = 0;            // training steps only
  std::vector<std::pair<std::string, std::string>> distill_pairs;
  std::vector<std::pair<int64_t, double>> evaluations;  // (step, simulated metric)
  std::vector<std::string> decisions;
};

// QuantAware → the insertion options for `deploy_hardware` (u8 asymmetric activations and s8 symmetric
// weights on x86; s8 for gpu_tensorrt / for_tensorrt). Unknown op names, bits, types: errors naming the key.
Expected<quant::QatOptions> QatOptionsFrom(const config::QuantAwareConfig& quant, const std::string& deploy_hardware,
                                           const ir::Graph& graph);

Expected<QatDisResult> RunQatDistillation(const QatDisJob& job);

// The checkpoint file in `save_dir`.
std::string CheckpointPath(const std::string& save_dir);

}  // namespace act::distill
