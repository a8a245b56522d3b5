// onnx-act inspect MODEL [--json]: what a model is, before anything is done to it.
#include <cstdio>
#include <nlohmann/json.hpp>

#include "ir/analysis.h"
#include "ir/onnx_io.h"
#include "tools/cli/command.h"

namespace act::cli {
namespace {

struct InspectOptions {
  std::string model;
  bool json = false;
  bool allow_unknown_domains = false;
};

nlohmann::json ValuesToJson(const std::vector<ir::ValueInfo>& values) {
  nlohmann::json list = nlohmann::json::array();
  for (const auto& v : values) {
    list.push_back({{"name", v.name}, {"dtype", DTypeName(v.dtype)}, {"shape", v.ShapeString()}});
  }
  return list;
}

nlohmann::json Summarize(const ir::Graph& g) {
  nlohmann::json j;
  j["opset"] = g.opset();
  j["ir_version"] = g.ir_version;
  j["producer"] = g.producer_name + (g.producer_version.empty() ? "" : " " + g.producer_version);
  j["inputs"] = ValuesToJson(g.inputs);
  j["outputs"] = ValuesToJson(g.outputs);
  j["nodes"] = g.nodes.size();
  j["op_histogram"] = ir::OpHistogram(g);

  int64_t total_params = 0, total_bytes = 0;
  nlohmann::json by_dtype = nlohmann::json::object();
  for (const auto& [dtype, stats] : g.ParameterStats()) {
    by_dtype[DTypeName(dtype)] = {{"parameters", stats.first}, {"bytes", stats.second}};
    total_params += stats.first;
    total_bytes += stats.second;
  }
  const ir::ConstantNodeStats constants = ir::CountConstantNodes(g);
  j["initializers"] = {{"count", g.initializers.size()}, {"parameters", total_params}, {"bytes", total_bytes},
                       {"by_dtype", by_dtype}};
  j["constant_nodes"] = {{"count", constants.nodes}, {"elements", constants.elements},
                         {"weight_nodes", constants.weight_nodes}, {"weight_elements", constants.weight_elements}};
  // Parameters are the float weights; int64 shape constants and the like are not counted.
  int64_t float_params = 0;
  for (const auto& [dtype, stats] : g.ParameterStats()) {
    if (dtype == DType::kFloat32 || dtype == DType::kFloat16 || dtype == DType::kFloat64) float_params += stats.first;
  }
  j["parameters"] = float_params + constants.weight_elements;

  nlohmann::json quantizable = nlohmann::json::array();
  for (int i : ir::QuantizableNodes(g)) quantizable.push_back({{"name", g.nodes[i].name}, {"op", g.nodes[i].op_type}});
  j["quantizable_nodes"] = quantizable;
  j["model_type"] = ir::ModelTypeName(ir::DetectModelType(g));
  j["attention_blocks"] = ir::FindAttentionBlocks(g).size();
  return j;
}

void PrintText(const std::string& path, const nlohmann::json& j) {
  std::printf("model: %s\n", path.c_str());
  std::printf("opset: %lld   ir_version: %lld   producer: %s\n", j["opset"].get<long long>(),
              j["ir_version"].get<long long>(), j["producer"].get<std::string>().c_str());
  for (const char* side : {"inputs", "outputs"}) {
    std::printf("%s:\n", side);
    for (const auto& v : j[side]) {
      std::printf("  %-24s %-8s %s\n", v["name"].get<std::string>().c_str(), v["dtype"].get<std::string>().c_str(),
                  v["shape"].get<std::string>().c_str());
    }
  }
  std::printf("nodes: %zu\nops:", j["nodes"].get<size_t>());
  for (const auto& [op, count] : j["op_histogram"].items()) std::printf(" %s=%d", op.c_str(), count.get<int>());
  std::printf("\nparameters: %lld (initializers: %lld in %zu tensors, %lld bytes",
              j["parameters"].get<long long>(), j["initializers"]["parameters"].get<long long>(),
              j["initializers"]["count"].get<size_t>(), j["initializers"]["bytes"].get<long long>());
  for (const auto& [dtype, s] : j["initializers"]["by_dtype"].items()) {
    std::printf("; %s: %lld params, %lld bytes", dtype.c_str(), s["parameters"].get<long long>(),
                s["bytes"].get<long long>());
  }
  std::printf(")\n");
  const auto& c = j["constant_nodes"];
  std::printf("weights in Constant nodes: %d of %d Constant nodes, %lld parameters\n", c["weight_nodes"].get<int>(),
              c["count"].get<int>(), c["weight_elements"].get<long long>());
  std::printf("quantizable nodes: %zu\n", j["quantizable_nodes"].size());
  for (const auto& q : j["quantizable_nodes"]) {
    std::printf("  %-14s %s\n", q["op"].get<std::string>().c_str(), q["name"].get<std::string>().c_str());
  }
  std::printf("model type: %s (attention blocks: %zu)\n", j["model_type"].get<std::string>().c_str(),
              j["attention_blocks"].get<size_t>());
}

}  // namespace

CommandRunner AddInspectCommand(CLI::App& app) {
  auto options = std::make_shared<InspectOptions>();
  CLI::App* sub = app.add_subcommand("inspect", "Show a model's inputs, outputs, ops, parameters, quantizable "
                                                "nodes and model type");
  sub->add_option("model", options->model, "ONNX model file")->required();
  sub->add_flag("--json", options->json, "Print the summary as JSON");
  sub->add_flag("--allow-unknown-domains", options->allow_unknown_domains,
                "Accept ops from domains we do not know (e.g. ONNX Runtime's optimized models)");
  return [options]() -> Status {
    ir::LoadOptions load;
    load.allow_unknown_domains = options->allow_unknown_domains;
    ACT_ASSIGN_OR_RETURN(ir::Graph graph, ir::LoadModel(options->model, load));
    nlohmann::json summary = Summarize(graph);
    if (options->json) std::printf("%s\n", summary.dump(2).c_str());
    else PrintText(options->model, summary);
    return Status::Ok();
  };
}

}  // namespace act::cli
