#include "exec/runner.h"

#include <ATen/Parallel.h>
#include <c10/core/InferenceMode.h>

#include "exec/module.h"
#include "exec/tensor_convert.h"

namespace act::exec {

struct Runner::Impl {
  std::unique_ptr<Module> module;
};

Runner::Runner(std::unique_ptr<Impl> impl) : impl_(std::move(impl)) {}
Runner::~Runner() = default;

Expected<std::unique_ptr<Runner>> Runner::Create(const ir::Graph& graph, const RunnerOptions& options) {
  if (options.threads > 0) at::set_num_threads(options.threads);
  auto impl = std::make_unique<Impl>();
  ModuleOptions module_options;
  module_options.convert_opset = options.convert_opset;
  ACT_ASSIGN_OR_RETURN(impl->module, Module::Create(graph, module_options));
  return std::unique_ptr<Runner>(new Runner(std::move(impl)));
}

Expected<std::map<std::string, Tensor>> Runner::Run(const std::map<std::string, Tensor>& inputs,
                                                    const std::vector<std::string>& want) {
  c10::InferenceMode inference;
  at::NoGradGuard no_grad;
  std::map<std::string, at::Tensor> aten_inputs;
  for (const auto& [name, tensor] : inputs) {
    auto t = ToAten(tensor);
    if (!t.ok()) return t.status().WithContext("input '" + name + "'");
    aten_inputs[name] = *t;
  }
  ACT_ASSIGN_OR_RETURN(auto outputs, impl_->module->Forward(aten_inputs, want));
  std::map<std::string, Tensor> result;
  for (const auto& [name, t] : outputs) {
    auto converted = FromAten(t);
    if (!converted.ok()) return converted.status().WithContext("value '" + name + "'");
    result[name] = std::move(*converted);
  }
  return result;
}

std::vector<std::string> Runner::InputNames() const { return impl_->module->InputNames(); }
std::vector<std::string> Runner::OutputNames() const { return impl_->module->OutputNames(); }

}  // namespace act::exec
