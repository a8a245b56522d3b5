// Test-only calibration through ONNX Runtime (until/besides the executor): the tensors to calibrate are
// made graph outputs of a copy of the model, ORT runs it on each batch, and observers see the results.
// Also: ORT's optimized-graph op counts (tests/ort/optimize.js --counts).
#pragma once

#include <nlohmann/json.hpp>

#include "quant/calibration.h"
#include "quant/observer.h"
#include "quant/qdq_scheme.h"
#include "test_graphs.h"

namespace act::test {

inline Expected<quant::CalibrationTable> CalibrateWithOrt(const ir::Graph& graph,
                                                          const std::vector<std::map<std::string, Tensor>>& batches,
                                                          const std::vector<std::string>& tensors,
                                                          const std::string& algo, const quant::QuantScheme& scheme,
                                                          const std::string& dir) {
  ir::Graph probe = graph;
  for (const auto& t : tensors) {
    if (!probe.IsGraphInput(t) && !probe.IsGraphOutput(t)) probe.outputs.push_back(ir::ValueInfo{t, DType::kFloat32, std::nullopt});
  }
  const std::string path = dir + "/calibration_probe.onnx";
  ACT_RETURN_IF_ERROR(ir::SaveModel(probe, path));
  std::map<std::string, std::unique_ptr<quant::Observer>> observers;
  for (const auto& t : tensors) {
    ACT_ASSIGN_OR_RETURN(observers[t], quant::MakeObserver(algo, quant::ActivationObserverOptions(scheme)));
  }
  for (const auto& batch : batches) {
    ACT_ASSIGN_OR_RETURN(auto outputs, RunOrt(path, batch));
    for (const auto& t : tensors) {
      const Tensor& value = batch.count(t) ? batch.at(t) : outputs.at(t);
      ACT_RETURN_IF_ERROR(observers[t]->Observe(value).WithContext("tensor '" + t + "'"));
    }
  }
  quant::CalibrationTable table;
  for (const auto& t : tensors) {
    ACT_ASSIGN_OR_RETURN(auto range, observers[t]->Range());
    ACT_ASSIGN_OR_RETURN(auto params, observers[t]->Params());
    table.Set(t, {params, range.min, range.max, algo});
  }
  return table;
}

// Op counts of ORT's optimized model (level all), keyed by op type whatever the domain.
inline Expected<std::map<std::string, int>> OrtOptimizedOpCounts(const std::string& model, const std::string& out) {
  CommandResult r = RunCommand("node '" + RepoPath("tests/ort/optimize.js") + "' --model '" + model + "' --out '" +
                               out + "' --counts");
  if (r.exit_code != 0) return Failure("optimize.js failed on " + model + ": " + r.err);
  std::map<std::string, int> counts;
  const nlohmann::json parsed = nlohmann::json::parse(r.out);  // keep alive: items() refers to it
  for (const auto& [op, n] : parsed.items()) counts[op] = n.get<int>();
  return counts;
}

inline int Count(const std::map<std::string, int>& counts, const std::string& op) {
  auto it = counts.find(op);
  return it == counts.end() ? 0 : it->second;
}

}  // namespace act::test
