#include "exec/module.h"

#include <c10/util/Exception.h>

#include <algorithm>
#include <chrono>
#include <set>

#include "core/strings.h"
#include "exec/tensor_convert.h"
#include "ir/passes/pass.h"

namespace act::exec {

struct Module::Step {
  int node = -1;  // index into graph_.nodes
  Kernel kernel;
  std::vector<int> in_slots;   // -1: omitted optional input
  std::vector<int> out_slots;  // -1: omitted optional output
};

Expected<ir::Graph> PrepareGraph(const ir::Graph& graph, bool convert_opset) {
  ir::Graph normalized = graph;
  if (convert_opset && ir::Normalize(normalized, "model").ok()) return normalized;
  // The full normalisation failed (typically: the opset converter cannot raise this model yet, or shape
  // inference does not know an op). Do what execution needs and keep the model's opset: the registry
  // has the old forms.
  ir::Graph g = graph;
  ACT_RETURN_IF_ERROR(g.TopologicalSort());
  ACT_ASSIGN_OR_RETURN(bool changed, ir::ConstantToInitializer(g));
  (void)changed;
  if (convert_opset && g.opset() < 13) {
    ir::Graph converted = g;
    auto c = ir::ConvertOpsetTo13(converted);
    if (c.ok()) g = std::move(converted);
  }
  return g;
}

namespace {

bool IsFloat(DType t) { return t == DType::kFloat32 || t == DType::kFloat64 || t == DType::kFloat16 || t == DType::kBFloat16; }

// Which float initializers are weights (trainable): the operands listed in module.h.
std::set<std::string> FindWeights(const ir::Graph& g) {
  std::set<std::string> weights;
  auto mark = [&](const ir::Node& n, size_t i) {
    if (i < n.inputs.size() && g.IsInitializer(n.inputs[i])) weights.insert(n.inputs[i]);
  };
  auto producer_op = [&](const std::string& value) -> std::string {
    const int p = g.Producer(value);
    return p < 0 ? std::string() : g.nodes[p].op_type;
  };
  for (const ir::Node& n : g.nodes) {
    if (!n.domain.empty() && n.domain != "ai.onnx") continue;
    const std::string& op = n.op_type;
    if (op == "Conv" || op == "ConvTranspose") { mark(n, 1); mark(n, 2); }
    else if (op == "Gemm") { mark(n, 0); mark(n, 1); mark(n, 2); }
    else if (op == "MatMul") { mark(n, 0); mark(n, 1); }
    else if (op == "BatchNormalization" || op == "LayerNormalization" || op == "InstanceNormalization" ||
             op == "GroupNormalization") { mark(n, 1); mark(n, 2); }
    else if (op == "PRelu") { mark(n, 1); }
    else if (op == "Gather") { mark(n, 0); }
    else if ((op == "Add" || op == "Mul") && n.inputs.size() == 2) {
      // Biases of MatMul/Conv outputs, and the affine scale/bias of a decomposed LayerNorm
      // (Div(Sub(x, mean), sqrt(var + eps)) · scale + bias).
      for (size_t i = 0; i < 2; ++i) {
        const std::string& other = n.inputs[1 - i];
        const std::string prod = producer_op(other);
        const bool after_linear = op == "Add" && (prod == "MatMul" || prod == "Conv" || prod == "Gemm" || prod == "ConvTranspose");
        const bool ln_scale = op == "Mul" && prod == "Div";
        bool ln_bias = false;
        if (op == "Add" && prod == "Mul") {
          const ir::Node& mul = g.nodes[g.Producer(other)];
          for (const auto& in : mul.inputs) ln_bias = ln_bias || (producer_op(in) == "Div" && mul.inputs.size() == 2);
        }
        if (after_linear || ln_scale || ln_bias) mark(n, i);
      }
    }
  }
  std::set<std::string> result;
  for (const auto& name : weights) {
    if (IsFloat(g.initializers.at(name).dtype())) result.insert(name);
  }
  return result;
}

std::string ErrorText(const std::exception& e) {
  if (const auto* c10e = dynamic_cast<const c10::Error*>(&e)) return c10e->what_without_backtrace();
  return e.what();
}

}  // namespace

Module::~Module() = default;

Expected<std::unique_ptr<Module>> Module::Create(const ir::Graph& graph, const ModuleOptions& options) {
  std::unique_ptr<Module> module(new Module());
  ACT_ASSIGN_OR_RETURN(module->graph_, PrepareGraph(graph, options.convert_opset));
  ACT_RETURN_IF_ERROR(module->Build(options));
  return module;
}

Status Module::Build(const ModuleOptions& options) {
  const ir::Graph& g = graph_;
  g.RebuildIndex();
  // Values → slots.
  auto slot = [&](const std::string& name) {
    auto it = slot_of_.find(name);
    if (it != slot_of_.end()) return it->second;
    const int s = static_cast<int>(slot_names_.size());
    slot_names_.push_back(name);
    slot_of_[name] = s;
    return s;
  };
  // Initializers: parameters or buffers.
  std::set<std::string> weights = FindWeights(g);
  for (const auto& name : options.extra_parameters) {
    if (!g.IsInitializer(name)) return NotFound("extra parameter '" + name + "' is not an initializer of the model");
    weights.insert(name);
  }
  for (const auto& name : options.frozen) weights.erase(name);
  for (const auto& [name, tensor] : g.initializers) {
    auto t = ToAten(tensor);
    if (!t.ok()) return t.status().WithContext("initializer '" + name + "'");
    if (weights.count(name)) {
      at::Tensor p = t->clone();  // own storage, so training never writes into the graph's tensors
      p.set_requires_grad(true);
      parameters_[name] = p;
    } else {
      buffers_[name] = *t;
    }
  }
  for (const auto& input : g.inputs) {
    if (g.IsInitializer(input.name)) continue;
    input_slots_.emplace_back(slot(input.name), input);
  }
  // Lower every node; fold the ones whose inputs are all buffers.
  std::map<std::string, int64_t> opsets = g.opset_imports;
  const LoweringTable& table = Lowerings();
  for (size_t i = 0; i < g.nodes.size(); ++i) {
    const ir::Node& node = g.nodes[i];
    const std::string domain = node.domain == "ai.onnx" ? "" : node.domain;
    const int64_t opset = opsets.count(domain) ? opsets[domain] : (domain.empty() ? g.opset() : 1);
    const LoweringEntry* entry = table.Find(domain, node.op_type, opset);
    if (entry == nullptr) {
      return Unsupported(node.Describe() + ": op type '" + (domain.empty() ? "" : domain + ".") + node.op_type +
                         "' at opset " + std::to_string(opset) +
                         " has no lowering in the executor (supported ops: src/exec/SUPPORTED_OPS.md)");
    }
    std::vector<const at::Tensor*> constants;
    bool all_constant = true;
    for (const auto& in : node.inputs) {
      if (in.empty()) { constants.push_back(nullptr); continue; }
      auto b = buffers_.find(in);
      constants.push_back(b == buffers_.end() ? nullptr : &b->second);
      if (b == buffers_.end()) all_constant = false;
    }
    LoweringContext ctx(node, opset, constants);
    auto kernel = entry->build(ctx);
    if (!kernel.ok()) return kernel.status();
    if (options.fold_constants && all_constant && node.op_type != "Dropout") {
      std::vector<at::Tensor> ins;
      for (const auto* c : constants) ins.push_back(c ? *c : at::Tensor());
      std::vector<at::Tensor> outs;
      try {
        at::NoGradGuard no_grad;
        outs = (*kernel)(ins);
      } catch (const std::exception& e) {
        return InvalidInput(node.Describe() + ": failed on its constant inputs: " + ErrorText(e));
      }
      for (size_t o = 0; o < node.outputs.size() && o < outs.size(); ++o) {
        if (!node.outputs[o].empty() && outs[o].defined()) buffers_[node.outputs[o]] = outs[o];
      }
      continue;
    }
    Step step;
    step.node = static_cast<int>(i);
    step.kernel = std::move(*kernel);
    for (const auto& in : node.inputs) step.in_slots.push_back(in.empty() ? -1 : slot(in));
    for (const auto& out : node.outputs) step.out_slots.push_back(out.empty() ? -1 : slot(out));
    steps_.push_back(std::move(step));
  }
  for (const auto& [name, t] : parameters_) constant_slots_.emplace_back(slot(name), t);
  for (const auto& [name, t] : buffers_) constant_slots_.emplace_back(slot(name), t);
  for (const auto& out : g.outputs) output_slots_.push_back(slot(out.name));
  last_use_.assign(slot_names_.size(), -1);
  for (size_t s = 0; s < steps_.size(); ++s) {
    for (int in : steps_[s].in_slots) {
      if (in >= 0) last_use_[in] = static_cast<int>(s);
    }
  }
  for (int out : output_slots_) last_use_[out] = std::numeric_limits<int>::max();
  for (const auto& [s, t] : constant_slots_) last_use_[s] = std::numeric_limits<int>::max();
  return Status::Ok();
}

std::vector<std::string> Module::InputNames() const {
  std::vector<std::string> names;
  for (const auto& [s, info] : input_slots_) names.push_back(info.name);
  return names;
}

std::vector<std::string> Module::OutputNames() const {
  std::vector<std::string> names;
  for (const auto& out : graph_.outputs) names.push_back(out.name);
  return names;
}

std::vector<at::Tensor> Module::ParameterList() const {
  std::vector<at::Tensor> list;
  for (const auto& [name, t] : parameters_) list.push_back(t);
  return list;
}

Expected<std::map<std::string, at::Tensor>> Module::Forward(const std::map<std::string, at::Tensor>& inputs,
                                                            const std::vector<std::string>& want) {
  std::vector<at::Tensor> values(slot_names_.size());
  for (const auto& [s, t] : constant_slots_) values[s] = t;
  const std::vector<std::string> input_names = InputNames();
  for (const auto& [name, t] : inputs) {
    if (std::find(input_names.begin(), input_names.end(), name) == input_names.end()) {
      return NotFound("'" + name + "' is not an input of the model" + DidYouMean(name, input_names) +
                      "; its inputs are: " + Join(input_names, ", "));
    }
  }
  for (const auto& [s, info] : input_slots_) {
    auto it = inputs.find(info.name);
    if (it == inputs.end()) {
      return NotFound("input '" + info.name + "' was not given (the model's inputs are: " + Join(input_names, ", ") + ")");
    }
    const at::Tensor& t = it->second;
    if (info.dtype != DType::kUndefined) {
      auto expected = ToScalarType(info.dtype);
      if (expected.ok() && *expected != t.scalar_type()) {
        auto got = FromScalarType(t.scalar_type());
        return InvalidInput("input '" + info.name + "': expected dtype " + DTypeName(info.dtype) + ", got " +
                            (got.ok() ? DTypeName(*got) : std::string(at::toString(t.scalar_type()))));
      }
    }
    if (info.shape) {
      const auto& dims = *info.shape;
      bool ok = static_cast<int64_t>(dims.size()) == t.dim();
      for (size_t d = 0; ok && d < dims.size(); ++d) ok = !dims[d].known() || dims[d].value == t.size(d);
      if (!ok) {
        return InvalidInput("input '" + info.name + "': expected shape " + info.ShapeString() + ", got " +
                            ShapeToString(Shape(t.sizes().begin(), t.sizes().end())));
      }
    }
    values[s] = t;
  }
  std::vector<bool> keep(slot_names_.size(), false);
  std::vector<int> want_slots;
  for (const auto& name : want) {
    auto it = slot_of_.find(name);
    if (it == slot_of_.end()) return NotFound("value '" + name + "' does not exist in the model" + DidYouMean(name, slot_names_));
    keep[it->second] = true;
    want_slots.push_back(it->second);
  }
  std::vector<at::Tensor> ins;
  for (size_t si = 0; si < steps_.size(); ++si) {
    const Step& step = steps_[si];
    const ir::Node& node = graph_.nodes[step.node];
    ins.clear();
    for (int s : step.in_slots) {
      if (s >= 0 && !values[s].defined()) {
        return Internal(node.Describe() + ": input '" + slot_names_[s] + "' has no value when the node runs");
      }
      ins.push_back(s >= 0 ? values[s] : at::Tensor());
    }
    std::vector<at::Tensor> outs;
    const auto start = profiling_ ? std::chrono::steady_clock::now() : std::chrono::steady_clock::time_point();
    try {
      outs = step.kernel(ins);
      if (profiling_) {
        profile_[node.op_type] +=
            std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now() - start).count();
      }
    } catch (const std::exception& e) {
      std::string shapes;
      for (const auto& t : ins) {
        shapes += (shapes.empty() ? "" : ", ") +
                  (t.defined() ? ShapeToString(Shape(t.sizes().begin(), t.sizes().end())) : std::string("none"));
      }
      return InvalidInput(node.Describe() + " failed on inputs of shape " + shapes + ": " + ErrorText(e));
    }
    for (size_t o = 0; o < step.out_slots.size() && o < outs.size(); ++o) {
      if (step.out_slots[o] >= 0) values[step.out_slots[o]] = std::move(outs[o]);
    }
    for (int s : step.in_slots) {
      if (s >= 0 && last_use_[s] == static_cast<int>(si) && !keep[s]) values[s] = at::Tensor();
    }
  }
  std::map<std::string, at::Tensor> result;
  for (int s : output_slots_) {
    if (!values[s].defined()) return Internal("graph output '" + slot_names_[s] + "' was not computed");
    result[slot_names_[s]] = values[s];
  }
  for (int s : want_slots) {
    if (!values[s].defined()) return NotFound("value '" + slot_names_[s] + "' was not computed (an omitted optional output?)");
    result[slot_names_[s]] = values[s];
  }
  return result;
}

Status Module::WriteParametersTo(ir::Graph& graph) const {
  for (const auto& [name, p] : parameters_) {
    ACT_ASSIGN_OR_RETURN(Tensor value, FromAten(p));
    auto it = graph.initializers.find(name);
    if (it != graph.initializers.end()) {
      if (it->second.shape() != value.shape() || it->second.dtype() != value.dtype()) {
        return InvalidInput("parameter '" + name + "' has shape " + ShapeToString(value.shape()) +
                            " but the graph's initializer has " + ShapeToString(it->second.shape()));
      }
      it->second = std::move(value);
      continue;
    }
    bool placed = false;
    for (auto& node : graph.nodes) {
      if (node.op_type == "Constant" && node.outputs.size() == 1 && node.outputs[0] == name && node.HasAttr("value")) {
        node.attributes["value"] = ir::Attribute::TensorValue(std::move(value));
        placed = true;
        break;
      }
    }
    if (!placed) return NotFound("parameter '" + name + "' is neither an initializer nor a Constant of the graph");
  }
  return Status::Ok();
}

}  // namespace act::exec
