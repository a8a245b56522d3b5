// The compression job behind `onnx-act compress` and act::AutoCompression (DESIGN.md §2):
//   1. Resolve the config (Options override Global.model / save_dir), refuse to write over the input.
//   2. Load and normalise the model; choose the quantization scheme from Global.deploy_hardware; prepare the
//      Quantizer (folds, quantizable nodes — Unsupported when there are none).
//   3. Load the data (Options' Datasets, else Global.train_data / eval_data), build the Scorer (callback,
//      else Global.eval's metric; agreement with the FP32 model when the eval data has no labels) and
//      score the FP32 model.
//   4. Run the planned strategies in order (strategy.h), keeping the candidate with the smallest loss.
//   5. When the loss exceeds Global.max_metric_loss: layer fallback (layer_fallback.h).
//   6. Check the graph (ONNX checker), save it under a temporary name, score the *saved file* (that is the
//      INT8 metric reported), then write model.onnx, calibration.json, config.resolved.yaml, report.json
//      and report.html, each atomically. Nothing is written when an earlier step fails.
#pragma once

#include "act/act.h"

namespace act::strategy {

Expected<Report> RunPipeline(const Options& options);

}  // namespace act::strategy
