// Post-training quantization (ACT's QuantPost): FP32 ir::Graph + calibration batches → INT8 QDQ graph and
// its calibration table.
//   1. Normalise a copy of the graph (constants → initializers, opset 13, shapes), then fold
//      BatchNormalization and per-channel Mul/Add into the Conv/ConvTranspose/Gemm before them
//      (fold_batchnorm, fold_affine), so the folded weights are what gets quantized and ORT sees one Conv.
//   2. Ask the QDQ export which activation tensors it will quantize (QdqTensorsToCalibrate: Conv/MatMul
//      inputs, outputs behind Relu/Clip, shared scales through data-movement ops) — only those are observed.
//   3. ONE pass over at most batch_nums batches: exec::Runner runs each batch with `want` = those tensors,
//      and one streaming observer per tensor (QuantPost.algo) sees each value, which is then dropped.
//      Every algorithm here (abs_max, min_max, avg, hist, mse, KL, emd) needs a single pass: the histogram
//      observers re-bin exactly as the range grows instead of running a first abs-max pass.
//   4. Observers → CalibrationTable (scale, zero point, range, algorithm per tensor).
//   5. QDQ export with the deploy_hardware scheme (x86: u8 asymmetric activations, s8 per-channel weights;
//      gpu_tensorrt: s8 symmetric), then the ONNX checker.
// Memory: one observer per calibrated tensor (≤ 2 × bins doubles), independent of the data set size.
#pragma once

#include <cstdint>
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
#include "quant/qdq_scheme.h"

namespace act::quant {

struct PtqOptions {
  std::string algo = "hist";              // an ObserverAlgorithms() name
  double hist_percent = 0.99999;
  int64_t batch_nums = -1;                // -1: every batch the source yields
  bool is_full_quantize = false;
  bool quantize_activation_matmul = false;  // MatMul of two activations (attention); see qdq_export.h
  bool quantize_embeddings = false;         // int8 Gather tables (quantize_op_types lookup_table[_v2] / Gather)
  WeightQuantizeType weight_quantize_type = WeightQuantizeType::kChannelWiseAbsMax;
  int weight_bits = 8;
  int activation_bits = 8;
  std::set<std::string> quantize_op_types = {"Conv", "MatMul", "Gemm"};  // ONNX op types (qdq_export.h)
  std::set<std::string> skip_tensor_list;
  std::set<std::string> float_nodes;      // per-layer FP32 fallback (node names)
  std::string deploy_hardware = "x86_vnni";
  bool fold = true;                       // fold BN / affine before calibrating
  // Conv biases stay float and Conv weight DQs drop their zero point (qdq_export.h): ~5 bytes less per
  // output channel, which matters for depthwise-heavy models; ORT still fuses every Conv.
  bool compact_conv_metadata = false;
  int threads = 0;                        // executor threads (0: leave the process setting)
  bool progress = false;                  // a progress bar on stderr
};

// QuantPost (ACT names) → PtqOptions. Paddle op names map to ONNX ones: conv2d/depthwise_conv2d → Conv,
// conv2d_transpose → ConvTranspose, mul/matmul/matmul_v2 → MatMul and Gemm, lookup_table/lookup_table_v2 →
// int8 embedding tables (weight-only; ONNX name Gather); ONNX names pass through.
// Unknown names and unsupported settings (algo, weight_quantize_type, bits) are errors naming the key.
Expected<PtqOptions> PtqOptionsFromQuantPost(const config::QuantPostConfig& quant_post, const std::string& deploy_hardware);

// Yields the next calibration batch, std::nullopt at the end (data::Loader::Next fits).
using BatchSource = std::function<Expected<std::optional<data::Batch>>()>;

struct PtqResult {
  ir::Graph model;                 // the INT8 QDQ graph
  ir::Graph folded;                // the FP32 graph after folding (what was calibrated)
  CalibrationTable table;
  ir::QdqExportResult export_result;
  int64_t batches = 0, samples = 0;
  double calibration_seconds = 0;
};

Expected<PtqResult> RunPtq(const ir::Graph& fp32, const BatchSource& next_batch, const PtqOptions& options);

// ---- the stages of RunPtq, for searches that calibrate once and export many times -----------------------
// Step 1: a normalised copy with BatchNormalization / affine Mul-Add folded (when options.fold).
Expected<ir::Graph> PrepareForPtq(const ir::Graph& fp32, const PtqOptions& options);
// The export options `options` imply (scheme of deploy_hardware, op types, skip list, fallback).
Expected<ir::QdqExportOptions> ExportOptionsFor(const PtqOptions& options);

struct CalibrationRun {
  std::map<std::string, CalibrationTable> tables;  // algo → table
  int64_t batches = 0, samples = 0;
  double seconds = 0;
};
// Steps 3–4 for several algorithms at once: ONE pass over at most `batch_nums` batches (-1: all) feeds an
// observer per (tensor, algorithm); each algorithm gets its table. Statistics are collected once, so a
// search over algorithms does not recalibrate. Fails naming the batch and tensor on NaN/Inf.
Expected<CalibrationRun> Calibrate(const ir::Graph& prepared, const std::vector<std::string>& tensors,
                                   const BatchSource& next_batch, const std::vector<std::string>& algos,
                                   const ObserverOptions& observer_options, int64_t batch_nums, int threads = 0,
                                   bool progress = false);

}  // namespace act::quant
