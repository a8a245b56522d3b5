#include "act/runtime.h"

#include <algorithm>

#include "core/logging.h"
#include "core/strings.h"
#include "ir/onnx_io.h"
#include "ir/passes/pass.h"
#include "runtime/backend.h"

namespace act::runtime {
namespace {

// Constant nodes → initializers and topological order always; the opset-13 conversion when it succeeds
// (the onednn backend also reads the older forms of the ops it meets, so a model the converter cannot
// handle yet still runs there).
Status PrepareGraph(ir::Graph& graph, const std::string& backend, const std::string& what) {
  if (backend == "torch") return Status::Ok();  // exec::Runner normalises the graph itself
  ACT_RETURN_IF_ERROR(graph.TopologicalSort().WithContext(what));
  auto changed = ir::ConstantToInitializer(graph);
  if (!changed.ok()) return changed.status().WithContext(what);
  changed = ir::ConvertOpsetTo13(graph);
  if (!changed.ok()) {
    ACT_LOG(kInfo, what << ": keeping opset " << graph.opset() << " (" << changed.status().message() << ")");
  }
  return graph.TopologicalSort().WithContext(what);
}

}  // namespace

Session::~Session() = default;

Expected<std::unique_ptr<Session>> Session::Create(const std::string& model_path, const SessionOptions& options) {
  ACT_ASSIGN_OR_RETURN(ir::Graph graph, ir::LoadModel(model_path));
  ACT_RETURN_IF_ERROR(PrepareGraph(graph, options.backend, model_path));
  return CreateFromPrepared(std::move(graph), options);
}

Expected<std::unique_ptr<Session>> Session::Create(ir::Graph graph, const SessionOptions& options) {
  ACT_RETURN_IF_ERROR(PrepareGraph(graph, options.backend, graph.name.empty() ? "the model" : graph.name));
  return CreateFromPrepared(std::move(graph), options);
}

Expected<std::unique_ptr<Session>> Session::CreateFromPrepared(ir::Graph graph, const SessionOptions& options) {
  const BackendInfo* info = nullptr;
  std::vector<std::string> names;
  for (const auto& b : AllBackends()) {
    names.push_back(b.name);
    if (options.backend == b.name) info = &b;
  }
  if (!info) {
    return InvalidInput("unknown backend '" + options.backend + "' (known: " + Join(names, ", ") + ")" +
                        DidYouMean(options.backend, names));
  }
  std::unique_ptr<Session> session(new Session());
  session->options_ = options;
  for (const auto& in : graph.inputs) session->input_names_.push_back(in.name);
  for (const auto& out : graph.outputs) session->output_names_.push_back(out.name);
  ACT_ASSIGN_OR_RETURN(session->backend_, info->create(std::move(graph), options));
  return session;
}

Expected<std::map<std::string, Tensor>> Session::Run(const std::map<std::string, Tensor>& inputs) {
  for (const auto& [name, tensor] : inputs) {
    if (std::find(input_names_.begin(), input_names_.end(), name) == input_names_.end()) {
      return InvalidInput("the model has no input '" + name + "' (inputs: " + Join(input_names_, ", ") + ")" +
                          DidYouMean(name, input_names_));
    }
  }
  return backend_->Run(inputs);
}

std::vector<OpProfile> Session::Profile() const { return backend_->Profile(); }
void Session::ResetProfile() { backend_->ResetProfile(); }

}  // namespace act::runtime
