#include "quant/ptq.h"

#include <algorithm>
#include <chrono>
#include <map>
#include <memory>

#include "core/logging.h"
#include "core/progress.h"
#include "core/strings.h"
#include "exec/runner.h"
#include "ir/checker.h"
#include "ir/passes/pass.h"

namespace act::quant {

Expected<PtqOptions> PtqOptionsFromQuantPost(const config::QuantPostConfig& qp, const std::string& hardware) {
  PtqOptions o;
  std::vector<std::string> algos;
  for (const auto& a : ObserverAlgorithms()) algos.push_back(a.name);
  if (std::find(algos.begin(), algos.end(), qp.algo) == algos.end()) {
    return InvalidInput("QuantPost.algo: unknown algorithm '" + qp.algo + "'" + DidYouMean(qp.algo, algos) +
                        "; expected one of " + Join(algos, ", "));
  }
  o.algo = qp.algo;
  o.hist_percent = qp.hist_percent;
  o.batch_nums = qp.batch_nums;
  o.is_full_quantize = qp.is_full_quantize;
  auto wt = ParseWeightQuantizeType(qp.weight_quantize_type);
  if (!wt.ok()) return wt.status().WithContext("QuantPost.weight_quantize_type");
  o.weight_quantize_type = *wt;
  if (qp.weight_bits < 2 || qp.weight_bits > 8) {
    return InvalidInput("QuantPost.weight_bits: " + std::to_string(qp.weight_bits) + " (expected 2..8)");
  }
  if (qp.activation_bits != 8) {
    return Unsupported("QuantPost.activation_bits: " + std::to_string(qp.activation_bits) +
                       " (ONNX QuantizeLinear and ONNX Runtime's integer kernels take 8-bit activations)");
  }
  o.weight_bits = static_cast<int>(qp.weight_bits);
  o.activation_bits = 8;
  o.quantize_op_types.clear();
  const std::map<std::string, std::vector<std::string>> kPaddleToOnnx = {
      {"conv2d", {"Conv"}}, {"depthwise_conv2d", {"Conv"}}, {"conv2d_transpose", {"ConvTranspose"}},
      {"mul", {"MatMul", "Gemm"}}, {"matmul", {"MatMul", "Gemm"}}, {"matmul_v2", {"MatMul", "Gemm"}},
      {"Conv", {"Conv"}}, {"ConvTranspose", {"ConvTranspose"}}, {"MatMul", {"MatMul"}}, {"Gemm", {"Gemm"}},
      {"Add", {"Add"}}, {"Mul", {"Mul"}}, {"Sigmoid", {"Sigmoid"}}, {"Softmax", {"Softmax"}},
      {"AveragePool", {"AveragePool"}}, {"GlobalAveragePool", {"GlobalAveragePool"}}, {"Concat", {"Concat"}},
      {"LeakyRelu", {"LeakyRelu"}}, {"Where", {"Where"}}};
  std::vector<std::string> known;
  for (const auto& [k, v] : kPaddleToOnnx) known.push_back(k);
  for (const auto& name : qp.quantize_op_types) {
    if (name == "lookup_table" || name == "lookup_table_v2" || name == "Gather") {  // embeddings: weight-only
      o.quantize_embeddings = true;
      continue;
    }
    auto it = kPaddleToOnnx.find(name);
    if (it == kPaddleToOnnx.end()) {
      return InvalidInput("QuantPost.quantize_op_types: unknown op '" + name + "'" + DidYouMean(name, known) +
                          "; expected Paddle names (conv2d, depthwise_conv2d, conv2d_transpose, mul, matmul, "
                          "matmul_v2, lookup_table_v2) or ONNX op types with integer kernels");
    }
    o.quantize_op_types.insert(it->second.begin(), it->second.end());
  }
  o.skip_tensor_list.insert(qp.skip_tensor_list.begin(), qp.skip_tensor_list.end());
  ACT_ASSIGN_OR_RETURN(QuantScheme scheme, SchemeForHardware(hardware));
  (void)scheme;
  o.deploy_hardware = hardware;
  return o;
}

Expected<ir::Graph> PrepareForPtq(const ir::Graph& fp32, const PtqOptions& options) {
  ir::Graph graph = fp32;
  ACT_RETURN_IF_ERROR(ir::Normalize(graph, "PTQ input model"));
  if (options.fold) {
    ACT_ASSIGN_OR_RETURN(bool bn, ir::FoldBatchNorm(graph));
    ACT_ASSIGN_OR_RETURN(bool affine, ir::FoldAffine(graph));
    ACT_LOG(kInfo, "PTQ: folded BatchNormalization: " << (bn ? "yes" : "none") << ", affine Mul/Add: "
                                                      << (affine ? "yes" : "none"));
    if (bn || affine) ACT_RETURN_IF_ERROR(ir::InferShapes(graph, "folded model"));
  }
  return graph;
}

namespace {
Expected<QuantScheme> SchemeFor(const PtqOptions& options) {
  ACT_ASSIGN_OR_RETURN(QuantScheme scheme, SchemeForHardware(options.deploy_hardware));
  scheme.weight_type = options.weight_quantize_type;
  scheme.weight_bits = options.weight_bits;
  scheme.activation_bits = options.activation_bits;
  return scheme;
}
}  // namespace

Expected<ir::QdqExportOptions> ExportOptionsFor(const PtqOptions& options) {
  ACT_ASSIGN_OR_RETURN(QuantScheme scheme, SchemeFor(options));
  ir::QdqExportOptions export_options = MakeQdqExportOptions(scheme);
  export_options.quantize_op_types = options.quantize_op_types;
  export_options.is_full_quantize = options.is_full_quantize;
  export_options.quantize_activation_matmul = options.quantize_activation_matmul;
  export_options.quantize_embeddings = options.quantize_embeddings;
  export_options.quantize_conv_bias = !options.compact_conv_metadata;
  export_options.conv_weight_zero_point = !options.compact_conv_metadata;
  export_options.skip_tensors = options.skip_tensor_list;
  export_options.float_nodes = options.float_nodes;
  return export_options;
}

Expected<CalibrationRun> Calibrate(const ir::Graph& prepared, const std::vector<std::string>& tensors,
                                   const BatchSource& next_batch, const std::vector<std::string>& algos,
                                   const ObserverOptions& observer_options, int64_t batch_nums, int threads,
                                   bool progress) {
  // observers[a][t]: algorithm a on tensor t.
  std::vector<std::vector<std::unique_ptr<Observer>>> observers(algos.size());
  for (size_t a = 0; a < algos.size(); ++a) {
    for (size_t t = 0; t < tensors.size(); ++t) {
      ACT_ASSIGN_OR_RETURN(auto observer, MakeObserver(algos[a], observer_options));
      observers[a].push_back(std::move(observer));
    }
  }
  exec::RunnerOptions runner_options;
  runner_options.threads = threads;
  ACT_ASSIGN_OR_RETURN(auto runner, exec::Runner::Create(prepared, runner_options));
  CalibrationRun run;
  const auto start = std::chrono::steady_clock::now();
  std::unique_ptr<ProgressBar> bar;
  if (progress) bar = std::make_unique<ProgressBar>("calibrating", std::max<int64_t>(batch_nums, 0));
  while (batch_nums < 0 || run.batches < batch_nums) {
    ACT_ASSIGN_OR_RETURN(std::optional<data::Batch> batch, next_batch());
    if (!batch) break;
    auto values = runner->Run(batch->inputs, tensors);
    if (!values.ok()) return values.status().WithContext("calibration batch " + std::to_string(run.batches));
    for (size_t t = 0; t < tensors.size(); ++t) {
      auto it = values->find(tensors[t]);
      if (it == values->end()) return Internal("the executor did not return tensor '" + tensors[t] + "'");
      for (size_t a = 0; a < algos.size(); ++a) {
        Status s = observers[a][t]->Observe(it->second);
        if (!s.ok()) {
          return s.WithContext("calibration batch " + std::to_string(run.batches) + ", tensor '" + tensors[t] + "'");
        }
      }
    }
    ++run.batches;
    run.samples += batch->size();
    if (bar) bar->Advance();
  }
  if (bar) bar->Finish();
  run.seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
  if (run.batches == 0) return InvalidInput("the calibration data set yielded no batch");
  for (size_t a = 0; a < algos.size(); ++a) {
    CalibrationTable& table = run.tables[algos[a]];
    for (size_t t = 0; t < tensors.size(); ++t) {
      auto range = observers[a][t]->Range();
      if (!range.ok()) return range.status().WithContext("tensor '" + tensors[t] + "'");
      auto params = observers[a][t]->Params();
      if (!params.ok()) return params.status().WithContext("tensor '" + tensors[t] + "'");
      table.Set(tensors[t], {*params, range->min, range->max, algos[a]});
    }
  }
  return run;
}

Expected<PtqResult> RunPtq(const ir::Graph& fp32, const BatchSource& next_batch, const PtqOptions& options) {
  PtqResult result;
  ACT_ASSIGN_OR_RETURN(result.folded, PrepareForPtq(fp32, options));
  ACT_ASSIGN_OR_RETURN(ir::QdqExportOptions export_options, ExportOptionsFor(options));
  const std::vector<std::string> tensors = ir::QdqTensorsToCalibrate(result.folded, export_options);
  if (tensors.empty()) {
    return InvalidInput("the model has no quantizable node (Conv, ConvTranspose, MatMul, Gemm with a constant "
                        "weight, among quantize_op_types " + Join({options.quantize_op_types.begin(),
                                                                    options.quantize_op_types.end()}, ", ") +
                        "): nothing to quantize");
  }
  ACT_ASSIGN_OR_RETURN(QuantScheme scheme, SchemeFor(options));
  ObserverOptions observer_options = ActivationObserverOptions(scheme);
  observer_options.hist_percent = options.hist_percent;
  ACT_ASSIGN_OR_RETURN(CalibrationRun run, Calibrate(result.folded, tensors, next_batch, {options.algo}, observer_options,
                                                     options.batch_nums, options.threads, options.progress));
  result.table = std::move(run.tables.at(options.algo));
  result.batches = run.batches;
  result.samples = run.samples;
  result.calibration_seconds = run.seconds;
  result.model = result.folded;
  ACT_ASSIGN_OR_RETURN(result.export_result, ir::ExportQdq(result.model, ToQdqParams(result.table), export_options));
  ACT_RETURN_IF_ERROR(ir::CheckModel(result.model, "the exported INT8 model"));
  return result;
}

}  // namespace act::quant
